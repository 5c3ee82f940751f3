"""A 10x10 grid of G's raw images on 100 fixed latents (seed 0) from a run's last.pt (for runs stopped before their
first periodic grid)."""
import sys
import torch
from ganlab.checkpoint import Checkpoint
from ganlab.images import save_grid, to_uint8
from ganlab.models.generator import Z_DIM, Generator

run, out = sys.argv[1], sys.argv[2]
G = Generator()
G.load_state_dict(Checkpoint.load(f"{run}/checkpoints/last.pt").generator("raw"))
G.eval()
with torch.no_grad():
    x = G(torch.randn(100, Z_DIM, generator=torch.Generator().manual_seed(0)))
save_grid(to_uint8(x), out, nrow=10)
