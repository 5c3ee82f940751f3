"""The presets table (issue 4): train every preset in configs/ at one budget and seed, evaluate each, tabulate.

    python benchmarks/presets.py --epochs 20 --out runs/presets-20 [--only vanilla wgan-gp ...]
                                 [--mnist-only] [--set KEY=VALUE ...] [--threads 1] [--update TABLE.json]

Each preset trains into OUT/NAME with the same epochs (an equal budget of passes over the data; WGAN
presets with n_critic = 5 therefore get a fifth of the generator steps, which the table states) and seed.
It is restartable: a finished run is kept, an interrupted one is resumed, an evaluation already in
OUT/NAME/evals is reused. The table goes to OUT/table.md and OUT/table.json, each preset's sample grid to
OUT/grids/NAME.png and all of them to one picture, OUT/grids.png, so the table's folder holds everything it
shows. --update merges into an earlier table (of the same epochs, seed and --set): its rows for the presets
not run now are kept, with their grids, so a table can be completed over several sessions or machines
without the earlier runs. `ganlab compare OUT/*/ --out reports/presets` draws the HTML report of the runs.
One full-protocol evaluation is ~15 min of two cores; --mnist-only scores with the classifier metrics in
seconds.
"""
import argparse
import sys
import time
from pathlib import Path

from ganlab import cli
from ganlab.errors import GanlabError
from ganlab.images import save_figure
from ganlab.io import read_json, write_bytes, write_json, write_text
from ganlab.training import config as C, train
from ganlab.training.loop import Run, load_config

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
COLUMNS = [("fid", "FID", 2), ("precision", "P", 3), ("recall", "R", 3), ("density", "D", 3),
           ("coverage", "C", 3), ("mnist_fid", "MNIST-FID", 1), ("classes_covered", "classes", 0),
           ("kl_to_uniform", "KL(unif)", 3)]


def presets(only: list[str] | None) -> list[str]:
    names = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise GanlabError(f"unknown preset(s) {', '.join(unknown)}; accepted: {', '.join(names)}")
        names = [n for n in names if n in only]
    return names


def _comparable(cfg) -> dict:
    d = C.to_dict(cfg)
    d["train"].pop("threads", None)  # how many threads trained a run does not change what it is
    return d


def train_preset(name: str, out: Path, epochs: int, seed: int, sets: list[str], progress: bool) -> Path:
    """Train OUT/NAME, resume it if interrupted, keep it if finished; a run of another config is an error."""
    run = Run(out / name)
    cfg = C.load(str(CONFIGS / f"{name}.yaml"), [f"train.epochs={epochs}", f"seed={seed}"] + sets)
    if not run.config.exists():
        return train(cfg, run.path, progress=progress)
    if _comparable(load_config(run)) != _comparable(cfg):
        raise GanlabError(f"{run.path} was trained with another config (epochs, seed or --set differ); "
                          f"use another --out")
    if run.summary.exists():
        return run.path
    return train(None, run.path, resume=True, progress=progress)


def evaluate_preset(run_dir: Path, mnist_only: bool, n: int, quiet: bool) -> dict:
    path = run_dir / "evals" / "last--prior.json"
    if path.exists():
        result = read_json(path)
        if mnist_only or "fid" in result:
            return result
    argv = ["evaluate", "--run", str(run_dir), "--n", str(n)] + (["--mnist-only"] if mnist_only else []) \
        + (["--quiet"] if quiet else [])
    if cli.main(argv):
        raise GanlabError(f"evaluating {run_dir} failed (see above)")
    return read_json(path)


def copy_grid(src: Path, out: Path, name: str) -> str:
    """Copy a preset's sample grid into the table's folder; return its path relative to that folder."""
    rel = f"grids/{name}.png"
    if src.exists() and src.resolve() != (out / rel).resolve():
        write_bytes(out / rel, src.read_bytes())
    return rel


def earlier_table(previous: Path, head: dict) -> dict:
    """The table to --update, checked before any training: same epochs, seed and --set as this one."""
    prev = read_json(previous)
    theirs = {k: prev.get(k) for k in head}
    if theirs != head:
        raise GanlabError(f"--update {previous} is a table of {theirs}, this one of {head}; they do not merge")
    return prev


def merge(rows: list[dict], prev: dict, prev_dir: Path, out: Path) -> list[dict]:
    """The rows of the earlier table ``prev`` (in folder ``prev_dir``) for presets not in ``rows``, plus ``rows``."""
    done = {r["preset"] for r in rows}
    kept = [dict(r) for r in prev.get("rows", []) if r["preset"] not in done]
    for r in kept:
        r["grid"] = copy_grid(prev_dir / r.get("grid", f"grids/{r['preset']}.png"), out, r["preset"])
    return sorted(kept + rows, key=lambda r: r["preset"])


def table(rows: list[dict], epochs: int) -> str:
    present = [c for c in COLUMNS if any(c[0] in r["metrics"] for r in rows)]
    head = ["preset", "loss", "D", "n_critic", "G steps", "train s"] + [c[1] for c in present]
    lines = [f"Every preset for {epochs} epochs (equal passes over the data), last checkpoint, prior sampling.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        m = r["metrics"]
        cells = [r["preset"], r["loss"], r["discriminator"], str(r["n_critic"]), str(r["g_steps"]),
                 str(round(r["train_seconds"]))]
        cells += [("—" if k not in m else f"{m[k]:.{d}f}" if d else str(m[k])) for k, _, d in present]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def montage(rows: list[dict], out: Path, cols: int = 6) -> None:
    """OUT/grids.png: one panel per preset, its evaluation grid (the first samples of the table's evaluation)
    titled with the preset and its headline number, so the table's numbers can be checked by eye."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    n_rows = -(-len(rows) // cols)
    fig, axes = plt.subplots(n_rows, cols, figsize=(2.6 * cols, 2.9 * n_rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, r in zip(axes.flat, rows):
        m = r["metrics"]
        grid = out / r["grid"]
        if grid.exists():
            with Image.open(grid) as im:
                ax.imshow(im.convert("L"), cmap="gray", vmin=0, vmax=255)
        else:  # a row kept by --update from a table whose folder had no grid for it
            ax.text(0.5, 0.5, "(no grid)", ha="center", va="center", transform=ax.transAxes)
        score = f"FID {m['fid']:.1f}" if "fid" in m else f"MNIST-FID {m['mnist_fid']:.0f}"
        ax.set_title(f"{r['preset']}\n{score}", fontsize=9)
    fig.tight_layout()
    save_figure(fig, out / "grids.png", dpi=80)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, required=True, help="the budget of every preset")
    p.add_argument("--out", required=True, help="folder of the runs and the table")
    p.add_argument("--only", nargs="+", help="these presets only (names of configs/*.yaml)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override in every preset")
    p.add_argument("--threads", type=int, default=0, help="torch threads per training (0: torch's default)")
    p.add_argument("--mnist-only", action="store_true", help="classifier metrics only (seconds per preset)")
    p.add_argument("--n", type=int, default=10000, help="samples per evaluation")
    p.add_argument("--update", metavar="TABLE.json", help="merge into this earlier table (same epochs, seed, --set)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    try:
        if args.epochs < 1:
            raise GanlabError(f"--epochs {args.epochs} must be >= 1")
        out = Path(args.out)
        sets = args.set + ([f"train.threads={args.threads}"] if args.threads else [])
        head = {"epochs": args.epochs, "seed": args.seed, "sets": args.set}
        prev = earlier_table(Path(args.update), head) if args.update else None
        rows = []
        for name in presets(args.only):
            t = time.time()
            run_dir = train_preset(name, out, args.epochs, args.seed, sets, progress=not args.quiet)
            cfg = load_config(Run(run_dir))
            metrics = evaluate_preset(run_dir, args.mnist_only, args.n, args.quiet)
            summary = read_json(Run(run_dir).summary)
            steps = (summary.get("final") or {}).get("step", 0)
            rows.append({"preset": name, "run": str(run_dir), "loss": cfg.train.loss,
                         "discriminator": cfg.model.discriminator + ("+sn" if cfg.model.spectral_norm else ""),
                         "n_critic": cfg.train.n_critic, "g_steps": steps // max(cfg.train.n_critic, 1),
                         "train_seconds": summary["wall_seconds"], "metrics": metrics,
                         "grid": copy_grid(run_dir / "evals" / metrics["grid"], out, name)})
            print(f"{name}: done in {time.time() - t:.0f} s", flush=True)
        if prev is not None:
            rows = merge(rows, prev, Path(args.update).parent, out)
        write_json(out / "table.json", {**head, "rows": rows})
        write_text(out / "table.md", table(rows, args.epochs))
        montage(rows, out)
        print(f"wrote {out / 'table.md'}, {out / 'table.json'} and {out / 'grids.png'}")
    except GanlabError as exc:
        print(f"presets: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
