"""Fréchet Inception Distance (Heusel et al. 2017), in float64.

FID = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^1/2). pytorch-fid computes the last trace with scipy's
``sqrtm`` of the non-symmetric product, which takes ~90 s of a 2048-d product on these cores. The trace only needs the
product's eigenvalues, and those equal the eigenvalues of the symmetric positive semi-definite Lᵀ S2 L for any L with
L Lᵀ = S1 (XY and YX share their eigenvalues): Tr((S1 S2)^1/2) = Σ √λ(Lᵀ S2 L). L is S1's Cholesky factor when S1 is
positive definite (a reference of 10,000 MNIST images is), else S1's symmetric square root from its eigenvectors, so a
singular covariance (fewer samples than dimensions, a collapsed set) needs no ε offset. Same number in exact
arithmetic; with full-rank covariances (10,000 Inception features) it agrees with ``sqrtm`` to ~1e-11 relative
(docs/RESULTS.md §4, session 19). With singular ones ``sqrtm`` itself is inexact and the two differ by up to ~1e-7
relative (this route is the accurate one); MNIST-FID goes through here too, so a number measured before session 19
may differ from today's in its last digits.
"""
from __future__ import annotations

import numpy as np
import torch

from .registry import Features, Number, register_metric


def stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(features, dtype=np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


def _factor(sigma: torch.Tensor) -> torch.Tensor:
    """Some L with L Lᵀ = sigma: the Cholesky factor, or the symmetric square root when sigma is singular."""
    factor, info = torch.linalg.cholesky_ex(sigma)
    if int(info) == 0:
        return factor
    w, v = torch.linalg.eigh(sigma)
    return (v * w.clamp_min(0).sqrt()) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr((sigma1 sigma2)^1/2) for two symmetric positive semi-definite matrices."""
    s1 = torch.from_numpy(np.ascontiguousarray(sigma1, dtype=np.float64))
    s2 = torch.from_numpy(np.ascontiguousarray(sigma2, dtype=np.float64))
    factor = _factor(s1)
    product = factor.T @ s2 @ factor
    eigenvalues = torch.linalg.eigvalsh((product + product.T) / 2)  # symmetric up to rounding; make it exactly
    return float(eigenvalues.clamp_min(0).sqrt().sum())  # negatives are rounding of zero eigenvalues


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2)."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2))


def fid(real_features: np.ndarray, fake_features: np.ndarray) -> float:
    return frechet_distance(*stats(real_features), *stats(fake_features))


@register_metric("fid", features="inception", order=10, numbers=[Number("fid", "FID", 2, better="lower")])
def _fid(f: Features) -> dict:
    return {"fid": fid(f.real, f.fake)}
