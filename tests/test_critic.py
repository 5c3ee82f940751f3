"""The critic fitted after training (ganlab latent fit-critic; samplers' --critic fitted)."""
import json

import pytest
import torch

from ganlab.cli import main
from ganlab.errors import GanlabError
from ganlab.latent import Context, NormalPrior
from ganlab.latent.bundle import describe
from ganlab.latent.critic import fit_critic
from ganlab.toy import build_dataset
from ganlab.toy.nets import ToyD


def _gap(D, real, fake):
    with torch.no_grad():
        return (D(real).mean() - D(fake).mean()).item()


def test_fitted_critic_learns_to_separate_real_from_the_fixed_generator(blob_generator):
    """A blob G(z) = 1.5 z against grid-9: from a random critic, fitting must open a clear Wasserstein gap
    (E D(real) - E D(fake)), and keep the generator fixed."""
    torch.manual_seed(0)
    mix = build_dataset("grid-9")
    G = blob_generator
    g = torch.Generator().manual_seed(1)
    real, fake = mix.sample(2000, g), G(torch.randn(2000, 2, generator=g))
    ctx = Context(G, ToyD(64), NormalPrior(2), 2, False, real=real)
    before = _gap(ctx.D, real, fake)
    state = fit_critic(ctx, real, {"name": "toy", "spectral_norm": False, "d_out": 1, "ac_head": False},
                       iters=300, batch_size=256, lr=1e-3, progress=False)
    D = ToyD(64)
    D.load_state_dict(state["D"]["state"])
    after = _gap(D, real, fake)
    assert after > before + 0.3 and state["wasserstein_estimate"] > 0.3
    assert torch.equal(G.weight, 1.5 * torch.eye(2))  # untouched
    assert _gap(ctx.D, real, fake) == before  # the run's D is copied, not trained in place


def test_fit_critic_cli_samples_exports_and_refuses_another_generator(tmp_path, cache_dir, capsys):
    from ganlab.training import config as c
    from ganlab.training.loop import train

    run = train(c.load(None, ["data.subset=256", "train.epochs=1", "train.threads=1", "train.ema=0.9"]),
                tmp_path / "r", progress=False)
    assert main(["evaluate", "--run", str(run), "--sampler", "dot", "--critic", "fitted", "--n", "60",
                 "--mnist-only"]) == 2
    assert "fit it first with 'ganlab latent fit-critic --run" in capsys.readouterr().err
    assert main(["evaluate", "--run", str(run), "--critic", "fitted", "--n", "60", "--mnist-only"]) == 2
    assert "--critic fitted is read by latent samplers only; add --sampler NAME" in capsys.readouterr().err
    assert main(["latent", "fit-critic", "--run", str(run), "--arch", "conv", "--iters", "5"]) == 2
    assert "--init run needs --arch mlp (the run" in capsys.readouterr().err
    assert main(["latent", "fit-critic", "--run", str(run), "--arch", "conv", "--init", "scratch",
                 "--iters", "20"]) == 0
    assert (run / "latent" / "critic.pt").is_file() and "Wasserstein estimate" in capsys.readouterr().out
    assert main(["evaluate", "--run", str(run), "--sampler", "dot", "--sampler-opt", "steps=2", "--critic", "fitted",
                 "--n", "60", "--mnist-only", "--quiet"]) == 0
    ev = json.loads((run / "evals" / "last--dot_steps=2_fitted_critic.json").read_text())
    assert ev["sampler_spec"] == "dot(steps=2) [fitted critic]" and ev["sampler"]["d_evals_per_sample"] == 2
    # fitted for the EMA generator: the raw one is another generator
    assert main(["evaluate", "--run", str(run), "--sampler", "dot", "--critic", "fitted", "--weights", "raw",
                 "--n", "60", "--mnist-only"]) == 2
    assert "was fitted for another generator" in capsys.readouterr().err
    # shipped with the fitted (conv) critic: generate draws through it without the run
    ship = tmp_path / "ship"
    assert main(["export", "--run", str(run), "--out", str(ship / "G.pth"), "--sampler", "dot",
                 "--sampler-opt", "steps=2", "--critic", "fitted"]) == 0
    assert describe(ship / "sampler.pt") == "r (last checkpoint, ema weights, fitted critic) + dot steps=2"
    assert torch.load(ship / "sampler.pt", weights_only=True)["D"]["name"] == "conv"
    assert main(["generate", "--checkpoint", str(ship / "G.pth"), "--n", "8", "--out", str(tmp_path / "s")]) == 0
    assert len(list((tmp_path / "s").glob("*.png"))) == 8


def test_fit_critic_bad_arguments():
    ctx = Context(None, None, None, 2)
    spec = {"name": "mlp", "spectral_norm": False, "d_out": 1, "ac_head": False}
    with pytest.raises(GanlabError, match="--arch 'resnet' is not a discriminator; accepted: classifier-features, conv"):
        fit_critic(ctx, None, spec, arch="resnet", init="scratch")
    with pytest.raises(GanlabError, match="--init 'x' is not accepted; accepted: run, scratch"):
        fit_critic(ctx, None, spec, init="x")
    with pytest.raises(GanlabError, match="--iters 0 must be >= 1"):
        fit_critic(ctx, None, spec, iters=0)
