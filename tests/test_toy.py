import json
import math
import shutil

import pytest
import torch

from ganlab.cli import main
from ganlab.errors import GanlabError
from ganlab.toy import build_dataset, load, mode_stats, toy_train


def test_datasets_have_the_standard_modes():
    ring, grid = build_dataset("ring-8"), build_dataset("grid-25")
    assert ring.modes.shape == (8, 2) and torch.allclose(ring.modes.norm(dim=1), torch.full((8,), 2.0))
    assert grid.modes.shape == (25, 2) and grid.modes.min() == -4 and grid.modes.max() == 4
    assert build_dataset("grid-9").modes.shape == (9, 2)
    x = ring.sample(4000, torch.Generator().manual_seed(0))
    assert mode_stats(x, ring) == {"modes_covered": 8, "n_modes": 8, "high_quality": pytest.approx(1.0, abs=0.01)}


def test_mode_stats_on_collapsed_and_off_manifold_samples():
    ring = build_dataset("ring-8")
    one_mode = ring.modes[[0]].repeat(1000, 1)
    assert mode_stats(one_mode, ring)["modes_covered"] == 1
    far = torch.full((1000, 2), 10.0)
    s = mode_stats(far, ring)
    assert s["modes_covered"] == 0 and s["high_quality"] == 0.0
    # a few stray high-quality points do not make a mode covered
    mixed = torch.cat([one_mode, ring.modes[[3]].repeat(5, 1)])
    assert mode_stats(mixed, ring)["modes_covered"] == 1


def test_toy_run_writes_snapshots_strip_and_metrics(tmp_path):
    cfg = load("configs/toy/vanilla.yaml", ["train.steps=300", "train.plot_every=100", "train.n_eval=500"])
    run = toy_train(cfg, tmp_path / "t", progress=False)
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [100, 200, 300]
    assert all(0 <= r["high_quality"] <= 1 and 0 <= r["modes_covered"] <= 8 for r in rows)
    assert len(list((run / "snapshots").glob("*.png"))) == 3 and (run / "strip.png").exists()


def test_toy_runs_are_deterministic(tmp_path):
    over = ["train.steps=200", "train.plot_every=200", "train.n_eval=300", "regularizers.gp=1", "train.loss=wgan"]
    a = toy_train(load(None, over), tmp_path / "a", progress=False)
    b = toy_train(load(None, over), tmp_path / "b", progress=False)
    assert (a / "metrics.jsonl").read_text().split('"seconds"')[0] == (b / "metrics.jsonl").read_text().split('"seconds"')[0]


def test_toy_resume_matches_an_uninterrupted_run(tmp_path, capsys):
    """A toy run stopped after a snapshot (or killed: only its last checkpoint counts) and resumed ends with the
    weights, metrics and strip of an uninterrupted run; a snapshot written after the checkpoint is made again."""
    from ganlab.checkpoint import Checkpoint
    from ganlab.runs import Run

    over = ["train.steps=150", "train.plot_every=50", "train.n_eval=300", "regularizers.gp=1", "train.loss=wgan",
            "train.n_critic=3", "optim.schedule=linear", "train.ema=0.9"]  # 50 % 3 != 0: the step count matters
    full = toy_train(load(None, over), tmp_path / "full", progress=False)
    cut = toy_train(load(None, over), tmp_path / "cut", progress=False, until_step=50)
    assert not (cut / "summary.json").exists() and Checkpoint.load(Run(cut).last).state["epoch"] == 50
    old = tmp_path / "old"  # as a run of an older ganlab would be: no snapshot points beside its rows
    shutil.copytree(cut, old)
    (old / "snapshots" / "step_000050.npy").unlink()
    assert main(["toy", "--resume", str(old), "--quiet"]) == 2
    assert "step_000050.npy is missing" in capsys.readouterr().err
    # as if killed after step 100's metrics line but before its checkpoint, then mid-line: both are dropped, made again
    (cut / "metrics.jsonl").write_text((cut / "metrics.jsonl").read_text() + '{"step": 100, "stale": 1}\n{"step": 15')
    assert main(["toy", "--resume", str(cut), "--quiet"]) == 0
    a, b = Checkpoint.load(Run(full).last).state, Checkpoint.load(Run(cut).last).state
    for key in ("G", "G_ema", "D"):
        assert a[key].keys() == b[key].keys() and all(torch.equal(a[key][k], b[key][k]) for k in a[key]), key
    rows = [{k: v for k, v in json.loads(l).items() if k != "seconds"} for l in (cut / "metrics.jsonl").read_text().splitlines()]
    assert rows == [{k: v for k, v in json.loads(l).items() if k != "seconds"}
                    for l in (full / "metrics.jsonl").read_text().splitlines()]
    assert (cut / "strip.png").read_bytes() == (full / "strip.png").read_bytes() and (cut / "summary.json").exists()
    assert main(["toy", "--resume", str(cut), "--quiet"]) == 0  # a finished run: nothing to do
    capsys.readouterr()
    assert main(["toy", "--resume", str(cut), "--seed", "1"]) == 2
    assert "continues RUN with its own config.yaml; drop --seed" in capsys.readouterr().err
    assert main(["toy", "--resume", str(tmp_path / "nothing")]) == 2
    assert "not a toy run directory" in capsys.readouterr().err


def test_toy_config_errors(capsys):
    with pytest.raises(GanlabError, match="accepted: ring-8, grid-25, grid-9"):
        load(None, ["dataset=spiral"])
    with pytest.raises(GanlabError, match="unknown config key 'train.step'"):
        load(None, ["train.step=3"])
    with pytest.raises(GanlabError, match="unknown augmentation 'shfit'"):
        load(None, ["consistency.augment=[shfit]"])
    with pytest.raises(GanlabError, match="'train.precision' = 'fp8' is not accepted"):
        load(None, ["train.precision=fp8"])
    with pytest.raises(GanlabError, match="'train.feature_matching' = -1.0 must be >= 0"):
        load(None, ["train.feature_matching=-1"])
    assert main(["toy", "--dataset", "moons"]) == 2
    assert "accepted: ring-8" in capsys.readouterr().err


def test_toy_mdgan_and_unrolled_run(tmp_path):
    for name in ("md-gan", "unrolled"):
        cfg = load(f"configs/toy/{name}.yaml", ["train.steps=60", "train.plot_every=60", "train.n_eval=200"])
        run = toy_train(cfg, tmp_path / name, progress=False)
        assert (run / "strip.png").exists()
    with pytest.raises(GanlabError, match="do not combine"):
        load(None, ["train.loss=md-gan"])


def test_mdgan_lambda_is_the_largest_likelihood():
    """lambda bounds lk from above (D's fake term is log(lambda - lk)). With the MD-GAN code's simplex (10
    Gaussians, edge 2.81 sigma) lk peaks at the centre, 1.44x lk at a vertex: lambda = lk(vertex) made
    lambda - lk clamp to 0 there, D got no gradient and G collapsed onto the centre's preimage."""
    from ganlab.losses import build_loss

    loss = build_loss("md-gan", d_out=9, distance=2.81)
    centre = torch.zeros(1, 9, requires_grad=True)
    assert loss.likelihood(centre).item() <= loss.lam + 1e-6
    e = torch.randn(5000, 9) * 1.5
    assert loss.likelihood(e).max().item() <= loss.lam + 1e-6
    (grad,) = torch.autograd.grad(loss.d_loss(torch.zeros(4, 9), centre + 0.1 * torch.randn(4, 9)), centre)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    # well-separated Gaussians: the maximum is (to 1e-6) at a vertex, as before
    far = build_loss("md-gan", d_out=4, distance=5.0)
    assert far.lam == pytest.approx(far.likelihood(far.means[:1]).item(), rel=1e-5)


def test_unrolled_d_output_is_adam_steps_and_differentiable_in_g():
    """The unrolled D equals k real Adam steps of a copy of D, and G's gradient through them matches finite
    differences (float64)."""
    import copy

    from ganlab.losses import build_loss
    from ganlab.toy.nets import ToyD, ToyG
    from ganlab.training.terms import unrolled_d_output

    torch.manual_seed(0)
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        G, D, loss = ToyG(4, 16, 2, "relu"), ToyD(16, 1, 2, "relu"), build_loss("ns")
        x, z = torch.randn(64, 2), torch.randn(64, 4)
        opt = torch.optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.999))
        opt.zero_grad()
        loss.d_loss(D(x), D(G(z).detach())).backward()
        opt.step()
        D2 = copy.deepcopy(D)
        opt2 = torch.optim.Adam(D2.parameters(), lr=1e-2, betas=(0.5, 0.999))
        opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
        fake = G(z)
        out = unrolled_d_output(D, loss, x, fake, 3, 1e-2, opt)
        for _ in range(3):
            opt2.zero_grad()
            loss.d_loss(D2(x), D2(fake.detach())).backward()
            opt2.step()
        assert torch.allclose(out, D2(fake.detach()), atol=1e-9)
        p = next(G.parameters())

        def f():
            return loss.g_loss(unrolled_d_output(D, loss, x, G(z), 3, 1e-2, opt))

        (g,) = torch.autograd.grad(f(), [p])
        eps = 1e-6
        with torch.no_grad():
            p[0, 0] += eps
        a = f().item()
        with torch.no_grad():
            p[0, 0] -= 2 * eps
        b = f().item()
        with torch.no_grad():
            p[0, 0] += eps
        assert g[0, 0].item() == pytest.approx((a - b) / (2 * eps), rel=1e-4)
    finally:
        torch.set_default_dtype(dtype)


def test_toy_net_options_and_data_scale():
    from ganlab.toy.nets import ToyD, ToyG

    G = ToyG(2, 32, layers=2, activation="relu", out_scale=6.0)
    assert sum(isinstance(m, torch.nn.Linear) for m in G.modules()) == 3
    assert G(torch.randn(100, 2) * 100).abs().max() <= 6.0
    D = ToyD(32, 9, layers=1, activation="tanh", out_bound=5.0)
    assert D(torch.randn(100, 2) * 100).abs().max() <= 5.0
    assert ToyD(8)(torch.randn(3, 2)).shape == (3,)
    for bad, msg in (("model.g_activation=gelu", "accepted: lrelu, relu, tanh"), ("model.d_layers=0", "must be > 0"),
                     ("scale=0", "must be > 0"), ("model.d_out_bound=-1", "must be >= 0"),
                     ("model.z_dist=cauchy", "accepted: normal, uniform")):
        with pytest.raises(GanlabError, match=msg):
            load(None, [bad])
    grid, small = build_dataset("grid-25"), build_dataset("grid-25", 1 / 2.828)
    assert small.sigma == pytest.approx(0.05 / 2.828) and small.modes.max() == pytest.approx(4 / 2.828)
    x = grid.sample(3000, torch.Generator().manual_seed(0))
    a, b = mode_stats(x / 2.828, small), mode_stats(x, grid)
    assert a["modes_covered"] == b["modes_covered"] == 25 and a["high_quality"] == pytest.approx(b["high_quality"], abs=1e-3)


@pytest.mark.parametrize("sets, term", [
    (["regularizers.gp=0.1", "train.loss=wgan"], "penalty"),
    (["regularizers.r1=1.0"], "penalty"),
    (["train.clip_d=0.05", "train.loss=wgan"], "clip"),
    (["train.unroll=2"], "unroll"),
    (["consistency.bcr_real=1", "consistency.bcr_fake=1"], "bcr"),
    (["consistency.zcr_dis=1", "consistency.zcr_gen=0.5"], "zcr"),
    (["train.feature_matching=1"], "feature-matching"),
    (["model.ac_head=true", "train.ac_g_entropy=0.1"], "ac-head"),
    (["train.latent_opt_alpha=0.5"], "latent-opt"),
    (["train.loss=cn-lsgan", "train.cn_lambda2=0.5"], "image-term"),
    (["train.d_augment=[jitter]", "train.d_augment_p=0.5", "train.ada_target=0.6"], "d-augment"),
    (["train.precision=bf16"], None),
    (["model.spectral_norm=true", "train.loss=hinge"], None),
])
def test_every_scheme_of_the_mnist_loop_runs_on_2d_data(tmp_path, sets, term):
    """The toy builds its step with the MNIST loop's terms_for from the same keys: each scheme is there and
    trains a few steps to finite numbers."""
    from ganlab.losses import build_loss
    from ganlab.training.terms import terms_for

    cfg = load(None, ["train.steps=20", "train.plot_every=20", "train.n_eval=100", "train.batch_size=64"] + sets)
    names = [t.name for t in terms_for(cfg, build_loss(cfg.train.loss, d_out=cfg.model.d_out))]
    assert term is None or term in names
    run = toy_train(cfg, tmp_path / "r", progress=False)
    final = json.loads((run / "summary.json").read_text())["final"]
    assert all(math.isfinite(final[k]) for k in ("loss_d", "loss_g", "high_quality"))


def test_toy_runs_on_the_trainer_and_writes_its_checkpoint(tmp_path):
    """The toy loop is the MNIST loop's Trainer: its checkpoint has the one schema (runs.Checkpoint), holds the G
    whose samples the metrics were measured on, and the lr schedules step once per plot_every steps."""
    from ganlab.checkpoint import Checkpoint
    from ganlab.runs import Run
    from ganlab.toy.train import ToyPrior, toy_nets

    cfg = load("configs/toy/vanilla.yaml", ["train.steps=200", "train.plot_every=50", "train.n_eval=500",
                                            "optim.schedule=linear"])
    run = toy_train(cfg, tmp_path / "t", progress=False)
    ck = Checkpoint.load(Run(run).last)
    assert ck.resumable and ck.state["step"] == 200
    # linear to 0 over 200 / 50 = 4 periods: stepped 4 times, the rate is 0 at the end (1e-3 without a schedule)
    assert [g["lr"] for g in ck.state["opt_g"]["param_groups"]] == [0.0]
    G, _, prior = toy_nets(cfg, 8)
    G.load_state_dict(ck.generator("raw"))
    z = ToyPrior(cfg.model.z_dim, "normal").sample(500, torch.Generator().manual_seed(cfg.seed + 1))
    final = json.loads((run / "summary.json").read_text())["final"]
    with torch.no_grad():
        stats = mode_stats(G(z), build_dataset("ring-8"))
    assert stats["modes_covered"] == final["modes_covered"] and stats["high_quality"] == final["high_quality"]
    with pytest.raises(GanlabError, match="plateau.*needs a periodic metric"):
        load("configs/toy/vanilla.yaml", ["optim.schedule=plateau"])
    with pytest.raises(GanlabError, match="optim.step_size.*must be > 0"):
        load("configs/toy/vanilla.yaml", ["optim.schedule=step", "optim.step_size=0"])
    with pytest.raises(GanlabError, match="optim.schedule.*accepted: none, step, linear, cosine"):
        load("configs/toy/vanilla.yaml", ["optim.schedule=exp"])
