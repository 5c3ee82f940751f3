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
          n: int = 10000, seed: int = 0, checkpoint: str = "last", full: bool = True, precision: str = "fp32",
          cache: str | None = None, progress: bool = True, critic: str = "run", ref: str = "train") -> dict:
    """Evaluate the sampler at each value of ``param`` against ``ref``: by default 10,000 MNIST training images,
    since the plot is made to choose a value (the test set is for reporting the chosen one, ``ganlab evaluate``).
    With ``run`` None, ``checkpoint`` is a shipped G.pth, read with its sampler.pt's critic and prior."""
    out = Path(out)
    rows = []
    for v in values:
        chain = parse_chain([(sampler, [*base_opts, f"{param}={v}"])])
        images, cost = sample_chain(run, checkpoint, n, seed, chain, cache, critic=critic)
        res = evaluate(images, ref=ref, precision=precision, cache=cache, full=full, progress=progress)
        res.update({"value": v, "cost": cost})
        rows.append(res)
        if progress:
            print(f"{sampler}.{param}={v}: " + summary_line(res))
    shipped = {} if run is not None else {"shipped": describe(beside(checkpoint))}  # whose critic and prior
    write_json(out / "sweep.json", {"run": None if run is None else str(run), "checkpoint": str(checkpoint), **shipped,
                                    "sampler": sampler, "param": param, "critic": critic,
                                    "ref": rows[0]["ref"] if rows else ref, "rows": rows})
    _plot(rows, sampler, param, out / "sweep.png", full, rows[0]["ref"] if rows else ref)
    if isinstance(parse_chain([(sampler, list(base_opts))]).samplers[0], RejectionSampler):
        accepted_rejected_grid(run, sampler, base_opts, out / "accepted_rejected.png", checkpoint, seed, cache,
                               critic=critic)
    return {"rows": rows, "dir": str(out)}


def _plot(rows, sampler, param, path, full, ref):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["value"] for r in rows]
    keys = ["fid", "precision", "recall"] if full else ["mnist_fid", "mean_confidence", "classes_covered"]
    panels = [(k, [r[k] for r in rows]) for k in keys]
    panels.append(("cost: G evaluations per sample", [r["cost"]["g_evals_per_sample"] for r in rows]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
    for ax, (title, ys) in zip(axes, panels):
        ax.plot(xs, ys, "o-")
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

