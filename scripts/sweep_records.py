"""A sweep's records (no weights), both ways.

Copy them into a folder to commit: sweep.json, the table, grids.png, and per trial its config.yaml, metrics.jsonl,
summary.json, trial.json, evals/ and last fixed-z grid:

    python scripts/sweep_records.py runs/reports-100 docs/results/reports-100

Restore a sweep folder from such a copy on a machine that has lost the sweep (a fresh clone): sweep.json and the
trials that ended (trial.json says done: measured, nothing left to compute); a trial that had only started is left
out, since its weights are not in the records, and trains again from its first epoch. Then continue it with
``ganlab sweep --resume OUT`` (or ``ganlab sweep SPEC --resume OUT``: the trials that train again follow the SPEC's
arithmetic):

    python scripts/sweep_records.py --restore docs/results/reports-100 runs/reports-100
"""
import json
import shutil
import sys
from pathlib import Path

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


def ended(trial: Path) -> bool:
    try:
        return json.loads((trial / "trial.json").read_text()).get("status") == "done"
    except (OSError, ValueError):
        return False


def restore(src: Path, dst: Path) -> None:
    if not (src / "sweep.json").is_file():
        sys.exit(f"sweep_records.py: {src} holds no sweep.json; give the folder the records were copied to")
    if (dst / "sweep.json").exists():
        sys.exit(f"sweep_records.py: {dst} holds a sweep already; restore into a new folder")
    trials = sorted(t for t in (src / "trials").glob("*/") if ended(t))
    for trial in trials:
        _copy(sorted(p for p in trial.rglob("*") if p.is_file()), src, dst)
    _copy([src / "sweep.json"], src, dst)  # last: a half-done restore is not a sweep folder
    left = sorted(t.name for t in (src / "trials").glob("*/") if not ended(t))
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
