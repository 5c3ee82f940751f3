"""What a report shows, read from disk: runs (their config, metrics.jsonl, summary, grids, sweeps and the
evaluations kept in RUN/evals/) and stand-alone evaluation JSONs (``ganlab evaluate PATH --json FILE``)."""
from __future__ import annotations

import functools

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import GanlabError
from ..images import save_grid
from ..io import read_json, write_json
from ..metrics.inception import features_key
from ..runs import CHECKPOINTS, Run, load_config, read_metrics
from ..training import config as config_mod

EVALS = "evals"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=_+-]+", "_", text).strip("_")[:120] or "prior"


TEST_REF = "mnist-test"


def evaluation_path(run: str | os.PathLike, result: dict) -> Path:
    """RUN/evals/CHECKPOINT[-raw]--SAMPLER[--ref-REF].json: where an evaluation of ``result``'s checkpoint,
    weights, sampler and reference (``ref``, the reference set's id; the MNIST test set when absent) is kept."""
    raw = "-raw" if result.get("weights") == "raw" else ""
    ref = result.get("ref", TEST_REF)
    label = f"{_slug(result['checkpoint'])}{raw}--{_slug(result['sampler_spec'])}" + \
        ("" if ref == TEST_REF else f"--ref-{_slug(ref)}")
    return Path(run) / EVALS / f"{label}.json"


def kept_evaluation(run: str | os.PathLike, base: dict, n: int, full: bool) -> dict | None:
    """The evaluation kept for ``base`` (checkpoint, weights, seed, sampler_spec, ref id) when it measured the same:
    n images, that seed, chain text and reference, and with ``full`` the exact fp32 Inception features (file names
    can collide, and a hand-run evaluation may have used other features); else None."""
    path = evaluation_path(run, base)
    kept = read_json(path) if path.is_file() else None
    if kept and kept.get("n") == n and all(kept.get(k) == base[k] for k in ("seed", "sampler_spec", "ref")) \
            and (not full or kept.get("features") == features_key("fp32")):
        return kept
    return None


def save_run_evaluation(run: str | os.PathLike, result: dict, images: np.ndarray) -> Path:
    """Keep an evaluation at :func:`evaluation_path`, with a grid of its first 100 images beside it."""
    path = evaluation_path(run, result)
    label = path.stem
    save_grid(images[:100], path.with_suffix(".png"), nrow=10)
    write_json(path, {**result, "label": label, "grid": f"{label}.png"})
    return path


@dataclass
class Evaluation:
    label: str
    sampler: str
    checkpoint: str
    metrics: dict
    grid: Path | None = None

    @property
    def full(self) -> bool:
        return "fid" in self.metrics


@dataclass
class Entry:
    """One column of the comparison: a run directory, or an evaluation JSON of a sample set."""

    name: str
    path: Path
    method: str
    evaluations: list[Evaluation] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # metrics.jsonl
    train_seconds: float | None = None
    train_threads: int | None = None
    epochs: int | None = None
    grid: Path | None = None  # the run's last fixed-z grid
    sweeps: list[tuple[str, Path]] = field(default_factory=list)
    sweep: str | None = None  # the sweep folder this run is a trial of (ganlab compare on a sweep)
    template: bool = False  # trained with the platform template's method (is_template)

    def best(self) -> Evaluation | None:
        """The evaluation a one-row-per-run leaderboard shows: the lowest FID (else the lowest MNIST-FID)."""
        on_test = [e for e in self.evaluations if e.metrics.get("ref", TEST_REF) == TEST_REF]
        evaluations = on_test or self.evaluations  # one protocol: evaluations on other references only if alone
        full = [e for e in evaluations if e.full]
        pool = full or evaluations
        key = "fid" if full else "mnist_fid"
        return min(pool, key=lambda e: e.metrics.get(key, float("inf"))) if pool else None


#: what does not make a training method: run bookkeeping (seed, budget, where and how often things are written) and
#: the arithmetic it ran in (train.precision: fp32 or bf16 autocast, shown harmless in docs/RESULTS.md §4)
_NOT_METHOD = {"seed": None, "train": ("epochs", "threads", "device", "sample_every", "checkpoint_every", "init_from",
                                       "precision"),
               "eval": None, "data": ("subset",)}


def _method_of(mapping: dict) -> dict:
    out = {}
    for section, value in mapping.items():
        drop = _NOT_METHOD.get(section, ())
        if drop is None:
            continue
        out[section] = {k: v for k, v in value.items() if k not in drop} if isinstance(value, dict) else value
    return out


@functools.lru_cache(maxsize=1)
def _template_method() -> dict:
    return _method_of(config_mod.to_dict(config_mod.load(config_mod.PRESETS / "vanilla.yaml")))


def is_template(cfg) -> bool:
    """Whether a training config is the platform template's method (configs/vanilla.yaml: NS loss, the MLP D, Adam
    2e-4 with PyTorch's betas, batch 64), whatever its seed and budget: marked as the reference in the figures."""
    return _method_of(cfg if isinstance(cfg, dict) else config_mod.to_dict(cfg)) == _template_method()


def describe(cfg) -> str:
    """A short human name of a training config: loss, D, and what differs from the platform template."""
    parts = [cfg.train.loss, f"{cfg.model.discriminator} D"]
    if cfg.model.spectral_norm:
        parts.append("SN")
    if cfg.model.ac_head:
        parts.append("AC head")
    for name in ("gp", "r1", "r2"):
        value = getattr(cfg.regularizers, name)
        if value:
            parts.append(f"{name.upper()} {value:g}")
    c = cfg.consistency
    if c.bcr_real or c.bcr_fake:
        parts.append("bCR")
    if c.zcr_dis or c.zcr_gen:
        parts.append("zCR")
    t = cfg.train
    if t.n_critic > 1:
        parts.append(f"n_critic {t.n_critic}")
    if t.clip_d:
        parts.append(f"clip {t.clip_d:g}")
    if t.unroll:
        parts.append(f"unrolled {t.unroll}")
    if t.latent_opt_alpha:
        parts.append(f"latent opt (LOGAN) α {t.latent_opt_alpha:g}")
    if t.feature_matching:
        parts.append("feature matching")
    if t.d_augment:
        how = f"ADA target {t.ada_target:g}" if t.ada_target else f"p {t.d_augment_p:g}"
        parts.append(f"D sees {'+'.join(t.d_augment)} ({how})")
    if t.ema:
        parts.append(f"EMA {t.ema:g}")
    if cfg.optim.schedule != "none":
        parts.append(f"lr {cfg.optim.schedule}")
    if cfg.latent.prior != "normal":
        parts.append(f"{cfg.latent.prior} prior" + (" (learnable)" if cfg.latent.learnable else ""))
    if t.init_from:  # the training time shown is this run's only
        parts.append(f"{t.epochs} epochs warm-started from {_checkpoint_name(t.init_from)}")
    return ", ".join(parts)


def _checkpoint_name(path: str) -> str:
    """RUN/checkpoints/FILE as ``RUN/FILE`` (the source run's name, not where it sat on some disk)."""
    p = Path(path)
    return f"{p.parent.parent.name}/{p.name}" if p.parent.name == CHECKPOINTS else p.name


def _evaluation(path: Path, data: dict) -> Evaluation:
    if "mnist_fid" not in data:
        raise GanlabError(f"{path} is not a ganlab evaluation (no metrics); write one with 'ganlab evaluate'")
    grid = path.parent / data["grid"] if data.get("grid") else None
    sampler = data.get("sampler_spec") or (data.get("sampler") or {}).get("sampler") or "—"  # a folder: unknown
    checkpoint = data.get("checkpoint", "-") + (":raw" if data.get("weights") == "raw" else "")
    return Evaluation(data.get("label", path.stem), sampler, checkpoint, data,
                      grid if grid and grid.is_file() else None)


def load_entry(path: str | os.PathLike) -> Entry:
    """A run directory (with config.yaml) or an evaluation JSON."""
    path = Path(path)
    if path.is_file() and path.suffix == ".json":
        ev = _evaluation(path, read_json(path))
        return Entry(path.stem, path, ev.metrics.get("method", "samples: " + str(ev.metrics.get("source", path))),
                     [ev])
    if not (path / "config.yaml").is_file():
        raise GanlabError(f"{path} is neither a run directory (with config.yaml) nor an evaluation .json")
    run = Run(path)
    cfg = load_config(run)
    entry = Entry(path.name, path, describe(cfg), rows=read_metrics(run), epochs=cfg.train.epochs,
                  train_threads=cfg.train.threads or None, template=is_template(cfg))
    if run.summary.is_file():
        entry.train_seconds = read_json(run.summary).get("wall_seconds")
    grids = sorted((path / "grids").glob("epoch_*.png"))
    entry.grid = grids[-1] if grids else None
    for f in sorted((path / EVALS).glob("*.json")):
        entry.evaluations.append(_evaluation(f, read_json(f)))
    for f in sorted((path / "sweeps").glob("*/sweep.png")):
        entry.sweeps.append((f.parent.name, f))
    return entry
