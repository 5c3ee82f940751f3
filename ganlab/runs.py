"""A run directory's layout, and who may write it: the paths (``Run``), the checkpoint to resume from (whose schema,
``Checkpoint``, lives in ganlab/checkpoint.py, a leaf that models/ can import too), the saved config and metrics, and
the lock that gives one process at a time the right to write. Everything that reads or
writes a run (training, sampling, samplers, reports, sweeps) finds it here, not in the training loop."""
from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

from .errors import GanlabError
from .training import config as config_mod


#: the folder of a run directory that holds its checkpoints (RUN/checkpoints/last.pt, best.pt, epoch_N.pt)
CHECKPOINTS = "checkpoints"


class Run:
    """The paths of one run directory."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.config = self.path / "config.yaml"
        self.metrics = self.path / "metrics.jsonl"
        self.checkpoints = self.path / CHECKPOINTS
        self.last = self.checkpoints / "last.pt"
        self.best = self.checkpoints / "best.pt"
        self.grids = self.path / "grids"
        self.summary = self.path / "summary.json"
        self.code = self.path / "code.jsonl"  # which git commit trained which epochs (training/loop.py)

    def epoch_checkpoint(self, epoch: int) -> Path:
        """Where epoch ``epoch``'s checkpoint is written (and ``epoch_N`` is looked up)."""
        return self.checkpoints / f"epoch_{epoch:04d}.pt"

    def checkpoint(self, which: str) -> Path:
        """``last``, ``best``, ``epoch_N`` (``epoch_20`` and ``epoch_0020`` alike) or a path."""
        epoch = re.fullmatch(r"epoch_(\d+)", which)
        if which in ("last", "best"):
            path = self.last if which == "last" else self.best
        elif epoch:
            path = self.epoch_checkpoint(int(epoch[1]))
        else:
            path = Path(which)
        if not path.is_file():
            have = sorted(p.stem for p in self.checkpoints.glob("*.pt")) if self.checkpoints.is_dir() else []
            raise GanlabError(f"checkpoint '{which}' not found in {self.path} ({path}); "
                              f"available: {', '.join(have) or 'none'} or a path to a .pt file")
        return path


def resume_checkpoint(run: Run) -> Path | None:
    """What ``--resume`` continues from: last.pt, else the newest epoch_N.pt (a run that lost its last.pt), else
    nothing (the run starts from its config)."""
    if run.last.exists():
        return run.last
    numbered = sorted(run.checkpoints.glob("epoch_*.pt"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    return numbered[-1] if numbered else None


def load_config(run: Run):
    if not run.config.is_file():
        raise GanlabError(f"{run.path} is not a ganlab run directory (no config.yaml)")

    return config_mod.load(run.config, stored=True)


def read_metrics(run: Run) -> list[dict]:
    rows = []
    if run.metrics.exists():
        for line in run.metrics.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut by a kill: everything after it is discarded
    return rows


class RunInUse(GanlabError):
    """Another live process owns the run directory (not a property of the run: retrying later may succeed)."""


class RunLock:
    """An exclusive ``flock`` on ``RUN/.lock``: a second writer of the same run directory is refused at once,
    and a lock held by a killed process is gone with it (the kernel releases it)."""

    NAME = ".lock"

    def __init__(self, path: Path):
        self.path = path / self.NAME
        self.fd: int | None = None

    def __enter__(self) -> "RunLock":
        if not self.path.parent.is_dir():
            raise GanlabError(f"{self.path.parent} is not a ganlab run directory (it does not exist)")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RunInUse(f"run directory {self.path.parent} is in use by another process (pid {holder}); "
                           f"wait for it to end or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the flock
            self.fd = None
