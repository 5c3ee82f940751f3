"""Discriminator rejection sampling (Azadi et al. 2019).

D's score is calibrated to a logit D~ of P(real) by logistic regression on held-out real vs fake
scores (required for critics, whose scores are not logits; harmless for NS discriminators).
D~max is estimated over a burn-in of fakes and updated as sampling sees larger values; then
    F(x) = D~(x) - log(1 - exp(D~(x) - D~max - eps)) - gamma,   accept x with probability sigmoid(F(x)),
where gamma is the ``percentile``-th percentile of F over the burn-in (higher: fewer accepted).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import GanlabError
from .base import RejectionSampler, batched, register

@register("drs")
class DRS(RejectionSampler):
    OPTIONS = {"percentile": (float, 80.0), "eps": (float, 1e-6), "burn_in": (int, 10000), "calibrate": (bool, True),
               "seed": (int, 0)}
    FITTED = ("a", "b", "max_logit", "gamma")

    def check(self):
        self._require(0 <= self.percentile <= 100, f"'drs.percentile' = {self.percentile} must be in [0, 100]")
        self._require(self.burn_in > 0, f"'drs.burn_in' = {self.burn_in} must be > 0")

    def needs_real(self) -> bool:
        return self.calibrate

    def fit(self, ctx):
        g = torch.Generator().manual_seed(self.seed)
        self.a, self.b = 1.0, 0.0
        with torch.no_grad():  # one draw of the whole burn-in: the fit does not depend on the batch size
            fake_scores = batched(ctx.logit, ctx.prior.sample(self.burn_in, g), ctx.batch_size)
        if self.calibrate:
            if ctx.real is None:
                raise GanlabError("sampler 'drs' with calibrate=true needs held-out real data")
            with torch.no_grad():
                real_scores = torch.cat([ctx.d_out(ctx.real[i:i + ctx.batch_size])
                                         for i in range(0, len(ctx.real), ctx.batch_size)])
            self.a, self.b = _platt(real_scores, fake_scores[: len(real_scores) * 4])
        logits = self.a * fake_scores + self.b
        self.max_logit = logits.max().item()
        self.gamma = float(np.percentile(self._f(logits, 0.0).numpy(), self.percentile))

    def _f(self, logits: torch.Tensor, gamma: float) -> torch.Tensor:
        # -log(1 - exp(x)) for x <= 0, computed stably
        x = (logits - self.max_logit - self.eps).clamp(max=-self.eps)
        return logits - torch.log(-torch.expm1(x)) - gamma

    SEED_OFFSET = 1

    def acceptance(self, z, ctx):
        logits = self.a * ctx.logit(z) + self.b
        self.max_logit = max(self.max_logit, logits.max().item())  # keep updating the max
        return torch.sigmoid(self._f(logits, self.gamma))

    def hint(self) -> str:
        return f"lower 'drs.percentile' (now {self.percentile:g})"


def _platt(real: torch.Tensor, fake: torch.Tensor, steps: int = 300) -> tuple[float, float]:
    """Logistic regression sigmoid(a * score + b) of real (1) vs fake (0)."""
    s = torch.cat([real, fake]).float()
    y = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))])
    scale = s.std().clamp_min(1e-6)
    params = torch.tensor([1.0, 0.0], requires_grad=True)
    opt = torch.optim.LBFGS([params], max_iter=steps, line_search_fn="strong_wolfe")
    weight = torch.where(y == 1, len(fake) / len(real), 1.0)  # balance the classes

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(params[0] * s / scale + params[1], y, weight=weight)
        loss.backward()
        return loss
    opt.step(closure)
    return params[0].item() / scale.item(), params[1].item()
