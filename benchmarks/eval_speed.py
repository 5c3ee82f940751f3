"""Evaluation speed and agreement: the naive Inception (TorchScript as shipped, fp32, 3 channels) vs
ganlab's rebuilt network in fp32 (the default), in bf16 and in bf16 with an fp32 stem, on the same real generated set.

    python benchmarks/eval_speed.py --run runs/vanilla-100 [--n 2000] [--threads 0] [--skip-naive]
    python benchmarks/eval_speed.py --checkpoint checkpoints/G.pth     (a platform G.pth, raw prior samples)

Prints images/s of each path, and FID / precision / recall / density / coverage of n generated
samples vs n MNIST test images computed with each path's features.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch
from machine import describe, finish, flops, machine, unsteady

from ganlab.data import mnist
from ganlab.devices import native_bf16
from ganlab.errors import guarded
from ganlab.metrics import density_coverage, precision_recall
from ganlab.metrics.fid import fid
from ganlab.metrics.inception import FeatureExtractor, NaiveExtractor, preprocess
from ganlab.sampling import load_generator, sample_images


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", help="a run folder (or give --checkpoint alone: a platform G.pth)")
    p.add_argument("--checkpoint", help="with --run: last (default), best, epoch_N or a path; alone: a G.pth")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--skip-naive", action="store_true", help="skip the slow TorchScript path")
    p.add_argument("--json", help="write the numbers here too")
    args = p.parse_args()
    if not args.run and not args.checkpoint:
        p.error("give --run RUN or --checkpoint G.pth")
    if args.threads:
        torch.set_num_threads(args.threads)
    fakes = sample_images(load_generator(args.run, args.checkpoint or "last"), args.n, seed=0, progress=False)
    reals = mnist.load().test_x[: args.n]
    paths = {"fp32 (default)": FeatureExtractor("fp32")}
    if native_bf16("cpu"):  # emulated elsewhere: hours for what fp32 does in minutes (session 21's AVX2 machine)
        paths.update({"bf16 (--precision bf16)": FeatureExtractor("bf16"),
                      "bf16, fp32 stem (bf16-stem)": FeatureExtractor("bf16-stem")})
    if not args.skip_naive:
        paths["fp32 naive TorchScript"] = NaiveExtractor()
    m = machine()  # before the paths run, and again after them: a busy machine is said so
    results = {}
    for name, ext in paths.items():
        ext(fakes[:50], progress=False)  # warm-up
        t0 = time.perf_counter()
        ff = ext(fakes, progress=True, desc=name)
        speed = len(fakes) / (time.perf_counter() - t0)
        rf = ext(reals, progress=True, desc=name + " (real)")
        pr, rc = precision_recall.precision_recall(rf, ff)
        dn, cv = density_coverage.density_coverage(rf, ff)
        results[name] = {"images_per_s": speed, "fid": fid(rf, ff), "precision": pr, "recall": rc,
                         "density": dn, "coverage": cv}
    warning = unsteady(m, machine())
    exact = paths["fp32 (default)"]  # its network called here: the extractor's batches run on worker threads, which
    one = preprocess(torch.from_numpy(fakes[:1]), exact.channels).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():  # the FLOP counter (this thread's dispatch mode) does not see (0 since session 20)
        per_image = flops(lambda: exact.net(one))
    print(describe(m))
    print(f"threads={torch.get_num_threads()}  n={args.n} generated vs {args.n} MNIST test  run={args.run or args.checkpoint}  "
          f"Inception: {per_image / 1e9:.1f} GFLOP per image")
    print(f"{'path':28s} {'img/s':>7s} {'10k min':>8s} {'GFLOP/s':>8s} {'of peak':>8s} {'FID':>8s} {'P':>6s} "
          f"{'R':>6s} {'D':>6s} {'C':>6s}")
    for name, r in results.items():
        gflops = r["images_per_s"] * per_image / 1e9
        peak = None if "stem" in name else m["gemm_gflops_bf16" if "bf16" in name else "gemm_gflops_fp32"]
        share = f"{100 * gflops / peak:7.1f}%" if peak else f"{'mixed':>8s}"  # no single peak for a mixed path
        print(f"{name:28s} {r['images_per_s']:7.1f} {10000 / r['images_per_s'] / 60:8.1f} {gflops:8.1f} "
              f"{share} {r['fid']:8.3f} {r['precision']:6.3f} {r['recall']:6.3f} "
              f"{r['density']:6.3f} {r['coverage']:6.3f}")
    b = results["fp32 (default)"]
    if not native_bf16("cpu"):
        print("bf16 paths: not run (this CPU has no native bf16: emulated, far slower than fp32)")
    for name in [n for n in ("bf16 (--precision bf16)", "bf16, fp32 stem (bf16-stem)") if n in results]:
        a = results[name]
        print(f"{name} vs fp32: FID {100 * (a['fid'] - b['fid']) / b['fid']:+.2f} %, "
              f"precision {a['precision'] - b['precision']:+.4f}, recall {a['recall'] - b['recall']:+.4f}, "
              f"speed {a['images_per_s'] / b['images_per_s']:.2f}x")
    finish(results, m, warning, args.json)


if __name__ == "__main__":
    sys.exit(guarded("eval_speed.py", main))  # a missing checkpoint or MNIST, no cache: one line, no traceback
