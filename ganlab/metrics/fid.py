"""Fréchet Inception Distance (Heusel et al. 2017), in float64 as pytorch-fid computes it."""
from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

from .registry import Features, Number, register_metric


def stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(features, dtype=np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2); an eps*I offset when the product is singular."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    diff = mu1 - mu2
    with warnings.catch_warnings():  # near-singular products are normal for 2048-d features; see the fallback
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"FID: imaginary component {np.max(np.abs(covmean.imag))} in the matrix square root")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(real_features: np.ndarray, fake_features: np.ndarray) -> float:
    return frechet_distance(*stats(real_features), *stats(fake_features))


@register_metric("fid", features="inception", order=10, numbers=[Number("fid", "FID", 2, better="lower")])
def _fid(f: Features) -> dict:
    return {"fid": fid(f.real, f.fake)}
