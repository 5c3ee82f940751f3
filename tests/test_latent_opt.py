import pytest
import torch

from ganlab.errors import GanlabError
from ganlab.io import torch_load
from ganlab.runs import Run
from ganlab.training import config as c
from ganlab.training.loop import train
from ganlab.training.latent_opt import latent_step


class Quadratic(torch.nn.Module):
    """D(x) = -||x - 1||^2 / 2 on 'images' G(z) = z: the ascent direction is 1 - z."""

    def forward(self, x):
        return -0.5 * ((x - 1) ** 2).sum(1)


def test_latent_step_is_the_natural_gradient_formula():
    z = torch.tensor([[0.0, 0.0], [1.0, 3.0]])
    g = 1 - z  # dD/dz
    alpha, beta = 0.9, 5.0
    want = z + alpha * g / (beta + (g ** 2).sum(1, keepdim=True))
    got = latent_step(torch.nn.Identity(), Quadratic(), z, alpha, beta)
    assert torch.allclose(got, want)
    assert torch.allclose(got[0], torch.tensor([0.9 / 7, 0.9 / 7]))  # by hand: g = (1, 1), ||g||^2 = 2
    assert not got.requires_grad


def test_latent_step_raises_d_and_alpha_0_is_the_identity():
    torch.manual_seed(0)
    G, D = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh()), torch.nn.Linear(8, 1)
    z = torch.randn(64, 4)
    assert latent_step(G, D, z, 0.0, 5.0) is z
    moved = latent_step(G, D, z, 0.5, 5.0)
    assert D(G(moved)).mean() > D(G(z)).mean()
    assert all(p.grad is None for p in list(G.parameters()) + list(D.parameters()))  # no stray gradients


def test_several_latent_steps_are_the_step_repeated_and_climb_further():
    """train.latent_opt_steps: k natural-gradient steps, each from where the last ended; one is LOGAN's own."""
    from ganlab.losses import build_loss
    from ganlab.training.terms import terms_for

    torch.manual_seed(0)
    G, D = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh()), torch.nn.Linear(8, 1)
    z = torch.randn(64, 4)

    class Step:
        pass

    step = Step()
    step.G, step.D = G, D

    def opt(steps):
        cfg = c.load(None, ["train.latent_opt_alpha=0.5", f"train.latent_opt_steps={steps}"])
        (term,) = terms_for(cfg, build_loss("ns"))
        return term.z(step, z)

    assert torch.equal(opt(1), latent_step(G, D, z, 0.5, 5.0))
    three = latent_step(G, D, latent_step(G, D, latent_step(G, D, z, 0.5, 5.0), 0.5, 5.0), 0.5, 5.0)
    assert torch.equal(opt(3), three)
    with torch.no_grad():
        assert D(G(opt(3))).mean() > D(G(opt(1))).mean() > D(G(z)).mean()
    with pytest.raises(GanlabError, match="latent_opt_steps"):
        c.load(None, ["train.latent_opt_steps=0"])


def test_latent_opt_changes_a_mnist_run_and_resumes_exactly(tmp_path, cache_dir):
    base = ["data.subset=128", "train.epochs=2", "train.threads=1", "train.loss=wgan", "regularizers.gp=10"]
    plain = train(c.load(None, base), tmp_path / "plain", progress=False)
    cfg = c.load(None, base + ["train.latent_opt_alpha=0.9"])
    logan = train(cfg, tmp_path / "logan", progress=False)
    a, b = torch_load(Run(plain).last)["G"], torch_load(Run(logan).last)["G"]
    assert not torch.equal(a["fc4.weight"], b["fc4.weight"])
    train(cfg, tmp_path / "cut", progress=False, until_epoch=1)
    train(None, tmp_path / "cut", resume=True, progress=False)
    assert torch.equal(torch_load(Run(tmp_path / "cut").last)["G"]["fc4.weight"], b["fc4.weight"])


def test_latent_opt_beta_must_be_positive():
    with pytest.raises(GanlabError, match="latent_opt_beta"):
        c.load(None, ["train.latent_opt_beta=0"])
