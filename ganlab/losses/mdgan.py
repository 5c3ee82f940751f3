"""Mixture-Density GAN (Eghbal-zadeh et al. 2019), as the MD-GAN report writes it.

D outputs an embedding e in R^d (``model.d_out = d``). Real embeddings are pulled into a simplex
Gaussian mixture: d + 1 unit-variance Gaussians, equally weighted, at the vertices of a regular
simplex with edge ``distance``. With lk(e) = sum_i 1/(d+1) exp(-||e - mu_i||^2 / 2) (the constant
(2 pi)^(-d/2) cancels everywhere) and lambda = max_e lk(e), the largest likelihood (the MD-GAN code finds it
numerically; it is lk(mu_0) only while the Gaussians barely overlap: with the code's own simplex, edge
2.81 sigma, the maximum is at the centre, lk(0) = 1.44 lk(mu_0)):
    D: -E log lk(D(x)) - E log(lambda - lk(D(G(z))));   G: -E log lk(D(G(z))).
log lk is a log-sum-exp. Written as log(lk + eps), as before (and as the report's code), it froze the MNIST run of
the reports' table: by epoch 5 D's embeddings of real and fake images lay so far from every mean that lk underflowed
to 0, both losses sat at -log(eps) and no gradient reached D or G again (docs/RESULTS.md, the reports' table).
"""
from __future__ import annotations

import math

import torch

from .base import Loss, register

EPS = 1e-12


def simplex_vertices(d: int, distance: float) -> torch.Tensor:
    """d + 1 points in R^d, pairwise ``distance`` apart, centred on the origin."""
    e = torch.eye(d + 1, dtype=torch.float64) - 1.0 / (d + 1)  # standard simplex, centred: edges sqrt(2)
    q, _ = torch.linalg.qr(e[:, :d])  # orthonormal basis of the hyperplane sum = 0
    return (e @ q * (distance / 2 ** 0.5)).float()


def max_likelihood(means: torch.Tensor, steps: int = 200) -> float:
    """max_e of sum_i exp(-||e - mu_i||^2 / 2) / K over R^d, for simplex means: gradient ascent in float64
    from the centroid of the first j vertices for every j (a vertex, an edge's midpoint, ..., the centre; by
    symmetry every critical point class has such a representative); the largest value found."""
    mu = means.double()
    best = 0.0
    for j in range(1, len(mu) + 1):
        e = mu[:j].mean(0)
        for _ in range(steps):  # fixed-point (mean-shift) iteration: monotone ascent for a Gaussian mixture
            w = torch.exp(-0.5 * ((e - mu) ** 2).sum(1))
            e = (w[:, None] * mu).sum(0) / w.sum()
        w = torch.exp(-0.5 * ((e - mu) ** 2).sum(1))
        best = max(best, w.mean().item(), torch.exp(-0.5 * ((mu[:j].mean(0) - mu) ** 2).sum(1)).mean().item())
    return best


@register("md-gan")
class MixtureDensity(Loss):
    probabilistic = False
    sign_means_real = False

    def __init__(self, d_out: int = 2, distance: float = 5.0):
        self.means = simplex_vertices(d_out, distance)
        self.lam = max_likelihood(self.means)

    def log_likelihood(self, e: torch.Tensor) -> torch.Tensor:
        """log lk(e), computed as a log-sum-exp: exact where lk(e) itself underflows (an embedding ~40 units from
        every mean has lk = 0 in float32), so the pull towards the nearest mean never vanishes."""
        e = e.reshape(len(e), -1)
        means = self.means.to(e.device, e.dtype)
        return torch.logsumexp(-0.5 * torch.cdist(e, means) ** 2, 1) - math.log(len(means))

    def likelihood(self, e: torch.Tensor) -> torch.Tensor:
        return self.log_likelihood(e).exp()

    def d_loss(self, real, fake):
        return (-self.log_likelihood(real).mean()
                - torch.log((self.lam - self.likelihood(fake)).clamp_min(0) + EPS).mean())

    def g_loss(self, fake):
        return -self.log_likelihood(fake).mean()

    def score(self, out):
        return self.likelihood(out) / self.lam
