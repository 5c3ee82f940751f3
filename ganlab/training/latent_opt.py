"""Latent optimisation during training (LOGAN, Wu et al. 2019).

Before a training step uses a batch of codes z, each code takes one natural-gradient ascent step on D's score
of its image, f(z) = D(G(z)):

    g = df/dz,   z' = z + alpha * g / (beta + ||g||^2)

and D's and G's updates of that step both use G(z'). The step is not differentiated through (z' enters as a
constant): the simpler first-order variant, without the second-order term through dz. G is thus trained on
the codes a latent sampler such as DOT moves towards, and D sees those harder fakes. Cost: one more G forward and D/G backward to z per D step.
"""
from __future__ import annotations

import torch

from ..latent.base import d_score


def latent_step(G, D, z: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """``z`` after one natural-gradient ascent step on D(G(z)) (LOGAN's NGD form), detached."""
    if not alpha:
        return z
    z = z.detach().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(d_score(D, G(z)).float().sum(), z)
    dz = alpha * g / (beta + g.pow(2).sum(1, keepdim=True))
    return (z + dz).detach()
