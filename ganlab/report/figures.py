"""The report's figures (matplotlib PNGs): the precision–recall and density–coverage planes, FID against cost, and
each row's class histogram. Each figure returns the data it drew, so the page (and its tests) can state it."""
from __future__ import annotations

from pathlib import Path
from ..images import save_figure


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plane_points(every: list[dict]) -> list[dict]:
    """One point per evaluation that has precision and recall: its row label, base (run) and sampler."""
    pts = []
    for r in every:
        if r.get("precision") is None or r.get("recall") is None:
            continue
        label = r["run"] if r["sampler"] in ("prior", "—") else f"{r['run']} + {r['sampler']}"
        pts.append({"label": label, "run": r["run"], "sampler": r["sampler"], "precision": r["precision"],
                    "recall": r["recall"], "density": r.get("density"), "coverage": r.get("coverage"),
                    "precision_std": r.get("precision_std"), "recall_std": r.get("recall_std"),
                    "template": bool(r.get("template")) and r["sampler"] in ("prior", "—")})
    return pts


def pr_plane(points: list[dict], path: Path, floor: dict | None = None) -> list[dict]:
    """Precision–recall (left) and density–coverage (right); a line joins a run's plain samples to its samplers;
    the real-vs-real floor as a star, the platform template's runs as red squares. Returns the points drawn."""
    plt = _plt()
    # numbered points and a key beside: readable with many rows, where labels on the points would overlap
    fig, axes = plt.subplots(1, 3, figsize=(15, max(4.6, 0.75 + 0.14 * len(points))),
                             gridspec_kw={"width_ratios": [1, 1, 0.9]})
    for i, p in enumerate(points, 1):
        p["number"] = i
    key = axes[2]
    key.axis("off")
    key.text(0, 1, "\n".join(f"{p['number']:>2}  {p['label'][:60]}" for p in points), va="top", ha="left",
             family="monospace", fontsize=7, transform=key.transAxes)
    for ax, (x, y, xs) in zip(axes, (("recall", "precision", "recall"), ("coverage", "density", "coverage"))):
        runs: dict[str, list[dict]] = {}
        for p in points:
            runs.setdefault(p["run"], []).append(p)
        for run, pts in runs.items():
            base = [p for p in pts if p["sampler"] in ("prior", "—")]
            for p in pts:
                if base and p is not base[0] and p[x] is not None and base[0][x] is not None:
                    ax.annotate("", (p[x], p[y]), (base[0][x], base[0][y]),
                                arrowprops={"arrowstyle": "->", "color": "0.6", "lw": 0.8})
        template_drawn = False
        for p in points:
            if p[x] is None or p[y] is None:
                continue
            err = (p.get(f"{x}_std"), p.get(f"{y}_std"))
            if p.get("template"):  # the reference every report starts from
                ax.errorbar(p[x], p[y], xerr=err[0], yerr=err[1], fmt="s", ms=8, capsize=2, color="#c22", mec="k",
                            label="platform template" if not template_drawn else None)
                template_drawn = True
            else:
                ax.errorbar(p[x], p[y], xerr=err[0], yerr=err[1], fmt="o", ms=5, capsize=2)
            ax.annotate(str(p["number"]), (p[x], p[y]), fontsize=7, xytext=(3, 2), textcoords="offset points")
        if floor and floor.get(x) is not None:
            ax.plot(floor[x], floor[y], "*", ms=14, color="gold", mec="k", label="real vs real (floor)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_title("precision vs recall (arrows: a run's samplers)")
    axes[1].set_title("density vs coverage")
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    return points


def fid_cost(best: list[dict], every: list[dict], path: Path) -> list[dict]:
    """FID (MNIST-FID where no FID) against training time (left) and, for samplers, against G evaluations per
    accepted sample (right)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    drawn = []
    panels = ((axes[0], best, lambda r: r["train_seconds"] / 60 if r.get("train_seconds") else None,
               "training time (min)"),
              (axes[1], every, lambda r: r.get("g_evals_per_sample"), "G evaluations per accepted sample"))
    for ax, rows, cost, xlabel in panels:
        # FID where the panel's rows have it, else the classifier's MNIST-FID (cheap, measured for every row)
        metric = "fid" if any(r.get("fid") is not None and cost(r) is not None for r in rows) else "mnist_fid"
        for r in rows:
            x, y = cost(r), r.get(metric)
            if x is None or y is None:
                continue
            label = r["run"] if r["sampler"] in ("prior", "—") else f"{r['run']} + {r['sampler']}"
            ax.errorbar(x, y, yerr=r.get(f"{metric}_std"), fmt="o", capsize=2)
            ax.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
            drawn.append({"label": label, "x": x, metric: y})
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric.replace("mnist_fid", "MNIST-FID").replace("fid", "FID"))
        ax.grid(alpha=0.3)
    if any(r.get("g_evals_per_sample") for r in every):
        axes[1].set_xscale("log")
    axes[0].set_title("quality against training cost")
    axes[1].set_title("quality against sampling cost")
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    return drawn


def class_bars(rows: list[dict], path: Path, cols: int = 4) -> list[dict]:
    """One small bar chart per row: how its samples fall into the classifier's 10 digits (a dropped digit shows
    as a missing bar)."""
    plt = _plt()
    rows = [r for r in rows if r.get("class_histogram")]
    if not rows:
        return []
    n = -(-len(rows) // cols)
    fig, axes = plt.subplots(n, cols, figsize=(2.8 * cols, 1.9 * n), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, r in zip(axes.flat, rows):
        ax.axis("on")
        hist = r["class_histogram"]
        total = sum(hist) or 1
        ax.bar(range(10), [h / total for h in hist], color="#48a")
        dropped = [i for i, h in enumerate(hist) if h == 0]
        ax.plot(dropped, [0] * len(dropped), "x", color="#c33", ms=6, mew=2)  # a digit it never draws
        ax.axhline(0.1, color="0.5", lw=0.6, ls="--")
        ax.set_xticks(range(10))
        ax.tick_params(labelsize=6)
        ax.set_title(r["label"] if len(r["label"]) <= 44 else r["label"][:42] + "…", fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    return rows
