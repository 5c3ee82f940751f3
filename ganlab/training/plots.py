"""Matplotlib plots of a run's metrics.jsonl."""
from __future__ import annotations

from pathlib import Path

from ..images import save_figure
from ..metrics import registry

#: periodic-evaluation keys drawn on the 0..1 panel (precision / recall over epochs)
UNIT = tuple(f"eval_{n.key}" for n in registry.numbers(scalar=True) if n.unit)


def plot_metrics(rows: list[dict], path: Path, pr_points: list[dict] | None = None) -> None:
    """Losses, mean D outputs, the periodic metric and, when known, precision/recall over epochs.
    ``pr_points``: extra ``{"epoch", "precision", "recall"}`` points (evaluations of epoch checkpoints)."""
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    keys = [("loss_d", "loss_g"), ("d_real", "d_fake")]
    scale = [f"eval_{n.key}" for n in registry.numbers(scalar=True) if n.better == "lower" and f"eval_{n.key}" in rows[-1]]
    unit = [k for k in UNIT if any(k in r for r in rows)]
    pr_points = sorted(pr_points or [], key=lambda p: p["epoch"])
    n = 2 + bool(scale) + bool(unit or pr_points)
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 3.5))
    for ax, pair in zip(axes, keys):
        for k in pair:
            ax.plot(epochs, [r.get(k) for r in rows], label=k)
        ax.set_xlabel("epoch")
        ax.legend()
    axes[0].set_title("losses")
    axes[1].set_title("mean D output (real vs fake)")
    i = 2
    for group, title in ((scale, "periodic evaluation"), (unit, "precision / recall over epochs")):
        if not group and not (title.startswith("precision") and pr_points):
            continue
        ax = axes[i]
        for k in group:
            pts = [(r["epoch"], r[k]) for r in rows if k in r]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=k)
        if title.startswith("precision"):
            for k in ("precision", "recall"):
                if pr_points:
                    ax.plot([p["epoch"] for p in pr_points], [p[k] for p in pr_points], marker="o",
                            label=f"{k} (checkpoints)")
            ax.set_ylim(0, 1)
        ax.set_title(title)
        ax.legend()
        ax.set_xlabel("epoch")
        i += 1
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
