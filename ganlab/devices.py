"""Where ganlab computes: the one rule for arithmetic on a GPU, and which hardware runs bf16 natively (a leaf module:
training, metrics and the benchmarks use it)."""
from __future__ import annotations

import functools
import platform
from pathlib import Path

import torch

#: CPU flags (/proc/cpuinfo) of native bf16 matrix products: AVX-512 BF16 dot products, AMX tiles; "bf16" is Arm's
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")


def exact_fp32(device: torch.device) -> torch.device:
    """fp32 means fp32 on a GPU too: no TF32 in its matrix products or convolutions (training and Inception alike).
    Returns ``device``."""
    if device.type == "cuda":
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    return device


@functools.lru_cache(maxsize=None)
def cpu_info() -> tuple[str, frozenset[str]]:
    """The CPU model and its feature flags, from /proc/cpuinfo (Linux; x86 'flags', Arm 'Features'); elsewhere the
    processor string and no flags."""
    model, flags = platform.processor() or platform.machine(), set()
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("", platform.machine(), platform.processor()):
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags = set(value.split())
    return model, frozenset(flags)


@functools.lru_cache(maxsize=None)
def native_bf16(device: str = "auto") -> bool:
    """Whether ``device`` (auto, cpu, cuda) multiplies bf16 matrices natively: a CUDA GPU with bf16, or a CPU with
    one of ``BF16_FLAGS``. Elsewhere bf16 autocast is emulated and slower than fp32."""
    if device in ("auto", "cuda") and torch.cuda.is_available():
        return torch.cuda.is_bf16_supported(including_emulation=False)  # pre-Ampere GPUs emulate it
    return bool(set(BF16_FLAGS) & cpu_info()[1])


def resolve_precision(precision: str, device: str = "auto") -> str:
    """Training arithmetic: ``auto`` is bf16 autocast where the hardware has it natively (``native_bf16``), else
    fp32; fp32 and bf16 are kept."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


def emulated_bf16(precision: str, device: str = "auto") -> str | None:
    """A one-line warning when ``precision`` pins bf16 autocast on hardware that only emulates it (a CPU without
    ``BF16_FLAGS``: session 21's AVX2 EPYC trained at 0.13x the template's speed in bf16, 1.58x in fp32), else None."""
    if precision != "bf16" or native_bf16(device):
        return None
    return (f"warning: train.precision bf16 on a machine without native bf16 ({cpu_info()[0]}: none of the CPU flags "
            f"{', '.join(BF16_FLAGS)}): autocast is emulated, several times slower than fp32; set train.precision "
            f"to fp32 or auto")
