"""One training step, shared by every loop (MNIST and the 2-d toys): a D update and, every
``n_critic`` D updates, a G update on the same fakes through the updated D (as pytorch/examples
dcgan does). Statistics accumulate into a device tensor: no host sync per step."""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F

from ..data.augment import compose
from ..losses import consistency
from ..losses.base import Loss
from ..losses.penalties import PENALTIES
from .latent_opt import latent_step

#: slots of the statistics tensor
LOSS_D, LOSS_G, D_REAL, D_FAKE, N_G = range(5)


def unrolled_d_output(D, loss: Loss, x: torch.Tensor, fake: torch.Tensor, k: int, lr: float,
                      opt: torch.optim.Optimizer | None = None) -> torch.Tensor:
    """D(fake) after ``k`` simulated steps of D's optimiser on (x, fake), differentiable through the
    steps (Metz et al. 2017, unrolled GAN): G then optimises against the discriminator it is about to
    face. With an Adam ``opt`` the steps are Adam steps continuing its moment estimates (as the paper
    unrolls Adam), with step size ``lr``; otherwise plain gradient steps. D itself is not changed.
    """
    names, params = zip(*D.named_parameters())
    params = list(params)
    adam = isinstance(opt, torch.optim.Adam) and all(opt.state.get(p) for p in params)
    if adam:
        beta1, beta2 = opt.param_groups[0]["betas"]
        eps = opt.param_groups[0]["eps"]
        m = [opt.state[p]["exp_avg"] for p in params]
        v = [opt.state[p]["exp_avg_sq"] for p in params]
        t = float(opt.state[params[0]]["step"])
    current = params
    for _ in range(k):
        state = dict(zip(names, current))
        d_loss = loss.d_loss(torch.func.functional_call(D, state, (x,)), torch.func.functional_call(D, state, (fake,)))
        grads = torch.autograd.grad(d_loss, current, create_graph=True)
        if adam:
            t += 1
            m = [beta1 * mi + (1 - beta1) * g for mi, g in zip(m, grads)]
            v = [beta2 * vi + (1 - beta2) * g * g for vi, g in zip(v, grads)]
            c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
            current = [p - lr * (mi / c1) / ((vi / c2 + 1e-16).sqrt() + eps) for p, mi, vi in zip(current, m, v)]
        else:
            current = [p - lr * g for p, g in zip(current, grads)]
    return torch.func.functional_call(D, dict(zip(names, current)), (fake,))


class GANStep:
    def __init__(self, G, D, loss: Loss, opt_g, opt_d, *, penalties=(), n_critic: int = 1, clip_d: float = 0.0,
                 ema=None, autocast=contextlib.nullcontext, generator: torch.Generator | None = None,
                 unroll: int = 0, unroll_lr: float = 0.0, consistency=None, feature_matching: float = 0.0,
                 ac_weight: float = 0.0, ac_g_entropy: float = 0.0, latent_opt: tuple[float, float] = (0.0, 0.0)):
        self.G, self.D, self.loss, self.opt_g, self.opt_d = G, D, loss, opt_g, opt_d
        self.penalties, self.n_critic, self.clip_d = list(penalties), n_critic, clip_d
        self.ema, self.autocast, self.generator = ema, autocast, generator
        self.unroll, self.unroll_lr = unroll, unroll_lr
        self.cr = consistency if consistency is not None and (
            consistency.bcr_real or consistency.bcr_fake or consistency.zcr_dis or consistency.zcr_gen) else None
        self.augment = compose(consistency.augment) if self.cr else None
        self.feature_matching = feature_matching
        self.ac_weight, self.ac_g_entropy = ac_weight, ac_g_entropy
        self.latent_opt = latent_opt  # (alpha, beta) of LOGAN's step on z; alpha 0 = off

    @staticmethod
    def stats(device) -> torch.Tensor:
        return torch.zeros(5, device=device)

    def __call__(self, x: torch.Tensor, z: torch.Tensor, step: int, acc: torch.Tensor,
                 y: torch.Tensor | None = None) -> None:
        """Update D on (x, G(z)); if ``step`` (1-based count of D updates) is a multiple of n_critic, update G.
        ``y`` (real labels) feeds D's auxiliary classifier head when it has one."""
        G, D, loss = self.G, self.D, self.loss
        z = latent_step(G, D, z, *self.latent_opt)  # z itself when alpha is 0
        with self.autocast():
            fake = G(z)
            d_real, d_fake = D(x).float(), D(fake.detach()).float()
        loss_d = loss.d_loss(d_real, d_fake)
        for name, weight in self.penalties:
            loss_d = loss_d + weight * PENALTIES[name](D, x, fake, self.generator)
        if self.ac_weight and y is not None:
            loss_d = loss_d + self.ac_weight * F.cross_entropy(D.classify(x), y)
        cr, fake_z2 = self.cr, None
        if cr:
            if cr.bcr_real or cr.bcr_fake:
                loss_d = loss_d + consistency.bcr(D, x, fake.detach(), self.augment, cr.bcr_real, cr.bcr_fake,
                                                  self.generator, d_real, d_fake)
            if cr.zcr_dis or cr.zcr_gen:
                fake_z2 = G(consistency.perturb(z, cr.zcr_sigma, self.generator))
                if cr.zcr_dis:
                    loss_d = loss_d + consistency.zcr_d(D, fake.detach(), fake_z2.detach(), cr.zcr_dis, d_fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        if self.clip_d:
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-self.clip_d, self.clip_d)
        with torch.no_grad():
            acc[LOSS_D] += loss_d.detach()
            acc[D_REAL] += loss.score(d_real).mean()
            acc[D_FAKE] += loss.score(d_fake).mean()
        if step % self.n_critic == 0:
            with self.autocast():
                if self.unroll:
                    d_fake_g = unrolled_d_output(D, loss, x, fake, self.unroll, self.unroll_lr, self.opt_d).float()
                else:
                    d_fake_g = D(fake).float()
            loss_g = loss.g_loss(d_fake_g)
            image_term = loss.g_image_term(fake, x)
            if image_term is not None:
                loss_g = loss_g + image_term
            if cr and cr.zcr_gen:
                loss_g = loss_g + consistency.zcr_g(fake, fake_z2, cr.zcr_gen)
            if self.ac_g_entropy:
                logp = F.log_softmax(D.classify(fake), 1)
                loss_g = loss_g + self.ac_g_entropy * -(logp.exp() * logp).sum(1).mean()
            if self.feature_matching:
                diff = D.features(x).mean(0).detach() - D.features(fake).mean(0)
                loss_g = loss_g + self.feature_matching * (diff ** 2).sum()
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
            if self.ema:
                self.ema.update(G)
            acc[LOSS_G] += loss_g.detach()
            acc[N_G] += 1
