"""Samplers on a deliberately imperfect 2-d generator: a Gaussian blob (G(z) = 1.5 z) against grid-9,
with a discriminator trained to tell the two apart. Every sampler must raise the high-quality share."""
import pytest
import torch
import torch.nn.functional as F

from ganlab.cli import main
from ganlab.errors import GanlabError
from ganlab.latent import Context, NormalPrior, Pipeline, build_sampler
from ganlab.latent.lrs import LRS, fit_lrs
from ganlab.toy import build_dataset, mode_stats
from ganlab.toy.nets import ToyD

N = 2000


@pytest.fixture(scope="module")
def toy(blob_generator):
    torch.manual_seed(0)
    mix = build_dataset("grid-9")
    G = blob_generator
    D = ToyD(64)
    opt = torch.optim.Adam(D.parameters(), 1e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(1500):
        x, f = mix.sample(256, g), G(torch.randn(256, 2, generator=g))
        loss = F.softplus(-D(x)).mean() + F.softplus(D(f)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    D.eval().requires_grad_(False)
    return mix, G, D, mix.sample(2000, g)


def ctx_of(toy):
    mix, G, D, real = toy
    return Context(G, D, NormalPrior(2), 2, True, real=real, batch_size=500)


def hq(toy, z):
    return mode_stats(toy[1](z), toy[0])["high_quality"]


def draw(toy, *samplers):
    ctx = ctx_of(toy)
    p = Pipeline(list(samplers))
    p.fit(ctx)
    return p.sample(N, ctx, torch.Generator().manual_seed(5)), ctx.cost


@pytest.mark.parametrize("name, opts", [
    ("truncation", {"psi": 0.1}),
    ("truncation", {"psi": 0.05, "mode": "soft"}),
    ("drs", {"percentile": 90, "burn_in": 5000}),
    ("ddls", {"steps": 50, "step_size": 0.01, "noise": 0.1}),
    ("dgflow", {"steps": 50, "step_size": 0.01, "noise": 0.01}),
    ("dgflow", {"steps": 50, "step_size": 0.01, "noise": 0.01, "divergence": "js"}),
    ("dot", {"steps": 50, "lr": 0.05}),
])
def test_every_sampler_raises_high_quality_share(toy, name, opts):
    base = hq(toy, torch.randn(N, 2, generator=torch.Generator().manual_seed(5)))
    z, cost = draw(toy, build_sampler(name, **opts))
    assert z.shape == (N, 2)
    assert hq(toy, z) > base + 0.03, (name, opts, hq(toy, z), base)
    assert cost.accepted == N and cost.summary()["samples"] == N


def test_chain_reject_then_refine(toy):
    base = hq(toy, torch.randn(N, 2, generator=torch.Generator().manual_seed(5)))
    z, cost = draw(toy, build_sampler("drs", percentile=80, burn_in=4000),
                   build_sampler("ddls", steps=20, step_size=0.01, noise=0.1))
    assert hq(toy, z) > base + 0.03
    s = cost.summary()
    assert s["acceptance_rate"] < 1 and s["g_evals_per_sample"] > 20  # rejection proposals + 21 Langevin evals


def test_ddls_metropolis_hastings_accepts_some_and_rejects_some(toy):
    s = build_sampler("ddls", steps=20, step_size=0.05, noise=1.0, mh=True)
    z, _ = draw(toy, s)
    z0 = torch.randn(N, 2, generator=torch.Generator().manual_seed(5))
    assert 0 < s.mh_accepted < s.mh_proposed == 20 * N
    assert not torch.equal(z, z0)


def test_drs_acceptance_moves_with_gamma(toy):
    rates = []
    for pct in (10, 50, 90):
        _, cost = draw(toy, build_sampler("drs", percentile=pct, burn_in=4000))
        rates.append(cost.summary()["acceptance_rate"])
    assert rates[0] > rates[1] > rates[2]


def test_ddls_with_zero_steps_returns_its_input(toy):
    z0 = torch.randn(N, 2, generator=torch.Generator().manual_seed(5))
    z, cost = draw(toy, build_sampler("ddls", steps=0))
    assert torch.equal(z, z0) and cost.g_evals == 0


def test_fitted_lrs_has_unit_mean_and_acceptance_one_over_m(toy):
    ctx = ctx_of(toy)
    state = fit_lrs(ctx, toy[3], iters=1500, batch_size=256, m=3.0, lr=1e-3, progress=False)
    s = LRS(mode="rs")
    s.load_state(state)
    with torch.no_grad():
        w = s.w(torch.randn(20000, 2, generator=torch.Generator().manual_seed(9)))
    assert w.mean().item() == pytest.approx(1.0, abs=0.15)
    ctx = ctx_of(toy)
    z = Pipeline([s]).sample(N, ctx, torch.Generator().manual_seed(5))
    assert ctx.cost.summary()["acceptance_rate"] == pytest.approx(1 / 3, abs=0.08)
    base = hq(toy, torch.randn(N, 2, generator=torch.Generator().manual_seed(5)))
    assert hq(toy, z) > base
    ga = LRS(mode="ga", steps=10, lr=0.05)
    ga.load_state(state)
    assert hq(toy, Pipeline([ga]).sample(N, ctx_of(toy), torch.Generator().manual_seed(5))) > base


@pytest.mark.parametrize("name, opts, message", [
    ("drs", {"percentile": 120}, "must be in \\[0, 100\\]"),
    ("drs", {"gamma": 1}, "has no option 'gamma'; accepted: percentile"),
    ("truncation", {"mode": "medium"}, "accepted: hard, soft"),
    ("truncation", {"psi": "abc"}, "is not a valid float"),
    ("dgflow", {"divergence": "w2"}, "accepted: kl, js, logd"),
    ("lrs", {"mode": "x"}, "accepted: rs, ga, rs\\+ga"),
    ("nope", {}, "unknown sampler 'nope'"),
])
def test_bad_options_are_clear_errors(name, opts, message):
    with pytest.raises(GanlabError, match=message):
        build_sampler(name, **opts)


def test_lrs_without_fit_is_a_clear_error(tmp_path):
    with pytest.raises(GanlabError, match="run 'ganlab latent fit-lrs"):
        LRS().fit(Context(None, None, None, 2, state_dir=tmp_path))


def test_cli_sampler_on_a_run(tmp_path, cache_dir, capsys):
    from ganlab.training import config as c
    from ganlab.training.loop import train

    run = train(c.load(None, ["data.subset=256", "train.epochs=1", "train.threads=1"]), tmp_path / "r",
                progress=False)
    out = tmp_path / "s"
    assert main(["generate", "--run", str(run), "--n", "30", "--out", str(out), "--sampler", "drs",
                 "--sampler-opt", "burn_in=500", "--sampler", "truncation", "--sampler-opt", "psi=1.5"]) == 0
    assert len(list(out.glob("*.png"))) == 30
    assert "sampler drs+truncation" in capsys.readouterr().out
    assert main(["generate", "--checkpoint", str(tmp_path / "x.pth"), "--sampler", "drs", "--out", str(out)]) == 2
    assert "x.pth is not a file; without --run it must be a platform G.pth" in capsys.readouterr().err
    # a platform G.pth alone has no discriminator for a sampler to read
    assert main(["export", "--run", str(run), "--out", str(tmp_path / "bare" / "G.pth")]) == 0
    assert main(["generate", "--checkpoint", str(tmp_path / "bare" / "G.pth"), "--sampler", "drs",
                 "--out", str(tmp_path / "b")]) == 2
    assert "has no sampler.pt beside it; give --run RUN" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_a_shipped_pair_is_resampled_without_its_run(tmp_path, cache_dir, capsys, monkeypatch):
    """A shipped G.pth + sampler.pt, with the run gone: ``--checkpoint G.pth --sampler ...`` reads the critic, the
    prior and the fitted states of the sampler.pt. Given the shipped chain's own options it writes generate.py's
    images (so the critic, the prior — a mixture here — and the refit k_eff are the shipped ones); other options
    can then be chosen on training images with sweep-sampler and reported once with evaluate, as issue 20 asks."""
    import json
    import shutil

    import numpy as np

    from ganlab.latent.bundle import describe
    from ganlab.training import config as c
    from ganlab.training.loop import train

    monkeypatch.chdir(tmp_path)  # nothing may be read from or written to the working directory
    run = train(c.load(None, ["data.subset=128", "train.epochs=1", "train.threads=1", "latent.prior=mixture"]),
                tmp_path / "r", progress=False)
    assert main(["latent", "fit-lrs", "--run", str(run), "--iters", "30"]) == 0
    ship = tmp_path / "ship" / "G.pth"
    dot = ["--sampler", "dot", "--sampler-opt", "steps=3", "--sampler-opt", "k_pairs=50"]
    assert main(["export", "--run", str(run), "--out", str(ship), *dot, "--sampler", "lrs"]) == 0
    lrs_opts = ["--sampler", "lrs", "--sampler-opt", "m=2"]
    assert main(["generate", "--run", str(run), "--n", "20", "--format", "npz", "--out", str(tmp_path / "lrs-run.npz"),
                 *lrs_opts]) == 0
    run_pt = tmp_path / "last.pt"
    shutil.copy(run / "checkpoints" / "last.pt", run_pt)
    shutil.rmtree(run)

    def draw(name, *extra, pair=ship):
        assert main(["generate", "--checkpoint", str(pair), "--n", "20", "--format", "npz",
                     "--out", str(tmp_path / f"{name}.npz"), *extra]) == 0
        return np.load(tmp_path / f"{name}.npz")["images"]

    shipped, cli = draw("shipped"), draw("cli", *dot, "--sampler", "lrs")
    assert np.array_equal(shipped, cli)
    assert not np.array_equal(cli, draw("dot-only", *dot))  # the LRS stage, read from sampler.pt, did something
    # the LRS network fitted for G travels in sampler.pt: another m on the shipped pair is the run's own sampler
    assert np.array_equal(draw("lrs-shipped", *lrs_opts), np.load(tmp_path / "lrs-run.npz")["images"])
    capsys.readouterr()

    assert main(["sweep-sampler", "--checkpoint", str(ship), "--sampler", "dot", "--param", "lr", "--values",
                 "0.01", "0.5", "--opt", "steps=3", "--opt", "k_pairs=50", "--n", "30", "--mnist-only",
                 "--out", str(tmp_path / "sw")]) == 0
    swept = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    assert swept["run"] is None and swept["checkpoint"] == str(ship) and swept["ref"].startswith("mnist-train")
    assert swept["shipped"].startswith("r (last checkpoint, raw weights) + dot steps=3 k_pairs=50 -> lrs")
    rows = swept["rows"]
    assert [r["value"] for r in rows] == [0.01, 0.5] and rows[0]["mnist_fid"] != rows[1]["mnist_fid"]
    assert main(["evaluate", "--checkpoint", str(ship), "--n", "30", "--mnist-only", *dot[:2], "--sampler-opt",
                 "lr=0.5", "--sampler-opt", "steps=3", "--sampler-opt", "k_pairs=50",
                 "--json", str(tmp_path / "ev.json")]) == 0
    ev = json.loads((tmp_path / "ev.json").read_text())
    assert ev["ref"] == "mnist-test" and ev["sampler_spec"] == "dot(lr=0.5,steps=3,k_pairs=50)"
    assert ev["mnist_fid"] == pytest.approx(rows[1]["mnist_fid"], rel=0.5) and "sampler.pt" in ev["source"]
    assert main(["evaluate", "--checkpoint", str(ship), "--n", "30", "--mnist-only",
                 "--json", str(tmp_path / "ev-shipped.json")]) == 0
    assert json.loads((tmp_path / "ev-shipped.json").read_text())["sampler_spec"].startswith("shipped sampler r ")
    assert sorted(p.name for p in ship.parent.iterdir()) == ["G.pth", "sampler.pt"]
    # the chosen setting re-shipped without the run: generate.py's pair now draws what the command line drew
    lr = [*dot[:2], "--sampler-opt", "lr=0.5", "--sampler-opt", "steps=3", "--sampler-opt", "k_pairs=50"]
    reship = tmp_path / "reship" / "G.pth"
    assert main(["export", "--checkpoint", str(ship), "--out", str(reship), *lr]) == 0
    assert describe(reship.parent / "sampler.pt") == \
        "r (last checkpoint, raw weights, refitted on the shipped pair) + dot lr=0.5 steps=3 k_pairs=50"
    assert main(["generate", "--checkpoint", str(reship), "--n", "20", "--format", "npz",
                 "--out", str(tmp_path / "reshipped.npz")]) == 0
    assert np.array_equal(np.load(tmp_path / "reshipped.npz")["images"], draw("lr", *lr))
    # re-shipped in place without LRS: the pair keeps the network it could not fit again without the run
    inplace = tmp_path / "inplace" / "G.pth"
    shutil.copytree(ship.parent, inplace.parent)
    assert main(["export", "--checkpoint", str(inplace), "--out", str(inplace), *dot]) == 0
    assert np.array_equal(draw("lrs-kept", *lrs_opts, pair=inplace), np.load(tmp_path / "lrs-run.npz")["images"])
    capsys.readouterr()

    refused = [
        (["sweep-sampler", "--checkpoint", str(ship), "--sampler", "dot", "--param", "lr", "--values", "0.1",
          "--critic", "fitted", "--out", str(tmp_path / "sw2")], "carries the run's own critic only"),
        (["sweep-sampler", "--sampler", "dot", "--param", "lr", "--values", "0.1"],
         "needs --run RUN or --checkpoint G.pth"),
        (["generate", "--checkpoint", str(run_pt), "--sampler", "dot", "--out", str(tmp_path / "x")],
         "is a run's checkpoint; give its run: --run RUN_DIR"),
        (["generate", "--checkpoint", "best", "--sampler", "dot", "--out", str(tmp_path / "x")],
         "last, best and epoch_N need --run RUN"),
        (["generate", "--checkpoint", str(ship), "--sampler", "dot", "--weights", "raw", "--out", str(tmp_path / "x")],
         "--weights raw applies to a run's checkpoint"),
        (["generate", "--checkpoint", str(ship), "--sampler", "dot", "--no-sampler", "--out", str(tmp_path / "x")],
         "--no-sampler contradicts --sampler"),
        (["evaluate", str(tmp_path / "x"), "--sampler", "dot"], "give either PATH or --sampler"),
        (["export", "--checkpoint", str(ship), "--out", str(tmp_path / "x" / "G.pth")],
         "or --checkpoint DIR/G.pth with --sampler NAME"),
        (["export", "--checkpoint", "best", "--sampler", "dot", "--out", str(tmp_path / "x" / "G.pth")],
         "last, best and epoch_N need --run RUN"),
    ]
    for argv, message in refused:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "sw2").exists() and not (tmp_path / "x").exists()
    assert not (tmp_path / "runs").exists() and not (tmp_path / "lrs.pt").exists()


def test_sweep_sampler_writes_plot_and_grid(tmp_path, cache_dir):
    import json

    from ganlab.training import config as c
    from ganlab.training.loop import train

    run = train(c.load(None, ["data.subset=256", "train.epochs=1", "train.threads=1"]), tmp_path / "r",
                progress=False)
    assert main(["sweep-sampler", "--run", str(run), "--sampler", "drs", "--param", "percentile",
                 "--values", "10", "90", "--opt", "burn_in=500", "--n", "60", "--mnist-only",
                 "--out", str(tmp_path / "sw")]) == 0
    swept = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    rows = swept["rows"]
    assert [r["value"] for r in rows] == [10, 90]
    # the plot chooses a value, so it is measured on training images unless asked otherwise
    assert swept["ref"].startswith("mnist-train") and all(r["ref"] == swept["ref"] for r in rows)
    assert rows[0]["cost"]["acceptance_rate"] > rows[1]["cost"]["acceptance_rate"]
    assert (tmp_path / "sw" / "sweep.png").exists() and (tmp_path / "sw" / "accepted_rejected.png").exists()
    # several sampling seeds: each value's row is their mean, with every seed's number and the spread
    assert main(["sweep-sampler", "--run", str(run), "--sampler", "drs", "--param", "percentile",
                 "--values", "10", "90", "--opt", "burn_in=500", "--n", "60", "--mnist-only", "--seed", "0", "1",
                 "--out", str(tmp_path / "sw2")]) == 0
    rows2 = json.loads((tmp_path / "sw2" / "sweep.json").read_text())["rows"]
    for one, two in zip(rows, rows2):
        assert two["seeds"] == [0, 1] and [p["seed"] for p in two["per_seed"]] == [0, 1]
        assert two["per_seed"][0]["mnist_fid"] == one["mnist_fid"]  # seed 0 alone is the single-seed sweep
        assert two["per_seed"][1]["mnist_fid"] != one["mnist_fid"]
        assert two["mnist_fid"] == pytest.approx(sum(p["mnist_fid"] for p in two["per_seed"]) / 2)
        assert two["mnist_fid_std"] == pytest.approx(abs(two["per_seed"][0]["mnist_fid"] -
                                                         two["per_seed"][1]["mnist_fid"]) / 2 ** 0.5)


def test_every_registered_sampler_is_tested_on_the_toy():
    from ganlab.latent import SAMPLERS

    tested = {"truncation", "drs", "ddls", "dgflow", "dot"}  # test_every_sampler_raises_high_quality_share
    assert set(SAMPLERS) == tested | {"lrs"}  # lrs: test_fitted_lrs_has_unit_mean_and_acceptance_one_over_m


def test_a_rejection_sampler_is_its_acceptance(toy):
    """A RejectionSampler subclass says only how likely a code is kept: the loop, its seeded stream, the cost and
    the bounded-tries error with the subclass's hint come from the base (what DRS and LRS share)."""
    from ganlab.latent.base import RejectionSampler

    class RightHalf(RejectionSampler):
        name, seed = "right-half", 0
        p = 1.0

        def acceptance(self, z, ctx):
            return (z[:, 0] > 0).float() * self.p

        def hint(self):
            return "accept more"

    z, cost = draw(toy, RightHalf())
    assert z.shape == (N, 2) and (z[:, 0] > 0).all()
    assert 0.4 < cost.summary()["acceptance_rate"] < 0.6
    assert torch.equal(z, draw(toy, RightHalf())[0])  # its own seeded stream: the same codes again
    never = RightHalf()
    never.p = 0.0
    with pytest.raises(GanlabError, match="sampler 'right-half' accepted 0 of .*; accept more"):
        draw(toy, never)


def test_describe_reads_sampler_files_of_every_age(tmp_path):
    """sampler.pt files written before the source kept G's weights still describe themselves; a file without a
    source is a one-line error, never a KeyError."""
    from ganlab.io import torch_save
    from ganlab.latent.bundle import describe

    torch_save({"source": {"run": "runs/x", "checkpoint": "last"}, "chain": [["dot", {"steps": 20}]]},
               tmp_path / "a.pt")
    assert describe(tmp_path / "a.pt") == "x (last checkpoint, weights not recorded) + dot steps=20"
    torch_save({"chain": []}, tmp_path / "b.pt")
    with pytest.raises(GanlabError, match="b.pt is not a readable ganlab sampler file"):
        describe(tmp_path / "b.pt")
