"""Least squares on D's sigmoid output: the platform template with its BCELoss swapped for nn.MSELoss.

The template's D ends in a sigmoid, so a team that turns it into an LSGAN by changing the criterion gets
D: E[(sigmoid(D(x)) - 1)^2] + E[sigmoid(D(G(z)))^2];  G: E[(sigmoid(D(G(z))) - 1)^2].
Unlike Mao et al.'s LSGAN (``lsgan``, an unbounded D output), the scores stay in (0, 1), so the gradient G gets
is bounded; see docs/RESULTS.md (the reports' table) for why that matters with the fixed tanh generator.
"""
import torch

from .base import Loss, register


@register("lsgan-sigmoid")
class LeastSquaresOnProbabilities(Loss):
    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return ((torch.sigmoid(real) - 1) ** 2).mean() + (torch.sigmoid(fake) ** 2).mean()

    def g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        return ((torch.sigmoid(fake) - 1) ** 2).mean()
