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
from ..io import torch_load, torch_save
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


def run_context(run: str | os.PathLike | None, checkpoint: str = "last", cache: str | None = None,
                weights: str = "ema", critic: str = "run") -> Context:
    """The run's G (``weights``), prior and discriminator: its own D (``critic='run'``) or the critic fitted
    for this G with ``ganlab latent fit-critic`` (``critic='fitted'``). With ``run`` None, ``checkpoint`` is a
    shipped G.pth: see :func:`shipped_context`."""
    if run is None:
        return shipped_context(checkpoint, cache, critic, weights)
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


def shipped_context(checkpoint: str | os.PathLike, cache: str | None = None, critic: str = "run",
                    weights: str = "ema", real: bool = True) -> Context:
    """A shipped G.pth with the discriminator, prior and fitted states of the sampler.pt beside it (the critic its
    shipped chain reads), and, when ``real``, MNIST's held-out reals: so a shipped pair's sampler can be re-run with
    other options, e.g. to choose them on training images (``ganlab sweep-sampler --checkpoint DIR/G.pth``),
    without the run that made it."""
    from .bundle import beside, load_bundle

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
    G = load_generator(None, str(path))
    bundle = beside(path)
    if bundle is None:
        raise GanlabError(f"samplers need a discriminator, and {checkpoint} has no sampler.pt beside it; give --run RUN "
                          f"(or ship one with 'ganlab export --run RUN --sampler NAME --out NEW_DIR/G.pth')")
    pipeline, ctx = load_bundle(bundle, G, hint="")
    ctx.shipped = {s.name: s.state() for s in pipeline.samplers}
    shipped_critic = torch_load(bundle)["source"].get("critic", "run")
    if critic not in ("run", shipped_critic):
        raise GanlabError(f"--critic {critic}: {bundle} carries the run's own critic only; with --checkpoint the "
                          f"samplers read the critic the pair was shipped with (or give --run RUN)")
    if real:
        ctx.real = to_tensor(mnist.load(cache).train_x[CALIBRATION])
    return ctx


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


def sample_run(run, checkpoint: str, n: int, seed: int, pipeline: Pipeline, cache: str | None = None,
               weights: str = "ema", critic: str = "run") -> tuple[np.ndarray, dict]:
    """``n`` uint8 images from a run through ``pipeline``, and the pipeline's cost."""
    ctx = shipped_context(checkpoint, cache, critic, weights, pipeline.needs_real()) if run is None else \
        run_context(run, checkpoint, cache, weights, critic)
    pipeline.fit(ctx)
    return draw(pipeline, ctx, n, seed)


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
