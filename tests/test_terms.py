"""Training schemes as terms (ganlab/training/terms.py): each registered scheme has a test here that states what its
part of the step does, on a tiny D and G."""
import pytest
import torch

from ganlab.errors import GanlabError

from ganlab.losses import build_loss
from ganlab.models import Generator, build_discriminator
from ganlab.training import config as c
from ganlab.training.terms import SCHEMES, Batch, build_terms, terms_for


class Step:  # what a term sees of GANStep
    def __init__(self, D=None, loss="ns"):
        torch.manual_seed(0)
        self.G = Generator()
        self.D = D or build_discriminator("mlp")
        self.loss = build_loss(loss)
        self.opt_d = torch.optim.Adam(self.D.parameters())
        self.generator = torch.Generator().manual_seed(0)


def batch(step, n=8, y=True):
    x = torch.rand(n, 784) * 2 - 1
    z = torch.randn(n, 100, generator=torch.Generator().manual_seed(1))
    fake = step.G(z)
    return Batch(x, z, torch.arange(n) % 10 if y else None, fake, step.D(x), step.D(fake.detach()))


def test_latent_opt_moves_z_up_d():
    step = Step()
    (t,) = build_terms(step.loss, latent_opt=(1.0, 5.0))
    z = torch.randn(16, 100)
    moved = t.z(step, z)
    with torch.no_grad():
        assert (step.D(step.G(moved)) > step.D(step.G(z))).float().mean() > 0.9


def test_image_term_is_the_losses_own():
    step = Step(loss="cn-lsgan")
    step.loss = build_loss("cn-lsgan", lambda2=0.5)
    (t,) = build_terms(step.loss)
    b = batch(step)
    assert t.name == "image-term" and torch.equal(t.g(step, b), step.loss.g_image_term(b.fake, b.x))
    assert build_terms(build_loss("ns")) == []  # a loss without one adds nothing


def test_penalty_is_weighted_and_in_order():
    step = Step()
    terms = build_terms(step.loss, penalties=[("gp", 10.0), ("r1", 2.0)])
    assert [(t.name, t.kind, t.weight) for t in terms] == [("penalty", "gp", 10.0), ("penalty", "r1", 2.0)]
    from ganlab.losses.penalties import PENALTIES

    b = batch(step)
    assert torch.allclose(terms[1].d(step, b), 2.0 * PENALTIES["r1"](step.D, b.x, b.fake, None))


def test_ac_head_learns_labels_and_skips_without_them():
    D = build_discriminator("mlp", ac_head=True)
    step = Step(D)
    (t,) = build_terms(step.loss, ac_weight=1.0, ac_g_entropy=0.5)
    b = batch(step)
    assert t.d(step, b).item() == pytest.approx(torch.nn.functional.cross_entropy(D.classify(b.x), b.y).item(), rel=1e-6)
    assert t.d(step, batch(step, y=False)) is None
    assert t.g(step, b).item() > 0  # entropy of the head on fakes
    (t0,) = build_terms(step.loss, ac_weight=0.0, ac_g_entropy=0.5)
    assert t0.d(step, b) is None  # no zero-weighted term: D's head gets no gradient at all


def test_ac_balance_is_catgans_marginal_entropy_and_evens_out_the_classes():
    """G's AC terms: g_entropy E H[p(y|x)] - g_balance H[E p(y|x)] over the batch of fakes (hand-computed), and a
    gradient step on the balance term alone spreads a batch that sits on one class over the others."""
    logits = torch.tensor([[4.0, 0.0, 0.0], [3.0, 1.0, 0.0], [5.0, 0.0, 1.0], [2.0, 2.0, 0.0]], requires_grad=True)

    class Head:  # a D whose head gives these logits on any fakes
        def classify(self, x):
            return logits

    step = Step()
    step.D = Head()
    b = Batch(None, None, None, None, None, None)
    (t,) = build_terms(step.loss, ac_weight=0.0, ac_g_entropy=0.3, ac_g_balance=0.7)
    p = torch.softmax(logits, 1).detach()
    cond = -(p * p.log()).sum(1).mean()
    mean = p.mean(0)
    assert t.g(step, b).item() == pytest.approx((0.3 * cond - 0.7 * -(mean * mean.log()).sum()).item(), rel=1e-6)
    (only,) = build_terms(step.loss, ac_weight=0.0, ac_g_balance=1.0)
    before = torch.softmax(logits, 1).mean(0).detach()
    only.g(step, b).backward()
    with torch.no_grad():
        after = torch.softmax(logits - 1.0 * logits.grad, 1).mean(0)
    assert after[0] < before[0] and after.min() > before.min()  # class 0 gives way to the others


def test_ac_terms_come_from_the_config_only_with_the_head():
    cfg = c.from_dict({"model": {"ac_head": True}, "train": {"ac_g_entropy": 0.2, "ac_g_balance": 0.5}})
    (t,) = terms_for(cfg, build_loss("ns"))
    assert (t.name, t.weight, t.g_entropy, t.g_balance) == ("ac-head", 1.0, 0.2, 0.5)
    with pytest.raises(GanlabError, match=r"'train.ac_g_balance' = 0.5 needs D's class head: set model.ac_head=true"):
        c.load(None, ["train.ac_g_balance=0.5"])  # not silently ignored
    with pytest.raises(GanlabError, match=r"'train.ac_g_entropy' = 0.2 needs D's class head"):
        c.load(None, ["train.ac_g_entropy=0.2"])


def test_bcr_and_zcr_share_the_step():
    step = Step()
    cfg = c.load("configs/icr.yaml")
    bcr_t, zcr_t = build_terms(step.loss, consistency=cfg.consistency)
    assert (bcr_t.name, zcr_t.name) == ("bcr", "zcr")
    b = batch(step)
    assert bcr_t.d(step, b).item() >= 0
    assert zcr_t.d(step, b).item() >= 0 and "fake_z2" in b.scratch  # D's part makes what G's part uses
    assert zcr_t.g(step, b).item() <= 0  # G is rewarded for moving its image with z


def test_feature_matching_is_zero_on_reals():
    step = Step()
    (t,) = build_terms(step.loss, feature_matching=1.0)
    b = batch(step)
    b.fake = b.x
    assert t.g(step, b).item() == 0.0


def test_clip_bounds_d():
    step = Step()
    (t,) = build_terms(step.loss, clip_d=0.01)
    t.after_d(step)
    assert max(p.abs().max().item() for p in step.D.parameters()) <= 0.01


def test_unroll_view_differs_from_d_and_equals_it_at_k0():
    step = Step()
    (t,) = build_terms(step.loss, unroll=3, unroll_lr=0.5)
    b = batch(step)
    assert not torch.allclose(t.d_view(step, b), step.D(b.fake))
    t.k = 0
    assert torch.allclose(t.d_view(step, b), step.D(b.fake))


def test_a_config_builds_its_terms_in_the_steps_order():
    cfg = c.load("configs/icr.yaml", ["regularizers.gp=1", "train.feature_matching=0.1", "train.clip_d=0.5",
                                      "train.unroll=2", "train.latent_opt_alpha=0.5", "train.d_augment=[shift]"])
    names = [t.name for t in terms_for(cfg, build_loss("cn-lsgan"))]
    assert names == ["d-augment", "latent-opt", "image-term", "penalty", "bcr", "zcr", "feature-matching", "clip", "unroll"]


def test_every_registered_scheme_is_tested():
    # d-augment's tests: tests/test_d_augment.py
    tested = {"latent-opt", "image-term", "penalty", "ac-head", "bcr", "zcr", "feature-matching", "clip", "unroll",
              "d-augment"}
    assert set(SCHEMES) == tested
