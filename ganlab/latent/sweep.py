"""Sweep one sampler knob: evaluate each setting and plot FID / precision / recall against it, like the
reports' threshold figures; plus a grid of samples the sampler accepted next to ones it rejected."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..images import grid, save_figure, save_png, to_uint8
from ..io import write_json
from ..metrics.evaluate import evaluate, summary_line
from .base import RejectionSampler
from .bundle import beside, chain_context, describe, sample_chain
from .run import parse_chain


def sweep(run, sampler: str, param: str, values: list, base_opts: list[str], out: str | os.PathLike,
          n: int = 10000, seed: int | list[int] = 0, checkpoint: str = "last", full: bool = True,
          precision: str = "fp32", cache: str | None = None, progress: bool = True, critic: str = "run",
          ref: str = "train") -> dict:
    """Evaluate the sampler at each value of ``param`` against ``ref``: by default 10,000 MNIST training images,
    since the plot is made to choose a value (the test set is for reporting the chosen one, ``ganlab evaluate``).
    With ``run`` None, ``checkpoint`` is a shipped G.pth, read with its sampler.pt's critic and prior.
    With several sampling seeds, each value is measured on each seed (every value sees the same codes of a seed, so
    differences between values are paired) and its row holds their mean, ``KEY_std`` and ``per_seed``: what one
    seed cannot split (docs/RESULTS.md §14.3) shows as overlapping spreads."""
    out = Path(out)
    seeds = [seed] if isinstance(seed, int) else list(seed)
    rows = []
    for v in values:
        chain = parse_chain([(sampler, [*base_opts, f"{param}={v}"])])
        measured = []
        for s in seeds:
            images, cost = sample_chain(run, checkpoint, n, s, chain, cache, critic=critic)
            res = evaluate(images, ref=ref, precision=precision, cache=cache, full=full, progress=progress)
            res.update({"value": v, "cost": cost, "seed": s})
            measured.append(res)
            if progress:
                print(f"{sampler}.{param}={v} (seed {s}): " + summary_line(res))
        rows.append(measured[0] if len(measured) == 1 else _over_seeds(measured, full))
    shipped = {} if run is not None else {"shipped": describe(beside(checkpoint))}  # whose critic and prior
    write_json(out / "sweep.json", {"run": None if run is None else str(run), "checkpoint": str(checkpoint), **shipped,
                                    "sampler": sampler, "param": param, "critic": critic,
                                    "ref": rows[0]["ref"] if rows else ref, "rows": rows})
    _plot(rows, sampler, param, out / "sweep.png", full, rows[0]["ref"] if rows else ref)
    if isinstance(parse_chain([(sampler, list(base_opts))]).samplers[0], RejectionSampler):
        accepted_rejected_grid(run, sampler, base_opts, out / "accepted_rejected.png", checkpoint, seeds[0], cache,
                               critic=critic)
    return {"rows": rows, "dir": str(out)}


def _keys(full: bool) -> list[str]:
    return ["fid", "precision", "recall"] if full else ["mnist_fid", "mean_confidence", "classes_covered"]


def _over_seeds(measured: list[dict], full: bool) -> dict:
    """One value's row from its seeds: each number's mean, the plotted numbers' sample std, and every seed's."""
    import statistics

    row = dict(measured[0])
    for k, v in measured[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("seed", "value", "n", "n_ref"):
            row[k] = statistics.fmean(m[k] for m in measured)
    for k in _keys(full):
        row[f"{k}_std"] = statistics.stdev(m[k] for m in measured)
    row.pop("seed")
    row["seeds"] = [m["seed"] for m in measured]
    row["per_seed"] = [{"seed": m["seed"], **{k: m[k] for k in _keys(full)}} for m in measured]
    return row


def _plot(rows, sampler, param, path, full, ref):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["value"] for r in rows]
    panels = [(k, [r[k] for r in rows], [r.get(f"{k}_std", 0.0) for r in rows]) for k in _keys(full)]
    panels.append(("cost: G evaluations per sample", [r["cost"]["g_evals_per_sample"] for r in rows], None))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
    for ax, (title, ys, err) in zip(axes, panels):
        ax.errorbar(xs, ys, yerr=err if err and any(err) else None, fmt="o-", capsize=3)
        ax.set_xlabel(f"{sampler}.{param}")
        ax.set_title(title)
    fig.suptitle(f"{sampler}: metrics against {ref}", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)


def accepted_rejected_grid(run, sampler, opts, path, checkpoint="last", seed=0, cache=None, n=50, critic="run"):
    """Left: n samples the rejection sampler accepted; right: n prior samples it rejected."""
    ctx = chain_context(run, checkpoint, cache, critic=critic)
    chain = parse_chain([(sampler, list(opts))])
    chain.fit(ctx)
    g = torch.Generator().manual_seed(seed)
    accepted = chain.sample(n, ctx, g)
    pool = ctx.prior.sample(4000, torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        # a rejected sample: lowest acceptance score among a pool of prior draws
        scores = chain.samplers[0].acceptance(pool, ctx)
        rejected = pool[scores.argsort()[:n]]
        a, r = to_uint8(ctx.G(accepted)), to_uint8(ctx.G(rejected))
    gap = np.zeros((grid(a, 10).shape[0], 12), np.uint8)
    save_png(np.concatenate([grid(a, 10), gap, grid(r, 10)], 1), path, scale=2)

