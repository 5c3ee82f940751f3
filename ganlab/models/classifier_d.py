"""A discriminator that also sees the frozen features of ganlab's MNIST classifier (metrics/classifier.py).

Pretrained features help a discriminator tell digits from near-digits early and with few parameters (Projected GAN,
Sauer et al. 2021; Kumari et al. 2022). The network here is ganlab's own MNIST classifier, **not** the Inception
network that FID uses: a D on the FID network's features would optimise G for the metric itself (Kynkäänniemi et
al. 2023). It is, though, the network behind MNIST-FID and the class metrics, so for a G trained against this D those
numbers are no longer independent of training: judge it by FID / precision / recall (Inception).

D(x) = MLP(x) + head1(f1(x)) + head2(f2(x)) + head3(f3(x)): the platform MLP on the pixels, plus a small trainable
head on each of the classifier's three stages (32 x 14 x 14 after the first pooling, 64 x 7 x 7 after the second, the
128-d penultimate layer). The classifier stays frozen and in inference mode (its batch norm uses its running
statistics), and spectral normalisation leaves it alone.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..metrics.classifier import FEATURE_DIM, SHIPPED, MNISTNet
from ..io import torch_load
from .discriminators import MLPDiscriminator, register
from .generator import IMG_DIM


@register("classifier-features")
class ClassifierFeatureDiscriminator(nn.Module):
    per_sample = True  # the frozen classifier's batch norm runs on its stored statistics

    def __init__(self, d_out: int = 1, width: int = 256):
        super().__init__()
        self.mlp = MLPDiscriminator(IMG_DIM, d_out=d_out)
        net = MNISTNet()
        net.load_state_dict(torch_load(SHIPPED)["state_dict"])
        self.frozen = net.requires_grad_(False).eval()
        self.head1 = nn.Sequential(nn.Conv2d(32, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(32 * 7 * 7, d_out))
        self.head2 = nn.Sequential(nn.Flatten(), nn.Linear(64 * 7 * 7, width), nn.LeakyReLU(0.2), nn.Linear(width, d_out))
        self.head3_hidden = nn.Linear(FEATURE_DIM, width)
        self.head3 = nn.Linear(width, d_out)

    def train(self, mode: bool = True):
        super().train(mode)
        self.frozen.eval()  # its batch norm keeps the classifier's running statistics
        return self

    def requires_grad_(self, requires_grad: bool = True):
        super().requires_grad_(requires_grad)
        self.frozen.requires_grad_(False)  # a fitted critic (latent samplers) trains the heads only
        return self

    def _stages(self, x: torch.Tensor):
        """The classifier's three stages on images in [-1, 1] (it was trained on [0, 1])."""
        h = (x.reshape(len(x), 1, 28, 28) + 1) / 2
        f1 = self.frozen.conv[:7](h)
        f2 = self.frozen.conv[7:](f1)
        f3 = F.relu(self.frozen.fc1(f2.flatten(1)))
        return f1, f2, f3

    def features(self, x: torch.Tensor) -> torch.Tensor:
        f3 = self._stages(x)[2]
        return torch.cat([self.mlp.features(x), F.leaky_relu(self.head3_hidden(f3), 0.2)], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1, f2, f3 = self._stages(x)
        out = self.mlp.fc4(self.mlp.features(x)) + self.head1(f1) + self.head2(f2) + \
            self.head3(F.leaky_relu(self.head3_hidden(f3), 0.2))
        return out.squeeze(1) if out.shape[1] == 1 else out
