"""Consistency regularisation (Zhao et al. 2020, "Improved consistency regularization"), as the ICR
report writes it.

bCR (balanced): D's outputs should not change under a semantics-preserving augmentation T:
    L_D += lambda_real ||D(x) - D(T(x))||^2 + lambda_fake ||D(G(z)) - D(T(G(z)))||^2
zCR (latent): with T(z) = z + dz, dz ~ N(0, sigma^2 I),
    L_D += lambda_dis ||D(G(z)) - D(G(T(z)))||^2      (D insensitive to small latent moves)
    L_G -= lambda_gen ||G(z) - G(T(z))||^2            (G sensitive to them: diversity)
D's terms are squared differences of its scalar outputs, averaged over the batch. G's term is the squared difference
**per pixel**, averaged over pixels and batch (``F.mse_loss``), as the ICR report's code and the PyTorch ports of
Zhao et al. compute it: lambda_gen 0.5 is set for that scale. Summed over the 784 pixels
instead, G's term is 784 times larger, outweighs the adversarial loss and drives G into saturated noise (RESULTS §12.3.3,
session 24).
"""
from __future__ import annotations

import torch


def bcr(D, x, fake, augment, lambda_real: float, lambda_fake: float, generator=None, d_real=None, d_fake=None):
    d_real = D(x) if d_real is None else d_real
    d_fake = D(fake) if d_fake is None else d_fake
    term = x.new_zeros(())
    if lambda_real:
        term = term + lambda_real * ((d_real - D(augment(x, generator))) ** 2).mean()
    if lambda_fake:
        term = term + lambda_fake * ((d_fake - D(augment(fake, generator))) ** 2).mean()
    return term


def perturb(z: torch.Tensor, sigma: float, generator=None) -> torch.Tensor:
    return z + sigma * torch.randn(z.shape, generator=generator, device=z.device)


def zcr_d(D, fake, fake_perturbed, lambda_dis: float, d_fake=None):
    d_fake = D(fake) if d_fake is None else d_fake
    return lambda_dis * ((d_fake - D(fake_perturbed)) ** 2).mean()


def zcr_g(fake, fake_perturbed, lambda_gen: float):
    return -lambda_gen * ((fake - fake_perturbed) ** 2).mean()
