"""Training schemes as terms of the step (pytorch/examples dcgan keeps the update one screen long; the schemes live
here). A term may change the D the step trains through (``wrap_d``, once, when the step is built), move the codes
before the step (``z``), add to D's loss (``d``), act after D's optimiser step (``after_d``), replace D's output on
the fakes as G sees it (``d_view``) and add to G's loss (``g``). GANStep calls every term's parts in the order of its
list, which ``build_terms`` fixes. A term that keeps state across steps (ADA's probability) returns it from
``state_dict`` for the checkpoint, and reports what to log per epoch from ``stats``.

A new scheme is one ``Term`` subclass registered here (``@register("name")``), a line in ``build_terms`` that
builds it from its settings, and its test (tests/test_terms.py checks that every registered scheme has one).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.nn.functional as F

from ..data.augment import compose, each_with_probability
from ..losses import consistency as cr
from ..losses.base import Loss
from ..losses.penalties import PENALTIES
from ..models.discriminators import per_sample
from ..registry import registrar
from .latent_opt import latent_step

SCHEMES: dict[str, type["Term"]] = {}
register = registrar(SCHEMES)


@dataclasses.dataclass
class Batch:
    """One step's tensors, shared by its terms: the real batch ``x`` (labels ``y``), the codes ``z``, the fakes and
    D's outputs on both; ``scratch`` carries what a term computes in D's part for its G part."""

    x: torch.Tensor
    z: torch.Tensor
    y: torch.Tensor | None
    fake: torch.Tensor
    d_real: torch.Tensor
    d_fake: torch.Tensor
    scratch: dict[str, Any] = dataclasses.field(default_factory=dict)


class Term:
    """A scheme's parts; each default does nothing. ``step`` is the GANStep (G, D, loss, optimisers, generator)."""

    name = "term"
    #: whether the G part differentiates through D's weights (unrolling does); otherwise they are frozen in G's step
    needs_d_weights_in_g = False

    def wrap_d(self, step, D: torch.nn.Module) -> torch.nn.Module:
        return D

    def z(self, step, z: torch.Tensor) -> torch.Tensor:
        return z

    def d(self, step, b: Batch) -> torch.Tensor | None:
        return None

    def after_d(self, step) -> None:
        pass

    def d_view(self, step, b: Batch) -> torch.Tensor | None:
        return None

    def g(self, step, b: Batch) -> torch.Tensor | None:
        return None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def stats(self) -> dict[str, float]:
        return {}


class AugmentedD(torch.nn.Module):
    """D after an augmentation: ``D(T(x))`` for every image it is shown in training (its ``features`` and
    ``classify`` too), with a fresh draw of T per call. Holds the trained D as ``inner``: the checkpoint keeps
    ``inner`` alone, so sampling and evaluation use D without T."""

    def __init__(self, D: torch.nn.Module, augment):
        super().__init__()
        self.inner, self.augment = D, augment

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(self.augment(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner.features(self.augment(x))

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner.classify(self.augment(x))


#: ADA adjusts p once per this many D steps (Karras et al. 2020: every 4 minibatches)
ADA_INTERVAL = 4


@register("d-augment")
class DAugment(Term):
    """Differentiable augmentation of everything D sees (DiffAugment, Zhao et al. 2020; ADA, Karras et al. 2020): D is
    trained and G is trained through ``D(T(x))``, reals and fakes alike, so D cannot memorise the training images and
    G is not taught the augmentations. Each of ``names`` is applied to an image with probability ``p``. With a
    ``target`` (ADA), p starts at ``p`` and follows the overfitting measure r = E[sign D(T(x_real))], the mean over the
    real images of every ``ADA_INTERVAL`` D steps: p += sign(r - target) * (images in the interval) / (kimg * 1000),
    within [0, 1]; so p can go from 0 to 1 in ``kimg`` thousand real images. A phase of ``train.phases`` begins as a
    warm start does, with p at its start again."""

    def __init__(self, names: list[str], p: float, target: float = 0.0, kimg: float = 500.0):
        self.names, self.target, self.kimg = list(names), target, kimg
        self.p = torch.tensor(float(p))
        self.apply = each_with_probability(self.names)
        self._signs, self._steps, self._images = torch.zeros(()), 0, 0

    def wrap_d(self, step, D):
        device = next(D.parameters()).device
        self.p, self._signs = self.p.to(device), self._signs.to(device)
        fixed = float(self.p) if not self.target else None  # a fixed p is a number: p = 1 draws no coins
        return AugmentedD(D, lambda x: self.apply(x, fixed if fixed is not None else self.p, step.generator))

    def d(self, step, b):
        if self.target:  # ADA's controller; on the device, no host sync
            with torch.no_grad():
                self._signs = self._signs + torch.sign(b.d_real.float()).sum()
                self._steps, self._images = self._steps + 1, self._images + len(b.x)
                if self._steps == ADA_INTERVAL:
                    r = self._signs / self._images  # the mean over the interval's images
                    self.p = (self.p + torch.sign(r - self.target) * (self._images / (self.kimg * 1000))).clamp(0, 1)
                    self._signs, self._steps, self._images = torch.zeros_like(self._signs), 0, 0
        return None

    def state_dict(self) -> dict:
        return {"p": self.p.clone(), "signs": self._signs.clone(), "steps": self._steps, "images": self._images}

    def load_state_dict(self, state: dict) -> None:
        self.p.copy_(state["p"])
        self._signs.copy_(state["signs"])
        self._steps, self._images = int(state["steps"]), int(state["images"])

    def stats(self) -> dict[str, float]:
        return {"d_augment_p": float(self.p)}


@register("latent-opt")
class LatentOpt(Term):
    """LOGAN (Wu et al. 2019): each code takes one natural-gradient step on D(G(z)) before the step uses it (or
    ``steps`` such steps, each from where the last one ended)."""

    def __init__(self, alpha: float, beta: float, steps: int = 1):
        self.alpha, self.beta, self.steps = alpha, beta, steps

    def z(self, step, z):
        for _ in range(self.steps):
            z = latent_step(step.G, step.D, z, self.alpha, self.beta)
        return z


@register("image-term")
class ImageTerm(Term):
    """A loss's own term on G's images (CN-LSGAN's reconstruction constraint)."""

    def __init__(self, loss: Loss):
        self.loss = loss

    def g(self, step, b):
        return self.loss.g_image_term(b.fake, b.x)


@register("penalty")
class Penalty(Term):
    """A gradient penalty on D (``gp``: WGAN-GP on interpolates, ``r1`` on reals, ``r2`` on fakes), weighted."""

    def __init__(self, kind: str, weight: float):
        self.kind, self.weight = kind, weight

    def d(self, step, b):
        return self.weight * PENALTIES[self.kind](step.D, b.x, b.fake, step.generator)


@register("ac-head")
class ACHead(Term):
    """An auxiliary classifier on D's features (AC-GAN): D learns the real labels (``weight``); with ``g_entropy``
    G is pushed towards images the head is sure about, each on its own (nothing in it rewards covering the classes;
    docs/RESULTS.md §12.3 measures the head's class balance with and without it); with ``g_balance`` G also
    maximises the entropy of the head's mean prediction over each batch of fakes, which pulls towards using all
    classes equally (CatGAN; a push within each batch, weaker the smaller the batch, not a guarantee)."""

    def __init__(self, weight: float, g_entropy: float = 0.0, g_balance: float = 0.0):
        self.weight, self.g_entropy, self.g_balance = weight, g_entropy, g_balance

    def d(self, step, b):
        return self.weight * F.cross_entropy(step.D.classify(b.x), b.y) if self.weight and b.y is not None else None

    def g(self, step, b):
        if not (self.g_entropy or self.g_balance):
            return None
        logp = F.log_softmax(step.D.classify(b.fake), 1)
        p = logp.exp()
        loss = self.g_entropy * -(p * logp).sum(1).mean() if self.g_entropy else 0.0
        if self.g_balance:
            mean = p.mean(0)
            loss = loss - self.g_balance * -(mean * mean.clamp_min(1e-12).log()).sum()
        return loss


@register("bcr")
class BalancedConsistency(Term):
    """bCR (Zhao et al. 2020): D's outputs on reals and fakes stay put under an augmentation of them."""

    def __init__(self, settings):
        self.c = settings
        self.augment = compose(settings.augment)

    def d(self, step, b):
        c = self.c
        return cr.bcr(step.D, b.x, b.fake.detach(), self.augment, c.bcr_real, c.bcr_fake, step.generator,
                      b.d_real, b.d_fake)


@register("zcr")
class LatentConsistency(Term):
    """zCR (Zhao et al. 2020): D stays put and G's image moves under a small change of z (sigma)."""

    def __init__(self, settings):
        self.c = settings

    def d(self, step, b):
        c = self.c
        b.scratch["fake_z2"] = step.G(cr.perturb(b.z, c.zcr_sigma, step.generator))
        return cr.zcr_d(step.D, b.fake.detach(), b.scratch["fake_z2"].detach(), c.zcr_dis, b.d_fake) \
            if c.zcr_dis else None

    def g(self, step, b):
        return cr.zcr_g(b.fake, b.scratch["fake_z2"], self.c.zcr_gen) if self.c.zcr_gen else None


@register("feature-matching")
class FeatureMatching(Term):
    """G matches the mean of D's last hidden features on reals (Salimans et al. 2016)."""

    def __init__(self, weight: float):
        self.weight = weight

    def g(self, step, b):
        diff = step.D.features(b.x).mean(0).detach() - step.D.features(b.fake).mean(0)
        return self.weight * (diff ** 2).sum()


@register("clip")
class WeightClip(Term):
    """WGAN's weight clipping of D to [-c, c] after each of its steps."""

    def __init__(self, c: float):
        self.c = c

    def after_d(self, step):
        with torch.no_grad():
            for p in step.D.parameters():
                if p.requires_grad:  # a frozen pretrained part of D (classifier-features) keeps its weights
                    p.clamp_(-self.c, self.c)


def unrolled_d_output(D, loss: Loss, x: torch.Tensor, fake: torch.Tensor, k: int, lr: float,
                      opt: torch.optim.Optimizer | None = None) -> torch.Tensor:
    """D(fake) after ``k`` simulated steps of D's optimiser on (x, fake), differentiable through the
    steps (Metz et al. 2017, unrolled GAN): G then optimises against the discriminator it is about to
    face. With an Adam ``opt`` the steps are Adam steps continuing its moment estimates (as the paper
    unrolls Adam), with step size ``lr``; otherwise plain gradient steps. D itself is not changed.
    """
    names, params = zip(*[(n, p) for n, p in D.named_parameters() if p.requires_grad])  # frozen parts stay as they are
    params = list(params)
    adam = isinstance(opt, torch.optim.Adam) and all(opt.state.get(p) for p in params)
    if adam:
        beta1, beta2 = opt.param_groups[0]["betas"]
        eps = opt.param_groups[0]["eps"]
        m = [opt.state[p]["exp_avg"] for p in params]
        v = [opt.state[p]["exp_avg_sq"] for p in params]
        t = float(opt.state[params[0]]["step"])
    current = params
    joint = per_sample(D)  # reals and fakes in one pass, as D's own step (training/step.py)
    for _ in range(k):
        state = dict(zip(names, current))
        if joint:
            both = torch.func.functional_call(D, state, (torch.cat([x, fake]),))
            d_loss = loss.d_loss(both[:len(x)], both[len(x):])
        else:
            d_loss = loss.d_loss(torch.func.functional_call(D, state, (x,)),
                                 torch.func.functional_call(D, state, (fake,)))
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


@register("unroll")
class Unroll(Term):
    """Unrolled GAN (Metz et al. 2017): G is trained against D after ``k`` simulated steps of D's optimiser."""

    needs_d_weights_in_g = True  # the simulated D steps are differentiated in D's weights

    def __init__(self, k: int, lr: float):
        self.k, self.lr = k, lr

    def d_view(self, step, b):
        return unrolled_d_output(step.D, step.loss, b.x, b.fake, self.k, self.lr, step.opt_d)


def build_terms(loss: Loss, *, penalties=(), clip_d: float = 0.0, unroll: int = 0, unroll_lr: float = 0.0,
                consistency=None, feature_matching: float = 0.0, ac_weight: float = 0.0, ac_g_entropy: float = 0.0,
                ac_g_balance: float = 0.0,
                latent_opt: tuple = (0.0, 0.0), d_augment: tuple = ((), 1.0, 0.0, 500.0)) -> list[Term]:
    """The terms of a step from its settings, in the order the step applies them (D's loss: penalties, AC head,
    bCR, zCR; G's loss: the loss's image term, AC entropy, zCR, feature matching). ``d_augment`` is (names, p,
    ADA target, ADA kimg); no names = off."""
    terms: list[Term] = []
    if d_augment[0]:
        terms.append(DAugment(*d_augment))
    if latent_opt[0]:
        terms.append(LatentOpt(*latent_opt))
    if type(loss).g_image_term is not Loss.g_image_term:
        terms.append(ImageTerm(loss))
    terms += [Penalty(kind, weight) for kind, weight in penalties]
    if ac_weight or ac_g_entropy or ac_g_balance:
        terms.append(ACHead(ac_weight, ac_g_entropy, ac_g_balance))
    if consistency is not None and (consistency.bcr_real or consistency.bcr_fake):
        terms.append(BalancedConsistency(consistency))
    if consistency is not None and (consistency.zcr_dis or consistency.zcr_gen):
        terms.append(LatentConsistency(consistency))
    if feature_matching:
        terms.append(FeatureMatching(feature_matching))
    if clip_d:
        terms.append(WeightClip(clip_d))
    if unroll:
        terms.append(Unroll(unroll, unroll_lr))
    return terms


def terms_for(cfg, loss: Loss) -> list[Term]:
    """The terms a training config asks for."""
    return build_terms(
        loss, penalties=[(n, w) for n, w in dataclasses.asdict(cfg.regularizers).items() if w],
        clip_d=cfg.train.clip_d, unroll=cfg.train.unroll, unroll_lr=cfg.train.unroll_lr or cfg.optim.lr_d,
        consistency=cfg.consistency, feature_matching=cfg.train.feature_matching,
        ac_weight=cfg.train.ac_weight if cfg.model.ac_head else 0.0,
        ac_g_entropy=cfg.train.ac_g_entropy if cfg.model.ac_head else 0.0,
        ac_g_balance=cfg.train.ac_g_balance if cfg.model.ac_head else 0.0,
        latent_opt=(cfg.train.latent_opt_alpha, cfg.train.latent_opt_beta, cfg.train.latent_opt_steps),
        d_augment=(cfg.train.d_augment, cfg.train.d_augment_p, cfg.train.ada_target, cfg.train.ada_kimg))
