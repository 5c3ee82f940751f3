"""The Inception's batches on one core each (ganlab's extractor) vs one batch at a time on all cores (its way before
session 20), side by side in one run on the same MNIST images, interleaved repeats; images/s, ratio, and the largest
feature difference (0: the change is speed only).

    python benchmarks/inception_workers.py [--n 400] [--repeats 2] [--json out.json]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from machine import describe, finish, machine, unsteady

from ganlab.data import mnist
from ganlab.metrics.inception import BATCH, FeatureExtractor, preprocess


@torch.no_grad()
def one_batch_at_a_time(ext: FeatureExtractor, images: np.ndarray) -> np.ndarray:
    """The extractor's loop before session 20: each batch on all of torch's threads, the last one short."""
    out = []
    for i in range(0, len(images), ext.batch_size):
        x = preprocess(torch.from_numpy(np.ascontiguousarray(images[i:i + ext.batch_size])).to(ext.device),
                       ext.channels)
        out.append(ext.net(x.to(ext.dtype).contiguous(memory_format=torch.channels_last)).float().cpu().numpy())
    return np.concatenate(out).astype(np.float64)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=400)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--json", help="write the numbers here too")
    args = p.parse_args()
    images = mnist.load().test_x[: args.n]
    before = machine()
    print(describe(before), f"; {args.n} images, batch {BATCH}, {args.repeats} interleaved repeats (best kept)")
    results = {}
    for precision in ("fp32", "bf16-stem"):
        ext = FeatureExtractor(precision)
        ext(images[:BATCH], progress=False)  # warm-up
        speed, feats = {"one batch at a time, all threads": [], "workers, one thread each": []}, {}
        for _ in range(args.repeats):
            for name, fn in zip(speed, (lambda: one_batch_at_a_time(ext, images), lambda: ext(images, progress=False))):
                t0 = time.perf_counter()
                feats[name] = fn()
                speed[name].append(args.n / (time.perf_counter() - t0))
        old, new = (max(v) for v in speed.values())
        diff = float(np.abs(feats["workers, one thread each"] - feats["one batch at a time, all threads"]).max())
        results[precision] = {"img_s_one_batch_at_a_time": round(old, 2), "img_s_workers": round(new, 2),
                              "ratio": round(new / old, 3), "max_abs_feature_diff": diff}
        print(f"{precision:10s} one batch at a time {old:6.1f} img/s   workers {new:6.1f} img/s   "
              f"x {new / old:.3f}   max |feature diff| {diff:g}", flush=True)
    after = machine()
    finish({"n": args.n, "batch": BATCH, "repeats": args.repeats, "paths": results}, before, unsteady(before, after),
           args.json)


if __name__ == "__main__":
    main()
