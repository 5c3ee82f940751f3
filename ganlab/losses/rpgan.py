"""Relativistic pairing loss (RpGAN; Jolicoeur-Martineau 2019), the loss of R3GAN (Huang et al. 2024).

Each fake is paired with the real image at the same position of the batch, and D judges the pair, not each image:

    D: E[softplus(D(G(z)) - D(x))]        G: E[softplus(D(x) - D(G(z)))]

Its landscape has no local optimum where all fakes sit on one mode that D cannot move them off (Sun et al. 2020),
which is why R3GAN pairs it with zero-centred gradient penalties on reals and fakes (``regularizers.r1`` and
``regularizers.r2``; configs/r3gan.yaml). In G's step the reals go through D (the same D as the fakes, without
gradient: G's gradient does not depend on them).
"""
import torch
import torch.nn.functional as F

from .base import Loss, register


@register("rpgan")
class RelativisticPairing(Loss):
    probabilistic = False  # D outputs a score; only differences of scores mean anything
    sign_means_real = False
    g_needs_real = True

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return F.softplus(fake - real).mean()

    def g_loss(self, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
        return F.softplus(real - fake).mean()
