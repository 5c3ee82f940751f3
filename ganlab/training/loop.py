"""The training loop: ``train(config, run_dir)`` -> run directory. Pure: everything it needs is in the
config and the seed; everything it makes is in the run directory; ``resume=True`` continues from the
last checkpoint and, on CPU, ends with exactly the weights of an uninterrupted run."""
from __future__ import annotations

import copy
import functools
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from .. import data as data_mod
from ..checkpoint import Checkpoint
from ..devices import exact_fp32
from ..errors import GanlabError
from ..images import grid, save_grid, to_uint8
from ..io import append_line, torch_save, write_json, write_text
from ..metrics import registry
from ..metrics.evaluate import evaluate
from ..models.generator import saturation
from ..runs import Run, RunLock, load_config, read_metrics, resume_checkpoint
from ..sampling import sample_images
from . import config as config_mod
from .config import Config
from .plots import plot_metrics
from .step import D_FAKE, D_REAL, LOSS_D, LOSS_G, N_G
from .trainer import Trainer
EXPLODED = 1e8  # an epoch's mean |loss| past this is a divergence, finite or not (lr 1e6 reaches 1e31)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    elif name == "cuda" and not torch.cuda.is_available():
        raise GanlabError("config key 'train.device' = 'cuda' but no CUDA device is available; use auto or cpu")
    return exact_fp32(torch.device(name))


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
        cfg = config_mod.validate(copy.deepcopy(cfg))  # one built without config.load may still say auto: checked
        write_text(run.config, config_mod.dump(cfg))  # and resolved, config.yaml says what runs
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    slow = config_mod.emulated_bf16_warning(cfg.train)  # the run's arithmetic and its phases'
    if slow:
        print(slow, file=sys.stderr, flush=True)

    # ---- data: one tensor in [-1, 1] on the device
    images, labels = data_mod.load(cache_dir).split("train")
    if cfg.data.subset:
        images, labels = images[: cfg.data.subset], labels[: cfg.data.subset]
    real_all = data_mod.to_tensor(images, device)
    labels_all = torch.from_numpy(labels).to(device)
    n_real, bs = len(real_all), cfg.train.batch_size
    steps_per_epoch = math.ceil(n_real / bs)

    trainer = Trainer(cfg, device)
    prior = trainer.prior
    evaluator = PeriodicEval(cfg, cache_dir) if cfg.eval.every else None
    source = resume_checkpoint(run) if resume else None
    if cfg.train.init_from and source is None:
        trainer.warm_start(cfg.train.init_from)
    if source is not None:
        ck = Checkpoint.load(source)
        if ck.resumable:  # the phase the checkpoint was written in: its optimisers and schedules take its state
            trainer.enter_phase(config_mod.phase_of(cfg, ck.state[Checkpoint.EPOCH] - 1), fresh=False)
        trainer.load_state_dict(ck)
    rows = [r for r in read_metrics(run) if r.get("epoch", 0) <= trainer.epoch]
    write_text(run.metrics, "".join(json.dumps(r) + "\n" for r in rows))  # drop epochs after the checkpoint
    board = Board(run, trainer.epoch)
    probe = Probe(trainer.G_out, prior, cfg.seed, device)  # G's images before the first epoch this call trains

    try:
        last_epoch = cfg.train.epochs if until_epoch is None else min(until_epoch, cfg.train.epochs)
        if trainer.epoch < last_epoch:
            note_code(run, trainer.epoch + 1)
        for epoch in range(trainer.epoch + 1, last_epoch + 1):
            if config_mod.phase_of(cfg, epoch - 1) != trainer.phase:  # a new phase begins as a warm start would
                trainer.enter_phase(config_mod.phase_of(cfg, epoch - 1))
            t0, cpu0 = time.perf_counter(), time.process_time()  # the process's CPU time: all its threads
            sums = trainer.train_epoch(real_all, labels_all, progress)
            good = f"the last good checkpoint is {run.last} (epoch {trainer.epoch})" if run.last.exists() else \
                "no checkpoint was written yet"
            if not all(math.isfinite(v) for v in sums):
                raise GanlabError(f"training diverged in epoch {epoch} (non-finite loss or D output: "
                                  f"loss_d={sums[0]:.4g}, loss_g={sums[1]:.4g}); stopped, {good}")
            exploded = max(abs(sums[LOSS_D]) / steps_per_epoch, abs(sums[LOSS_G]) / max(sums[N_G], 1)) > EXPLODED
            broken = trainer.broken()
            if exploded or broken:  # checked before anything of this epoch is saved
                why = f"non-finite weights in {' and '.join(broken)}" if broken else \
                    f"the losses exploded past {EXPLODED:g} (loss_d {sums[LOSS_D] / steps_per_epoch:.3g})"
                raise GanlabError(f"training diverged in epoch {epoch} ({why}); stopped, {good}")
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            trainer.elapsed += seconds
            row = {"epoch": epoch, "step": trainer.step, "loss_d": sums[LOSS_D] / steps_per_epoch,
                   "loss_g": sums[LOSS_G] / max(sums[N_G], 1), "d_real": sums[D_REAL] / steps_per_epoch,
                   "d_fake": sums[D_FAKE] / steps_per_epoch, "seconds": round(seconds, 3),
                   "cpu_seconds": round(cpu, 3), "images_per_s": round(n_real / seconds, 1), **trainer.term_stats()}
            G_out = trainer.G_out  # the generator that is sampled and evaluated
            row.update(probe(G_out, prior))
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
                is_best = metric < trainer.best
                trainer.best = min(trainer.best, metric)
            trainer.step_schedules(metric)
            row["lr_g"], row["lr_d"] = trainer.opt_g.param_groups[0]["lr"], trainer.opt_d.param_groups[0]["lr"]
            trainer.epoch = epoch
            state = trainer.state_dict()
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
    finally:
        board.close()
    if trainer.epoch >= cfg.train.epochs:
        _finish(run, cfg, trainer.elapsed, trainer.device)
    return run.path


class Probe:
    """G's output on 1,000 fixed latents (their own generator: the run's randomness is untouched), once per epoch: the
    share of saturated pixels, the per-pixel std over latents (near 0: every z gives the same image, a dead G) and the
    drift, the mean absolute change of those images since the previous epoch (near 0: G has stopped learning; the
    first epoch after a resume is measured against the loaded checkpoint's G, so the numbers equal an uninterrupted
    run's)."""

    def __init__(self, G: torch.nn.Module, prior, seed: int, device):
        self.seed, self.device = seed, device
        self.last = self._measure(G, prior, saturated=False)[0]

    def _measure(self, G, prior, saturated: bool = True) -> tuple[torch.Tensor, dict]:
        was = G.training
        G.eval()
        with torch.no_grad():
            z = prior.sample(1000, torch.Generator(device=self.device).manual_seed(self.seed + 1), self.device)
            out, sat = G(z), (saturation(G, z) if saturated else {})
        G.train(was)
        return out, sat

    def __call__(self, G: torch.nn.Module, prior) -> dict:
        out, sat = self._measure(G, prior)
        drift, self.last = (out - self.last).abs().mean().item(), out
        return {"g_saturated": sat["saturated"], "g_pixel_std": sat["pixel_std"], "g_drift": drift}


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
                group = "eval" if key.startswith("eval_") else "speed" if key in ("seconds", "cpu_seconds", "images_per_s") \
                    else "lr" if key.startswith("lr_") else "train"
                self.writer.add_scalar(f"{group}/{key.removeprefix('eval_')}", value, epoch)
        self.writer.flush()

    def grid(self, images, epoch: int) -> None:
        self.writer.add_image("samples", grid(images, nrow=10), epoch, dataformats="HW")

    def close(self) -> None:
        self.writer.close()


class PeriodicEval:
    """MNIST-FID (and optionally the full protocol) of ``eval.n`` samples from a fixed z."""

    SCALARS = tuple(n.key for n in registry.numbers(scalar=True))  # every registered number

    def __init__(self, cfg: Config, cache_dir: str | None):
        self.cfg, self.cache_dir = cfg.eval, cache_dir

    def __call__(self, G, prior=None) -> dict:
        was_training = G.training
        images = sample_images(G, self.cfg.n, seed=self.cfg.seed, progress=False, prior=prior)
        G.train(was_training)
        res = evaluate(images, ref=self.cfg.ref, precision=self.cfg.precision, cache=self.cache_dir,
                       full=self.cfg.full, progress=False)
        return {k: res[k] for k in self.SCALARS if k in res}


def hardware(device: torch.device) -> str:
    """Where a run trained, in words: ``cuda (NVIDIA H200)``, ``cpu (AMD EPYC 9R14 96-Core Processor)``."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    model = platform.processor()
    info = Path("/proc/cpuinfo")
    if info.is_file():
        model = next((line.partition(":")[2].strip() for line in info.read_text().splitlines()
                      if line.startswith("model name")), model)
    return f"{device.type} ({model or platform.machine()})"


@functools.lru_cache(maxsize=None)
def code_version() -> str | None:
    """The git commit of the ganlab source that runs (12 hex digits, ``+dirty`` when its tracked files under ganlab/
    differ from it), or None when this package is not the top of a git checkout (an installed copy). Read once, when
    this module is imported (below): a checkout moved on later does not rename the code already loaded."""
    root = Path(__file__).resolve().parents[2]

    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)

    try:
        top, head = git("rev-parse", "--show-toplevel"), git("rev-parse", "--short=12", "HEAD")
        if top.returncode or head.returncode or Path(top.stdout.strip()).resolve() != root:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "ganlab").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty else "")


code_version()  # at import: the code this process runs


def note_code(run: Run, first_epoch: int) -> None:
    """Append to RUN/code.jsonl which code trains the run from ``first_epoch`` on, when it is not the code that trained
    the epochs before (a run resumed under a later commit trained in parts: the table of a sweep that spans sessions
    says so). A run begun before runs kept this record gets an unknown first part (code null)."""
    version, parts = code_version(), _code_parts(run)
    if not parts and first_epoch > 1:
        parts = [{"from_epoch": 1, "code": None}]
        append_line(run.code, json.dumps(parts[0]))
    if not parts or parts[-1]["code"] != version:
        append_line(run.code, json.dumps({"from_epoch": first_epoch, "code": version}))


def _code_parts(run: Run) -> list[dict]:
    """RUN/code.jsonl's lines (a line cut short by a kill is left out)."""
    parts = []
    for line in run.code.read_text().splitlines() if run.code.is_file() else []:
        try:
            parts.append(json.loads(line))
        except ValueError:
            pass
    return parts


def codes(run: Run, last_epoch: int) -> list[dict]:
    """RUN/code.jsonl's parts that trained epochs up to ``last_epoch``, in order: a part killed before its first
    checkpoint is replaced by the next one from the same epoch, and neighbours with the same code are one part."""
    parts: list[dict] = []
    for part in _code_parts(run):
        if part["from_epoch"] <= last_epoch:
            parts = [p for p in parts if p["from_epoch"] < part["from_epoch"]]
            if not parts or parts[-1]["code"] != part["code"]:
                parts.append(part)
    return parts


def cpu_seconds(rows: list[dict]) -> float | None:
    """The training process's CPU seconds (all its threads) summed over the epochs of metrics.jsonl; None unless the
    rows are epochs 1..N, each with its CPU seconds (an epoch trained by a version before they were kept, or a row lost
    to a kill between the checkpoint and its line): a partial sum would pass for the whole."""
    if not rows or [r.get("epoch") for r in rows] != list(range(1, len(rows) + 1)) or \
            any("cpu_seconds" not in r for r in rows):
        return None
    return round(sum(r["cpu_seconds"] for r in rows), 1)


def _finish(run: Run, cfg: Config, elapsed: float, device: torch.device) -> None:
    rows = read_metrics(run)
    write_json(run.summary, {"epochs": cfg.train.epochs, "wall_seconds": round(elapsed, 1),
                             "cpu_seconds": cpu_seconds(rows), "final": rows[-1] if rows else None,
                             "device": hardware(device), "code": codes(run, cfg.train.epochs)})

    plot_metrics(rows, run.path / "metrics.png")
