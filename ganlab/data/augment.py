"""Differentiable image augmentations for 28x28 digits (N x 784 in [-1, 1]), for consistency
regularisation. Translations and cutout keep a digit's identity; a horizontal flip changes it
(a mirrored 2 is not a 2), so it exists but is not a default. ``jitter`` (small Gaussian noise) works on data of
any shape, e.g. the 2-d toys."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import GanlabError

BACKGROUND = -1.0


def shift(x: torch.Tensor, generator: torch.Generator | None = None, max_shift: int = 2,
          fill: float = BACKGROUND) -> torch.Tensor:
    """Translate each image by up to ``max_shift`` pixels in x and y, filling with ``fill`` (background)."""
    n = len(x)
    img = x.reshape(n, 1, 28, 28)
    padded = F.pad(img, (max_shift,) * 4, value=fill)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator, device=x.device)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator, device=x.device)
    ar = torch.arange(28, device=x.device)
    rows = (dy[:, None] + ar[None]).reshape(n, 1, 28, 1).expand(n, 1, 28, 28 + 2 * max_shift)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + ar[None]).reshape(n, 1, 1, 28).expand(n, 1, 28, 28)
    return out.gather(3, cols).reshape(x.shape)


def cutout(x: torch.Tensor, generator: torch.Generator | None = None, size: int = 8) -> torch.Tensor:
    """Set one random ``size`` x ``size`` square per image to background (DeVries & Taylor 2017)."""
    n = len(x)
    cy = torch.randint(0, 28, (n, 1, 1), generator=generator, device=x.device)
    cx = torch.randint(0, 28, (n, 1, 1), generator=generator, device=x.device)
    ar = torch.arange(28, device=x.device)
    inside = ((ar[None, :, None] - cy).abs() < size // 2 + size % 2) & ((ar[None, None, :] - cx).abs() < size // 2 + size % 2)
    return torch.where(inside, torch.full_like(x.reshape(n, 28, 28), BACKGROUND), x.reshape(n, 28, 28)).reshape(x.shape)


def hflip(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return x.reshape(len(x), 28, 28).flip(2).reshape(x.shape)


def identity(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return x


def jitter(x: torch.Tensor, generator: torch.Generator | None = None, sigma: float = 0.05) -> torch.Tensor:
    """Add N(0, sigma^2) noise to every coordinate: the augmentation for data of any shape (the 2-d toys)."""
    return x + sigma * torch.randn(x.shape, generator=generator, device=x.device)


AUGMENTATIONS = {"shift": shift, "cutout": cutout, "hflip": hflip, "identity": identity, "jitter": jitter}


def compose(names: list[str]):
    for n in names:
        if n not in AUGMENTATIONS:
            raise GanlabError(f"unknown augmentation '{n}'; accepted: {', '.join(AUGMENTATIONS)}")
    fns = [AUGMENTATIONS[n] for n in names]

    def apply(x, generator=None):
        for f in fns:
            x = f(x, generator)
        return x
    return apply
