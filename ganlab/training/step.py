"""One training step, shared by every loop (MNIST and the 2-d toys): a D update and, every
``n_critic`` D updates, a G update on the same fakes through the updated D (as pytorch/examples
dcgan does); every scheme is a term (training/terms.py). Statistics accumulate into a device tensor: no host
sync per step."""
from __future__ import annotations

import contextlib

import torch

from ..losses.base import Loss
from ..models.discriminators import per_sample
from .terms import Batch, Term, build_terms

#: slots of the statistics tensor
LOSS_D, LOSS_G, D_REAL, D_FAKE, N_G = range(5)


class GANStep:
    """The update: D on (x, G(z)), then every ``n_critic`` D updates G on the same fakes through the updated D.
    The schemes are ``terms`` (training/terms.py); without ``terms``, the keyword settings of ``build_terms``
    (penalties, clip_d, unroll, ...) build them."""

    def __init__(self, G, D, loss: Loss, opt_g, opt_d, *, terms: list[Term] | None = None, n_critic: int = 1,
                 ema=None, autocast=contextlib.nullcontext, generator: torch.Generator | None = None, **settings):
        self.G, self.loss, self.opt_g, self.opt_d = G, loss, opt_g, opt_d
        self.terms = list(terms) if terms is not None else build_terms(loss, **settings)
        self.n_critic, self.ema, self.autocast, self.generator = n_critic, ema, autocast, generator
        for t in self.terms:  # the D every part of the step sees (D(T(x)) with an augmentation term)
            D = t.wrap_d(self, D)
        self.D = D
        # G's step needs D's input gradient only, unless a term differentiates through D's weights (unrolling)
        self.freeze_d = not any(t.needs_d_weights_in_g for t in self.terms)
        # D's step shows it the reals and the fakes in one pass of 2N where its outputs are per sample (and no term
        # wraps it): the same numbers up to the order of floating-point sums (with dropout, masks drawn in another
        # order: the same distribution), and one pass instead of two with their weight gradients summed (session 21,
        # one thread: the MLP pair's D step 1.3-1.6x faster)
        self.joint = per_sample(D)

    @staticmethod
    def stats(device) -> torch.Tensor:
        return torch.zeros(5, device=device)

    def __call__(self, x: torch.Tensor, z: torch.Tensor, step: int, acc: torch.Tensor,
                 y: torch.Tensor | None = None) -> None:
        """Update D on (x, G(z)); if ``step`` (1-based count of D updates) is a multiple of n_critic, update G.
        ``y`` (real labels) feeds D's auxiliary classifier head when it has one."""
        G, D, loss, terms = self.G, self.D, self.loss, self.terms
        for t in terms:
            z = t.z(self, z)
        with self.autocast():
            # fp32 out of autocast, as D's outputs: the terms (penalties on fakes, augmentations) run outside it, and
            # D's first layer casts it back to the same bf16 values inside it. Forward values are unchanged; where the
            # fake is used more than once (unrolling, CN-LSGAN's image term, ADA's augmentation) its gradient now
            # sums in fp32 before one rounding (bf16 runs of those presets differ from before session 18's change)
            fake = G(z).float()
            if self.joint:
                both = D(torch.cat([x, fake.detach()])).float()
                d_real, d_fake = both[:len(x)], both[len(x):]
            else:
                d_real, d_fake = D(x).float(), D(fake.detach()).float()
        b = Batch(x, z, y, fake, d_real, d_fake)
        loss_d = _plus(loss.d_loss(d_real, d_fake), (t.d(self, b) for t in terms))
        _descend(self.opt_d, loss_d)
        for t in terms:
            t.after_d(self)
        with torch.no_grad():
            acc[LOSS_D] += loss_d.detach()
            acc[D_REAL] += loss.score(d_real).mean()
            acc[D_FAKE] += loss.score(d_fake).mean()
        if step % self.n_critic:
            return
        with _frozen(D) if self.freeze_d else contextlib.nullcontext():
            with self.autocast():
                views = [v for v in (t.d_view(self, b) for t in terms) if v is not None]
                d_fake_g = (views[0] if views else D(fake)).float()
                if loss.g_needs_real:  # a relativistic loss: the reals through the updated D (no gradient needed)
                    with torch.no_grad():
                        d_real_g = D(x).float()
            loss_g = _plus(loss.g_loss(d_fake_g, d_real_g) if loss.g_needs_real else loss.g_loss(d_fake_g),
                           (t.g(self, b) for t in terms))
            _descend(self.opt_g, loss_g)
        if self.ema:
            self.ema.update(G)
        acc[LOSS_G] += loss_g.detach()
        acc[N_G] += 1


@contextlib.contextmanager
def _frozen(net: torch.nn.Module):
    """``net``'s trainable parameters do not require grad inside the block: a backward pass through ``net`` computes
    the gradient for its input but skips its weight gradients (in G's step, the weight gradients of D were computed
    and thrown away by D's next zero_grad: 9 % of a step's multiply-adds on the MLP pair). G's gradients are the same
    bit for bit."""
    params = [p for p in net.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _plus(total: torch.Tensor, extras) -> torch.Tensor:
    """``total`` plus each term's part that is not None, in order (the order fixes the floating-point sum)."""
    for extra in extras:
        if extra is not None:
            total = total + extra
    return total


def _descend(opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
