"""Least-squares GAN (Mao et al. 2017) with the 0-1-1 coding of the LSGAN report:

D: 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2];  G: 1/2 E[(D(G(z)) - 1)^2].
"""
import torch

from .base import Loss, register


@register("lsgan")
class LeastSquares(Loss):
    probabilistic = False
    sign_means_real = False

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean()

    def g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((fake - 1) ** 2).mean()
