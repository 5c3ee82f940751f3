"""An MNIST classifier for digit-specific metrics: class histogram, classes covered, KL to uniform,
confidence, and MNIST-FID (Fréchet distance in the classifier's 128-d penultimate features).

The network is trained once by ``ganlab metrics train-classifier`` (deterministic in its seed on CPU)
and shipped inside the package (``ganlab/metrics/mnist_cnn.pt``, ~1.3 MB, loaded weights-only).
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ..assets import sha256_file
from ..data import mnist
from ..data.augment import shift
from ..errors import GanlabError
from ..io import torch_load, torch_save
from .fid import fid
from .registry import Features, Number, register_metric

SHIPPED = Path(__file__).with_name("mnist_cnn.pt")
FEATURE_DIM = 128


class MNISTNet(nn.Module):
    """conv32-conv32-pool-conv64-conv64-pool-fc128-fc10 with batch norm; input uint8-scaled [0, 1]."""

    def __init__(self):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.conv = nn.Sequential(*block(1, 32), *block(32, 32), nn.MaxPool2d(2),
                                  *block(32, 64), *block(64, 64), nn.MaxPool2d(2))
        self.fc1 = nn.Linear(64 * 7 * 7, FEATURE_DIM)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(FEATURE_DIM, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc1(self.conv(x).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(self.features(x)))


def _prep(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) else images
    return x.float().div(255).reshape(-1, 1, 28, 28)


@torch.no_grad()
def accuracy(net: MNISTNet, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000) -> float:
    net.eval()
    correct = 0
    for i in range(0, len(images), batch_size):
        correct += (net(_prep(images[i:i + batch_size])).argmax(1).numpy() == labels[i:i + batch_size]).sum()
    return float(correct / len(images))


def train_classifier(out: str | os.PathLike, epochs: int = 8, seed: int = 0, batch_size: int = 128,
                     cache: str | None = None, progress: bool = True) -> dict:
    """Train on MNIST train (random shifts, Adam, one-cycle lr), report test accuracy, save weights."""
    data = mnist.load(cache)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = MNISTNet()
    steps = epochs * math.ceil(len(data.train_x) / batch_size)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    x_all, y_all = _prep(data.train_x), torch.from_numpy(data.train_y)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x_all), generator=gen)
        for i in tqdm(range(0, len(perm), batch_size), desc=f"classifier epoch {epoch + 1}/{epochs}",
                      disable=not progress, leave=False):
            idx = perm[i:i + batch_size]
            loss = F.cross_entropy(net(shift(x_all[idx], gen, fill=0.0)), y_all[idx])  # inputs in [0, 1]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if progress:
            tqdm.write(f"epoch {epoch + 1}: test accuracy {accuracy(net, data.test_x, data.test_y):.4f}")
    acc = accuracy(net, data.test_x, data.test_y)
    info = {"test_accuracy": acc, "epochs": epochs, "seed": seed, "seconds": round(time.perf_counter() - t0, 1)}
    torch_save({"state_dict": net.state_dict(), "info": info}, out)
    return info


class Classifier:
    """The shipped (or a given) classifier, evaluated in inference mode."""

    def __init__(self, path: str | os.PathLike | None = None):
        path = Path(path or SHIPPED)
        if not path.is_file():
            raise GanlabError(f"MNIST classifier {path} not found; train it with "
                              f"'ganlab metrics train-classifier --out {path}'")
        ck = torch_load(path)
        self.net = MNISTNet()
        self.net.load_state_dict(ck["state_dict"])
        self.net.eval()
        self.info = ck["info"]

        self.sha256 = sha256_file(path)

    @torch.no_grad()
    def __call__(self, images: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """(N x 128 penultimate features, N x 10 softmax probabilities)."""
        feats, probs = [], []
        for i in range(0, len(images), batch_size):
            f = self.net.features(_prep(images[i:i + batch_size]))
            feats.append(f.numpy().astype(np.float64))
            probs.append(F.softmax(self.net.fc2(f), 1).numpy().astype(np.float64))
        return np.concatenate(feats), np.concatenate(probs)


def class_stats(probs: np.ndarray) -> dict:
    """Class histogram of argmax predictions, classes covered, KL(sample classes || uniform), confidence."""
    pred = probs.argmax(1)
    hist = np.bincount(pred, minlength=10)
    p = hist / hist.sum()
    nz = p > 0
    return {"class_histogram": hist.tolist(), "classes_covered": int((hist > 0).sum()),
            "kl_to_uniform": float((p[nz] * np.log(p[nz] * 10)).sum()),
            "mean_confidence": float(probs.max(1).mean())}


def mnist_fid(real_features: np.ndarray, fake_features: np.ndarray) -> float:
    return fid(real_features, fake_features)


@register_metric("mnist_fid", features="classifier", order=50,
                 numbers=[Number("mnist_fid", "MNIST-FID", 2, better="lower")])
def _mnist_fid(f: Features) -> dict:
    return {"mnist_fid": mnist_fid(f.real, f.fake)}


@register_metric("class_stats", features="classifier", order=60,
                 numbers=[Number("class_histogram", "", 0, column=False, scalar=False),
                          Number("classes_covered", "classes", 1, better="higher", single="{:.0f}/10"),
                          Number("kl_to_uniform", "KL(unif)", 3, better="lower"),
                          Number("mean_confidence", "conf", 3, better="higher", column=False)])
def _class_stats(f: Features) -> dict:
    return class_stats(f.fake_probs)
