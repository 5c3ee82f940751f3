"""Copy a sweep's records (no weights) into a folder to commit: sweep.json, the table, grids.png, and per trial its
config.yaml, metrics.jsonl, summary.json, trial.json, evals/ and last fixed-z grid. A later sweep adopts the
finished trials from such a copy (put its trials/ into the new sweep folder) without retraining them.

    python scripts/sweep_records.py runs/reports-100 docs/results/reports-100
"""
import shutil
import sys
from pathlib import Path


def main(src: Path, dst: Path) -> None:
    for name in ("sweep.json", "table.md", "table.json", "grids.png"):
        if (src / name).is_file():
            dst.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / name, dst / name)
    for trial in sorted((src / "trials").glob("*/")):
        out = dst / "trials" / trial.name
        files = [trial / n for n in ("config.yaml", "metrics.jsonl", "summary.json", "trial.json")]
        files += sorted((trial / "evals").glob("*")) + sorted((trial / "grids").glob("epoch_*.png"))[-1:]
        for f in files:
            if f.is_file():
                target = out / f.relative_to(trial)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, target)
    print(f"copied the records of {src} to {dst}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
