"""A sweep's records (no weights), both ways.

Copy them into a folder to commit: sweep.json, the table, grids.png, and per trial its config.yaml, metrics.jsonl,
summary.json, trial.json, evals/ and last fixed-z grid:

    python scripts/sweep_records.py runs/reports-100 docs/results/reports-100

Restore a sweep folder from such a copy on a machine that has lost the sweep (a fresh clone): sweep.json and the
trials that ended and hold every measurement the sweep plans for them (trial.json says done, with the full protocol
where sweep.json asks for it and each of the row's samplers as planned). Any other trial (started, failed, or
finished but owing a measurement, which needs its weights) is left out: the records hold no weights, so it trains
again from its first epoch. Then continue it with
``ganlab sweep --resume OUT`` (or ``ganlab sweep SPEC --resume OUT``: the trials that train again follow the SPEC's
arithmetic):

    python scripts/sweep_records.py --restore docs/results/reports-100 runs/reports-100
"""
import json
import shutil
import sys
from pathlib import Path

from ganlab.sweeps.samplers import measured_before
from ganlab.sweeps.spec import evaluation_for

TRIAL_FILES = ("config.yaml", "metrics.jsonl", "summary.json", "trial.json")


def _copy(files, src: Path, dst: Path) -> None:
    for f in files:
        if f.is_file():
            target = dst / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)


def save(src: Path, dst: Path) -> None:
    _copy([src / n for n in ("sweep.json", "table.md", "table.json", "grids.png")], src, dst)
    for trial in sorted((src / "trials").glob("*/")):
        files = [trial / n for n in TRIAL_FILES]
        files += sorted((trial / "evals").glob("*")) + sorted((trial / "grids").glob("epoch_*.png"))[-1:]
        _copy(files, src, dst)
    print(f"copied the records of {src} to {dst}")


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
        _copy(sorted(p for p in trial.rglob("*") if p.is_file()), src, dst)
    _copy([src / "sweep.json"], src, dst)  # last: a half-done restore is not a sweep folder
    left = sorted(name for name, ok in done.items() if not ok)
    print(f"restored {dst} from {src}: {len(trials)} ended trial(s)"
          + (f"; train again from their first epoch: {', '.join(left)}" if left else ""))


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--restore":
        restore(Path(args[1]), Path(args[2]))
    elif len(args) == 2 and not args[0].startswith("-"):
        save(Path(args[0]), Path(args[1]))
    else:
        sys.exit(__doc__)
