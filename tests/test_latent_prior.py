import torch

from ganlab.io import torch_load
from ganlab.latent import MixturePrior, NormalPrior
from ganlab.models import build_discriminator
from ganlab.sampling import load_prior
from ganlab.runs import Run
from ganlab.training import config as c
from ganlab.training.loop import train


def test_normal_prior_is_the_platform_one():
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(NormalPrior().sample(5, g1), torch.randn(5, 100, generator=g2))


def test_mixture_prior_samples_around_its_means():
    p = MixturePrior(components=10, mean_scale=5.0, sigma=1e-3, generator=torch.Generator().manual_seed(0))
    z = p.sample(500, torch.Generator().manual_seed(1))
    d = torch.cdist(z, p.means).min(1).values
    assert z.shape == (500, 100) and d.max() < 0.1
    used = torch.cdist(z, p.means).argmin(1).unique()
    assert len(used) == 10


def test_learnable_mixture_prior_trains_and_is_used_for_sampling(tmp_path, cache_dir):
    cfg = c.load(None, ["data.subset=256", "train.epochs=1", "train.threads=1", "latent.prior=mixture",
                        "latent.learnable=true"])
    run = train(cfg, tmp_path / "r", progress=False)
    ck = torch_load(Run(run).last)
    init = MixturePrior(10, 1.0, 1.0, True, torch.Generator().manual_seed(0))
    assert not torch.equal(ck["prior"]["means"], init.means.detach())  # moved with G's optimiser
    prior = load_prior(run)
    assert torch.equal(prior.means.detach(), ck["prior"]["means"])


def test_ac_head_classifies_and_trains(tmp_path, cache_dir):
    D = build_discriminator("mlp", ac_head=True)
    x = torch.randn(3, 784)
    assert D(x).shape == (3,) and D.classify(x).shape == (3, 10)
    cfg = c.load(None, ["data.subset=256", "train.epochs=2", "train.threads=1", "model.ac_head=true",
                        "train.ac_g_entropy=0.1"])
    run = train(cfg, tmp_path / "r", progress=False)
    head = torch_load(Run(run).last)["D"]["head.weight"]
    assert head.shape == (10, 256)
