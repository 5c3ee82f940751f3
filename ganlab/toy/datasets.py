"""2-d mixtures of Gaussians, the standard mode-collapse benchmarks.

ring-8: 8 modes on a circle of radius 2, sigma 0.02 (Metz et al. 2017);
grid-25: a 5x5 grid at {-4, -2, 0, 2, 4}^2, sigma 0.05 (Dumoulin et al. 2017; Lin et al. 2018);
grid-9: a 3x3 grid at {-2, 0, 2}^2, sigma 0.05 (as the MD-GAN report's figures).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import GanlabError


@dataclass(frozen=True)
class Mixture:
    name: str
    modes: torch.Tensor  # K x 2
    sigma: float

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.sample_labeled(n, generator)[0]

    def sample_labeled(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` points and the index of the mode each was drawn from (the AC head's labels)."""
        idx = torch.randint(0, len(self.modes), (n,), generator=generator)
        return self.modes[idx] + self.sigma * torch.randn(n, 2, generator=generator), idx


def _ring(k: int = 8, radius: float = 2.0) -> torch.Tensor:
    a = torch.arange(k, dtype=torch.float32) * 2 * math.pi / k
    return torch.stack([radius * torch.cos(a), radius * torch.sin(a)], 1)


def _grid(values) -> torch.Tensor:
    v = torch.tensor(values, dtype=torch.float32)
    return torch.cartesian_prod(v, v)


DATASETS = {
    "ring-8": lambda: Mixture("ring-8", _ring(), 0.02),
    "grid-25": lambda: Mixture("grid-25", _grid([-4, -2, 0, 2, 4]), 0.05),
    "grid-9": lambda: Mixture("grid-9", _grid([-2, 0, 2]), 0.05),
}


def build_dataset(name: str, scale: float = 1.0) -> Mixture:
    """The mixture ``name``, its means and sigma multiplied by ``scale``."""
    if name not in DATASETS:
        raise GanlabError(f"unknown toy dataset '{name}'; accepted: {', '.join(DATASETS)}")
    mix = DATASETS[name]()
    return mix if scale == 1.0 else Mixture(mix.name, mix.modes * scale, mix.sigma * scale)
