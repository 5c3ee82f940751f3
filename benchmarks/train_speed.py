"""Training speed: ganlab's loop vs a naive loop written the way the platform template does it.

    python benchmarks/train_speed.py [--steps 400] [--threads 0]

Both train the same G/D pair with the NS loss at batch 64 for the same number of steps; epochs/min
is extrapolated to MNIST's 60,000 training images (938 steps). The naive loop: a per-sample
Dataset normalising in __getitem__, a DataLoader (batch 64, shuffle), D with a sigmoid + BCELoss,
G's graph kept in the D step (no detach), a fresh G forward for the G step, ``.item()`` every step.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from machine import describe, flops, machine, unsteady

from ganlab.data import mnist
from ganlab.devices import native_bf16
from ganlab.models import Generator, build_discriminator
from ganlab.training import config as config_mod
from ganlab.training import step as step_mod
from ganlab.training.loop import train

STEPS_PER_EPOCH = 938


class TemplateDataset(Dataset):
    """Per-sample work as torchvision's ToTensor + Normalize((0.5,), (0.5,)) would do it."""

    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i]).float().div(255).unsqueeze(0)
        return (x - 0.5) / 0.5, 0


class SigmoidD(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = build_discriminator("mlp")

    def forward(self, x):
        return torch.sigmoid(self.net(x)).unsqueeze(1)


def template_step(G, D, crit, d_opt, g_opt, x) -> None:
    """The template's D_train then G_train on one batch."""
    D.zero_grad()
    d_real_loss = crit(D(x), torch.ones(len(x), 1))
    z = torch.randn(len(x), 100)
    d_fake_loss = crit(D(G(z)), torch.zeros(len(x), 1))
    (d_real_loss + d_fake_loss).backward()
    d_opt.step()
    _ = (d_real_loss + d_fake_loss).item()
    G.zero_grad()
    g_loss = crit(D(G(torch.randn(len(x), 100))), torch.ones(len(x), 1))
    g_loss.backward()
    g_opt.step()
    _ = g_loss.item()


def naive(images, steps: int) -> float:
    torch.manual_seed(0)
    G, D = Generator(), SigmoidD()
    crit = nn.BCELoss()
    g_opt, d_opt = torch.optim.Adam(G.parameters(), lr=2e-4), torch.optim.Adam(D.parameters(), lr=2e-4)
    loader = DataLoader(TemplateDataset(images), batch_size=64, shuffle=True)
    done, t0 = 0, None
    while done < steps:
        for x, _ in loader:
            if done == 10:
                t0 = time.perf_counter()  # after warm-up
            template_step(G, D, crit, d_opt, g_opt, x.view(-1, 784))
            done += 1
            if done >= steps:
                break
    return (steps - 10) / (time.perf_counter() - t0)


def ganlab_loop(steps: int, precision: str, joint: bool = True) -> float:
    """ganlab's loop; ``joint=False``: D's step in two passes (reals, then fakes), as before session 21."""
    cfg = config_mod.load(None, [f"data.subset={steps * 64}", "train.epochs=1", f"train.precision={precision}"])
    kept = step_mod.per_sample
    step_mod.per_sample = kept if joint else (lambda D: False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run = train(cfg, Path(tmp) / "r", progress=False)
            row = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])
    finally:
        step_mod.per_sample = kept
    return row["images_per_s"] / 64


def step_flops() -> dict:
    """FLOPs of one step at batch 64: the template's (D on real and on fakes, a fresh G forward for G's step, D's
    weight gradients in G's step) and ganlab's (G's step reuses the D step's fakes; D's weights frozen in it)."""
    from ganlab.training.step import GANStep
    from ganlab.training.trainer import Trainer

    trainer = Trainer(config_mod.load(None, []), torch.device("cpu"))
    x, y, acc = torch.rand(64, 784) * 2 - 1, torch.zeros(64, dtype=torch.long), GANStep.stats("cpu")
    G, D = Generator(), SigmoidD()
    opts = torch.optim.Adam(D.parameters(), lr=2e-4), torch.optim.Adam(G.parameters(), lr=2e-4)
    return {"template": flops(lambda: template_step(G, D, nn.BCELoss(), *opts, x)),
            "ganlab": flops(lambda: trainer.train_step(x, y, acc))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = p.parse_args()
    if args.steps <= 10:
        p.error(f"--steps {args.steps}: must be > 10 (the first 10 steps of each loop are its warm-up)")
    if args.threads:
        torch.set_num_threads(args.threads)
    images = mnist.load().train_x
    m = machine()
    ganlab_loop(20, "fp32")  # warm-up: the first loop measured does not pay for first calls
    results = {"naive (platform template)": naive(images, args.steps),
               "ganlab fp32, D in 2 passes": ganlab_loop(args.steps, "fp32", joint=False),
               "ganlab fp32": ganlab_loop(args.steps, "fp32")}
    if native_bf16("cpu"):  # the default (auto) where bf16 is native; emulated elsewhere (0.13x the template)
        results["ganlab bf16 autocast"] = ganlab_loop(args.steps, "bf16")
    warning = unsteady(m, machine())  # the peak again after the loops: a busy machine is said so
    per_step = step_flops()
    print(describe(m))
    print(f"threads={torch.get_num_threads()}  steps={args.steps}  batch=64  "
          f"GFLOP per step: template {per_step['template'] / 1e9:.2f}, ganlab {per_step['ganlab'] / 1e9:.2f}")
    print(f"{'loop':28s} {'it/s':>8s} {'x template':>10s} {'epochs/min':>11s} {'100 epochs':>11s} {'GFLOP/s':>8s} "
          f"{'of peak':>8s}")
    ref = results["naive (platform template)"]
    for name, its in results.items():
        epm = its * 60 / STEPS_PER_EPOCH
        gflops = its * per_step["template" if name.startswith("naive") else "ganlab"] / 1e9
        peak = m["gemm_gflops_bf16" if "bf16" in name else "gemm_gflops_fp32"]
        print(f"{name:28s} {its:8.1f} {its / ref:10.2f} {epm:11.2f} {100 / epm:9.1f} min {gflops:8.1f} "
              f"{100 * gflops / peak:7.1f}%")
    if not native_bf16("cpu"):
        print("ganlab bf16 autocast: not run (this CPU has no native bf16: autocast is emulated, several times slower "
              "than fp32)")
    if warning:
        print(warning)


if __name__ == "__main__":
    main()
