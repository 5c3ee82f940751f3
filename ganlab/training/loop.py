"""The training loop: ``train(config, run_dir)`` -> run directory. Pure: everything it needs is in the
config and the seed; everything it makes is in the run directory; ``resume=True`` continues from the
last checkpoint and, on CPU, ends with exactly the weights of an uninterrupted run."""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from .. import data as data_mod
from ..errors import GanlabError
from ..images import save_grid, to_uint8
from ..io import append_line, check_finite, torch_load, torch_save, write_json, write_text
from ..losses import build_loss
from ..metrics import registry
from ..latent import build_prior
from ..models import Generator, build_discriminator
from ..models.generator import saturation
from . import config as config_mod
from .config import Config
from .ema import EMA
from .schedules import build_schedule, step_schedule
from .step import D_FAKE, D_REAL, LOSS_D, LOSS_G, N_G, GANStep
from .terms import terms_for
from ..runs import Run, RunLock, load_config, read_metrics, resume_checkpoint

CHECK_EVERY = 100  # steps between finiteness checks (each one is a host sync)
EXPLODED = 1e8  # an epoch's mean |loss| past this is a divergence, finite or not (lr 1e6 reaches 1e31)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise GanlabError("config key 'train.device' = 'cuda' but no CUDA device is available; use auto or cpu")
    return torch.device(name)


def build_optimizer(cfg: Config, params, lr: float, device: torch.device) -> torch.optim.Optimizer:
    # the fused kernels are ~25 % faster per step on this 3M-parameter pair (benchmarks/train_speed.py)
    if cfg.optim.name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=cfg.optim.betas, fused=True)
    return torch.optim.RMSprop(params, lr=lr)


def warm_start(path: str | os.PathLike, G: torch.nn.Module, D: torch.nn.Module, prior: torch.nn.Module,
               ema: EMA | None) -> None:
    """Load G, D, the prior and G's EMA (G's weights when the source kept no EMA) from a run checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise GanlabError(f"config key 'train.init_from': {path} is not a file; accepted: a checkpoint written by "
                          f"ganlab train, e.g. runs/NAME/checkpoints/last.pt")
    try:
        ck = torch_load(path)
    except Exception as e:  # not a torch file, or one that needs code to load
        raise GanlabError(f"config key 'train.init_from': {path} cannot be read as a checkpoint ({type(e).__name__}); "
                          f"accepted: a checkpoint written by ganlab train") from None
    if not isinstance(ck, dict) or "G" not in ck or "D" not in ck:
        raise GanlabError(f"config key 'train.init_from': {path} is not a ganlab training checkpoint "
                          f"(it holds no G and D); accepted: runs/NAME/checkpoints/*.pt")
    parts = [(G, ck["G"], "G"), (D, ck["D"], "D")]
    if "prior" in ck:
        parts.append((prior, ck["prior"], "the latent prior"))
    if ema:
        parts.append((ema.model, ck.get("G_ema", ck["G"]), "G's EMA"))
    for module, state, name in parts:
        try:
            module.load_state_dict(state)
        except RuntimeError as e:
            first = str(e).strip().splitlines()[-1].strip()
            raise GanlabError(f"config key 'train.init_from': {name} in {path} does not fit this config's model "
                              f"({first}); use a checkpoint of a run with the same discriminator and prior") from None


def train(cfg: Config, run_dir: str | os.PathLike, *, resume: bool = False, until_epoch: int | None = None,
          progress: bool = True, cache_dir: str | None = None,
          on_epoch: Callable[[dict], None] | None = None) -> Path:
    """Train ``cfg`` into ``run_dir``. With ``resume`` the config is read from the run directory.

    ``until_epoch`` stops (resumably) after that epoch: a run can be trained in chunks. ``on_epoch`` is called
    with each epoch's metrics row once that epoch's checkpoint is on disk (a sweep reports it to Ray Tune).
    One process at a time owns a run directory (``RUN/.lock``, released by the kernel when a process dies).
    """
    run = Run(run_dir)
    if not resume:
        run.path.mkdir(parents=True, exist_ok=True)
    with RunLock(run.path):
        return _train(cfg, run, resume, until_epoch, progress, cache_dir, on_epoch)


def _train(cfg: Config | None, run: Run, resume: bool, until_epoch: int | None, progress: bool,
           cache_dir: str | None, on_epoch: Callable[[dict], None] | None) -> Path:
    for litter in run.path.rglob(".*.tmp"):  # half-written files of a killed writer (we hold the lock)
        litter.unlink()
    if resume:
        cfg = load_config(run)
    device = resolve_device(cfg.train.device)  # checked before anything is written
    if not resume:
        if any(p.name != RunLock.NAME for p in run.path.iterdir()):
            raise GanlabError(f"run directory {run.path} exists and is not empty; "
                              f"use --resume {run.path} to continue it or choose another --out")
        write_text(run.config, config_mod.dump(cfg))
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)

    # ---- data: one tensor in [-1, 1] on the device
    images, labels = data_mod.load(cache_dir).split("train")
    if cfg.data.subset:
        images, labels = images[: cfg.data.subset], labels[: cfg.data.subset]
    real_all = data_mod.to_tensor(images, device)
    labels_all = torch.from_numpy(labels).to(device)
    n_real, bs = len(real_all), cfg.train.batch_size
    steps_per_epoch = math.ceil(n_real / bs)

    # ---- models, optimisers, randomness
    torch.manual_seed(cfg.seed)
    G = Generator().to(device)
    D = build_discriminator(cfg.model.discriminator, spectral_norm=cfg.model.spectral_norm,
                            d_out=cfg.model.d_out, ac_head=cfg.model.ac_head).to(device)
    prior = build_prior(cfg, torch.Generator().manual_seed(cfg.seed)).to(device)
    ema = EMA(G, cfg.train.ema) if cfg.train.ema else None
    opt_g = build_optimizer(cfg, list(G.parameters()) + list(prior.parameters()), cfg.optim.lr_g, device)
    opt_d = build_optimizer(cfg, D.parameters(), cfg.optim.lr_d, device)
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if cfg.train.precision == "bf16" \
        else contextlib.nullcontext
    schedules = [build_schedule(cfg, opt_g), build_schedule(cfg, opt_d)]
    loss = build_loss(cfg.train.loss, d_out=cfg.model.d_out, distance=cfg.train.mdgan_distance,
                      lambda2=cfg.train.cn_lambda2)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    gan_step = GANStep(G, D, loss, opt_g, opt_d, terms=terms_for(cfg, loss), n_critic=cfg.train.n_critic, ema=ema,
                       autocast=autocast, generator=gen)
    start_epoch, step, elapsed, best = 0, 0, 0.0, math.inf
    evaluator = PeriodicEval(cfg, cache_dir) if cfg.eval.every else None
    source = resume_checkpoint(run) if resume else None
    if cfg.train.init_from and source is None:
        warm_start(cfg.train.init_from, G, D, prior, ema)
    if source is not None:
        ck = torch_load(source)
        if not isinstance(ck, dict) or not {"G", "D", "opt_g", "opt_d", "gen_state", "epoch"} <= ck.keys():
            raise GanlabError(f"--resume: {source} is not a ganlab training checkpoint (it lacks G, D, the "
                              f"optimisers or the RNG state); move it away to resume from an epoch_N.pt")
        check_finite(ck["G"], source, "generator's weights")
        check_finite(ck["D"], source, "discriminator's weights")
        G.load_state_dict(ck["G"])
        if "prior" in ck:  # checkpoints written before priors existed hold none (the N(0, I) prior)
            prior.load_state_dict(ck["prior"])
        if ema:
            ema.model.load_state_dict(ck["G_ema"])
        D.load_state_dict(ck["D"])
        opt_g.load_state_dict(ck["opt_g"])
        opt_d.load_state_dict(ck["opt_d"])
        for sch, sd in zip(schedules, ck.get("schedules", [])):
            if sch is not None:
                sch.load_state_dict(sd)
        gen.set_state(ck["gen_state"])
        torch.set_rng_state(ck["torch_rng"])
        start_epoch, step, elapsed, best = ck["epoch"], ck["step"], ck["elapsed"], ck.get("best", math.inf)
    rows = [r for r in read_metrics(run) if r.get("epoch", 0) <= start_epoch]
    write_text(run.metrics, "".join(json.dumps(r) + "\n" for r in rows))  # drop epochs after the checkpoint
    board = Board(run, start_epoch)

    try:
        last_epoch = cfg.train.epochs if until_epoch is None else min(until_epoch, cfg.train.epochs)
        for epoch in range(start_epoch + 1, last_epoch + 1):
            t0 = time.perf_counter()
            G.train()
            D.train()
            acc = GANStep.stats(device)  # sums over the epoch, kept on the device
            perm = torch.randperm(n_real, generator=gen, device=device)
            bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}/{cfg.train.epochs}", leave=False,
                       disable=not progress, mininterval=1.0)
            for i in bar:
                idx = perm[i * bs:(i + 1) * bs]
                step += 1
                gan_step(real_all[idx], prior.sample(len(idx), gen, device), step, acc, labels_all[idx])
                if step % CHECK_EVERY == 0 and not torch.isfinite(acc).all():
                    break
            bar.close()
            sums = acc.tolist()
            if not all(math.isfinite(v) for v in sums):
                good = f"the last good checkpoint is {run.last} (epoch {start_epoch})" if run.last.exists() else \
                    "no checkpoint was written yet"
                raise GanlabError(f"training diverged in epoch {epoch} (non-finite loss or D output: "
                                  f"loss_d={sums[0]:.4g}, loss_g={sums[1]:.4g}); stopped, {good}")
            exploded = max(abs(sums[LOSS_D]) / steps_per_epoch, abs(sums[LOSS_G]) / max(sums[N_G], 1)) > EXPLODED
            broken = [name for name, net in (("G", G), ("D", D)) if not all(torch.isfinite(p).all() for p in net.parameters())]
            if exploded or broken:  # checked before anything of this epoch is saved
                good = f"the last good checkpoint is {run.last} (epoch {start_epoch})" if run.last.exists() else \
                    "no checkpoint was written yet"
                why = f"non-finite weights in {' and '.join(broken)}" if broken else \
                    f"the losses exploded past {EXPLODED:g} (loss_d {sums[LOSS_D] / steps_per_epoch:.3g})"
                raise GanlabError(f"training diverged in epoch {epoch} ({why}); stopped, {good}")
            seconds = time.perf_counter() - t0
            elapsed += seconds
            row = {"epoch": epoch, "step": step, "loss_d": sums[LOSS_D] / steps_per_epoch,
                   "loss_g": sums[LOSS_G] / max(sums[N_G], 1), "d_real": sums[D_REAL] / steps_per_epoch,
                   "d_fake": sums[D_FAKE] / steps_per_epoch, "seconds": round(seconds, 3),
                   "images_per_s": round(n_real / seconds, 1)}
            G_out = ema.model if ema else G  # the generator that is sampled and evaluated
            row.update(_saturation(G_out, prior, cfg.seed, device))
            if epoch % cfg.train.sample_every == 0 or epoch == cfg.train.epochs:
                G_out.eval()
                with torch.no_grad():  # the same z every time (drawn from the current prior with a fixed seed)
                    fixed_z = prior.sample(100, torch.Generator(device=device).manual_seed(cfg.seed), device)
                    fixed = to_uint8(G_out(fixed_z))
                save_grid(fixed, run.grids / f"epoch_{epoch:04d}.png", nrow=10)
                board.grid(fixed, epoch)
            is_best, metric = False, None
            if evaluator and (epoch % cfg.eval.every == 0 or epoch == cfg.train.epochs):
                scores = evaluator(G_out, prior)
                row.update({f"eval_{k}": v for k, v in scores.items()})
                metric = scores[cfg.eval.metric]
                is_best = metric < best
                best = min(best, metric)
            for sch in schedules:
                step_schedule(sch, metric)
            row["lr_g"], row["lr_d"] = opt_g.param_groups[0]["lr"], opt_d.param_groups[0]["lr"]
            state = {"G": G.state_dict(), "D": D.state_dict(), "prior": prior.state_dict(),
                     "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                     "gen_state": gen.get_state(), "torch_rng": torch.get_rng_state(),
                     "epoch": epoch, "step": step, "elapsed": elapsed, "best": best}
            if ema:
                state["G_ema"] = ema.model.state_dict()
            state["schedules"] = [sch.state_dict() if sch is not None else {} for sch in schedules]
            if is_best:
                torch_save(state, run.best)
            if epoch % cfg.train.checkpoint_every == 0:
                torch_save(state, run.epoch_checkpoint(epoch))
            torch_save(state, run.last)  # after the numbered one: 'last' always names a complete epoch
            append_line(run.metrics, json.dumps(row))
            board.scalars(row)
            if on_epoch:
                on_epoch({**row, "epochs": cfg.train.epochs})
            if progress:
                tqdm.write(f"epoch {epoch}/{cfg.train.epochs}  loss_d {row['loss_d']:.4f}  loss_g {row['loss_g']:.4f}  "
                           f"D(x) {row['d_real']:.3f}  D(G(z)) {row['d_fake']:.3f}  {seconds:.1f}s  "
                           f"{row['images_per_s']:.0f} img/s")
            start_epoch = epoch
    finally:
        board.close()
    if start_epoch >= cfg.train.epochs:
        _finish(run, cfg, elapsed)
    return run.path


def _saturation(G: torch.nn.Module, prior, seed: int, device) -> dict:
    """G's output on 1,000 fixed latents (their own generator: the run's randomness is untouched): the share of
    saturated pixels and the per-pixel std over latents (near 0: every z gives the same image, a dead G)."""
    was = G.training
    G.eval()
    with torch.no_grad():
        sat = saturation(G, prior.sample(1000, torch.Generator(device=device).manual_seed(seed + 1), device))
    G.train(was)
    return {"g_saturated": sat["saturated"], "g_pixel_std": sat["pixel_std"]}


class Board:
    """TensorBoard event files in RUN/tb (``tensorboard --logdir runs/`` shows runs and sweeps while they train):
    every number of an epoch's metrics row, and the fixed-z sample grid. metrics.jsonl stays the record; a resumed
    run purges the events written after its checkpoint, so the curves have no doubled epochs."""

    def __init__(self, run: Run, start_epoch: int):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(run.path / "tb"), purge_step=start_epoch + 1, flush_secs=30)

    def scalars(self, row: dict) -> None:
        epoch = row["epoch"]
        for key, value in row.items():
            if key not in ("epoch", "step") and isinstance(value, (int, float)):
                group = "eval" if key.startswith("eval_") else "speed" if key in ("seconds", "images_per_s") \
                    else "lr" if key.startswith("lr_") else "train"
                self.writer.add_scalar(f"{group}/{key.removeprefix('eval_')}", value, epoch)
        self.writer.flush()

    def grid(self, images, epoch: int) -> None:
        from ..images import grid

        self.writer.add_image("samples", grid(images, nrow=10), epoch, dataformats="HW")

    def close(self) -> None:
        self.writer.close()


class PeriodicEval:
    """MNIST-FID (and optionally the full protocol) of ``eval.n`` samples from a fixed z."""

    SCALARS = tuple(n.key for n in registry.numbers(scalar=True))  # every registered number

    def __init__(self, cfg: Config, cache_dir: str | None):
        self.cfg, self.cache_dir = cfg.eval, cache_dir

    def __call__(self, G, prior=None) -> dict:
        from ..metrics.evaluate import evaluate
        from ..sampling import sample_images

        was_training = G.training
        images = sample_images(G, self.cfg.n, seed=self.cfg.seed, progress=False, prior=prior)
        G.train(was_training)
        res = evaluate(images, ref=self.cfg.ref, precision=self.cfg.precision, cache=self.cache_dir,
                       full=self.cfg.full, progress=False)
        return {k: res[k] for k in self.SCALARS if k in res}


def _finish(run: Run, cfg: Config, elapsed: float) -> None:
    rows = read_metrics(run)
    write_json(run.summary, {"epochs": cfg.train.epochs, "wall_seconds": round(elapsed, 1),
                             "final": rows[-1] if rows else None})
    from .plots import plot_metrics

    plot_metrics(rows, run.path / "metrics.png")
