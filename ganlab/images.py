"""Image conversion and writing: generator outputs in [-1, 1] <-> uint8 28x28, PNG files and grids."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .io import atomic_path


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """N x 784 (or N x 28 x 28) floats in [-1, 1] -> N x 28 x 28 uint8, pixel = round((x + 1) * 127.5)."""
    x = x.detach().reshape(len(x), 28, 28).float()
    return ((x + 1) * 127.5).round_().clamp_(0, 255).to(torch.uint8).cpu().numpy()


def grid(images: np.ndarray, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile N x H x W uint8 images into one image with ``pad`` dark pixels between them."""
    n, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    out = np.zeros((ncol * (h + pad) + pad, nrow * (w + pad) + pad), dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, nrow)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = img
    return out


def save_png(image: np.ndarray, path: str | os.PathLike, scale: int = 1) -> None:
    img = Image.fromarray(image, mode="L")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG")


def save_grid(images: np.ndarray, path: str | os.PathLike, nrow: int | None = None, scale: int = 2) -> None:
    save_png(grid(images, nrow), path, scale=scale)


def save_figure(fig, path: str | os.PathLike, dpi: int) -> None:
    """Write a matplotlib figure as a PNG (atomically: temp file, then rename) and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)


def write_pngs(images: np.ndarray, directory: Path, start: int = 0) -> None:
    """Write ``start.png, start+1.png, ...`` as 28x28 8-bit grayscale PNGs into ``directory``."""
    for i, img in enumerate(images, start):
        Image.fromarray(img, mode="L").save(directory / f"{i}.png", format="PNG")
