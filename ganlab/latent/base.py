"""Latent samplers: where in z to sample a trained generator, chosen after training.

A sampler turns an *upstream* source of latent codes (the prior, or the previous sampler of a
chain) into latent codes. Rejection samplers draw from upstream and accept some; refiners move the
codes upstream gives them. Chains compose left to right: ``Pipeline([drs, ddls])`` rejects, then
refines. Every sampler counts its cost in a shared :class:`Cost`: generator and discriminator
evaluations (a forward with its backward counts as one), proposals and wall time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from ..errors import GanlabError
from ..registry import registrar

SAMPLERS: dict[str, type["Sampler"]] = {}


register = registrar(SAMPLERS)


@dataclass
class Cost:
    g_evals: int = 0
    d_evals: int = 0
    proposals: int = 0  # prior draws
    accepted: int = 0  # codes returned
    tested: int = 0  # codes a rejection step decided on
    passed: int = 0  # codes a rejection step accepted (with several rejection steps: all of them)
    seconds: float = 0.0

    def summary(self) -> dict:
        n = max(self.accepted, 1)
        return {"g_evals_per_sample": self.g_evals / n, "d_evals_per_sample": self.d_evals / n,
                "acceptance_rate": self.passed / self.tested if self.tested else 1.0,
                "seconds": round(self.seconds, 2), "samples": self.accepted}


def d_score(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """D's scalar score per sample: its output, or the first column of a multi-output D."""
    out = D(x)
    return out if out.dim() == 1 else out.reshape(len(out), -1)[:, 0]




@dataclass
class Context:
    """What samplers may use: the generator, the run's discriminator and how to read it, real data."""

    G: nn.Module
    D: nn.Module
    prior: nn.Module
    z_dim: int
    probabilistic: bool = True  # D's output is a logit of P(real); False for critics (WGAN, hinge, ...)
    real: torch.Tensor | None = None  # held-out real samples (N x data dim), for calibration / fitting
    cost: Cost = field(default_factory=Cost)
    batch_size: int = 1000  # rows per forward pass (runs and shipped samplers always use sampling.CHUNK)
    state_dir: object = None  # where fitted samplers keep their state (a run's latent/ folder)
    d_spec: dict | None = None  # how to rebuild D (name, spectral_norm, d_out, ac_head): for a shipped sampler
    shipped: dict | None = None  # of a shipped pair (no run): its sampler.pt's fitted states by sampler name

    def images(self, z: torch.Tensor) -> torch.Tensor:
        self.cost.g_evals += len(z)
        return self.G(z)

    def d_out(self, x: torch.Tensor) -> torch.Tensor:
        self.cost.d_evals += len(x)
        return d_score(self.D, x)

    def logit(self, z: torch.Tensor) -> torch.Tensor:
        """D's raw output on G(z) (a logit for probabilistic losses)."""
        return self.d_out(self.images(z))


class Sampler:
    """Options are declared in ``OPTIONS`` as name -> (type, default, check description or None)."""

    name = "base"
    OPTIONS: dict[str, tuple] = {}

    def __init__(self, **opts):
        for key in opts:
            if key not in self.OPTIONS:
                raise GanlabError(f"sampler '{self.name}' has no option '{key}'; accepted: "
                                  f"{', '.join(self.OPTIONS) or 'none'}")
        for key, (typ, default, *_) in self.OPTIONS.items():
            value = opts.get(key, default)
            try:
                value = typ(value) if not isinstance(value, typ) else value
            except (TypeError, ValueError):
                raise GanlabError(f"sampler option '{self.name}.{key}' = {value!r} is not a valid "
                                  f"{typ.__name__}") from None
            setattr(self, key, value)
        self.check()

    def check(self) -> None:
        """Raise a GanlabError for out-of-range options."""

    def fit(self, ctx: Context) -> None:
        """Prepare (calibrate, train) before sampling; default: nothing."""

    def needs_real(self) -> bool:
        """Whether ``fit`` reads held-out real images (``ctx.real``)."""
        return False

    #: attributes that ``fit`` sets and sampling needs: saved by ``state`` so a shipped sampler needs no data
    FITTED: tuple[str, ...] = ()

    def state(self) -> dict:
        """The fitted values (plain numbers and tensors), for a shipped sampler (ganlab/latent/bundle.py)."""
        return {k: getattr(self, k) for k in self.FITTED}

    def load_state(self, state: dict) -> None:
        missing = [k for k in self.FITTED if k not in state]
        if missing:
            raise GanlabError(f"saved state of sampler '{self.name}' lacks {', '.join(missing)}")
        for k in self.FITTED:
            setattr(self, k, state[k])

    def sample(self, n: int, ctx: Context, upstream: Callable[[int], torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def _require(self, condition: bool, message: str) -> None:
        if not condition:
            raise GanlabError(f"sampler option {message}")


class RejectionSampler(Sampler):
    """A sampler that keeps each proposal z with probability ``acceptance(z, ctx)`` (DRS, LRS): the loop, its
    random stream (seeded by the ``seed`` option plus ``SEED_OFFSET``), its cost and its bound live in ``reject``;
    a subclass only says how likely a code is to be kept, and ``hint`` what to change when almost none are."""

    SEED_OFFSET = 0

    def acceptance(self, z: torch.Tensor, ctx: Context) -> torch.Tensor:
        """The probability in [0, 1] of keeping each code of ``z``."""
        raise NotImplementedError

    def hint(self) -> str:
        return "change the sampler's options"

    def sample(self, n: int, ctx: Context, upstream: Callable[[int], torch.Tensor]) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed + self.SEED_OFFSET)
        return reject(n, ctx, upstream, lambda z: torch.rand(len(z), generator=g) < self.acceptance(z, ctx),
                      self.name, self.hint())


class Pipeline:
    """Samplers applied left to right on top of the prior."""

    def __init__(self, samplers: list[Sampler]):
        self.samplers = samplers

    @property
    def name(self) -> str:
        return "+".join(s.name for s in self.samplers) or "prior"

    def needs_real(self) -> bool:
        return any(s.needs_real() for s in self.samplers)

    def fit(self, ctx: Context) -> None:
        for s in self.samplers:
            s.fit(ctx)

    def sample(self, n: int, ctx: Context, generator: torch.Generator) -> torch.Tensor:
        t0 = time.perf_counter()

        def prior(k: int) -> torch.Tensor:
            ctx.cost.proposals += k
            return ctx.prior.sample(k, generator)

        source = prior
        for s in self.samplers:
            source = (lambda up, smp: (lambda k: smp.sample(k, ctx, up)))(source, s)
        z = source(n)
        ctx.cost.accepted += len(z)
        ctx.cost.seconds += time.perf_counter() - t0
        return z


def build_sampler(name: str, **opts) -> Sampler:
    if name not in SAMPLERS:
        raise GanlabError(f"unknown sampler '{name}'; accepted: {', '.join(sorted(SAMPLERS))}")
    return SAMPLERS[name](**opts)


def batched(fn: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, batch: int) -> torch.Tensor:
    return torch.cat([fn(z[i:i + batch]) for i in range(0, len(z), batch)]) if len(z) else z


#: a rejection sampler stops with an error once this many proposals per requested sample (at least one batch's
#: worth) have been tried: an acceptance rate below 1/MAX_TRIES would otherwise loop for hours or forever
MAX_TRIES = 1000


def reject(n: int, ctx: Context, upstream, accept: Callable[[torch.Tensor], torch.Tensor], name: str,
           hint: str) -> torch.Tensor:
    """The loop of every rejection sampler (DRS, LRS): draw batches from ``upstream``, keep the codes ``accept``
    marks, until ``n`` are kept; counted in ``ctx.cost``; bounded by MAX_TRIES (then ``hint`` says what to change)."""
    kept, total, tried = [], 0, 0
    while total < n:
        if tried >= MAX_TRIES * max(n, ctx.batch_size):
            raise GanlabError(f"sampler '{name}' accepted {total} of {tried} proposals (acceptance rate "
                              f"{total / tried:.2g}, below 1/{MAX_TRIES}); {hint}")
        z = upstream(ctx.batch_size)
        with torch.no_grad():
            ok = accept(z)
        kept.append(z[ok])
        total += int(ok.sum())
        tried += len(z)
        ctx.cost.tested += len(z)
        ctx.cost.passed += int(ok.sum())
    return torch.cat(kept)[:n]
