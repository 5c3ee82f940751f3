import pytest
import torch

from ganlab.errors import GanlabError
from ganlab.io import torch_load
from ganlab.models import build_discriminator
from ganlab.sampling import load_generator
from ganlab.runs import Run
from ganlab.training import config as c
from ganlab.training.loop import train
from ganlab.training.ema import EMA


def test_ema_update_formula():
    m = torch.nn.Linear(2, 1)
    with torch.no_grad():
        m.weight.fill_(1.0)
        m.bias.fill_(0.0)
    ema = EMA(m, decay=0.9)
    with torch.no_grad():
        m.weight.fill_(3.0)
        m.bias.fill_(-1.0)
    ema.update(m)
    assert torch.allclose(ema.model.weight, torch.full((1, 2), 0.9 * 1 + 0.1 * 3))
    assert torch.allclose(ema.model.bias, torch.tensor([0.1 * -1.0]))
    ema.update(m)
    assert torch.allclose(ema.model.weight, torch.full((1, 2), 0.9 * 1.2 + 0.1 * 3))


def test_ema_run_samples_from_the_average(tmp_path, cache_dir):
    cfg = c.load(None, ["data.subset=256", "train.epochs=2", "train.ema=0.9", "train.threads=1"])
    run = train(cfg, tmp_path / "r", progress=False)
    ck = torch_load(Run(run).last)
    assert "G_ema" in ck and not torch.equal(ck["G_ema"]["fc1.weight"], ck["G"]["fc1.weight"])
    assert torch.equal(load_generator(run).fc1.weight, ck["G_ema"]["fc1.weight"])
    # resume keeps the average exactly
    train(cfg, tmp_path / "cut", progress=False, until_epoch=1)
    train(None, tmp_path / "cut", resume=True, progress=False)
    assert torch.equal(torch_load(Run(tmp_path / "cut").last)["G_ema"]["fc4.weight"], ck["G_ema"]["fc4.weight"])


@pytest.mark.parametrize("name", ["mlp", "conv"])
def test_spectral_norm_bounds_the_top_singular_value(name):
    torch.manual_seed(0)
    D = build_discriminator(name, spectral_norm=True)
    for _ in range(30):  # power iterations run in training mode
        D(torch.randn(4, 784))
    D.eval()
    for m in D.modules():
        if isinstance(m, torch.nn.Linear):
            assert torch.linalg.matrix_norm(m.weight.detach(), ord=2).item() == pytest.approx(1.0, rel=0.05)


def test_conv_discriminator_shapes():
    D = build_discriminator("conv")
    assert D(torch.randn(3, 784)).shape == (3,)
    assert D.features(torch.randn(3, 784)).shape == (3, 256 * 16)


def test_invalid_combinations_are_config_errors():
    with pytest.raises(GanlabError, match="'train.clip_d' and 'model.spectral_norm' do not combine"):
        c.load(None, ["train.clip_d=0.01", "model.spectral_norm=true"])
    with pytest.raises(GanlabError, match="'train.ema' = 1.0 must be in"):
        c.load(None, ["train.ema=1.0"])


@pytest.mark.parametrize("schedule, expected", [
    ("step", [2e-4, 1e-4, 1e-4, 5e-5]),  # step_size 2, gamma 0.5: lr after epochs 1..4
    ("linear", [2e-4 * 3 / 4, 2e-4 * 2 / 4, 2e-4 * 1 / 4, 0.0]),
])
def test_lr_schedules(tmp_path, cache_dir, schedule, expected):
    cfg = c.load(None, ["data.subset=128", "train.epochs=4", f"optim.schedule={schedule}", "optim.step_size=2",
                        "train.threads=1"])
    run = train(cfg, tmp_path / "r", progress=False)
    import json

    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["lr_g"] for r in rows] == pytest.approx(expected) and [r["lr_d"] for r in rows] == pytest.approx(expected)


def test_plateau_needs_periodic_eval():
    with pytest.raises(GanlabError, match="'plateau' needs eval.every > 0"):
        c.load(None, ["optim.schedule=plateau"])


def _g_grads(G, D, loss, z, x, k):
    from ganlab.training.terms import unrolled_d_output

    G.zero_grad()
    fake = G(z)
    out = unrolled_d_output(D, loss, x, fake, k, 0.1) if k is not None else D(fake)
    loss.g_loss(out).backward()
    return [p.grad.clone() for p in G.parameters()]


def test_unrolled_with_k0_equals_plain_and_k_changes_it():
    from ganlab.losses import build_loss
    from ganlab.toy.nets import ToyD, mlp

    torch.manual_seed(0)
    G, D, loss = mlp(4, 16, 2), ToyD(16), build_loss("ns")
    z, x = torch.randn(32, 4), torch.randn(32, 2)
    plain = _g_grads(G, D, loss, z, x, None)
    for a, b in zip(plain, _g_grads(G, D, loss, z, x, 0)):
        assert torch.allclose(a, b, atol=1e-7)
    d_before = [p.clone() for p in D.parameters()]
    unrolled = _g_grads(G, D, loss, z, x, 3)
    assert any(not torch.allclose(a, b) for a, b in zip(plain, unrolled))
    assert all(torch.equal(a, b) for a, b in zip(d_before, D.parameters()))  # D itself untouched


def test_unrolled_steps_show_a_per_sample_d_reals_and_fakes_in_one_pass(monkeypatch):
    """The simulated D steps take the joint pass of D's own step where D is per sample (the MLP): G's gradient through
    them equals the two-pass one up to the order of floating-point sums."""
    from ganlab.losses import build_loss
    from ganlab.models import Generator, build_discriminator
    from ganlab.training import terms

    torch.manual_seed(0)
    G, D, loss = Generator(), build_discriminator("mlp"), build_loss("ns")
    z, x = torch.randn(16, 100), torch.rand(16, 784) * 2 - 1
    seen = []  # the batch sizes D is called with
    D.register_forward_hook(lambda m, args, out: seen.append(len(args[0])))
    joint = _g_grads(G, D, loss, z, x, 2)
    assert seen == [32, 32, 16]  # two simulated steps on reals + fakes, then the fakes through the unrolled D
    monkeypatch.setattr(terms, "per_sample", lambda D: False)
    seen.clear()
    two = _g_grads(G, D, loss, z, x, 2)
    assert seen == [16] * 5
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(joint, two))


def test_unrolled_mnist_run(tmp_path, cache_dir):
    cfg = c.load(None, ["data.subset=128", "train.epochs=1", "train.unroll=2", "train.threads=1"])
    train(cfg, tmp_path / "r", progress=False)
    assert torch_load(Run(tmp_path / "r").last)["epoch"] == 1


def test_unrolled_adam_step_matches_a_real_adam_step():
    import copy

    from ganlab.losses import build_loss
    from ganlab.toy.nets import ToyD
    from ganlab.training.terms import unrolled_d_output

    torch.manual_seed(0)
    D, loss = ToyD(16), build_loss("ns")
    opt = torch.optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.999))
    for _ in range(3):  # give Adam some state
        x, f = torch.randn(32, 2), torch.randn(32, 2)
        opt.zero_grad()
        loss.d_loss(D(x), D(f)).backward()
        opt.step()
    x, f = torch.randn(32, 2), torch.randn(32, 2)
    D2 = copy.deepcopy(D)
    opt2 = torch.optim.Adam(D2.parameters(), lr=1e-2, betas=(0.5, 0.999))
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))  # load_state_dict would share the moment tensors
    opt2.zero_grad()
    loss.d_loss(D2(x), D2(f)).backward()
    opt2.step()
    simulated = unrolled_d_output(D, loss, x, f, 1, 1e-2, opt)
    assert torch.allclose(simulated, D2(f), atol=1e-5)
