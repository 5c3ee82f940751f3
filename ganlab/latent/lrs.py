"""Latent reweighting (Issenhuth et al. 2021), as the LRS report writes it.

An importance network w_phi(z) >= 0 reweights the prior; a critic D_alpha (initialised from the
run's discriminator, trained with a gradient penalty) plays against it:
    critic:  max  E D(x) - E w(z) D(G(z))  - 10 GP
    w:       max  E w(z) (D(G(z)) - Delta) - lambda1 (E w(z) - 1)^2 - lambda2 E max(0, w(z) - m)^2
with Delta the batch mean of D(G(z)). ``ganlab latent fit-lrs --run RUN`` trains and saves it in
RUN/latent/lrs.pt. Sampling modes: rs (accept z with probability min(1, w(z)/m): acceptance ~ 1/m),
ga (a few gradient-ascent steps on w in z), rs+ga.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ..errors import GanlabError
from ..io import torch_load
from ..losses.penalties import gradient_penalty
from .base import RejectionSampler, batched, d_score, register

STATE = "lrs.pt"


class WNet(nn.Module):
    def __init__(self, z_dim: int, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, z):
        return F.softplus(self.net(z)).squeeze(1)


def fit_lrs(ctx, real: torch.Tensor, iters: int = 2000, batch_size: int = 256, m: float = 3.0,
            lambda1: float = 10.0, lambda2: float = 3.0, lr: float = 1e-4, seed: int = 0,
            progress: bool = True) -> dict:
    """Train w (and its critic) for ``ctx``'s generator; returns the state to save."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    w = WNet(ctx.z_dim)
    critic = copy.deepcopy(ctx.D).train().requires_grad_(True)
    opt_w = torch.optim.Adam(w.parameters(), lr=lr, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9))

    for _ in tqdm(range(iters), desc="fit-lrs", disable=not progress, leave=False):
        x = real[torch.randint(0, len(real), (batch_size,), generator=g)]
        z = ctx.prior.sample(batch_size, g)
        with torch.no_grad():
            fake = ctx.G(z)
            wz = w(z)
        loss_c = (-(d_score(critic, x).mean() - (wz * d_score(critic, fake)).mean())
                  + 10.0 * gradient_penalty(critic, x, fake, g))
        opt_c.zero_grad()
        loss_c.backward()
        opt_c.step()
        with torch.no_grad():
            d_fake = d_score(critic, fake)
        wz = w(z)
        gain = (wz * (d_fake - d_fake.mean())).mean()
        loss_w = -gain + lambda1 * (wz.mean() - 1) ** 2 + lambda2 * (F.relu(wz - m) ** 2).mean()
        opt_w.zero_grad()
        loss_w.backward()
        opt_w.step()
    return {"w": w.state_dict(), "z_dim": ctx.z_dim, "m": m, "iters": iters, "seed": seed}


@register("lrs")
class LRS(RejectionSampler):
    OPTIONS = {"mode": (str, "rs"), "m": (float, 0.0), "steps": (int, 5), "lr": (float, 0.05), "seed": (int, 0)}

    def check(self):
        self._require(self.mode in ("rs", "ga", "rs+ga"), f"'lrs.mode' = {self.mode!r}; accepted: rs, ga, rs+ga")
        self._require(self.m >= 0 and self.steps >= 0 and self.lr > 0, "'lrs.m' >= 0, steps >= 0, lr > 0")

    def fit(self, ctx):
        if ctx.state_dir is None:  # a shipped pair: the network fitted for its G travels in its sampler.pt
            if "lrs" not in (ctx.shipped or {}):
                raise GanlabError("sampler 'lrs' needs its fitted importance network, and this shipped sampler.pt "
                                  "holds none; export the pair with --sampler lrs (after 'ganlab latent fit-lrs "
                                  "--run RUN'), or sample the run itself with --run RUN")
            self.load_state(ctx.shipped["lrs"])
            return
        path = Path(ctx.state_dir) / STATE
        if not path.is_file():
            raise GanlabError(f"sampler 'lrs' needs a fitted importance network at {path}; "
                              f"run 'ganlab latent fit-lrs --run RUN' first")
        self.load_state(torch_load(path))

    def state(self) -> dict:
        return self.saved

    def load_state(self, state: dict) -> None:
        self.saved = state
        self.w = WNet(state["z_dim"])
        self.w.load_state_dict(state["w"])
        self.w.eval()
        self.m_eff = self.m or state["m"]

    def acceptance(self, z, ctx):
        return (self.w(z) / self.m_eff).clamp(max=1)

    def hint(self) -> str:
        return f"lower 'lrs.m' (now {self.m_eff:g}) or refit the network (ganlab latent fit-lrs)"

    def sample(self, n, ctx, upstream):
        z = super().sample(n, ctx, upstream) if "rs" in self.mode else upstream(n)
        if "ga" in self.mode:
            def ascend(zb):
                for _ in range(self.steps):
                    zb = zb.detach().requires_grad_(True)
                    (grad,) = torch.autograd.grad(self.w(zb).sum(), zb)
                    zb = zb + self.lr * grad
                return zb.detach()
            z = batched(ascend, z, ctx.batch_size)
        return z
