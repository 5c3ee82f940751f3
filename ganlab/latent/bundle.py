"""A shippable sampler: everything a fitted sampler chain needs at generation time, in one weights-only file; and
where a chain reads G, D and the prior from: a run directory or such a shipped pair (``chain_context``).

``ganlab export --run RUN --sampler drs ... --out checkpoints/`` writes ``G.pth`` (the platform format)
and beside it ``sampler.pt``: the chain (names and options), each sampler's fitted values (DRS's
calibration and threshold, LRS's importance network, DOT's k_eff), the run's discriminator and its
configuration, and the latent prior. ``generate.py`` applies it when it sits next to ``G.pth``; no
MNIST data and no run directory are needed to sample.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import Checkpoint
from ..data import mnist, to_tensor
from ..errors import GanlabError
from ..io import torch_load, torch_save
from ..models import build_discriminator
from ..models.generator import fingerprint
from ..runs import Run
from ..sampling import CHUNK, load_generator
from .base import Context, Pipeline, build_sampler
from .priors import MixturePrior, NormalPrior
from .run import CALIBRATION, draw, parse_chain, parse_options, run_context

FORMAT = "ganlab-sampler-v1"
FILENAME = "sampler.pt"


def beside(checkpoint: str | os.PathLike) -> Path | None:
    """The sampler.pt shipped next to a G.pth, if there is one."""
    path = Path(checkpoint).parent / FILENAME
    return path if path.is_file() else None


def _prior_state(prior: torch.nn.Module) -> dict:
    if isinstance(prior, MixturePrior):
        return {"kind": "mixture", "components": len(prior.means),
                "state": {k: v.detach().cpu().clone() for k, v in prior.state_dict().items()}}
    return {"kind": "normal"}


def _build_prior(saved: dict) -> torch.nn.Module:
    if saved["kind"] == "mixture":
        prior = MixturePrior(saved["components"])
        prior.load_state_dict(saved["state"])
        return prior
    return NormalPrior()


def export_bundle(run: str | os.PathLike, checkpoint: str, specs: list[tuple[str, list[str]]],
                  out_dir: str | os.PathLike, cache: str | None = None, weights: str = "ema",
                  critic: str = "run") -> Path:
    """Fit the chain ``specs`` on a run and write ``out_dir/sampler.pt``; returns its path. With ``run`` None,
    ``checkpoint`` is a shipped G.pth: the chain is fitted with the critic and prior of its sampler.pt (re-shipping a
    pair with other sampler settings), and the new file still names the run the pair came from."""
    pipeline = parse_chain(specs)
    ctx = chain_context(run, checkpoint, cache, weights, critic, real=pipeline.needs_real())
    pipeline.fit(ctx)
    spare = {}
    if run is None:
        source = {**read_bundle(beside(checkpoint))["source"], "refitted_on": str(Path(checkpoint).resolve())}
        # what cannot be fitted again without the run (LRS's network) stays in the pair, used or not by the new chain
        spare = {k: v for k, v in ctx.shipped.items() if k not in {s.name for s in pipeline.samplers}}
    else:
        if weights == "ema" and not Checkpoint.load(Run(run).checkpoint(checkpoint)).has_ema:
            weights = "raw"  # what G really is: a run without an EMA has only its trained weights
        source = {"run": str(run), "checkpoint": checkpoint, "weights": weights, "critic": critic}
    bundle = {
        "format": FORMAT,
        "source": source,
        "G_sha256": fingerprint(ctx.G),
        "chain": [[name, parse_options(name, opts)] for name, opts in specs],
        "states": [s.state() for s in pipeline.samplers],
        "D": {**ctx.d_spec, "state": {k: v.cpu() for k, v in ctx.D.state_dict().items()}},
        "probabilistic": ctx.probabilistic,
        "prior": _prior_state(ctx.prior),
        **({"spare_states": spare} if spare else {}),
    }
    path = Path(out_dir) / FILENAME
    torch_save(bundle, path)
    return path


def describe(path: str | os.PathLike) -> str:
    """One line naming what a ``sampler.pt`` was fitted on and its chain, for reports."""
    path = Path(path)
    try:
        bundle = torch_load(path)
        src, chain = bundle["source"], bundle["chain"]
        steps = " -> ".join(name + "".join(f" {k}={v}" for k, v in opts.items()) for name, opts in chain)
        run = Path(src["run"]).name
    except Exception as exc:
        raise GanlabError(f"{path} is not a readable ganlab sampler file ({type(exc).__name__})") from None
    critic = ", fitted critic" if src.get("critic") == "fitted" else ""
    refit = ", refitted on the shipped pair" if "refitted_on" in src else ""
    weights = f"{src['weights']} weights" if "weights" in src else "weights not recorded"  # files before f60c015
    return f"{run} ({src.get('checkpoint', '?')} checkpoint, {weights}{critic}{refit}) + {steps or 'prior'}"


def read_bundle(path: str | os.PathLike) -> dict:
    """A ``sampler.pt``'s contents, checked to be one (a one-line error otherwise)."""
    path = Path(path)
    try:
        bundle = torch_load(path)
    except Exception as exc:
        raise GanlabError(f"{path} is not a loadable weights-only sampler file ({type(exc).__name__})") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise GanlabError(f"{path} is not a ganlab sampler file (expected format {FORMAT}; "
                          f"write one with 'ganlab export --run RUN --sampler NAME ...')")
    return bundle


def load_bundle(path: str | os.PathLike, G: torch.nn.Module, hint: str = " (or pass --no-sampler)",
                bundle: dict | None = None) -> tuple[Pipeline, Context]:
    """The fitted chain of a ``sampler.pt`` and a sampling context around ``G`` (no data needed); ``hint`` ends the
    error for a sampler.pt fitted for another generator; ``bundle``: its contents when already read."""
    bundle = bundle if bundle is not None else read_bundle(path)
    if bundle.get("G_sha256") != fingerprint(G):
        raise GanlabError(f"{path} was fitted for another generator than the one given; re-export both with "
                          f"'ganlab export --run RUN --sampler NAME ... --out DIR'{hint}")
    d = bundle["D"]
    D = build_discriminator(d["name"], spectral_norm=d["spectral_norm"], d_out=d["d_out"], ac_head=d["ac_head"])
    D.load_state_dict(d["state"])
    D.eval().requires_grad_(False)
    G = G.eval().requires_grad_(False)
    samplers = [build_sampler(name, **opts) for name, opts in bundle["chain"]]
    for s, state in zip(samplers, bundle["states"]):
        s.load_state(state)
    prior = _build_prior(bundle["prior"]).requires_grad_(False)
    ctx = Context(G, D, prior, z_dim=100, probabilistic=bundle["probabilistic"], batch_size=CHUNK,
                  d_spec={k: d[k] for k in ("name", "spectral_norm", "d_out", "ac_head")})
    return Pipeline(samplers), ctx


def sample_bundle(G: torch.nn.Module, path: str | os.PathLike, n: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """``n`` uint8 images of ``G`` through the shipped chain at ``path``, and the chain's cost; computed in chunks of
    ``CHUNK`` rows, so the images do not depend on any batch size."""
    pipeline, ctx = load_bundle(path, G)
    return draw(pipeline, ctx, n, seed)


def shipped_generator(checkpoint: str | os.PathLike, weights: str = "ema") -> torch.nn.Module:
    """The generator of a platform G.pth given without ``--run``; one-line errors for what is not one."""
    path = Path(checkpoint)
    if not path.is_file():
        raise GanlabError(f"--checkpoint {checkpoint} is not a file; without --run it must be a platform G.pth "
                          f"(last, best and epoch_N need --run RUN)")
    if Checkpoint.holds_generator(torch_load(path)):
        raise GanlabError(f"{checkpoint} is a run's checkpoint; give its run: --run RUN_DIR --checkpoint "
                          f"last|best|epoch_N")
    if weights != "ema":
        raise GanlabError(f"--weights {weights} applies to a run's checkpoint; a platform G.pth holds one set of "
                          f"weights")
    return load_generator(None, str(path))


def shipped_context(checkpoint: str | os.PathLike, cache: str | None = None, critic: str = "run",
                    weights: str = "ema", real: bool = True) -> Context:
    """A shipped G.pth with the discriminator, prior and fitted states of the sampler.pt beside it (the critic its
    shipped chain reads), and, when ``real``, MNIST's held-out reals: so a shipped pair's sampler can be re-run with
    other options, e.g. to choose them on training images (``ganlab sweep-sampler --checkpoint DIR/G.pth``),
    without the run that made it."""
    path = Path(checkpoint)
    G = shipped_generator(checkpoint, weights)
    bundle = beside(path)
    if bundle is None:
        raise GanlabError(f"samplers need a discriminator, and {checkpoint} has no sampler.pt beside it; give --run "
                          f"RUN (or ship one with 'ganlab export --run RUN --sampler NAME --out NEW_DIR/G.pth')")
    saved = read_bundle(bundle)
    pipeline, ctx = load_bundle(bundle, G, hint="", bundle=saved)
    ctx.shipped = {**saved.get("spare_states", {}), **{s.name: s.state() for s in pipeline.samplers}}
    shipped_critic = saved["source"].get("critic", "run")
    if critic not in ("run", shipped_critic):
        raise GanlabError(f"--critic {critic}: {bundle} carries the run's own critic only; with --checkpoint the "
                          f"samplers read the critic the pair was shipped with (or give --run RUN)")
    if real:
        ctx.real = to_tensor(mnist.load(cache).train_x[CALIBRATION])
    return ctx


def chain_context(run: str | os.PathLike | None, checkpoint: str = "last", cache: str | None = None,
                  weights: str = "ema", critic: str = "run", real: bool = True) -> Context:
    """What a sampler chain reads: a run's G, D and prior (``run_context``) or, with ``run`` None, those of the
    shipped pair ``checkpoint`` (``shipped_context``); ``real``: a shipped pair loads MNIST only when asked."""
    if run is None:
        return shipped_context(checkpoint, cache, critic, weights, real)
    return run_context(run, checkpoint, cache, weights, critic)


def sample_chain(run: str | os.PathLike | None, checkpoint: str, n: int, seed: int, pipeline: Pipeline,
                 cache: str | None = None, weights: str = "ema", critic: str = "run") -> tuple[np.ndarray, dict]:
    """``n`` uint8 images from a run, or a shipped pair (``run`` None), through ``pipeline``, and its cost."""
    ctx = chain_context(run, checkpoint, cache, weights, critic, real=pipeline.needs_real())
    pipeline.fit(ctx)
    return draw(pipeline, ctx, n, seed)
