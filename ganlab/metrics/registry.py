"""The metric registry (after stylegan2-ada-pytorch's ``metrics/metric_main.py``): each metric module registers
what it computes from a shared set of features, and every number it produces with its label, display and
direction. ``evaluate()``, the one-line summary, the leaderboard and sweep tables, periodic evaluation (and so the
best checkpoint), the config's ``eval.metric`` choices, the search metrics and the plots all list metrics from here,
so a new metric is one module (plus its test):

    @register_metric("fid", features="inception", order=10,
                     numbers=[Number("fid", "FID", 2, better="lower")])
    def _fid(f: Features) -> dict:
        return {"fid": fid(f.real, f.fake)}

``features`` names the network whose features the metric reads: ``classifier`` (ganlab's MNIST classifier, always
computed) or ``inception`` (the FID Inception, only with the full protocol). ``order`` places its numbers in tables.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

import numpy as np

FEATURES = ("classifier", "inception")


@dataclasses.dataclass(frozen=True)
class Number:
    """One number a metric produces."""

    key: str  # its key in an evaluation's JSON (and ``eval_KEY`` in a run's metrics.jsonl)
    label: str  # column header and summary label ("" for a number shown nowhere, e.g. KID's std)
    decimals: int  # shown with this many decimals (after ``scale``)
    better: str | None = None  # "lower", "higher", or None (not a quality score)
    scale: float = 1.0  # shown as value * scale (KID: x 10^3)
    unit: bool = False  # drawn on the 0..1 panel of the training plots
    single: str | None = None  # format of one value, when not the decimals' (classes covered: "{:.0f}/10")
    column: bool = True  # a column of the leaderboard and sweep tables
    scalar: bool = True  # a number (a class histogram is not): logged by periodic evaluation

    def text(self, value, decimals: int | None = None) -> str:
        """One value as shown ("—" when missing)."""
        if value is None:
            return "—"
        if self.single and decimals is None:
            return self.single.format(value * self.scale)
        return f"{value * self.scale:.{self.decimals if decimals is None else decimals}f}"


@dataclasses.dataclass
class Features:
    """What a metric reads: reference and generated features of one network, and (classifier) the class
    probabilities of the generated images."""

    real: np.ndarray
    fake: np.ndarray
    fake_probs: np.ndarray | None = None
    cache: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)  # shared work (``shared``)
    seconds: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)  # what each of it took

    def shared(self, key: str, compute: Callable):
        """``compute()``, done once for these features whichever metric asks first (e.g. the pairwise pass)."""
        if key not in self.cache:
            t0 = time.perf_counter()
            self.cache[key] = compute()
            self.seconds[key] = time.perf_counter() - t0
        return self.cache[key]


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    features: str
    order: int
    numbers: tuple[Number, ...]
    compute: Callable[[Features], dict]


METRICS: dict[str, Metric] = {}


def register_metric(name: str, *, features: str, order: int, numbers: list[Number]):
    """Register ``compute(Features) -> {key: value}`` as metric ``name``; it must return exactly ``numbers``' keys."""
    if features not in FEATURES:
        raise ValueError(f"metric {name}: features must be one of {FEATURES}")

    def deco(compute):
        METRICS[name] = Metric(name, features, order, tuple(numbers), compute)
        return compute
    return deco


def metrics(features: str | None = None) -> list[Metric]:
    """The registered metrics in table order (all, or those reading ``features``)."""
    return [m for m in sorted(METRICS.values(), key=lambda m: m.order) if features in (None, m.features)]


def numbers(*, column: bool | None = None, scalar: bool | None = None) -> list[Number]:
    """Every registered number in table order, optionally only (non-)columns or (non-)scalars."""
    return [n for m in metrics() for n in m.numbers
            if column in (None, n.column) and scalar in (None, n.scalar)]


def number(key: str) -> Number:
    for n in numbers():
        if n.key == key:
            return n
    raise KeyError(key)


def features_of(key: str) -> str:
    """Which network's features the number ``key`` needs."""
    for m in metrics():
        if any(n.key == key for n in m.numbers):
            return m.features
    raise KeyError(key)


def compute(features: str, f: Features, seconds: dict | None = None) -> dict:
    """Every metric on ``features``, in table order; each must return exactly its registered keys. ``seconds``, if
    given, receives each metric's time (without the shared work it triggered) and each shared computation's."""
    out, before = {}, set(f.seconds)
    for m in metrics(features):
        t0, shared0 = time.perf_counter(), sum(f.seconds.values())
        values = m.compute(f)
        if seconds is not None:
            seconds[m.name] = time.perf_counter() - t0 - (sum(f.seconds.values()) - shared0)
        if set(values) != {n.key for n in m.numbers}:
            raise RuntimeError(f"metric {m.name} returned {sorted(values)}, registered {[n.key for n in m.numbers]}")
        out.update(values)
    if seconds is not None:  # the shared work this call did (not what an earlier call did)
        seconds.update({k: v for k, v in f.seconds.items() if k not in before})
    return out


def summary(result: dict) -> str:
    """An evaluation's numbers on one line, as ``ganlab evaluate`` prints them."""
    return "  ".join(f"{n.label} {n.text(result[n.key])}" for n in numbers(scalar=True)
                     if n.key in result and n.label)
