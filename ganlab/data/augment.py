"""Differentiable image augmentations for 28x28 digits (N x 784 in [-1, 1]), for consistency
regularisation (bCR) and for augmenting every image D sees (DiffAugment / ADA, ``train.d_augment``). Each takes the
batch and a ``torch.Generator`` and draws its own random parameters per image; each is differentiable in the images, so
G learns through it. Translations, small rotations and scalings, cutout, brightness and contrast keep a digit's
identity; a horizontal flip changes it (a mirrored 2 is not a 2), so it exists but is not a default. ``jitter``
(small Gaussian noise: instance noise) works on data of any shape, e.g. the 2-d toys."""
from __future__ import annotations

import math

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


def hflip(x: torch.Tensor, generator: torch.Generator | None = None, p: float = 0.5) -> torch.Tensor:
    """Mirror each image left-right with probability ``p`` (torchvision's RandomHorizontalFlip, drawn per image)."""
    img = x.reshape(len(x), 28, 28)
    flip = torch.rand(len(x), generator=generator, device=x.device) < p
    return torch.where(flip[:, None, None], img.flip(2), img).reshape(x.shape)


def identity(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return x


def jitter(x: torch.Tensor, generator: torch.Generator | None = None, sigma: float = 0.05) -> torch.Tensor:
    """Add N(0, sigma^2) noise to every coordinate: the augmentation for data of any shape (the 2-d toys)."""
    return x + sigma * torch.randn(x.shape, generator=generator, device=x.device)


def brightness(x: torch.Tensor, generator: torch.Generator | None = None, spread: float = 0.5) -> torch.Tensor:
    """Add one offset per image, uniform in [-spread/2, spread/2] (a milder DiffAugment brightness: its offset spans
    [-0.5, 0.5])."""
    return x + spread * (torch.rand(len(x), *[1] * (x.dim() - 1), generator=generator, device=x.device) - 0.5)


def contrast(x: torch.Tensor, generator: torch.Generator | None = None, low: float = 0.5,
             high: float = 1.5) -> torch.Tensor:
    """Scale each image's deviation from its own mean by a factor uniform in [low, high] (DiffAugment's contrast)."""
    factor = low + (high - low) * torch.rand(len(x), *[1] * (x.dim() - 1), generator=generator, device=x.device)
    mean = x.reshape(len(x), -1).mean(1).reshape(len(x), *[1] * (x.dim() - 1))
    return (x - mean) * factor + mean


def affine(x: torch.Tensor, generator: torch.Generator | None = None, degrees: float = 15.0,
           log2_scale_std: float = 0.1, fill: float = BACKGROUND) -> torch.Tensor:
    """Rotate each image by an angle uniform in [-degrees, degrees] and scale it by 2^N(0, log2_scale_std^2) about its
    centre, bilinearly resampled (ADA's rotation and isotropic scaling, at angles that keep a 6 a 6); what comes in
    from outside the frame is ``fill`` (background)."""
    n = len(x)
    angle = (torch.rand(n, generator=generator, device=x.device) * 2 - 1) * math.radians(degrees)
    scale = torch.exp2(log2_scale_std * torch.randn(n, generator=generator, device=x.device))
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale  # the grid maps output to input coordinates
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros_like(cos)], 1),
                         torch.stack([sin, cos, torch.zeros_like(cos)], 1)], 1)
    img = x.reshape(n, 1, 28, 28).float()  # resampled in fp32 whatever x's dtype: reals and bf16 fakes alike
    grid = F.affine_grid(theta, list(img.shape), align_corners=False)
    out = F.grid_sample(img - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill
    return out.reshape(x.shape).to(x.dtype)


AUGMENTATIONS = {"shift": shift, "cutout": cutout, "hflip": hflip, "identity": identity, "jitter": jitter,
                 "brightness": brightness, "contrast": contrast, "affine": affine}
#: the augmentations that mean something on 2-d points (the others are for 28 x 28 digits)
ANY_SHAPE = ("jitter", "identity")


def check(names: list[str], accepted=tuple(AUGMENTATIONS), key: str = "") -> None:
    """A one-line error for a name that is not an augmentation (of ``accepted``)."""
    for n in names:
        if n not in accepted:
            where = f"config key '{key}': " if key else ""
            raise GanlabError(f"{where}unknown augmentation '{n}'; accepted: {', '.join(accepted)}")


def compose(names: list[str]):
    """The augmentations ``names``, each applied to every image, in order."""
    check(names)
    fns = [AUGMENTATIONS[n] for n in names]

    def apply(x, generator=None):
        for f in fns:
            x = f(x, generator)
        return x
    return apply


def each_with_probability(names: list[str]):
    """The augmentations ``names`` in order, each applied to an image with probability ``p`` (drawn per image and per
    augmentation, as ADA does; ``p`` may be a 0-d tensor that changes during training). At ``p`` >= 1 every image
    takes every augmentation and no coin is drawn."""
    check(names)
    fns = [AUGMENTATIONS[n] for n in names]

    def apply(x, p, generator=None):
        for f in fns:
            y = f(x, generator)
            if not (isinstance(p, (int, float)) and p >= 1):
                take = torch.rand(len(x), *[1] * (x.dim() - 1), generator=generator, device=x.device) < p
                y = torch.where(take, y, x)
            x = y
        return x
    return apply
