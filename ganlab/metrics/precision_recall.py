"""Improved precision and recall (Kynkäänniemi et al. 2019), k = 3.

precision: share of fakes inside the union of real k-NN balls; recall: share of reals inside the
union of fake k-NN balls (strict inequality, as the reference code and the prdc package do).
"""
from __future__ import annotations

import numpy as np

from .knn import inside_counts, kth_neighbour_radii
from .registry import Features, Number, register_metric

K = 3


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = K,
                     real_radii: np.ndarray | None = None) -> tuple[float, float]:
    real_radii = kth_neighbour_radii(real, k) if real_radii is None else real_radii
    fake_radii = kth_neighbour_radii(fake, k)
    counts_fake, _ = inside_counts(real, real_radii, fake)
    counts_real, _ = inside_counts(fake, fake_radii, real)
    return float((counts_fake > 0).mean()), float((counts_real > 0).mean())


@register_metric("precision_recall", features="inception", order=20,
                 numbers=[Number("precision", "P", 3, better="higher", unit=True),
                          Number("recall", "R", 3, better="higher", unit=True)])
def _precision_recall(f: Features) -> dict:
    p, r = precision_recall(f.real, f.fake)
    return {"precision": p, "recall": r}
