"""Small MLPs for 2-d data (the toy suite's G and D).

Width, depth and activation are options because the papers' toy figures use different nets:
Gulrajani et al.'s gan_toy.py 3 hidden ReLU layers of 512 (G from a 2-d noise); the MD-GAN code
2 hidden layers of 128 (ReLU in G with a 6 tanh output, LeakyReLU 0.2 in D with a bounded
5 sigmoid - 2.5 embedding); Metz et al.'s unrolled GAN 2 hidden ReLU layers of 128 in G.
"""
import torch
from torch import nn

ACTIVATIONS = {
    "lrelu": lambda: nn.LeakyReLU(0.2),
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
}


class ScaledTanh(nn.Module):
    """``scale * tanh(x)``: outputs in (-scale, scale)."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return self.scale * torch.tanh(x)


def mlp(n_in: int, hidden: int, n_out: int, layers: int = 3, activation: str = "lrelu") -> nn.Sequential:
    mods, d = [], n_in
    for _ in range(layers):
        mods += [nn.Linear(d, hidden), ACTIVATIONS[activation]()]
        d = hidden
    mods.append(nn.Linear(d, n_out))
    return nn.Sequential(*mods)


class ToyG(nn.Module):
    """z -> ``layers`` hidden layers -> R^2; linear output, or ``out_scale * tanh`` when out_scale > 0."""

    def __init__(self, z_dim: int, hidden: int = 128, layers: int = 3, activation: str = "lrelu",
                 out_scale: float = 0.0):
        super().__init__()
        self.net = mlp(z_dim, hidden, 2, layers, activation)
        if out_scale:
            self.net.append(ScaledTanh(out_scale))

    def forward(self, z):
        return self.net(z)


class ToyD(nn.Module):
    """x -> ``layers`` hidden layers -> R^d_out; linear output, or bounded to (-out_bound, out_bound)
    (``out_bound * tanh(x / 2)``, i.e. the MD-GAN code's ``2b sigmoid(x) - b``) when out_bound > 0.
    ``features`` is the last hidden layer (feature matching); with ``n_classes`` a linear head on it classifies
    the mixture component (the AC head)."""

    def __init__(self, hidden: int = 128, d_out: int = 1, layers: int = 3, activation: str = "lrelu",
                 out_bound: float = 0.0, n_classes: int = 0):
        super().__init__()
        self.net = mlp(2, hidden, d_out, layers, activation)
        self.out_bound = out_bound
        self.head = nn.Linear(hidden, n_classes) if n_classes else None

    def features(self, x):
        return self.net[:-1](x)

    def classify(self, x):
        return self.head(self.features(x))

    def forward(self, x):
        out = self.net(x)
        if self.out_bound:
            out = self.out_bound * torch.tanh(out / 2)
        return out.squeeze(1) if out.shape[1] == 1 else out
