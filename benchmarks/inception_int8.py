"""Issue 23: the FID Inception in int8 (post-training static quantization, torch's x86 backend), side by side with
ganlab's exact fp32 network in the same process, on the same images and the same number of threads.

    python benchmarks/inception_int8.py --n 200 --threads 1

Prints the speed of both paths (alternating rounds, best of each), the machine's CPU flags that int8 uses (AVX-512
VNNI / AMX int8 / AVX2 only), the int8 features' error against fp32 and, on the `--n` images of each set, the FID
of a set of generated digits both ways. It measures whether int8 is a lever at all on the machine at hand; it is not
wired into `ganlab evaluate`.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganlab.data import mnist  # noqa: E402
from ganlab.metrics.fid import fid as fid_of  # noqa: E402
from ganlab.metrics.inception import FoldedInception, inception_path, load_torchscript, preprocess  # noqa: E402


def cpu_flags() -> dict:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")),
                 platform.processor())
    return {"cpu": model, "avx2": "avx2" in flags, "avx512_vnni": "avx512_vnni" in flags,
            "avx_vnni": "avx_vnni" in flags, "amx_int8": "amx_int8" in flags}


def quantize(net: torch.nn.Module, calib: torch.Tensor) -> torch.nn.Module:
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "x86"
    prepared = prepare_fx(net, get_default_qconfig_mapping("x86"), (calib[:1],))
    with torch.no_grad():
        for chunk in calib.split(25):
            prepared(chunk)
    return convert_fx(prepared)


def features(net, images: np.ndarray, batch: int) -> np.ndarray:
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = preprocess(torch.from_numpy(images[i:i + batch]), 1).contiguous(memory_format=torch.channels_last)
            out.append(net(x).double().numpy())
    return np.concatenate(out)


def rate(net, x: torch.Tensor) -> float:
    t0 = time.perf_counter()
    with torch.no_grad():
        net(x)
    return len(x) / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="images per set (real test digits; generated digits)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--fakes", default=None, help=".npz of uint8 N x 28 x 28 generated digits (key 'images'); "
                                                   "default: MNIST training digits stand in")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    data = mnist.load()
    real = data.test_x[:a.n]
    fakes = np.load(a.fakes)["images"][:a.n] if a.fakes else data.train_x[:a.n]
    fp32 = FoldedInception(load_torchscript(inception_path())).eval().to(memory_format=torch.channels_last)
    calib = preprocess(torch.from_numpy(data.train_x[-100:]), 1)
    t0 = time.perf_counter()
    int8 = quantize(FoldedInception(load_torchscript(inception_path())).eval(), calib)
    quant_s = time.perf_counter() - t0
    x = preprocess(torch.from_numpy(real[:a.batch]), 1).contiguous(memory_format=torch.channels_last)
    rate(fp32, x), rate(int8, x)  # warm-up
    rates = {"fp32": [], "int8": []}
    for _ in range(a.rounds):
        rates["fp32"].append(rate(fp32, x))
        rates["int8"].append(rate(int8, x))
    f = {k: (features(net, real, a.batch), features(net, fakes, a.batch)) for k, net in (("fp32", fp32), ("int8", int8))}
    rel = np.linalg.norm(f["int8"][1] - f["fp32"][1], axis=1) / np.linalg.norm(f["fp32"][1], axis=1)
    fid = {k: fid_of(v[0], v[1]) for k, v in f.items()}
    out = {**cpu_flags(), "threads": a.threads, "batch": a.batch, "n": a.n, "torch": torch.__version__,
           "img_per_s_best": {k: max(v) for k, v in rates.items()}, "img_per_s_rounds": rates,
           "int8_over_fp32": max(rates["int8"]) / max(rates["fp32"]), "quantize_s": round(quant_s, 1),
           "feature_rel_error_mean": float(rel.mean()), "feature_rel_error_max": float(rel.max()),
           "fid": fid, "fid_rel_delta": (fid["int8"] - fid["fp32"]) / fid["fp32"],
           "fakes": a.fakes or "MNIST training digits"}
    print(json.dumps(out, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
