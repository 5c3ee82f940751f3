"""Reading image sets for evaluation: a folder of PNGs, an .npz / .npy of uint8 images, or MNIST refs.

Every set becomes a uint8 N x 28 x 28 array; anything else is a clear error naming the file.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..data import mnist
from ..errors import GanlabError
from . import density_coverage, precision_recall

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
TRAIN_REF_SEED = 0
REF_SIZE = 10000
#: the fewest images a set (generated or reference) may hold: the k-NN metrics need k + 1
MIN_IMAGES = max(precision_recall.K, density_coverage.K) + 1


def _sort_key(p: Path):
    return (0, int(p.stem), "") if p.stem.isdigit() else (1, 0, p.name)


def _read_image(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as img:
            img.load()
            if img.size != (28, 28):
                raise GanlabError(f"{path} is {img.size[0]}x{img.size[1]}; expected 28x28 images")
            if img.mode in ("L", "P", "1"):
                return np.asarray(img.convert("L"))
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit PNG: 0..65535 -> 0..255, value / 257 rounded
                arr = np.asarray(img).astype(np.int64)
                if arr.min() < 0 or arr.max() > 65535:
                    raise GanlabError(f"{path} has pixel values outside 0..65535; expected 8- or 16-bit grayscale")
                return ((arr * 255 + 32767) // 65535).astype(np.uint8)
            if img.mode in ("RGB", "RGBA", "LA"):
                arr = np.asarray(img.convert("RGB"))
                if not (np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], arr[..., 2])):
                    raise GanlabError(f"{path} has colour (its RGB channels differ); expected grayscale digits")
                return arr[..., 0].copy()
            raise GanlabError(f"{path} has image mode {img.mode}; expected 8-bit grayscale (or grey RGB)")
    except (UnidentifiedImageError, OSError) as exc:
        raise GanlabError(f"{path} is not a readable image ({type(exc).__name__}); "
                          f"expected a folder of 28x28 PNGs") from None


def load_folder(folder: Path) -> np.ndarray:
    files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), key=_sort_key)
    if not files:
        raise GanlabError(f"{folder} is empty; expected 28x28 PNG images (0.png, 1.png, ...)")
    for p in files:
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            raise GanlabError(f"{p} is not an image file; expected only {', '.join(IMAGE_SUFFIXES)} in {folder}")
    return np.stack([_read_image(p) for p in files])


def load_array(path: Path) -> np.ndarray:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                key = "images" if "images" in keys else (keys[0] if len(keys) == 1 else None)
                if key is None:
                    raise GanlabError(f"{path} holds arrays {keys}; expected one array or one named 'images'")
                arr = z[key]
        else:
            arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise GanlabError(f"{path} is not a readable .npz/.npy file ({exc})") from None
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise GanlabError(f"{path} contains NaN values; expected uint8 images")
    if arr.dtype != np.uint8:
        raise GanlabError(f"{path} holds {arr.dtype} values; expected uint8 images (0..255)")
    if arr.ndim == 2 and arr.shape[1] == 784:
        arr = arr.reshape(-1, 28, 28)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 3 or arr.shape[1:] != (28, 28):
        raise GanlabError(f"{path} holds images of shape {list(arr.shape)}; expected N x 28 x 28 "
                          f"(or N x 784, N x 1 x 28 x 28), one grey channel")
    return arr


def load_images(path: str | os.PathLike, min_count: int = 1) -> np.ndarray:
    path = Path(path)
    if path.is_dir():
        images = load_folder(path)
    elif path.is_file() and path.suffix in (".npz", ".npy"):
        images = load_array(path)
    elif path.exists():
        raise GanlabError(f"{path} is neither a folder of PNGs nor an .npz/.npy file")
    else:
        raise GanlabError(f"{path} does not exist; expected a folder of PNGs or an .npz/.npy of uint8 images")
    if len(images) < min_count:
        raise GanlabError(f"{path} has {len(images)} images; the metrics need at least {min_count}")
    return images


def reference(ref: str, cache: str | None = None) -> tuple[str, np.ndarray]:
    """(cache id, images) for ``test`` (MNIST test, 10k), ``train`` (10k MNIST train, fixed seed) or a path."""
    if ref == "test":
        return "mnist-test", mnist.load(cache).test_x
    if ref == "train":
        idx = np.random.default_rng(TRAIN_REF_SEED).choice(60000, REF_SIZE, replace=False)
        return f"mnist-train{REF_SIZE}-seed{TRAIN_REF_SEED}", mnist.load(cache).train_x[np.sort(idx)]
    images = load_images(ref, MIN_IMAGES)
    return "set-" + hashlib.sha256(images.tobytes()).hexdigest()[:16], images


def fingerprint(images: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()[:16]
