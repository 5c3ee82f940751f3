import pytest
import torch

from ganlab.io import torch_load
from ganlab.losses.penalties import PENALTIES
from ganlab.runs import Run
from ganlab.training import config as c
from ganlab.training.loop import train


def linear_d():
    torch.manual_seed(0)
    D = torch.nn.Linear(4, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0]]))  # ||w|| = 5: grad D = w everywhere
    return lambda x: D(x).squeeze(1)


def test_penalties_against_hand_computed_values():
    D = linear_d()
    real, fake = torch.randn(8, 4), torch.randn(8, 4)
    assert PENALTIES["gp"](D, real, fake).item() == pytest.approx((5 - 1) ** 2)
    assert PENALTIES["r1"](D, real, fake).item() == pytest.approx(0.5 * 25)
    assert PENALTIES["r2"](D, real, fake).item() == pytest.approx(0.5 * 25)


def test_gp_on_a_quadratic_critic():
    # D(x) = 1/2 ||x||^2: grad = x_hat; with real == fake, x_hat = real exactly
    D = lambda x: 0.5 * (x ** 2).sum(1)  # noqa: E731
    real = torch.tensor([[3.0, 4.0], [0.0, 2.0]])
    expected = ((5 - 1) ** 2 + (2 - 1) ** 2) / 2
    assert PENALTIES["gp"](D, real, real.clone()).item() == pytest.approx(expected)
    assert PENALTIES["r1"](D, real, real).item() == pytest.approx(0.5 * (25 + 4) / 2)


def test_penalty_gradients_reach_d():
    D = torch.nn.Linear(4, 1)
    PENALTIES["r1"](lambda x: D(x).squeeze(1), torch.randn(5, 4), None).backward()
    assert D.weight.grad is not None and D.weight.grad.abs().sum() > 0


def test_weight_clipping_bounds_d(tmp_path, cache_dir):
    cfg = c.load(None, ["data.subset=256", "train.epochs=1", "train.loss=wgan", "train.clip_d=0.01",
                        "optim.name=rmsprop", "train.n_critic=5", "train.threads=1"])
    train(cfg, tmp_path / "r", progress=False)
    D = torch_load(Run(tmp_path / "r").last)["D"]
    assert all(v.abs().max() <= 0.01 for v in D.values())


def test_gp_run_trains(tmp_path, cache_dir):
    cfg = c.load(None, ["data.subset=256", "train.epochs=1", "train.loss=wgan", "regularizers.gp=10",
                        "optim.betas=[0.0, 0.9]", "train.n_critic=5", "train.threads=1"])
    train(cfg, tmp_path / "r", progress=False)
    assert torch_load(Run(tmp_path / "r").last)["epoch"] == 1
