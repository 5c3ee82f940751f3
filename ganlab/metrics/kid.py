"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, averaged over random subsets (100 of 1000 by default)."""
from __future__ import annotations

import numpy as np

from .registry import Features, Number, register_metric


def kid(real: np.ndarray, fake: np.ndarray, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 estimates over ``subsets`` random subsets."""
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    d = real.shape[1]
    m = min(len(real), len(fake), subset_size)
    rng = np.random.default_rng(seed)
    values = np.empty(subsets)
    for s in range(subsets):
        x = fake[rng.choice(len(fake), m, replace=False)]
        y = real[rng.choice(len(real), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        values[s] = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                     - 2 * kxy.mean())
    return float(values.mean()), float(values.std())


@register_metric("kid", features="inception", order=40,
                 numbers=[Number("kid_mean", "KID ×10³", 2, better="lower", scale=1e3),
                          Number("kid_std", "", 2, scale=1e3, column=False)])
def _kid(f: Features) -> dict:
    mean, std = kid(f.real, f.fake)
    return {"kid_mean": mean, "kid_std": std}
