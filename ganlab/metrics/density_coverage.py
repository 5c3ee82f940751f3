"""Density and coverage (Naeem et al. 2020), k = 5.

density = 1/(k M) sum_j sum_i 1[fake_j in B(real_i, NND_k(real_i))];
coverage = 1/N sum_i 1[some fake in B(real_i, NND_k(real_i))].
"""
from __future__ import annotations

import numpy as np
import torch

from . import pairs
from .registry import Features, Number, register_metric

K = 5


@pairs.register
class RealBalls(pairs.Consumer):
    """How many fakes each real k-NN ball holds, from the real-fake pass."""

    reads = (("real", "fake"),)

    def __init__(self, k: int = K):
        self.k, self.radii = k, {"real": (k,)}

    def start(self, n_real, n_fake, dim):
        self.n_fake = n_fake
        self.counts = torch.zeros(n_real, dtype=torch.int64)

    def block(self, pair, rows, gram, dist, radius):  # real rows x fake columns: the only pair it reads
        self.counts[rows] = (dist < radius("real", self.k)[rows, None]).sum(1)

    def result(self):
        return int(self.counts.sum()) / (self.k * self.n_fake), int((self.counts > 0).sum()) / len(self.counts)


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = K) -> tuple[float, float]:
    return pairs.run(real, fake, [RealBalls(k)])[0]


@register_metric("density_coverage", features="inception", order=30,
                 numbers=[Number("density", "D", 3, better="higher", unit=True),  # may pass 1; drawn with P and R
                          Number("coverage", "C", 3, better="higher", unit=True)])
def _density_coverage(f: Features) -> dict:
    d, c = pairs.of(f, RealBalls)
    return {"density": d, "coverage": c}
