"""D's differentiable augmentation (DiffAugment / ADA: train.d_augment, ganlab/training/terms.py DAugment)."""
import contextlib
import json

import pytest
import torch

from ganlab.data.augment import affine, brightness, contrast, each_with_probability
from ganlab.errors import GanlabError
from ganlab.io import torch_load
from ganlab.losses import build_loss
from ganlab.models import Generator, build_discriminator
from ganlab.runs import Run
from ganlab.toy import train as toy
from ganlab.training import config as c
from ganlab.training.loop import train
from ganlab.training.step import GANStep
from ganlab.training.terms import ADA_INTERVAL, DAugment, Batch


@pytest.fixture
def digits(mnist_data):
    from ganlab.data import to_tensor

    return to_tensor(mnist_data.test_x[:16])


class Step:  # what a term sees of GANStep
    generator = None


def test_new_augmentations_keep_digits(digits):
    g = torch.Generator().manual_seed(0)
    ink = lambda t: (t + 1).sum(1)  # noqa: E731  (pixel mass above background)
    assert torch.allclose(affine(digits, g, degrees=0.0, log2_scale_std=0.0), digits, atol=1e-5)  # no motion: identity
    turned = affine(digits, g, log2_scale_std=0.0)
    assert not torch.allclose(turned, digits, atol=1e-2)
    assert torch.allclose(ink(turned), ink(digits), rtol=1e-2)  # a turn keeps the ink
    assert (turned.reshape(16, 28, 28)[:, 0, 0] == -1).all()  # what comes in from outside the frame is background
    g = torch.Generator().manual_seed(5)
    zoomed = affine(digits, g, degrees=0.0)
    g.manual_seed(5)
    torch.rand(16, generator=g)  # the angles' draw
    scale = torch.exp2(0.1 * torch.randn(16, generator=g))
    assert torch.allclose(ink(zoomed) / ink(digits), scale ** 2, rtol=0.05)  # the ink grows with the area, scale^2
    offset = brightness(digits, g) - digits
    assert (offset.std(1) < 1e-6).all() and (offset[:, 0].abs() <= 0.25).all() and offset[:, 0].std() > 0.01
    scaled = contrast(digits, g)
    assert torch.allclose(scaled.mean(1), digits.mean(1), atol=1e-5)  # the image's mean stays, its spread changes
    assert not torch.allclose(scaled.std(1), digits.std(1), rtol=1e-3)


def test_each_augmentation_applies_with_probability_p():
    x = torch.zeros(2000, 784)
    apply = each_with_probability(["brightness"])
    assert torch.equal(apply(x, 0.0, torch.Generator().manual_seed(0)), x)
    assert (apply(x, 1.0, torch.Generator().manual_seed(0))[:, 0] != 0).all()
    half = apply(x, torch.tensor(0.5), torch.Generator().manual_seed(0))
    assert 0.45 < (half[:, 0] != 0).float().mean() < 0.55
    assert torch.equal(half, apply(x, torch.tensor(0.5), torch.Generator().manual_seed(0)))  # the generator decides


def test_d_sees_the_augmented_images_and_passes_gradients_through_them():
    torch.manual_seed(0)
    D = build_discriminator("mlp")
    x = (torch.rand(8, 784) * 2 - 1).requires_grad_()
    view = DAugment(["identity"], 1.0).wrap_d(Step(), D)
    assert torch.equal(view(x), D(x)) and view.inner is D
    step = Step()
    step.generator = torch.Generator().manual_seed(3)
    view = DAugment(["brightness"], 1.0).wrap_d(step, D)
    out = view(x)
    step.generator.manual_seed(3)
    shifted = brightness(x, step.generator)
    assert torch.equal(out, D(shifted)) and not torch.equal(out, D(x))
    # G learns through T: the gradient reaching the images is D's gradient at the augmented images (d T / dx = 1)
    (gx,) = torch.autograd.grad(out.sum(), x)
    (want,) = torch.autograd.grad(D(shifted).sum(), x)
    assert torch.allclose(gx, want) and gx.abs().sum() > 0


def one_step(terms, precision="fp32", joint=True):
    """G and D after one GANStep on fixed data, with ``terms`` (``joint=False``: D sees reals and fakes in two passes,
    as it does behind an augmentation)."""
    torch.manual_seed(0)
    G, D = Generator(), build_discriminator("mlp")
    opt_g, opt_d = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext
    step = GANStep(G, D, build_loss("ns"), opt_g, opt_d, terms=terms, autocast=autocast,
                   generator=torch.Generator().manual_seed(0))
    step.joint = step.joint and joint
    x = torch.rand(16, 784, generator=torch.Generator().manual_seed(1)) * 2 - 1
    step(x, torch.randn(16, 100, generator=torch.Generator().manual_seed(2)), 1, GANStep.stats("cpu"))
    return G, D


def test_a_step_through_the_identity_is_the_plain_step_bit_for_bit():
    # against the plain step in two passes: its one joint pass differs in the order of sums (tests/test_models.py)
    plain, through = one_step([], joint=False), one_step([DAugment(["identity"], 1.0)])
    for a, b in zip(plain, through):
        assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    G, D = one_step([DAugment(["shift", "affine", "cutout"], 0.5, target=0.6)], precision="bf16")
    assert all(torch.isfinite(p).all() for p in list(G.parameters()) + list(D.parameters()))
    assert not torch.equal(G.fc4.weight, plain[0].fc4.weight)


def batch(sign: float, n: int = 8) -> Batch:
    d_real = torch.full((n, 1), sign)
    return Batch(torch.zeros(n, 784), torch.zeros(n, 100), None, torch.zeros(n, 784), d_real, -d_real)


def test_ada_moves_p_by_the_images_of_each_interval_towards_the_target():
    t = DAugment(["shift"], 0.0, target=0.6, kimg=1.0)
    t.wrap_d(Step(), build_discriminator("mlp"))
    for _ in range(ADA_INTERVAL - 1):
        t.d(Step(), batch(+1.0))
    assert t.p.item() == 0.0  # adjusted once per interval only
    t.d(Step(), batch(+1.0))  # r = 1 > 0.6: D is sure of every real, so p rises by 4 batches of 8 / 1000
    assert t.p.item() == pytest.approx(0.032)
    for _ in range(ADA_INTERVAL):
        t.d(Step(), batch(+1.0))
    assert t.p.item() == pytest.approx(0.064)
    state = t.state_dict()
    for _ in range(3 * ADA_INTERVAL):  # r = -1 < 0.6: p falls, and stops at 0
        t.d(Step(), batch(-1.0))
    assert t.p.item() == 0.0
    t.load_state_dict(state)
    assert t.p.item() == pytest.approx(0.064) and t.stats() == {"d_augment_p": pytest.approx(0.064)}
    fixed = DAugment(["shift"], 0.3)
    fixed.d(Step(), batch(+1.0))
    assert fixed.p.item() == pytest.approx(0.3)  # without a target p stays


def test_ada_run_adapts_p_resumes_exactly_and_keeps_d_plain(tmp_path, cache_dir):
    cfg = c.load(None, ["data.subset=320", "train.epochs=2", "train.threads=1", "train.d_augment=[shift,cutout,affine]",
                        "train.d_augment_p=0.5", "train.ada_target=0.6", "train.ada_kimg=1"])
    train(cfg, tmp_path / "full", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    # 5 steps per epoch: p moved at step 4 (by 256 / 1000) and so augmented with p != 0.5 in the second epoch
    assert len({r["d_augment_p"] for r in rows} | {0.5}) == 3
    train(cfg, tmp_path / "cut", progress=False, until_epoch=1)
    train(None, tmp_path / "cut", resume=True, progress=False)
    full, cut = torch_load(Run(tmp_path / "full").last), torch_load(Run(tmp_path / "cut").last)
    for net in ("G", "D"):
        assert all(torch.equal(full[net][k], cut[net][k]) for k in full[net])
    assert torch.equal(full["terms"]["d-augment"]["p"], cut["terms"]["d-augment"]["p"])
    # the checkpoint's D is D itself (no augmentation wrapper): samplers and evaluation load it as any other
    assert list(full["D"]) == list(build_discriminator("mlp").state_dict())
    plain = c.load(None, ["data.subset=320", "train.epochs=2", "train.threads=1"])
    train(plain, tmp_path / "plain", progress=False)
    plain_ck = torch_load(Run(tmp_path / "plain").last)
    assert "terms" not in plain_ck  # a run without a stateful scheme writes the checkpoint as before
    assert not torch.equal(plain_ck["G"]["fc4.weight"], full["G"]["fc4.weight"])  # the augmentation changed training


@pytest.mark.parametrize("overrides,message", [
    (["train.d_augment=[rotate]"], "train.d_augment': unknown augmentation 'rotate'; accepted: shift"),
    (["train.ada_target=0.6"], "needs train.d_augment"),
    (["train.d_augment=[shift]", "train.d_augment_p=1.5"], "must be in \\[0, 1\\]"),
    (["train.d_augment=[shift]", "train.d_augment_p=0"], "never augment"),
    (["train.d_augment=[shift]", "train.ada_target=0.6", "train.d_augment_p=0", "train.loss=wgan",
      "regularizers.gp=10"],
     "ADA reads overfitting from the sign"),
    (["train.d_augment=[shift]", "train.ada_target=1"], "must be in \\[0, 1\\)"),
    (["train.d_augment=[shift]", "train.ada_target=0.6"], "set train.d_augment_p to where ADA's p starts"),
])
def test_bad_d_augment_settings_are_one_line_errors(overrides, message):
    with pytest.raises(GanlabError, match=message):
        c.load(None, overrides)


def test_the_toys_take_the_shape_free_augmentations_only():
    toy.validate(c.from_dict({"train": {"d_augment": ["jitter"]}}, root=toy.ToyConfig, check=lambda x: x))
    with pytest.raises(GanlabError, match="unknown augmentation 'shift'; accepted: jitter, identity"):
        toy.validate(c.from_dict({"train": {"d_augment": ["shift"]}}, root=toy.ToyConfig, check=lambda x: x))
