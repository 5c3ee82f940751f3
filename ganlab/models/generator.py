"""The fixed generator of the assignment: z(100) -> 256 -> 512 -> 1024 -> 784, tanh out. Never changed."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Z_DIM = 100
IMG_DIM = 28 * 28


class Generator(nn.Module):
    """Exactly the platform's generator; layer names fc1..fc4 match its checkpoints."""

    def __init__(self, g_output_dim: int = IMG_DIM):
        super().__init__()
        self.fc1 = nn.Linear(Z_DIM, 256)
        self.fc2 = nn.Linear(256, 512)
        self.fc3 = nn.Linear(512, 1024)
        self.fc4 = nn.Linear(1024, g_output_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.fc1(z), 0.2)
        x = F.leaky_relu(self.fc2(x), 0.2)
        x = F.leaky_relu(self.fc3(x), 0.2)
        return torch.tanh(self.fc4(x))


def fingerprint(G: torch.nn.Module) -> str:
    """sha256 of the generator's weights: a shipped sampler refuses a generator it was not fitted for."""
    import hashlib

    h = hashlib.sha256()
    for k, v in sorted(G.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


@torch.no_grad()
def saturation(G: Generator, z: torch.Tensor, threshold: float = 0.999) -> dict:
    """How far G's tanh output is saturated on the latents ``z``: the share of output pixels with |x| > threshold,
    the mean tanh derivative 1 - x^2 (the factor every gradient reaching G passes through), the median |pre-activation|
    and the mean per-pixel standard deviation over ``z`` (0 when every latent gives the same image)."""
    x = F.leaky_relu(G.fc1(z), 0.2)
    x = F.leaky_relu(G.fc2(x), 0.2)
    x = F.leaky_relu(G.fc3(x), 0.2)
    pre = G.fc4(x)
    out = torch.tanh(pre)
    return {"saturated": (out.abs() > threshold).float().mean().item(),
            "tanh_grad": (1 - out ** 2).mean().item(),
            "median_abs_pre": pre.abs().median().item(),
            "pixel_std": out.std(0).mean().item()}
