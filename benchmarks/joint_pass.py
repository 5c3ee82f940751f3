"""D's step in one pass of reals + fakes against two passes, side by side in one process.

    python benchmarks/joint_pass.py [--presets vanilla wgan-gp unrolled] [--steps 100] [--repeats 3] [--threads 1]

One Trainer per preset (fp32), its step timed alternately with the joint pass off and on (``GANStep.joint``, and the
unrolled steps' ``terms.per_sample``), ``repeats`` times each after 10 warm-up steps; prints it/s per repeat and the
ratio of the medians. Both ways train the same model (the numbers differ by the order of floating-point sums).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from machine import describe, machine, unsteady

from ganlab.training import config as config_mod, terms
from ganlab.training.step import GANStep
from ganlab.training.trainer import Trainer


def measure(preset: str, steps: int, repeats: int) -> dict:
    cfg = config_mod.load(f"configs/{preset}.yaml", ["train.precision=fp32"])
    trainer = Trainer(cfg, torch.device("cpu"))
    real = torch.rand(64 * (steps + 10), 784, generator=torch.Generator().manual_seed(0)) * 2 - 1
    labels, acc = torch.zeros(len(real), dtype=torch.long), GANStep.stats("cpu")
    kept, rates = terms.per_sample, {False: [], True: []}
    try:
        for _ in range(repeats):
            for joint in (False, True):
                trainer.step_fn.joint = joint and kept(trainer.step_fn.D)
                terms.per_sample = kept if joint else (lambda D: False)
                for i in range(10):
                    trainer.train_step(real[i * 64:(i + 1) * 64], labels[:64], acc)
                t0 = time.perf_counter()
                for i in range(10, steps + 10):
                    trainer.train_step(real[i * 64:(i + 1) * 64], labels[:64], acc)
                rates[joint].append(steps / (time.perf_counter() - t0))
    finally:
        terms.per_sample = kept
    return rates


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", nargs="+", default=["vanilla", "wgan-gp", "unrolled"])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    m = machine()
    print(describe(m))
    for preset in args.presets:
        rates = measure(preset, args.steps, args.repeats)
        two, one = (statistics.median(rates[j]) for j in (False, True))
        print(f"{preset:10s} two passes {[round(r, 2) for r in rates[False]]} it/s, joint {[round(r, 2) for r in rates[True]]}"
              f" it/s: {one / two:.3f}x (medians)", flush=True)
    warning = unsteady(m, machine())
    if warning:
        print(warning)


if __name__ == "__main__":
    main()
