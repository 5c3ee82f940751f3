"""The pairwise pass shared by the metrics that compare features point to point (precision/recall,
density/coverage, KID), after stylegan2-ada-pytorch's shared feature cache: work two metrics need is done once.

One blockwise pass in float64 over each pair of sets that a consumer needs — real × real, fake × fake, then real ×
fake (rows real, columns fake) — computes the Gram block ``a[rows] @ b.T`` once and hands it, with the Euclidean
distances derived from it (√max(|a|² + |b|² − 2 a·b, 0), the expansion torch.cdist also uses for large sets; equal up
to rounding), to every consumer. The same-set passes also keep each point's nearest distances, so the real-fake pass
can give consumers the k-NN radii (``radius(set, k)``: the distance to the k-th nearest *other* point of the set).
Memory: a few blocks of BLOCK rows × the other set at a time (~0.2 GB each for 10,000 points). Before this pass
each metric computed its own: six 10,000 × 10,000 distance matrices and KID's 300 subset Gram matrices, ~3× the
multiply-adds (docs/RESULTS.md §4, session 19).

A metric with pairwise work subclasses ``Consumer`` (saying which pairs it reads and which radii it needs), registers
it (``@register``) and reads its result with ``of(features, ConsumerClass)``: the first such call runs the pass once
for every registered consumer and keeps the results on the Features. ``run(real, fake, [consumer])`` runs the pass for
given consumers alone.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .registry import Features

BLOCK = 2048
PAIRS = (("real", "real"), ("fake", "fake"), ("real", "fake"))


class Consumer:
    """One metric's share of the pass: ``reads``, the pairs whose blocks it gets; ``radii``, the k-NN ranks whose radii
    it reads in the real-fake pass, per set (e.g. ``{"real": (5,)}``)."""

    reads: tuple[tuple[str, str], ...] = PAIRS
    radii: dict[str, tuple[int, ...]] = {}

    def start(self, n_real: int, n_fake: int, dim: int) -> None:
        """Called once before the pass with the sets' sizes."""

    def block(self, pair: tuple[str, str], rows: slice, gram: torch.Tensor, dist: torch.Tensor,
              radius: Callable[[str, int], torch.Tensor]) -> None:
        """One block: rows ``rows`` of set pair[0] against all of set pair[1]; ``radius`` only in the real-fake pass."""
        raise NotImplementedError

    def result(self):
        raise NotImplementedError


CONSUMERS: list[type[Consumer]] = []


def register(cls: type[Consumer]) -> type[Consumer]:
    """Make ``cls()`` part of every evaluation's pass."""
    CONSUMERS.append(cls)
    return cls


def _tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))


def run(real: np.ndarray, fake: np.ndarray, consumers: list[Consumer], block: int = BLOCK) -> list:
    """The pass over the three pairs for ``consumers``; their results, in order."""
    sets = {"real": _tensor(real), "fake": _tensor(fake)}
    if sets["real"].ndim != 2 or sets["fake"].ndim != 2 or sets["real"].shape[1] != sets["fake"].shape[1]:
        raise ValueError(f"features must be two (n, d) arrays of one d, got {tuple(real.shape)} and {tuple(fake.shape)}")
    kmax = {name: max((k for c in consumers for k in c.radii.get(name, ())), default=0) for name in sets}
    for name, x in sets.items():
        if kmax[name] >= len(x):
            raise ValueError(f"{kmax[name]}-nearest-neighbour radii need more than {kmax[name]} {name} points, "
                             f"got {len(x)}")
    norms = {name: (x * x).sum(1) for name, x in sets.items()}
    for c in consumers:
        c.start(len(sets["real"]), len(sets["fake"]), sets["real"].shape[1])
    nearest: dict[str, torch.Tensor] = {}  # per set: each point's kmax + 1 smallest distances (itself first)

    def radius(name: str, k: int) -> torch.Tensor:
        return nearest[name][:, k]

    for pair in PAIRS:
        readers = [c for c in consumers if pair in c.reads]
        same = pair[0] == pair[1]
        keep = kmax[pair[0]] if same else 0
        if not readers and not keep:
            continue
        a, b = sets[pair[0]], sets[pair[1]]
        kept = []
        for i in range(0, len(a), block):
            rows = slice(i, min(i + block, len(a)))
            gram = a[rows] @ b.T
            dist = (norms[pair[0]][rows, None] + norms[pair[1]][None, :]).sub_(gram, alpha=2).clamp_min_(0).sqrt_()
            if keep:
                kept.append(dist.topk(keep + 1, dim=1, largest=False).values)
            for c in readers:
                c.block(pair, rows, gram, dist, radius)
        if keep:
            nearest[pair[0]] = torch.cat(kept)
    return [c.result() for c in consumers]


def of(f: Features, consumer: type[Consumer]):
    """The result of ``consumer`` (a registered class) on ``f``; the pass runs once per Features, for all of them."""
    results = f.shared("pairwise pass", lambda: dict(zip(CONSUMERS, run(f.real, f.fake, [c() for c in CONSUMERS]))))
    return results[consumer]
