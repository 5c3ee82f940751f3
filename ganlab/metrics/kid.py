"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, averaged over random subsets (100 of 1000 by default).

The kernels come from the shared pairwise pass's Gram blocks (``pairs``): each subset's kernel sum is
1ᵀ_s K 1_s, summed block by block through the subsets' 0/1 membership matrices, instead of 300 Gram matrices of
its own per evaluation. The subsets are drawn as before (fake then real, per subset, from one generator of ``seed``).
"""
from __future__ import annotations

import numpy as np
import torch

from . import pairs
from .registry import Features, Number, register_metric


@pairs.register
class KernelSums(pairs.Consumer):
    """Per subset: the kernel's sum over distinct pairs of its fakes, of its reals, and over its fake-real pairs."""

    def __init__(self, subsets: int = 100, subset_size: int = 1000, seed: int = 0):
        self.subsets, self.subset_size, self.seed = subsets, subset_size, seed

    def start(self, n_real, n_fake, dim):
        self.dim = dim
        self.m = m = min(n_real, n_fake, self.subset_size)
        rng = np.random.default_rng(self.seed)
        member = {"fake": torch.zeros(n_fake, self.subsets, dtype=torch.float64),
                  "real": torch.zeros(n_real, self.subsets, dtype=torch.float64)}
        for s in range(self.subsets):
            member["fake"][rng.choice(n_fake, m, replace=False), s] = 1
            member["real"][rng.choice(n_real, m, replace=False), s] = 1
        self.member = member
        self.sums = {pair: torch.zeros(self.subsets, dtype=torch.float64) for pair in pairs.PAIRS}

    def block(self, pair, rows, gram, dist, radius):
        kernel = (gram / self.dim + 1) ** 3
        rows_in = self.member[pair[0]][rows]
        total = ((kernel @ self.member[pair[1]]) * rows_in).sum(0)
        if pair[0] == pair[1]:  # leave out each point with itself
            own = kernel.diagonal(offset=rows.start)
            total -= own @ rows_in
        self.sums[pair] += total

    def result(self):
        m = self.m
        values = (self.sums[("fake", "fake")] / (m * (m - 1)) + self.sums[("real", "real")] / (m * (m - 1))
                  - 2 * self.sums[("real", "fake")] / (m * m)).numpy()
        return float(values.mean()), float(values.std())


def kid(real: np.ndarray, fake: np.ndarray, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 estimates over ``subsets`` random subsets."""
    return pairs.run(real, fake, [KernelSums(subsets, subset_size, seed)])[0]


@register_metric("kid", features="inception", order=40,
                 numbers=[Number("kid_mean", "KID ×10³", 2, better="lower", scale=1e3),
                          Number("kid_std", "", 2, scale=1e3, column=False)])
def _kid(f: Features) -> dict:
    mean, std = pairs.of(f, KernelSums)
    return {"kid_mean": mean, "kid_std": std}
