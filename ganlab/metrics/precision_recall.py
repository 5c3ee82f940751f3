"""Improved precision and recall (Kynkäänniemi et al. 2019), k = 3.

precision: share of fakes inside the union of real k-NN balls; recall: share of reals inside the
union of fake k-NN balls (strict inequality, as the reference code and the prdc package do).
"""
from __future__ import annotations

import numpy as np
import torch

from . import pairs
from .registry import Features, Number, register_metric

K = 3


@pairs.register
class Balls(pairs.Consumer):
    """Which fakes lie in some real k-NN ball, and which reals in some fake one, from the real-fake pass."""

    reads = (("real", "fake"),)

    def __init__(self, k: int = K):
        self.k, self.radii = k, {"real": (k,), "fake": (k,)}

    def start(self, n_real, n_fake, dim):
        self.fake_in_real = torch.zeros(n_fake, dtype=torch.bool)
        self.real_in_fake = torch.zeros(n_real, dtype=torch.bool)

    def block(self, pair, rows, gram, dist, radius):  # real rows x fake columns: the only pair it reads
        self.fake_in_real |= (dist < radius("real", self.k)[rows, None]).any(0)
        self.real_in_fake[rows] = (dist < radius("fake", self.k)[None, :]).any(1)

    def result(self):
        return (int(self.fake_in_real.sum()) / len(self.fake_in_real),
                int(self.real_in_fake.sum()) / len(self.real_in_fake))


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = K) -> tuple[float, float]:
    return pairs.run(real, fake, [Balls(k)])[0]


@register_metric("precision_recall", features="inception", order=20,
                 numbers=[Number("precision", "P", 3, better="higher", unit=True),
                          Number("recall", "R", 3, better="higher", unit=True)])
def _precision_recall(f: Features) -> dict:
    p, r = pairs.of(f, Balls)
    return {"precision": p, "recall": r}
