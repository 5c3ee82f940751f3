import pytest
import torch

from ganlab.data.augment import compose, cutout, hflip, shift
from ganlab.errors import GanlabError
from ganlab.io import torch_load
from ganlab.losses import consistency
from ganlab.models import build_discriminator
from ganlab.runs import Run
from ganlab.training import config as c
from ganlab.training.loop import train


@pytest.fixture
def digits(mnist_data):
    from ganlab.data import to_tensor

    return to_tensor(mnist_data.test_x[:16])


def test_terms_vanish_under_identity(digits):
    torch.manual_seed(0)
    D = build_discriminator("mlp")
    fake = torch.rand_like(digits) * 2 - 1
    ident = compose(["identity"])
    assert consistency.bcr(D, digits, fake, ident, 10.0, 10.0).item() == 0.0
    assert consistency.zcr_d(D, fake, fake.clone(), 5.0).item() == 0.0
    z = torch.randn(8, 100)
    assert torch.equal(consistency.perturb(z, 0.0), z)
    assert consistency.zcr_g(fake, fake.clone(), 1.0).item() == 0.0


def test_terms_are_positive_under_real_augmentation(digits):
    torch.manual_seed(0)
    D = build_discriminator("mlp")
    g = torch.Generator().manual_seed(0)
    assert consistency.bcr(D, digits, digits, compose(["shift", "cutout"]), 1.0, 0.0, g).item() > 0
    a, b = torch.zeros(4, 784), torch.ones(4, 784)
    b[:, :392] = 3.0  # half the pixels differ by 3, half by 1: mean squared difference (9 + 1) / 2 = 5 per pixel
    # hand value: -lambda x the per-pixel mean, as the ICR report's code (F.mse_loss); the sum over pixels (-0.5 x 3920)
    # made G's term outweigh the adversarial loss
    assert consistency.zcr_g(a, b, 0.5).item() == pytest.approx(-0.5 * 5)


def test_augmentations_keep_digits(digits):
    g = torch.Generator().manual_seed(1)
    s = shift(digits, g)
    ink = lambda t: (t + 1).sum(1)  # noqa: E731  (pixel mass above background)
    # MNIST digits sit inside a 20x20 box: a 2-pixel shift never cuts ink
    assert torch.allclose(ink(s), ink(digits), rtol=1e-5)
    cut = cutout(digits, g)
    assert (ink(cut) <= ink(digits) + 1e-4).all() and ((cut == -1).sum(1) >= (digits == -1).sum(1)).all()
    assert torch.equal(hflip(hflip(digits, p=1.0), p=1.0), digits)
    # random per image, as torchvision's RandomHorizontalFlip: each digit is itself or its mirror, and both occur
    mirrored = digits.reshape(-1, 28, 28).flip(2).reshape(digits.shape)
    out = hflip(digits.repeat(8, 1), torch.Generator().manual_seed(0))
    same = (out == digits.repeat(8, 1)).all(1)
    assert (same | (out == mirrored.repeat(8, 1)).all(1)).all() and 0 < same.sum() < len(out)
    with pytest.raises(GanlabError, match="accepted: shift, cutout, hflip, identity"):
        compose(["rotate"])


def test_consistency_and_feature_matching_run(tmp_path, cache_dir):
    cfg = c.load(None, ["data.subset=128", "train.epochs=1", "train.threads=1", "consistency.bcr_real=10",
                        "consistency.bcr_fake=10", "consistency.zcr_dis=5", "consistency.zcr_gen=0.5",
                        "train.feature_matching=1.0"])
    train(cfg, tmp_path / "r", progress=False)
    assert torch_load(Run(tmp_path / "r").last)["epoch"] == 1
    with pytest.raises(GanlabError, match="unknown augmentation 'flip'"):
        c.load(None, ["consistency.augment=[flip]"])
