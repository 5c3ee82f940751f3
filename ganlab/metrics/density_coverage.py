"""Density and coverage (Naeem et al. 2020), k = 5.

density = 1/(k M) sum_j sum_i 1[fake_j in B(real_i, NND_k(real_i))];
coverage = 1/N sum_i 1[some fake in B(real_i, NND_k(real_i))].
"""
from __future__ import annotations

import numpy as np

from .knn import inside_counts, kth_neighbour_radii
from .registry import Features, Number, register_metric

K = 5


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = K,
                     real_radii: np.ndarray | None = None) -> tuple[float, float]:
    real_radii = kth_neighbour_radii(real, k) if real_radii is None else real_radii
    counts, hit = inside_counts(real, real_radii, fake)
    return float(counts.sum() / (k * len(fake))), float(hit.mean())


@register_metric("density_coverage", features="inception", order=30,
                 numbers=[Number("density", "D", 3, better="higher", unit=True),  # may pass 1; drawn with P and R
                          Number("coverage", "C", 3, better="higher", unit=True)])
def _density_coverage(f: Features) -> dict:
    d, c = density_coverage(f.real, f.fake)
    return {"density": d, "coverage": c}
