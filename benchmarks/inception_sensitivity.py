"""Where bf16 Inception's error comes from: the 19 stages of the rebuilt FID Inception, each run in bf16 alone (the rest
fp32) and each kept in fp32 alone (the rest bf16), with the error of the 2048-d features against the exact fp32 path.

    python benchmarks/inception_sensitivity.py --run RUN [--checkpoint last] [--n 64] [--threads 1] [--json F]
    python benchmarks/inception_sensitivity.py --run RUN --agreement 2000 --keep 0 [--keep 0,1,2] [--json F]

The images are n MNIST test digits and n samples of the run's generator (seed 0). The error of a precision map is the
mean over images of ||f - f_fp32|| / ||f_fp32||, and the largest absolute difference of one feature. A stage whose
bf16 alone carries most of the full bf16 error is the one to keep exact (issue 23); FID is then checked on a real set
with ``--agreement N``: FID / P / R / D / C of N generated vs N MNIST test images with the features of fp32, of bf16
everywhere and of bf16 with each ``--keep`` list of stages in fp32, and each path's images/s.
"""
from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np
import torch
from torch import nn

from ganlab.data import mnist
from ganlab.metrics import density_coverage, precision_recall
from ganlab.metrics.fid import fid
from ganlab.metrics.inception import FeatureExtractor, preprocess, with_bf16_stages
from ganlab.sampling import load_generator, sample_images


def mixed(net: nn.Module, bf16: set[int]) -> nn.Module:
    """A copy of the rebuilt Inception with the stages in ``bf16`` in bfloat16 and the others in float32."""
    return with_bf16_stages(copy.deepcopy(net), bf16).to(memory_format=torch.channels_last).eval()


@torch.no_grad()
def features(net: nn.Module, x: torch.Tensor, batch: int = 32) -> np.ndarray:
    return np.concatenate([net(x[i:i + batch]).float().numpy() for i in range(0, len(x), batch)])


def error(f: np.ndarray, ref: np.ndarray) -> dict:
    rel = np.linalg.norm(f - ref, axis=1) / np.linalg.norm(ref, axis=1)
    return {"rel_l2": float(rel.mean()), "max_abs": float(np.abs(f - ref).max())}


def agreement(net: nn.Module, fakes: np.ndarray, reals: np.ndarray, keeps: list[set[int]],
              all_bf16: bool = True) -> dict:
    """The protocol's numbers with each precision map's features; the deltas are against fp32's."""
    stages = len(net.layers)
    maps = {"fp32": set(), "bf16": set(range(stages))} if all_bf16 else {"fp32": set()}
    maps.update({f"bf16, fp32 stages {','.join(map(str, sorted(k)))}": set(range(stages)) - k for k in keeps})
    out = {}
    for name, bf16 in maps.items():
        model = mixed(net, bf16)
        feats = []
        t0 = time.perf_counter()
        for images in (fakes, reals):
            x = preprocess(torch.from_numpy(np.ascontiguousarray(images)), 1).contiguous(
                memory_format=torch.channels_last)
            feats.append(features(model, x, batch=50))
        seconds = time.perf_counter() - t0
        ff, rf = feats
        pr, rc = precision_recall.precision_recall(rf, ff)
        dn, cv = density_coverage.density_coverage(rf, ff)
        out[name] = {"fid": fid(rf, ff), "precision": pr, "recall": rc, "density": dn, "coverage": cv,
                     "images_per_s": (len(fakes) + len(reals)) / seconds, "bf16_stages": sorted(bf16)}
        row = out[name]
        base = out["fp32"]
        print(f"{name:32s} {row['images_per_s']:6.1f} img/s  FID {row['fid']:.3f} "
              f"({100 * (row['fid'] / base['fid'] - 1):+.2f} %)  P {row['precision']:.4f} ({row['precision'] - base['precision']:+.4f})  R {row['recall']:.4f} "
              f"({row['recall'] - base['recall']:+.4f})  D {row['density']:.4f}  C {row['coverage']:.4f}", flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", help="a run directory (omit it for --checkpoint PATH to a platform G.pth)")
    p.add_argument("--checkpoint", default="last")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json")
    p.add_argument("--agreement", type=int, default=0, metavar="N",
                   help="instead: the protocol's numbers on N generated vs N test images, per precision map")
    p.add_argument("--keep", action="append", default=[], metavar="I,J",
                   help="with --agreement: stages kept in fp32 (the rest bf16); repeatable")
    p.add_argument("--skip-bf16", action="store_true", help="with --agreement: leave out the all-bf16 map")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.agreement:
        keeps = [{int(i) for i in k.split(",")} for k in args.keep]
        fakes = sample_images(load_generator(args.run, args.checkpoint), args.agreement, seed=0, progress=False)
        out = agreement(FeatureExtractor("fp32").net, fakes, mnist.load().test_x[: args.agreement], keeps,
                        not args.skip_bf16)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"run": args.run, "checkpoint": args.checkpoint, "n": args.agreement,
                           "threads": args.threads, "paths": out}, f, indent=1)
        return
    fakes = sample_images(load_generator(args.run, args.checkpoint), args.n, seed=0, progress=False)
    images = np.concatenate([mnist.load().test_x[: args.n], fakes])
    x = preprocess(torch.from_numpy(np.ascontiguousarray(images)), 1).contiguous(memory_format=torch.channels_last)
    net = FeatureExtractor("fp32").net
    stages = len(net.layers)
    t0 = time.perf_counter()
    ref = features(mixed(net, set()), x)
    fp32_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    every = error(features(mixed(net, set(range(stages))), x), ref)
    bf16_s = time.perf_counter() - t0
    rows = []
    for i in range(stages):
        alone = error(features(mixed(net, {i}), x), ref)
        kept = error(features(mixed(net, set(range(stages)) - {i}), x), ref)
        rows.append({"stage": i, "kind": type(net.layers[i]).__name__,
                     "params": sum(q.numel() for q in net.layers[i].parameters()), "bf16_alone": alone,
                     "fp32_kept": kept})
        print(f"stage {i:2d} {rows[-1]['kind']:11s} {rows[-1]['params']:>9,d}  bf16 alone: rel {alone['rel_l2']:.2e} "
              f"max {alone['max_abs']:.3f}   kept fp32 (rest bf16): rel {kept['rel_l2']:.2e} max {kept['max_abs']:.3f}",
              flush=True)
    print(f"all bf16: rel {every['rel_l2']:.2e} max {every['max_abs']:.3f}  ({2 * args.n} images: fp32 {fp32_s:.1f} s, "
          f"bf16 {bf16_s:.1f} s, {fp32_s / bf16_s:.2f}x)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"run": args.run, "checkpoint": args.checkpoint, "n_real": args.n, "n_fake": args.n,
                       "threads": args.threads, "all_bf16": every, "fp32_s": fp32_s, "bf16_s": bf16_s,
                       "stages": rows}, f, indent=1)


if __name__ == "__main__":
    main()
