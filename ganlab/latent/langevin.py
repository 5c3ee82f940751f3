"""Gradient-based latent refiners: DDLS, DGflow and DOT. Each moves z with D's gradient through G."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .base import Sampler, batched, register


def _grad(fn, z):
    z = z.detach().requires_grad_(True)
    value = fn(z)
    (g,) = torch.autograd.grad(value.sum(), z)
    return value.detach(), g


@register("ddls")
class DDLS(Sampler):
    """Discriminator-driven latent sampling (Che et al. 2020): Langevin dynamics on
    E(z) = ||z||^2 / 2 - d(G(z)), z <- z - step/2 grad E + sqrt(step) * noise * xi, with an optional
    Metropolis-Hastings correction (MALA)."""

    OPTIONS = {"steps": (int, 10), "step_size": (float, 0.01), "noise": (float, 1.0), "mh": (bool, False),
               "seed": (int, 0)}

    def check(self):
        self._require(self.steps >= 0, f"'ddls.steps' = {self.steps} must be >= 0")
        self._require(self.step_size > 0, f"'ddls.step_size' = {self.step_size} must be > 0")

    def energy(self, ctx, z):
        return 0.5 * (z ** 2).sum(1) - ctx.logit(z)

    def sample(self, n, ctx, upstream):
        z = upstream(n)
        if self.steps == 0:
            return z
        g = torch.Generator().manual_seed(self.seed)
        return batched(lambda zb: self._run(ctx, zb, g), z, ctx.batch_size)

    mh_accepted = mh_proposed = 0

    def _run(self, ctx, z, g):
        eps = self.step_size
        e, grad = _grad(lambda v: self.energy(ctx, v), z)
        for _ in range(self.steps):
            prop = z - 0.5 * eps * grad + math.sqrt(eps) * self.noise * torch.randn(z.shape, generator=g)
            e_new, grad_new = _grad(lambda v: self.energy(ctx, v), prop)
            if self.mh:
                def log_q(to, frm, grad_frm):
                    return -((to - frm + 0.5 * eps * grad_frm) ** 2).sum(1) / (2 * eps * self.noise ** 2)
                log_alpha = -e_new + e + log_q(z, prop, grad_new) - log_q(prop, z, grad)
                accept = torch.log(torch.rand(len(z), generator=g)) < log_alpha
                self.mh_accepted += int(accept.sum())
                self.mh_proposed += len(accept)
                z = torch.where(accept[:, None], prop, z)
                e = torch.where(accept, e_new, e)
                grad = torch.where(accept[:, None], grad_new, grad)
            else:
                z, e, grad = prop, e_new, grad_new
        return z.detach()


@register("dgflow")
class DGflow(Sampler):
    """Discriminator gradient flow in latent space (Ansari et al. 2021): Euler-Maruyama steps of
    z <- z + step * grad_z f'(d(G(z))) + sqrt(2 step) * noise * xi, with d = D's logit as the log density
    ratio and the divergence's f': kl -> d, js -> log sigmoid(d), logd -> -log sigmoid(-d)."""

    OPTIONS = {"steps": (int, 10), "step_size": (float, 0.01), "noise": (float, 0.01), "divergence": (str, "kl"),
               "seed": (int, 0)}
    F_PRIME = {"kl": lambda d: d, "js": F.logsigmoid, "logd": lambda d: -F.logsigmoid(-d)}

    def check(self):
        self._require(self.divergence in self.F_PRIME,
                      f"'dgflow.divergence' = {self.divergence!r}; accepted: {', '.join(self.F_PRIME)}")
        self._require(self.steps >= 0 and self.step_size > 0, "'dgflow.steps' must be >= 0 and step_size > 0")

    def sample(self, n, ctx, upstream):
        z = upstream(n)
        g = torch.Generator().manual_seed(self.seed)
        fp = self.F_PRIME[self.divergence]

        def run(zb):
            for _ in range(self.steps):
                _, grad = _grad(lambda v: fp(ctx.logit(v)), zb)
                zb = zb + self.step_size * grad + math.sqrt(2 * self.step_size) * self.noise * \
                    torch.randn(zb.shape, generator=g)
            return zb.detach()
        return batched(run, z, ctx.batch_size)


@register("dot")
class DOT(Sampler):
    """Discriminator optimal transport in latent space (Tanaka 2019):
    z <- argmin_z' ||z' - z_y|| - d(G(z')) / k_eff, started at the prior draw z_y and solved with a few
    Adam steps; k_eff, D's Lipschitz constant in latent space, is estimated from pairs of prior draws as
    the largest |d(G(z1)) - d(G(z2))| / ||z1 - z2||."""

    OPTIONS = {"steps": (int, 10), "lr": (float, 0.01), "k_pairs": (int, 1000), "seed": (int, 0)}
    FITTED = ("k_eff",)

    def check(self):
        self._require(self.steps >= 0 and self.lr > 0 and self.k_pairs > 1, "'dot.steps' >= 0, lr > 0, k_pairs > 1")

    def fit(self, ctx):
        g = torch.Generator().manual_seed(self.seed)
        with torch.no_grad():
            z1, z2 = ctx.prior.sample(self.k_pairs, g), ctx.prior.sample(self.k_pairs, g)
            ratio = (ctx.logit(z1) - ctx.logit(z2)).abs() / (z1 - z2).norm(dim=1).clamp_min(1e-8)
        self.k_eff = max(ratio.max().item(), 1e-8)

    def sample(self, n, ctx, upstream):
        z = upstream(n)

        def run(zy):
            zp = zy.clone().requires_grad_(True)
            opt = torch.optim.Adam([zp], lr=self.lr)
            for _ in range(self.steps):
                loss = ((zp - zy).norm(dim=1) - ctx.logit(zp) / self.k_eff).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
            return zp.detach()
        return batched(run, z, ctx.batch_size)
