"""What the machine can do, printed beside every speed benchmark (issue 23): the CPU model, its matrix-product
extensions (AVX-512, AVX-512 BF16, AMX), and torch's measured GEMM peak in fp32 and bf16 at the thread count in use.
A benchmark reports its achieved GFLOP/s against these peaks, so the headroom is visible.

    python benchmarks/machine.py [--threads N]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import torch

from ganlab.devices import cpu_info

FLAGS = ("avx512f", "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile")


def cpu() -> dict:
    """The CPU model and which of ``FLAGS`` it has (from /proc/cpuinfo; the processor string elsewhere)."""
    model, flags = cpu_info()
    return {"model": model, "cores_torch_uses": torch.get_num_threads(),
            **{flag: flag in flags for flag in FLAGS}}


def gemm_peak(dtype: torch.dtype, size: int = 1024, seconds: float = 2.0) -> float:
    """GFLOP/s of torch.mm on two size x size matrices of ``dtype``, best of repeated calls over ``seconds``."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    torch.mm(a, b)  # warm-up: kernels chosen, pages touched
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * size ** 3 / (time.perf_counter() - t0) / 1e9)
    return best


def machine(seconds: float = 2.0) -> dict:
    return {**cpu(), "load_1min": round(os.getloadavg()[0], 2),  # before this measurement adds its own
            "gemm_gflops_fp32": round(gemm_peak(torch.float32, seconds=seconds), 1),
            "gemm_gflops_bf16": round(gemm_peak(torch.bfloat16, seconds=seconds), 1)}


def unsteady(before: dict, after: dict, tolerance: float = 0.15) -> str | None:
    """A warning when the machine was busy at a benchmark's start (1-minute load average above 1) or when torch's
    GEMM peak measured at its start and at its end differ by more than ``tolerance`` (other processes took the cores
    during the run): its numbers are then indications only; else None."""
    if before.get("load_1min", 0) > 1.0:
        return (f"WARNING: the 1-minute load average was {before['load_1min']:.1f} when the run started: other "
                f"processes shared the cores; every number above is an indication only")
    for key in ("gemm_gflops_fp32", "gemm_gflops_bf16"):
        a, b = before[key], after[key]
        if abs(b - a) > tolerance * max(a, b):
            return (f"WARNING: the {key.split('_')[-1]} GEMM peak moved from {a:.0f} to {b:.0f} GFLOP/s during the run "
                    f"(load average {os.getloadavg()[0]:.1f}): other processes shared the cores; every number above "
                    f"is an indication only")
    return None


def finish(results: dict, m: dict, warning: str | None, path: str | None) -> None:
    """A benchmark's end: its warning (``unsteady``) printed, and its results with the machine written to ``path``."""
    if warning:
        print(warning)
    if path:
        with open(path, "w") as f:
            json.dump({**results, "machine": m, "steady": warning is None}, f, indent=2)


def describe(m: dict) -> str:
    ext = ", ".join(f for f in FLAGS if m.get(f)) or "none of " + ", ".join(FLAGS)
    return (f"CPU {m['model']} ({ext}); torch threads {m['cores_torch_uses']}; GEMM peak fp32 "
            f"{m['gemm_gflops_fp32']:.0f} GFLOP/s, bf16 {m['gemm_gflops_bf16']:.0f} GFLOP/s "
            f"({m['gemm_gflops_bf16'] / m['gemm_gflops_fp32']:.1f}x)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(describe(machine()))


if __name__ == "__main__":
    main()


def flops(fn) -> int:
    """Floating-point operations of one call of ``fn`` (torch's FlopCounterMode: matrix products and
    convolutions, forward and backward), for achieved GFLOP/s = calls/s x flops."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()
