"""The protocol's metrics after the Inception (FID, precision/recall, density/coverage, KID) on full-size features:
ganlab's implementation before session 19 (the reference: scipy's sqrtm of the covariance product, as pytorch-fid;
each k-NN metric with its own torch.cdist distance matrices; KID with one Gram matrix per subset) against the
implementation in use (FID from the eigenvalues of Lᵀ S2 L; one shared pairwise pass). Both in float64, in one run,
with their numbers side by side.

    python benchmarks/metric_speed.py [--features reference|random] [--n 10000] [--threads 0] [--json FILE]

``reference``: the fp32 Inception features of MNIST test (as real) and of 10,000 MNIST training images (as fake),
the two cached references (computed once if absent, ~16 min each on 2 cores). ``random``: Gaussian features of
the same shape. Time does not depend on what the features hold.
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from machine import describe, finish, machine, unsteady
from scipy import linalg

from ganlab.metrics import registry
from ganlab.metrics.fid import stats
from ganlab.metrics.registry import Features


def naive(real: np.ndarray, fake: np.ndarray) -> dict:
    """The metrics as ganlab computed them until session 19 (commit 88da7d0), condensed."""
    t = {}
    t0 = time.perf_counter()
    (mu1, s1), (mu2, s2) = stats(real), stats(fake)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1.dot(s2))
    out = {"fid": float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)}
    t["fid"] = time.perf_counter() - t0
    r, f = torch.from_numpy(real), torch.from_numpy(fake)

    def radii(x, k):
        return torch.cat([torch.cdist(x[i:i + 2048], x).kthvalue(k + 1, dim=1).values for i in range(0, len(x), 2048)])

    def inside(centres, rad, points):
        counts, hit = torch.zeros(len(points), dtype=torch.int64), torch.zeros(len(centres), dtype=torch.bool)
        for j in range(0, len(points), 2048):
            within = torch.cdist(centres, points[j:j + 2048]) < rad[:, None]
            counts[j:j + 2048] = within.sum(0)
            hit |= within.any(1)
        return counts, hit

    t0 = time.perf_counter()
    r3, f3 = radii(r, 3), radii(f, 3)
    out["precision"] = float((inside(r, r3, f)[0] > 0).double().mean())
    out["recall"] = float((inside(f, f3, r)[0] > 0).double().mean())
    t["precision_recall"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts, hit = inside(r, radii(r, 5), f)
    out["density"], out["coverage"] = float(counts.sum()) / (5 * len(fake)), float(hit.double().mean())
    t["density_coverage"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rng, m, d, values = np.random.default_rng(0), min(len(real), len(fake), 1000), real.shape[1], []
    for _ in range(100):
        x, y = fake[rng.choice(len(fake), m, replace=False)], real[rng.choice(len(real), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        values.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                      - 2 * kxy.mean())
    out["kid_mean"], out["kid_std"] = float(np.mean(values)), float(np.std(values))
    t["kid"] = time.perf_counter() - t0
    return {"numbers": out, "seconds": t}


def current(real: np.ndarray, fake: np.ndarray) -> dict:
    seconds: dict = {}
    numbers = registry.compute("inception", Features(real, fake), seconds)
    return {"numbers": numbers, "seconds": seconds}


def features(kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    if kind == "random":
        rng = np.random.default_rng(0)
        return rng.random((n, 2048)), rng.random((n, 2048)) * 1.1
    from ganlab.metrics.evaluate import cached_features
    from ganlab.metrics.imagesets import reference
    from ganlab.metrics.inception import FeatureExtractor

    ext = FeatureExtractor("fp32")
    sets = []
    for ref in ("test", "train"):
        ref_id, images = reference(ref)
        sets.append(cached_features("inception", ext.key, ref_id, images, lambda x: ext(x, True, ref_id))[:n])
    return sets[0], sets[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--features", choices=("reference", "random"), default="reference")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", help="write the numbers here too")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    real, fake = features(args.features, args.n)
    m = machine()
    results = {}
    for name, fn in (("naive (until session 19)", naive), ("ganlab (shared pass)", current)):
        t0 = time.perf_counter()
        results[name] = fn(real, fake)
        results[name]["total"] = time.perf_counter() - t0
    warning = unsteady(m, machine())
    print(describe(m))
    print(f"threads={torch.get_num_threads()}  features={args.features}: {len(real)} real vs {len(fake)} fake, "
          f"{real.shape[1]}-d, float64")
    a, b = results["naive (until session 19)"], results["ganlab (shared pass)"]
    print(f"{'':34s} {'naive s':>9s} {'ganlab s':>9s} {'ratio':>7s}")
    for label, stages in (("FID", ("fid",)), ("P/R, D/C and KID (with the pass)",
                                               ("precision_recall", "density_coverage", "kid", "pairwise pass"))):
        x, y = (sum(r["seconds"].get(s, 0) for s in stages) for r in (a, b))  # ganlab's work sits in the pass
        print(f"{label:34s} {x:9.1f} {y:9.1f} {x / y:6.2f}x")
    print(f"{'total':34s} {a['total']:9.1f} {b['total']:9.1f} {a['total'] / b['total']:6.2f}x")
    for key, x in a["numbers"].items():
        y = b["numbers"][key]
        print(f"{key:12s} naive {x!r:24s} ganlab {y!r:24s} difference {abs(y - x):.1e} "
              f"(relative {abs(y - x) / max(abs(x), 1e-300):.1e})")
    finish(results, m, warning, args.json)


if __name__ == "__main__":
    main()
