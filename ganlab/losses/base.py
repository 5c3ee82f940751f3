from __future__ import annotations

import torch

from ..errors import GanlabError
from ..registry import registrar

LOSSES: dict[str, type["Loss"]] = {}


register = registrar(LOSSES)


class Loss:
    name = "base"
    #: whether D's output is a logit of P(real) (so sigmoid(D) is a probability)
    probabilistic = True
    #: whether G's loss compares each fake with a real (relativistic losses): G's step then gives ``g_loss`` D's
    #: outputs on the batch's reals as ``real``
    g_needs_real = False
    #: whether the sign of D's raw output says real (+) or fake (-), as a logit or a hinge margin does: ADA's
    #: overfitting measure E[sign D(x)] (train.ada_target) needs it; a critic's offset or a least-squares target does not
    sign_means_real = True

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def g_image_term(self, fake_images: torch.Tensor, real_images: torch.Tensor):
        """An extra G term on the images themselves (None for most losses; see cn_lsgan)."""
        return None

    def score(self, out: torch.Tensor) -> torch.Tensor:
        """A per-sample scalar for logging: P(real) for probabilistic losses, the raw score otherwise."""
        return torch.sigmoid(out) if self.probabilistic else out


def build_loss(name: str, **options) -> Loss:
    """The loss ``name``; ``options`` go to losses that take them (md-gan: d_out, distance; cn-lsgan: lambda2)."""
    if name not in LOSSES:
        raise GanlabError(f"unknown loss '{name}'; accepted: {', '.join(sorted(LOSSES))}")
    cls = LOSSES[name]
    import inspect

    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in options.items() if k in accepted})
