"""Samplers on a trained run: the run's generator, prior and discriminator as a sampling Context."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import Checkpoint
from ..data import mnist, to_tensor
from ..errors import GanlabError
from ..images import to_uint8
from ..io import torch_save
from ..losses import build_loss
from ..models import build_discriminator
from ..runs import Run, load_config
from ..sampling import CHUNK, load_generator, load_prior
from .base import Context, Pipeline, build_sampler
from .critic import STATE as CRITIC_STATE, fit_critic, load_critic
from .lrs import STATE as LRS_STATE, fit_lrs

#: held-out reals for calibration and fitting: MNIST's classic validation part (train 50000..59999)
CALIBRATION = slice(50000, 60000)


CRITICS = ("run", "fitted")


def run_context(run: str | os.PathLike, checkpoint: str = "last", cache: str | None = None,
                weights: str = "ema", critic: str = "run") -> Context:
    """The run's G (``weights``), prior and discriminator: its own D (``critic='run'``) or the critic fitted
    for this G with ``ganlab latent fit-critic`` (``critic='fitted'``). (A shipped pair's: bundle.shipped_context.)"""
    r = Run(run)
    cfg = load_config(r)
    G = load_generator(run, checkpoint, weights).eval().requires_grad_(False)
    if critic not in CRITICS:
        raise GanlabError(f"--critic '{critic}' is not accepted; accepted: {', '.join(CRITICS)}")
    state_dir = r.path / "latent"
    if critic == "fitted":
        D, d_spec = load_critic(state_dir, G)
        probabilistic = False  # a WGAN-GP critic: scores, not logits
    else:
        d_spec = {"name": cfg.model.discriminator, "spectral_norm": cfg.model.spectral_norm,
                  "d_out": cfg.model.d_out, "ac_head": cfg.model.ac_head}
        D = build_discriminator(**d_spec)
        D.load_state_dict(Checkpoint.load(r.checkpoint(checkpoint)).discriminator())
        D.eval().requires_grad_(False)
        probabilistic = build_loss(cfg.train.loss, d_out=cfg.model.d_out).probabilistic
    real = to_tensor(mnist.load(cache).train_x[CALIBRATION])
    return Context(G, D, load_prior(run, checkpoint).requires_grad_(False), z_dim=100,
                   probabilistic=probabilistic, real=real, batch_size=CHUNK, state_dir=state_dir, d_spec=d_spec)


def parse_options(name: str, opts: list[str]) -> dict:
    """``["percentile=90"]`` -> ``{"percentile": 90}`` (values read as YAML scalars)."""
    import yaml

    kwargs = {}
    for item in opts:
        if "=" not in item:
            raise GanlabError(f"--sampler-opt '{item}' of sampler '{name}' is not of the form key=value "
                              f"(for example percentile=90)")
        k, v = item.split("=", 1)
        kwargs[k.strip()] = yaml.safe_load(v)
    return kwargs


def parse_chain(specs: list[tuple[str, list[str]]]) -> Pipeline:
    """``[("drs", ["percentile=90"]), ("ddls", [])]`` -> a Pipeline."""
    return Pipeline([build_sampler(name, **parse_options(name, opts)) for name, opts in specs])


def draw(pipeline: Pipeline, ctx: Context, n: int, seed: int) -> tuple[np.ndarray, dict]:
    """``n`` uint8 images through a fitted ``pipeline``, and its sampling cost (G in chunks of ``ctx.batch_size``)."""
    ctx.cost.__init__()  # count sampling only; fitting is reported separately by the samplers that fit
    z = pipeline.sample(n, ctx, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        step = ctx.batch_size
        images = np.concatenate([to_uint8(ctx.G(z[i:i + step])) for i in range(0, n, step)])
    cost = ctx.cost.summary()
    cost["sampler"] = pipeline.name
    return images, cost


def fit_lrs_for_run(run, checkpoint: str = "last", iters: int = 2000, m: float = 3.0, seed: int = 0,
                    cache: str | None = None, progress: bool = True) -> Path:
    ctx = run_context(run, checkpoint, cache)
    real = to_tensor(mnist.load(cache).train_x)
    state = fit_lrs(ctx, real, iters=iters, m=m, seed=seed, progress=progress)
    path = Path(ctx.state_dir) / LRS_STATE
    torch_save(state, path)
    return path


def fit_critic_for_run(run, checkpoint: str = "last", weights: str = "ema", arch: str | None = None,
                       init: str = "run", iters: int = 2000, seed: int = 0, cache: str | None = None,
                       progress: bool = True) -> tuple[Path, dict]:
    ctx = run_context(run, checkpoint, cache, weights=weights)
    real = to_tensor(mnist.load(cache).train_x)
    state = fit_critic(ctx, real, ctx.d_spec, arch=arch, init=init, iters=iters, seed=seed, progress=progress)
    path = Path(ctx.state_dir) / CRITIC_STATE
    torch_save(state, path)
    return path, state
