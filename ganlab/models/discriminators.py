"""Discriminators, registered by name. Each maps N x 784 images in [-1, 1] to N logits (no sigmoid).

A class that sets ``per_sample = True`` promises that each image's output depends on that image alone, in training
mode too (no batch statistics, no minibatch features, no state a forward pass changes): the training step may then
show D the reals and the fakes in one pass (training/step.py). ``per_sample`` below says it for any D as built."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GanlabError
from ..registry import registrar
from .generator import IMG_DIM

DISCRIMINATORS: dict[str, Callable[..., nn.Module]] = {}


register = registrar(DISCRIMINATORS, set_name=False)


@register("mlp")
class MLPDiscriminator(nn.Module):
    """The platform's discriminator: 784 -> 1024 -> 512 -> 256 -> 1, LeakyReLU(0.2); returns logits."""

    per_sample = True  # dropout too: an independent mask per element (drawn in another order in a joint pass)

    def __init__(self, d_input_dim: int = IMG_DIM, dropout: float = 0.0, d_out: int = 1,
                 widths: tuple[int, int, int] = (1024, 512, 256)):
        super().__init__()
        self.fc1 = nn.Linear(d_input_dim, widths[0])
        self.fc2 = nn.Linear(widths[0], widths[1])
        self.fc3 = nn.Linear(widths[1], widths[2])
        self.fc4 = nn.Linear(widths[2], d_out)
        self.dropout = dropout

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x), -1)
        for fc in (self.fc1, self.fc2, self.fc3):
            x = F.leaky_relu(fc(x), 0.2)
            if self.dropout:
                x = F.dropout(x, self.dropout, self.training)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.fc4(self.features(x))
        return out.squeeze(1) if out.shape[1] == 1 else out


@register("mlp-dropout")
class MLPDropoutDiscriminator(MLPDiscriminator):
    """The platform template's variant with dropout 0.3 after each hidden layer."""

    def __init__(self, d_input_dim: int = IMG_DIM, dropout: float = 0.3, d_out: int = 1):
        super().__init__(d_input_dim, dropout, d_out)


@register("mlp-wide")
class MLPWideDiscriminator(MLPDiscriminator):
    """The platform's D with twice the neurons per layer, 784 -> 2048 -> 1024 -> 512 -> 1 (4.2M weights, 2.8x G's
    1.5M): the tutorial's "a D larger than G" (shared/seeds 003: usually D is more complex than G; more neurons in a
    layer usually do not harm, more layers may)."""

    def __init__(self, d_input_dim: int = IMG_DIM, dropout: float = 0.0, d_out: int = 1):
        super().__init__(d_input_dim, dropout, d_out, widths=(2048, 1024, 512))


@register("conv")
class ConvDiscriminator(nn.Module):
    """DCGAN-style for 28x28: strided 4x4 convs 64 -> 128 (14x14, 7x7), a 3x3 stride-2 conv 256 (4x4),
    LeakyReLU(0.2), no pooling, no batch norm (so gradient penalties stay per-sample), linear logit."""

    per_sample = True

    def __init__(self, width: int = 64, d_out: int = 1):
        super().__init__()
        self.c1 = nn.Conv2d(1, width, 4, 2, 1)
        self.c2 = nn.Conv2d(width, 2 * width, 4, 2, 1)
        self.c3 = nn.Conv2d(2 * width, 4 * width, 3, 2, 1)
        self.fc = nn.Linear(4 * width * 4 * 4, d_out)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x), 1, 28, 28)
        for c in (self.c1, self.c2, self.c3):
            x = F.leaky_relu(c(x), 0.2)
        return x.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.fc(self.features(x))
        return out.squeeze(1) if out.shape[1] == 1 else out


@register("conv-bn")
class ConvBNDiscriminator(ConvDiscriminator):
    """The conv D with DCGAN's batch norm (Radford et al. 2015; the tutorial's rules, shared/seeds 003: "use batchnorm
    on both G and D"), after every conv but the first, as pytorch/examples' DCGAN D. In training its output for an image
    depends on the batch's statistics, so reals and fakes go through it in separate passes (each batch normalised on
    its own, as in DCGAN) and gradient penalties are not per-sample; eval mode uses the running statistics."""

    per_sample = False

    def __init__(self, width: int = 64, d_out: int = 1):
        super().__init__(width, d_out)
        self.bn2, self.bn3 = nn.BatchNorm2d(2 * width), nn.BatchNorm2d(4 * width)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.c1(x.reshape(len(x), 1, 28, 28)), 0.2)
        x = F.leaky_relu(self.bn2(self.c2(x)), 0.2)
        return F.leaky_relu(self.bn3(self.c3(x)), 0.2).flatten(1)


class WithClassHead(nn.Module):
    """A discriminator plus an auxiliary 10-way classifier on its features (AC-GAN style, Odena et al. 2017).
    ``forward`` is the wrapped D's; ``classify`` gives class logits. G stays unconditional."""

    def __init__(self, D: nn.Module, n_classes: int = 10):
        super().__init__()
        self.D = D
        with torch.no_grad():
            dim = D.features(torch.zeros(1, IMG_DIM)).shape[1]
        self.head = nn.Linear(dim, n_classes)

    @property
    def per_sample(self) -> bool:
        return per_sample(self.D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.D(x)

    def requires_grad_(self, requires_grad: bool = True):
        self.D.requires_grad_(requires_grad)  # the wrapped D's own rule (a frozen pretrained part stays frozen)
        self.head.requires_grad_(requires_grad)
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.D.features(x)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.D.features(x))


def build_discriminator(name: str, spectral_norm: bool = False, ac_head: bool = False, **kwargs) -> nn.Module:
    """The discriminator ``name``; with ``spectral_norm`` every linear and conv layer is spectrally normalised."""
    if name not in DISCRIMINATORS:
        raise GanlabError(f"unknown discriminator '{name}'; accepted: {', '.join(sorted(DISCRIMINATORS))}")
    D = DISCRIMINATORS[name](**kwargs)
    if spectral_norm:
        spectrally_normalise(D)
    return WithClassHead(D) if ac_head else D


def per_sample(D: nn.Module) -> bool:
    """Whether D's output for an image depends on that image alone in training (its class says so) and no forward
    pass changes its state: not with spectral normalisation, whose power iteration advances once per training-mode
    call, so one joint pass would do one iteration where two passes do two."""
    if not getattr(D, "per_sample", False):
        return False
    return not any(nn.utils.parametrize.is_parametrized(m) for m in D.modules())


def spectrally_normalise(net: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) on every trainable linear and conv layer of ``net``, in place (a
    frozen pretrained part keeps its weights)."""
    for module in list(net.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, (nn.Linear, nn.Conv2d)) and child.weight.requires_grad:
                setattr(module, child_name, nn.utils.parametrizations.spectral_norm(child))
    return net
