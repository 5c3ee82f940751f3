"""Sweep throughput: aggregate epochs/min of a sweep of 4 vanilla trials on this machine, one trial at a time with
all threads vs one trial per core with one thread each, against the single-run figure of train_speed.py, all in
one run.

    python benchmarks/sweep_speed.py [--epochs 2] [--trials 4] [--json OUT.json]

Each sweep's wall time counts everything a user waits for (Ray's start, every trial's start, its training and a
small evaluation, evaluate.n = 100); the training-only figure is from the trials' own epoch seconds. Needs idle
cores: anything else running skews the ratios.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from ganlab.sweeps import parse
from ganlab.sweeps.engine import run_sweep

STEPS_PER_EPOCH = 938
HERE = Path(__file__).resolve().parent


def single_run_its(steps: int, threads: int) -> float:
    """train_speed.py's ganlab fp32 figure (iterations/s of one run at batch 64) with ``threads`` threads."""
    spec = importlib.util.spec_from_file_location("train_speed", HERE / "train_speed.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.set_num_threads(threads)
    return mod.ganlab_loop(steps, "fp32")


def sweep_epm(trials: int, epochs: int, threads: int, cpus: int) -> dict:
    spec = parse({"configs": ["vanilla"], "seeds": list(range(trials)), "epochs": epochs,
                  "set": {"train.sample_every": epochs, "train.checkpoint_every": epochs,
                          "train.precision": "fp32"},  # as the single-run reference
                  "evaluate": {"n": 100}})
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = run_sweep(spec, Path(tmp) / "s", cpus=cpus, threads=threads, quiet=True)
        wall = time.perf_counter() - t0
        seconds = [sum(json.loads(l)["seconds"] for l in p.read_text().splitlines())
                   for p in (out / "trials").glob("*/metrics.jsonl")]
    total_epochs = trials * epochs
    return {"threads_per_trial": threads, "concurrent": cpus // threads, "wall_s": round(wall, 1),
            "epochs_per_min": round(total_epochs * 60 / wall, 3),
            "training_epochs_per_min": round(total_epochs * 60 / (sum(seconds) / (cpus // threads)), 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=4)
    p.add_argument("--epochs", type=int, default=2, help="epochs per trial (full MNIST, 938 steps each)")
    p.add_argument("--steps", type=int, default=400, help="steps of the single-run reference")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args()
    cpus = os.cpu_count() or 2
    single = single_run_its(args.steps, cpus) * 60 / STEPS_PER_EPOCH
    rows = [sweep_epm(args.trials, args.epochs, cpus, cpus), sweep_epm(args.trials, args.epochs, 1, cpus)]
    print(f"\n{torch.__version__}, {cpus} CPUs; single run (train_speed.py, ganlab fp32, {cpus} threads): "
          f"{single:.2f} epochs/min")
    print(f"{'sweep of ' + str(args.trials) + ' vanilla trials':34s} {'wall s':>7s} {'epochs/min':>11s} "
          f"{'vs single':>9s} {'training only':>14s}")
    for r in rows:
        name = f"{r['concurrent']} trial(s) x {r['threads_per_trial']} thread(s)"
        print(f"{name:34s} {r['wall_s']:7.1f} {r['epochs_per_min']:11.2f} {r['epochs_per_min'] / single:8.2f}x "
              f"{r['training_epochs_per_min']:14.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"cpus": cpus, "single_run_epochs_per_min": round(single, 3),
                                               "sweeps": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
