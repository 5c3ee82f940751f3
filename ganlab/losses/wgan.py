"""Wasserstein GAN loss (Arjovsky et al. 2017): D is a critic with unbounded scores.

D: E[D(G(z))] - E[D(x)];  G: -E[D(G(z))]. The Lipschitz constraint comes from elsewhere: weight
clipping (``train.clip_d``, with RMSprop, as the paper) or a gradient penalty (``regularizers.gp``).
"""
import torch

from .base import Loss, register


@register("wgan")
class Wasserstein(Loss):
    probabilistic = False
    sign_means_real = False

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return fake.mean() - real.mean()

    def g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        return -fake.mean()
