import math

import pytest
import torch

from ganlab.errors import GanlabError
from ganlab.losses import LOSSES, build_loss

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def sp(x):  # softplus by hand
    return math.log1p(math.exp(x))


def sig(x):
    return 1 / (1 + math.exp(-x))


CASES = {
    # name: (hand-computed D loss, hand-computed G loss) on REAL, FAKE
    "ns": ((-math.log(sig(2)) - math.log(sig(-1))) / 2 + (-math.log(1 - sig(0.5)) - math.log(1 - sig(-3))) / 2,
           (-math.log(sig(0.5)) - math.log(sig(-3))) / 2),
    "saturating": ((sp(-2) + sp(1)) / 2 + (sp(0.5) + sp(-3)) / 2,
                   (math.log(1 - sig(0.5)) + math.log(1 - sig(-3))) / 2),
    "wgan": ((0.5 - 3) / 2 - (2 - 1) / 2, -(0.5 - 3) / 2),
    "lsgan": (0.5 * ((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + 0.5 * (0.5 ** 2 + 3 ** 2) / 2,
              0.5 * ((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2),
    "hinge": ((max(0, 1 - 2) + max(0, 1 + 1)) / 2 + (max(0, 1 + 0.5) + max(0, 1 - 3)) / 2, -(0.5 - 3) / 2),
    "lsgan-sigmoid": (((sig(2) - 1) ** 2 + (sig(-1) - 1) ** 2) / 2 + (sig(0.5) ** 2 + sig(-3) ** 2) / 2,
                      ((sig(0.5) - 1) ** 2 + (sig(-3) - 1) ** 2) / 2),
    "cn-lsgan": (((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + (0.5 ** 2 + 3 ** 2) / 2, ((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2),
    # pairs (2, 0.5) and (-1, -3): D softplus(fake - real), G softplus(real - fake)
    "rpgan": ((sp(0.5 - 2) + sp(-3 + 1)) / 2, (sp(2 - 0.5) + sp(-1 + 3)) / 2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_against_hand_computed_values(name):
    loss = build_loss(name)
    d_expected, g_expected = CASES[name]
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(d_expected, rel=1e-6)
    g = loss.g_loss(FAKE, REAL) if loss.g_needs_real else loss.g_loss(FAKE)
    assert g.item() == pytest.approx(g_expected, rel=1e-6)


def test_a_relativistic_g_step_pairs_each_fake_with_its_real_through_the_updated_d():
    """rpgan: G's update is the gradient of mean softplus(D(x) - D(G(z))) with D already updated in the same step,
    each fake paired with the real at its batch position (a G step that ignored the reals would differ)."""
    from ganlab.training.step import GANStep

    torch.manual_seed(0)
    G, D = torch.nn.Linear(3, 4), torch.nn.Sequential(torch.nn.Linear(4, 1), torch.nn.Flatten(0))
    x, z = torch.randn(5, 4), torch.randn(5, 3)
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)
    loss = build_loss("rpgan")
    Dw = [p.detach().clone() for p in D.parameters()]
    Gw = [p.detach().clone() for p in G.parameters()]
    GANStep(G, D, loss, opt_g, opt_d)(x, z, 1, GANStep.stats("cpu"))
    # by hand: D's SGD step on softplus(D(G(z)) - D(x)), then G's on softplus(D'(x) - D'(G(z)))
    G2, D2 = torch.nn.Linear(3, 4), torch.nn.Sequential(torch.nn.Linear(4, 1), torch.nn.Flatten(0))
    with torch.no_grad():
        for p, w in zip(list(G2.parameters()) + list(D2.parameters()), Gw + Dw):
            p.copy_(w)
    fake = G2(z).detach()
    torch.nn.functional.softplus(D2(fake) - D2(x)).mean().backward()
    with torch.no_grad():
        for p in D2.parameters():
            p -= 0.1 * p.grad
    torch.nn.functional.softplus(D2(x).detach() - D2(G2(z))).mean().backward()
    with torch.no_grad():
        expected = [p - 0.1 * p.grad for p in G2.parameters()]
    for p, e in zip(G.parameters(), expected):
        assert torch.allclose(p, e, atol=1e-6)
    for p, e in zip(D.parameters(), D2.parameters()):
        assert torch.allclose(p, e, atol=1e-6)


def test_every_registered_loss_is_tested():
    assert set(LOSSES) == set(CASES) | {"md-gan"}


def test_mdgan_simplex_and_loss_values():
    from ganlab.losses.mdgan import simplex_vertices

    for d in (2, 5):
        mu = simplex_vertices(d, 4.0)
        dist = torch.cdist(mu, mu)
        assert mu.shape == (d + 1, d)
        assert torch.allclose(dist[~torch.eye(d + 1, dtype=bool)], torch.tensor(4.0), atol=1e-5)
        assert torch.allclose(mu.mean(0), torch.zeros(d), atol=1e-6)
    loss = build_loss("md-gan", d_out=2, distance=4.0)
    mu = loss.means
    # lambda = max lk; 4 sigma apart the maximum sits (within 1e-5) at a vertex: lk(mu_0) = 1/3 (1 + 2 exp(-16 / 2))
    lam = (1 + 2 * math.exp(-8)) / 3
    assert loss.lam == pytest.approx(lam, rel=1e-5) and loss.lam >= lam
    far = torch.full((3, 2), 1e3)
    assert loss.d_loss(mu, far).item() == pytest.approx(-2 * math.log(lam), rel=1e-5)
    assert loss.g_loss(mu).item() == pytest.approx(-math.log(lam), rel=1e-5)
    assert torch.allclose(loss.score(mu), torch.ones(3))


def test_mdgan_pull_survives_far_embeddings():
    """Embeddings 50 units from every mean (where D's MNIST embeddings were by epoch 5 of md-gan-s0): lk underflows
    to 0 in float32, yet log lk and its gradient are exact, so D and G keep learning. With log(lk + eps) the loss
    sat at -log(eps) with a zero gradient and the run froze."""
    loss = build_loss("md-gan", d_out=2, distance=4.0)
    e = torch.tensor([[50.0, 7.0]], requires_grad=True)
    d2 = ((e.detach().double() - loss.means.double()) ** 2).sum(1)  # squared distances, by hand in float64
    expected = -(torch.logsumexp(-0.5 * d2, 0) - math.log(3)).item()
    assert loss.likelihood(e).item() == 0.0  # the underflow itself
    g = loss.g_loss(e)
    assert g.item() == pytest.approx(expected, rel=1e-5)
    (grad,) = torch.autograd.grad(g, e)
    nearest = loss.means[d2.argmin()]
    assert torch.isfinite(grad).all() and grad.norm() > 1  # d/de of d2_min / 2: (e - nearest mean)
    assert torch.allclose(grad[0], e.detach()[0] - nearest, rtol=1e-3)
    (grad_d,) = torch.autograd.grad(loss.d_loss(e, torch.zeros(1, 2)), e)
    assert torch.allclose(grad_d[0], e.detach()[0] - nearest, rtol=1e-3)  # D pulls real embeddings back too


def test_unknown_loss():
    with pytest.raises(GanlabError, match="accepted: cn-lsgan, hinge, lsgan, lsgan-sigmoid, md-gan, ns, rpgan, saturating, wgan"):
        build_loss("nope")


def test_cn_lsgan_image_term():
    loss = build_loss("cn-lsgan", lambda2=0.5)
    fake, real = torch.zeros(2, 4), torch.ones(2, 4)
    assert loss.g_image_term(fake, real).item() == pytest.approx(0.5 * 1.0)
    assert build_loss("ns").g_image_term(fake, real) is None
