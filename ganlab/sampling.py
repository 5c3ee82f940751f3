"""Drawing images from a generator and writing them out (PNG folder or .npz), atomically."""
from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .checkpoint import Checkpoint
from .errors import GanlabError
from .images import to_uint8, write_pngs
from .io import atomic_path, usual_permissions
from .latent import NormalPrior, build_prior
from .models import Generator, Z_DIM, import_generator
from .runs import Run, load_config

#: rows per forward pass wherever samples are drawn (G, D, every sampler's steps, the final images): fixed, so that
#: no image depends on the batch size a caller asks for (``generate.py --batch_size 64`` and ``2048`` write the same
#: PNGs). Floating-point results of a row can change with the shape of the matrix it is computed in, and a 40-step
#: refiner such as DOT amplifies that into visibly different images.
CHUNK = 1000


def load_generator(run: str | os.PathLike | None = None, checkpoint: str = "last", weights: str = "ema") -> Generator:
    """The generator of a run's checkpoint (``last``, ``best``, ``epoch_N`` or a path), or of a platform G.pth;
    ``weights``: ``ema`` (G's moving average when the run kept one) or ``raw``."""
    if run is None:
        return import_generator(checkpoint, weights)
    return import_generator(Run(run).checkpoint(checkpoint), weights)


def load_prior(run: str | os.PathLike | None, checkpoint: str = "last") -> torch.nn.Module:
    """The latent prior a run trained with (N(0, I) for a platform G.pth or a run without one)."""
    if run is None:
        return NormalPrior()
    state = Checkpoint.load(Run(run).checkpoint(checkpoint)).prior()
    prior = build_prior(load_config(Run(run)))
    if state is not None:
        prior.load_state_dict(state)
    return prior


@torch.no_grad()
def sample_images(G: Generator, n: int, seed: int = 0, progress: bool = True,
                  prior: torch.nn.Module | None = None) -> np.ndarray:
    """``n`` uint8 28x28 images from z ~ prior (default N(0, I)), deterministic in ``seed`` and
    independent of batch size."""
    if n <= 0:
        raise GanlabError(f"--n must be positive (got {n})")
    G.eval()
    device = next(G.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    # z is drawn on the CPU (a copy of the prior, so a prior living on a GPU stays there): same z on any device
    z_all = copy.deepcopy(prior).cpu().sample(n, gen) if prior is not None else torch.randn(n, Z_DIM, generator=gen)
    out = np.empty((n, 28, 28), dtype=np.uint8)
    for i in tqdm(range(0, n, CHUNK), desc="generating", disable=not progress, leave=False):
        out[i:i + CHUNK] = to_uint8(G(z_all[i:i + CHUNK].to(device)))
    return out


def write_samples(images: np.ndarray, out: str | os.PathLike, fmt: str = "png", overwrite: bool = False) -> Path:
    """Write ``images`` as ``0.png ... N-1.png`` in folder ``out`` or as one ``.npz`` (key ``images``).

    The folder is filled under a temporary name and renamed into place, so ``out`` never holds a
    partial set; a non-empty ``out`` is refused unless ``overwrite``.
    """
    out = Path(out)
    if fmt not in ("png", "npz"):
        raise GanlabError(f"--format '{fmt}' is not accepted; accepted: png, npz")
    if fmt == "npz":
        if out.suffix != ".npz":
            out = out.with_suffix(".npz") if out.suffix else out / "samples.npz"
        if out.exists() and not overwrite:
            raise GanlabError(f"{out} exists; pass --overwrite to replace it")
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, images=images)
        return out
    if out.exists() and not out.is_dir():
        raise GanlabError(f"--out {out} is a file; expected a folder for PNGs")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise GanlabError(f"--out {out} is not empty; pass --overwrite to replace its contents")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        write_pngs(images, tmp)
        usual_permissions(tmp)
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, trash / "old")
            os.replace(tmp, out)
            shutil.rmtree(trash)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out
