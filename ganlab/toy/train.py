"""The 2-d toy suite: ``toy_train(config, run_dir)`` trains small MLPs on a mixture with any loss,
penalty and scheme of the MNIST loop (the same GANStep and the same terms, built by ``terms_for`` from the same
config keys: penalties, clipping, unrolling, bCR/zCR, feature matching, the AC head on the mixture component,
LOGAN, CN-LSGAN's lambda2, bf16), and writes scatter snapshots, a strip of them, and mode metrics."""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import Checkpoint
from ..errors import GanlabError
from ..images import save_figure
from ..io import append_line, atomic_path, torch_save, write_json, write_text
from ..losses import LOSSES
from ..models.discriminators import spectrally_normalise
from ..training import config as config_mod
from ..data.augment import ANY_SHAPE, compose
from ..training.config import ConsistencyConfig, OptimConfig, RegularizerConfig, SchemeSettings
from ..runs import Run, RunLock, read_metrics
from ..training.schedules import SCHEDULES
from ..training.step import D_FAKE, D_REAL, LOSS_D, LOSS_G, N_G, GANStep
from ..training.trainer import Trainer
from .datasets import DATASETS, build_dataset
from .metrics import mode_stats
from .nets import ACTIVATIONS, ToyD, ToyG


@dataclass
class ToyTrain(SchemeSettings):
    """The loss and every scheme key of the MNIST loop (training/config.py SchemeSettings), plus the toy's budget."""

    steps: int = 5000
    batch_size: int = 256
    #: evaluate and snapshot every N D steps
    plot_every: int = 1000
    #: samples for the metrics and the scatter plots
    n_eval: int = 2500
    #: torch threads (small nets run fastest on one)
    threads: int = 1
    #: fp32 (default: 2-d nets of 128 units gain nothing from bf16) or bf16 autocast
    precision: str = "fp32"


@dataclass
class ToyModel:
    z_dim: int = 16
    #: width of every hidden layer of G and D
    hidden: int = 128
    #: D's output dimension (md-gan: the embedding size, >= 2)
    d_out: int = 1
    #: hidden layers of G and of D
    g_layers: int = 3
    d_layers: int = 3
    #: hidden activations of G and of D: lrelu (LeakyReLU 0.2), relu, tanh
    g_activation: str = "lrelu"
    d_activation: str = "lrelu"
    #: G's output: linear when 0, else g_out_scale * tanh (the MD-GAN code: 6)
    g_out_scale: float = 0.0
    #: G's noise: normal (N(0, I)) or uniform (on [-1, 1]^z_dim, as the MD-GAN code)
    z_dist: str = "normal"
    #: D's output: linear when 0, else bounded to (-b, b) by b * tanh(x / 2) = 2b sigmoid(x) - b
    d_out_bound: float = 0.0
    #: an auxiliary head on D classifying the mixture component (AC-GAN; weights train.ac_weight, ac_g_entropy,
    #: ac_g_balance)
    ac_head: bool = False
    #: spectral normalisation of D's layers (as model.spectral_norm of the MNIST config)
    spectral_norm: bool = False


@dataclass
class ToyConfig:
    seed: int = 0
    dataset: str = "ring-8"
    #: the mixture's means and sigma are multiplied by this (gan_toy.py divides its 25-Gaussian grid by 2.828);
    #: the mode metrics are relative to sigma, so they do not change with it
    scale: float = 1.0
    model: ToyModel = field(default_factory=ToyModel)
    #: as the MNIST config's; a schedule steps once per ``train.plot_every`` steps (the toys' epoch), so
    #: ``optim.step_size`` counts those periods
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr_g=1e-3, lr_d=1e-3, betas=(0.5, 0.999)))
    train: ToyTrain = field(default_factory=ToyTrain)
    regularizers: RegularizerConfig = field(default_factory=RegularizerConfig)
    #: bCR / zCR as in the MNIST loop; the augmentation for 2-d points is jitter (Gaussian noise)
    consistency: ConsistencyConfig = field(default_factory=lambda: ConsistencyConfig(augment=["jitter"]))


def validate(cfg: ToyConfig) -> ToyConfig:
    if cfg.dataset not in DATASETS:
        raise GanlabError(f"config key 'dataset' = {cfg.dataset!r} is not accepted; accepted: {', '.join(DATASETS)}")
    if cfg.train.loss not in LOSSES:
        raise GanlabError(f"config key 'train.loss' = {cfg.train.loss!r} is not accepted; "
                          f"accepted: {', '.join(sorted(LOSSES))}")
    for key in ("train.steps", "train.batch_size", "train.n_critic", "train.plot_every", "train.n_eval",
                "model.z_dim", "model.hidden", "model.g_layers", "model.d_layers", "scale", "optim.lr_g", "optim.lr_d"):
        if not config_mod.get(cfg, key) > 0:
            raise GanlabError(f"config key '{key}' = {config_mod.get(cfg, key)!r} must be > 0")
    for key in ("model.g_activation", "model.d_activation"):
        if config_mod.get(cfg, key) not in ACTIVATIONS:
            raise GanlabError(f"config key '{key}' = {config_mod.get(cfg, key)!r} is not accepted; "
                              f"accepted: {', '.join(ACTIVATIONS)}")
    if cfg.model.z_dist not in ("normal", "uniform"):
        raise GanlabError(f"config key 'model.z_dist' = {cfg.model.z_dist!r} is not accepted; accepted: normal, uniform")
    for key in ("model.g_out_scale", "model.d_out_bound", "train.unroll", "train.unroll_lr", "train.cn_lambda2",
                "train.feature_matching", "train.ac_weight", "train.ac_g_entropy", "train.ac_g_balance",
                "train.latent_opt_alpha",
                "consistency.bcr_real", "consistency.bcr_fake", "consistency.zcr_dis", "consistency.zcr_gen",
                "consistency.zcr_sigma"):
        if not config_mod.get(cfg, key) >= 0:
            raise GanlabError(f"config key '{key}' = {config_mod.get(cfg, key)!r} must be >= 0")
    if cfg.train.clip_d and cfg.model.spectral_norm:
        raise GanlabError("config keys 'train.clip_d' and 'model.spectral_norm' do not combine: choose one Lipschitz "
                          "constraint")
    if cfg.train.precision not in ("fp32", "bf16"):
        raise GanlabError(f"config key 'train.precision' = {cfg.train.precision!r} is not accepted; accepted: fp32, bf16")
    if not cfg.train.latent_opt_beta > 0:
        raise GanlabError(f"config key 'train.latent_opt_beta' = {cfg.train.latent_opt_beta!r} must be > 0")
    if not cfg.train.latent_opt_steps >= 1:
        raise GanlabError(f"config key 'train.latent_opt_steps' = {cfg.train.latent_opt_steps!r} must be >= 1")
    if cfg.optim.schedule not in SCHEDULES:
        raise GanlabError(f"config key 'optim.schedule' = {cfg.optim.schedule!r} is not accepted; accepted: "
                          f"{', '.join(s for s in SCHEDULES if s != 'plateau')}")
    for key in ("optim.step_size", "optim.gamma"):
        if not config_mod.get(cfg, key) > 0:
            raise GanlabError(f"config key '{key}' = {config_mod.get(cfg, key)!r} must be > 0")
    if cfg.optim.schedule == "plateau":
        raise GanlabError("config key 'optim.schedule' = 'plateau' needs a periodic metric, which the 2-d toys do not "
                          "have; accepted here: none, step, linear, cosine (stepped every train.plot_every steps)")
    compose(cfg.consistency.augment)  # names checked before a run starts
    if cfg.optim.name not in ("adam", "rmsprop"):
        raise GanlabError(f"config key 'optim.name' = {cfg.optim.name!r} is not accepted; accepted: adam, rmsprop")
    if not 0 <= cfg.train.ema < 1:
        raise GanlabError(f"config key 'train.ema' = {cfg.train.ema} must be in [0, 1)")
    config_mod.check_loss_output(cfg.train.loss, cfg.model.d_out)
    config_mod.check_unrolling(cfg.train.loss, cfg.train.unroll, cfg.model.ac_head)
    config_mod.check_ac_terms(cfg.train, cfg.model.ac_head)
    config_mod.check_d_augment(cfg.train, ANY_SHAPE)
    return cfg


def load(path=None, overrides=None) -> ToyConfig:
    return config_mod.load(path, overrides, root=ToyConfig, check=validate)


class ToyPrior(torch.nn.Module):
    """G's noise for the toys: N(0, I) or uniform on [-1, 1]^z_dim (the MD-GAN code); no parameters."""

    def __init__(self, z_dim: int, dist: str):
        super().__init__()
        self.z_dim, self.dist = z_dim, dist

    def sample(self, n: int, generator: torch.Generator | None = None, device="cpu") -> torch.Tensor:
        if self.dist == "uniform":
            return torch.rand(n, self.z_dim, generator=generator, device=device) * 2 - 1
        return torch.randn(n, self.z_dim, generator=generator, device=device)


def toy_nets(cfg: ToyConfig, n_modes: int):
    """The toy's (G, D, prior) for ``training.trainer.Trainer``."""
    m = cfg.model
    G = ToyG(m.z_dim, m.hidden, m.g_layers, m.g_activation, m.g_out_scale)
    D = ToyD(m.hidden, m.d_out, m.d_layers, m.d_activation, m.d_out_bound, n_modes if m.ac_head else 0)
    if m.spectral_norm:
        spectrally_normalise(D)
    return G, D, ToyPrior(m.z_dim, m.z_dist)


def _scatter(ax, real, fake, title):
    ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:green", alpha=0.4, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:blue", alpha=0.4, label="generated")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")


def toy_train(cfg: ToyConfig | None, run_dir: str | os.PathLike, progress: bool = True, resume: bool = False,
              until_step: int | None = None) -> Path:
    """Train a toy into RUN (new), or continue RUN from its last checkpoint (``resume``: cfg None, RUN's config.yaml
    is used). A checkpoint is written every ``train.plot_every`` steps, so a run killed at any moment resumes and ends
    bit-identical to an uninterrupted one. ``until_step`` stops after that step's checkpoint (tests, pieces)."""
    run = Path(run_dir)
    if resume:
        if not (run / "config.yaml").is_file():
            raise GanlabError(f"--resume {run}: not a toy run directory (no config.yaml); start one with ganlab toy")
        cfg = load(run / "config.yaml")
    elif run.exists() and any(run.iterdir()):
        raise GanlabError(f"run directory {run} exists and is not empty; choose another --out, or --resume {run}")
    else:
        run.mkdir(parents=True, exist_ok=True)
        write_text(run / "config.yaml", config_mod.dump(cfg))
    with RunLock(run):
        for litter in run.rglob(".*.tmp"):  # half-written files of a killed writer (we hold the lock)
            litter.unlink()
        return _train(cfg, run, progress, until_step)


def _train(cfg: ToyConfig, run: Path, progress: bool, until_step: int | None) -> Path:
    if (run / "summary.json").is_file():
        return run  # finished before
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    data = build_dataset(cfg.dataset, cfg.scale)
    # the MNIST loop's Trainer: the same optimisers, EMA, schedules (stepped once per plot_every steps), loss, terms,
    # step and checkpoint schema; Adam's unfused kernel (the fused one pays off on MNIST's 3M parameters, not here)
    trainer = Trainer(cfg, torch.device("cpu"), build_nets=lambda c: toy_nets(c, len(data.modes)),
                      periods=math.ceil(cfg.train.steps / cfg.train.plot_every), fused=False)
    last = Run(run).last
    if last.is_file():  # resumed: the weights, optimisers, schedules, RNG and step count of the last snapshot
        trainer.load_state_dict(Checkpoint.load(last))
    done = trainer.epoch  # the toy's "epochs" are steps
    G, gen = trainer.G_out, trainer.gen
    eval_z = trainer.prior.sample(cfg.train.n_eval, torch.Generator().manual_seed(cfg.seed + 1))
    real_show = data.sample(cfg.train.n_eval, torch.Generator().manual_seed(cfg.seed + 2))
    metrics = run / "metrics.jsonl"
    # snapshots after the checkpoint are made again
    rows = [r for r in read_metrics(Run(run)) if isinstance(r, dict) and r.get("step", 0) <= done]
    write_text(metrics, "".join(json.dumps(r) + "\n" for r in rows))
    points = [run / "snapshots" / f"step_{r['step']:06d}.npy" for r in rows]
    if not all(p.is_file() for p in points):
        raise GanlabError(f"--resume {run}: {next(p for p in points if not p.is_file())} is missing (a run of a ganlab "
                          f"before toy runs could resume); start it again with --out")
    snapshots = [(r["step"], np.load(p), r) for r, p in zip(rows, points)]
    t0, before = time.perf_counter(), trainer.elapsed
    acc = GANStep.stats("cpu")
    for step in range(done + 1, cfg.train.steps + 1):
        x, y = data.sample_labeled(cfg.train.batch_size, gen)
        trainer.train_step(x, y, acc)
        if step % cfg.train.plot_every == 0 or step == cfg.train.steps:
            s = acc.tolist()
            if not all(map(lambda v: v == v and abs(v) != float("inf"), s)):
                raise GanlabError(f"toy training diverged before step {step} (non-finite loss)")
            n = s[N_G] or 1
            with torch.no_grad():
                fake = G(eval_z)
            trainer.elapsed = before + time.perf_counter() - t0
            row = {"step": step, **mode_stats(fake, data), "loss_d": s[LOSS_D] / cfg.train.plot_every,
                   "loss_g": s[LOSS_G] / n, "d_real": s[D_REAL] / cfg.train.plot_every,
                   "d_fake": s[D_FAKE] / cfg.train.plot_every, "seconds": round(trainer.elapsed, 2)}
            trainer.step_schedules(None)
            acc.zero_()
            rows.append(row)
            append_line(metrics, json.dumps(row))
            snapshots.append((step, fake.numpy(), row))
            with atomic_path(run / "snapshots" / f"step_{step:06d}.npy") as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, fake.numpy())
            fig, ax = plt.subplots(figsize=(3, 3))
            _scatter(ax, real_show.numpy(), fake.numpy(), f"step {step}: {row['modes_covered']}/{row['n_modes']} modes")
            save_figure(fig, run / "snapshots" / f"step_{step:06d}.png", dpi=80)
            trainer.epoch = step
            torch_save(trainer.state_dict(), last)  # last: the row and snapshot above are remade if it is lost
            if progress:
                print(f"step {step}: modes {row['modes_covered']}/{row['n_modes']}  "
                      f"high-quality {row['high_quality']:.3f}  loss_d {row['loss_d']:.3f}")
            if until_step is not None and step >= until_step and step < cfg.train.steps:
                return run
    fig, axes = plt.subplots(1, len(snapshots), figsize=(2.2 * len(snapshots), 2.4), squeeze=False)
    for ax, (step, fake, row) in zip(axes[0], snapshots):
        _scatter(ax, real_show.numpy(), fake, f"{step}: {row['modes_covered']}/{row['n_modes']}, "
                                              f"hq {row['high_quality']:.2f}")
    fig.suptitle(f"{cfg.dataset}, loss {cfg.train.loss}", fontsize=10)
    fig.tight_layout()
    save_figure(fig, run / "strip.png", dpi=80)
    write_json(run / "summary.json", {"final": rows[-1], "seconds": round(trainer.elapsed, 2)})
    return run
