"""GAN losses, registered by name. A loss maps discriminator outputs to (D loss, G loss) terms.

Every loss works on raw D outputs (logits for the probabilistic losses, scores for critics):
``d_loss(real, fake)`` is minimised by D, ``g_loss(fake)`` by G (``g_loss(fake, real)`` for a relativistic loss).
"""
from __future__ import annotations

from ..registry import import_submodules
from .base import LOSSES, Loss, build_loss

import_submodules(__name__, __path__)  # each module registers its loss: a new loss is a new file here

__all__ = ["LOSSES", "Loss", "build_loss"]
