"""The evaluation protocol: one function, one JSON. Reference features live in an on-disk cache keyed
by (network sha256, preprocessing version, arithmetic, reference set): a second evaluation against
the same reference never recomputes them."""
from __future__ import annotations

import time

import numpy as np

from ..assets import cache_dir
from ..errors import GanlabError
from ..io import atomic_path
from . import density_coverage, registry
from .classifier import Classifier
from .imagesets import MIN_IMAGES, fingerprint, reference
from .inception import FeatureExtractor
from .registry import Features


def cached_features(kind: str, key: str, ref_id: str, images: np.ndarray, compute, cache: str | None = None,
                    progress: bool = True) -> np.ndarray:
    """Features of a reference set, from ``<cache>/features/<kind>/<key>/<ref_id>.npy`` or computed once."""
    path = cache_dir(cache) / "features" / kind / key / f"{ref_id}-{fingerprint(images)}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False).astype(np.float64)
    feats = compute(images)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, feats.astype(np.float32))
    return feats.astype(np.float32).astype(np.float64)  # same values as a later cache hit


def evaluate(images: np.ndarray, ref: str = "test", precision: str = "fp32", inception: str | None = None,
             cache: str | None = None, full: bool = True, progress: bool = True) -> dict:
    """FID, precision, recall, density, coverage, KID (if ``full``) and the MNIST classifier metrics."""
    if len(images) < MIN_IMAGES:
        raise GanlabError(f"{len(images)} images given; the metrics need at least {MIN_IMAGES} "
                          f"(k = {density_coverage.K} nearest neighbours + 1)")
    t0 = time.perf_counter()
    stages: dict = {}  # seconds per stage, for the JSON: where an evaluation's time goes

    def lap(name: str, start: float) -> float:
        now = time.perf_counter()
        stages[name] = now - start
        return now

    ref_id, ref_images = reference(ref, cache)
    out: dict = {"n": int(len(images)), "ref": ref_id, "n_ref": int(len(ref_images))}
    t = lap("reference images", t0)

    clf = Classifier()
    fake_cf, fake_probs = clf(images)
    real_cf = cached_features("classifier", clf.sha256[:16], ref_id, ref_images, lambda x: clf(x)[0], cache)
    t = lap("classifier features", t)
    out.update(registry.compute("classifier", Features(real_cf, fake_cf, fake_probs), stages))
    t = time.perf_counter()

    if full:
        ext = FeatureExtractor(precision, inception, cache)
        t = lap("inception network", t)
        real = cached_features("inception", ext.key, ref_id, ref_images,
                               lambda x: ext(x, progress, "inception (reference, cached once)"), cache)
        t = lap("inception features (reference)", t)
        fake = ext(images, progress, "inception")
        t = lap("inception features", t)
        out.update(registry.compute("inception", Features(real, fake), stages))
        out["features"] = ext.key
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["stage_seconds"] = {k: round(v, 2) for k, v in stages.items()}
    return out


def summary_line(r: dict) -> str:
    return f"{r['n']} images vs {r['ref']}: " + registry.summary(r) + f"  ({r['seconds']}s)"
