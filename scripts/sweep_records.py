"""A sweep's records (no weights), both ways.

Copy them into a folder to commit: sweep.json, the table, grids.png, and per trial its config.yaml, metrics.jsonl,
summary.json, trial.json, code.jsonl (the commits that trained it), evals/ and last fixed-z grid:

    python scripts/sweep_records.py runs/reports-100 docs/results/reports-100

With ``--carry`` it also copies the last checkpoint (checkpoints/last.pt: weights, optimisers, RNG states, ~4x G's
size in fp32) of each trial that has not ended, so that a restore on another machine continues it from its last
epoch instead of its first: for trials longer than a session on a machine that does not persist. A trial that has
ended since loses its carried checkpoint from the records (git history keeps it):

    python scripts/sweep_records.py --carry runs/reports-100 docs/results/reports-100

Restore a sweep folder from such a copy on a machine that has lost the sweep (a fresh clone): sweep.json and the
trials that ended and hold every measurement the sweep plans for them (trial.json says done, with the full protocol
where sweep.json asks for it and each of the row's samplers as planned). A trial whose last checkpoint was carried
continues from its last epoch. Any other trial (started, failed, or finished but owing a measurement, which needs
its weights) is left out: the records hold no weights, so it trains again from its first epoch. Then continue it with
``ganlab sweep --resume OUT`` (or ``ganlab sweep SPEC --resume OUT``: the trials that train again follow the SPEC's
arithmetic):

    python scripts/sweep_records.py --restore docs/results/reports-100 runs/reports-100
"""
import json
import shutil
import sys
import time
from pathlib import Path

from ganlab.checkpoint import Checkpoint
from ganlab.runs import CHECKPOINTS, Run, read_metrics
from ganlab.sweeps.samplers import measured_before
from ganlab.sweeps.spec import evaluation_for

TRIAL_FILES = ("config.yaml", "metrics.jsonl", "summary.json", "trial.json", "code.jsonl")


def _copy(files, src: Path, dst: Path) -> None:
    for f in files:
        if f.is_file():
            target = dst / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)


def _epoch(checkpoint: Path) -> int:
    return Checkpoint.load(checkpoint).state[Checkpoint.EPOCH]


def _rows(run_dir: Path) -> int:
    """The last epoch in a run's metrics.jsonl (0 when it has none; a line still being written does not count)."""
    return max((r.get("epoch", 0) for r in read_metrics(Run(run_dir))), default=0)


def _carry(trial: Path, src: Path, dst: Path) -> int | None:
    """Copy an unfinished trial's last.pt with the config, metrics and code record it resumes with; its epoch, or None
    when it has none yet. The checkpoint first: a training process writes last.pt, then the epoch's metrics row, so
    metrics read after it reach its epoch (read again for a while if the row is on its way; a process killed in
    between never writes it, and the trial resumes without that row, as it would on this machine)."""
    last = trial / CHECKPOINTS / "last.pt"
    if not last.is_file():
        return None
    target = dst / last.relative_to(src)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(".last.pt.tmp")
    shutil.copy2(last, tmp)
    epoch = _epoch(tmp)
    for _ in range(25):
        _copy([trial / "config.yaml", trial / "metrics.jsonl", trial / "code.jsonl"], src, dst)
        if _rows(dst / trial.relative_to(src)) >= epoch:
            break
        time.sleep(0.2)
    tmp.replace(target)
    return epoch


def save(src: Path, dst: Path, carry: bool = False) -> None:
    _copy([src / n for n in ("sweep.json", "table.md", "table.json", "grids.png")], src, dst)
    sweep = json.loads((src / "sweep.json").read_text())
    plan = {t["name"]: t for t in sweep["trials"]}
    carried = []
    for trial in sorted((src / "trials").glob("*/")):
        files = [trial / n for n in TRIAL_FILES]
        files += sorted((trial / "evals").glob("*")) + sorted((trial / "grids").glob("epoch_*.png"))[-1:]
        _copy(files, src, dst)  # before the checkpoint: a summary copied with an older checkpoint is caught on restore
        if ended(trial, plan.get(trial.name), sweep["evaluate"]):  # a checkpoint carried earlier is stale
            shutil.rmtree(dst / trial.relative_to(src) / CHECKPOINTS, ignore_errors=True)
        elif carry:  # also one trained and still owing a measurement: it needs its weights
            epoch = _carry(trial, src, dst)
            if epoch is not None:
                carried.append(f"{trial.name} (epoch {epoch})")
    print(f"copied the records of {src} to {dst}" + (f"; carried the last checkpoint of {', '.join(carried)}"
                                                       if carried else ""))


def ended(trial: Path, planned: dict | None, evaluate: dict) -> bool:
    """Whether the trial's record is finished and holds what the sweep plans to measure on it (``planned``: its
    entry in sweep.json; None when the sweep no longer plans it)."""
    try:
        record = json.loads((trial / "trial.json").read_text())
    except (OSError, ValueError):
        return False
    if record.get("status") != "done" or planned is None:
        return False
    evaluation = evaluation_for(evaluate, planned)
    if evaluation["full"] and "fid" not in record.get("metrics", {}):
        return False
    if record.get("collapsed"):  # a collapsed trial is measured without its samplers
        return True
    return all(measured_before(item, evaluation, record.get("samplers")) for item in planned.get("samplers") or [])


def restore(src: Path, dst: Path) -> None:
    if not (src / "sweep.json").is_file():
        sys.exit(f"sweep_records.py: {src} holds no sweep.json; give the folder the records were copied to")
    if (dst / "sweep.json").exists():
        sys.exit(f"sweep_records.py: {dst} holds a sweep already; restore into a new folder")
    sweep = json.loads((src / "sweep.json").read_text())
    plan = {t["name"]: t for t in sweep["trials"]}
    done = {t.name: ended(t, plan.get(t.name), sweep["evaluate"]) for t in (src / "trials").glob("*/")}
    trials = sorted(src / "trials" / name for name, ok in done.items() if ok)
    for trial in trials:
        _copy(sorted(p for p in trial.rglob("*") if p.is_file() and CHECKPOINTS not in p.parts), src, dst)
    carried = {}  # not ended, planned, with a carried checkpoint: back as it was, to train on (or be measured)
    for name in sorted(n for n, ok in done.items() if not ok and n in plan):
        trial = src / "trials" / name
        if (trial / CHECKPOINTS / "last.pt").is_file():
            epoch = _epoch(trial / CHECKPOINTS / "last.pt")
            files = sorted(p for p in trial.rglob("*") if p.is_file())
            summary = trial / "summary.json"
            if summary.is_file() and json.loads(summary.read_text()).get("epochs", 0) > epoch:
                # trained to the end after this checkpoint was carried (records copied later without --carry):
                # without its summary and record it trains on from the checkpoint, not measured as if it were final
                files = [p for p in files if p not in (summary, trial / "trial.json")]
            _copy(files, src, dst)
            carried[name] = epoch
    _copy([src / "sweep.json"], src, dst)  # last: a half-done restore is not a sweep folder
    left = sorted(name for name, ok in done.items() if not ok and name not in carried)
    print(f"restored {dst} from {src}: {len(trials)} ended trial(s)"
          + (f"; continue from their carried checkpoint: {', '.join(f'{n} (epoch {e})' for n, e in carried.items())}"
             if carried else "")
          + (f"; train again from their first epoch: {', '.join(left)}" if left else ""))


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--restore":
        restore(Path(args[1]), Path(args[2]))
    elif len(args) == 3 and args[0] == "--carry":
        save(Path(args[1]), Path(args[2]), carry=True)
    elif len(args) == 2 and not args[0].startswith("-"):
        save(Path(args[0]), Path(args[1]))
    else:
        sys.exit(__doc__)
