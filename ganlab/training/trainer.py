"""The Trainer (after Mimicry's): one object owns everything training changes — G, D, the latent prior, G's EMA copy,
both optimisers, the lr schedules, the data-order generator, torch's global RNG and the counters — and
``state_dict()`` / ``load_state_dict()`` are the one checkpoint schema (``checkpoint.Checkpoint``). ``train_epoch``
runs one pass over the data through the step (training/step.py); the run directory, logging and evaluation stay in
``loop.train``."""
from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from ..errors import GanlabError
from ..io import check_finite
from ..latent import build_prior
from ..losses import build_loss
from ..models import Generator, build_discriminator
from ..checkpoint import Checkpoint
from .config import Config, phase_config, phase_epochs
from .ema import EMA
from .schedules import build_schedule, step_schedule
from .step import GANStep
from .terms import terms_for

CHECK_EVERY = 100  # steps between finiteness checks (each one is a host sync)


def build_optimizer(cfg, params, lr: float, fused: bool = True) -> torch.optim.Optimizer:
    # the fused kernels are ~25 % faster per step on this 3M-parameter pair (benchmarks/train_speed.py)
    if cfg.optim.name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=cfg.optim.betas, fused=fused or None)
    return torch.optim.RMSprop(params, lr=lr)


Nets = tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]


def mnist_nets(cfg: Config) -> Nets:
    """The fixed generator, the config's discriminator and latent prior (the MNIST loop's networks)."""
    G = Generator()
    D = build_discriminator(cfg.model.discriminator, spectral_norm=cfg.model.spectral_norm, d_out=cfg.model.d_out,
                            ac_head=cfg.model.ac_head)
    return G, D, build_prior(cfg, torch.Generator().manual_seed(cfg.seed))


class Trainer:
    """``cfg`` is an MNIST config (training/config.py) or any config with the same ``seed``, ``optim`` and scheme keys
    (the 2-d toys' ``ToyConfig``). ``build_nets(cfg)`` returns (G, D, prior), called right after the seed is set
    (their initial weights come from it); ``periods`` is the number of times the lr schedules are stepped in the whole
    run (``train.epochs`` by default); ``fused`` selects Adam's fused kernel."""

    def __init__(self, cfg, device: torch.device, build_nets: Callable[[object], Nets] = mnist_nets,
                 periods: int | None = None, fused: bool = True):
        self.cfg, self.device, self.fused, self.periods = cfg, device, fused, periods
        torch.manual_seed(cfg.seed)  # G's and D's initial weights
        G, D, prior = build_nets(cfg)
        self.G, self.D, self.prior = G.to(device), D.to(device), prior.to(device)
        self.ema = EMA(self.G, cfg.train.ema) if cfg.train.ema else None
        self.rng_after_init = torch.get_rng_state()  # where a warm start's training begins: each phase starts here
        self.gen = torch.Generator(device=device).manual_seed(cfg.seed)  # data order, latents, the terms' noise
        self._configure(0)
        self.epoch, self.step, self.elapsed, self.best = 0, 0, 0.0, math.inf

    def _configure(self, index: int) -> None:
        """Optimisers, lr schedules, loss and step (with its terms) for phase ``index`` (training/config.py
        ``train.phases``; a run without phases has only phase 0, its whole config)."""
        phased = hasattr(self.cfg.train, "phases")  # the toys' config has none
        pc = phase_config(self.cfg, index) if phased else self.cfg
        device = self.device
        self.opt_g = build_optimizer(pc, list(self.G.parameters()) + list(self.prior.parameters()), pc.optim.lr_g,
                                     self.fused)
        self.opt_d = build_optimizer(pc, self.D.parameters(), pc.optim.lr_d, self.fused)
        if pc.train.precision not in ("fp32", "bf16"):  # config.validate resolves auto; a config built without it
            raise GanlabError(f"config key 'train.precision' = {pc.train.precision!r} reached training unresolved; "
                              f"read configs with ganlab.training.config.load (auto becomes fp32 or bf16 there)")
        autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if pc.train.precision == "bf16" \
            else contextlib.nullcontext
        periods = self.periods or (phase_epochs(self.cfg, index) if phased else self.cfg.train.epochs)
        self.schedules = [build_schedule(pc, self.opt_g, periods), build_schedule(pc, self.opt_d, periods)]
        self.loss = build_loss(pc.train.loss, d_out=pc.model.d_out, distance=pc.train.mdgan_distance,
                               lambda2=pc.train.cn_lambda2)
        self.step_fn = GANStep(self.G, self.D, self.loss, self.opt_g, self.opt_d, terms=terms_for(pc, self.loss),
                               n_critic=pc.train.n_critic, ema=self.ema, autocast=autocast, generator=self.gen)
        self.phase = index

    def enter_phase(self, index: int, fresh: bool = True) -> None:
        """Switch to phase ``index``. ``fresh``: as a warm start would begin it (new optimisers and schedules, torch's
        RNG and the data-order generator as right after the networks were built); otherwise only its settings, for
        a checkpoint of that phase to be loaded into."""
        self._configure(index)
        if fresh:
            torch.set_rng_state(self.rng_after_init)
            self.gen.manual_seed(self.cfg.seed)

    @property
    def G_out(self) -> torch.nn.Module:
        """The generator that is sampled and evaluated: G's EMA copy when kept, else G."""
        return self.ema.model if self.ema else self.G

    # ---------------------------------------------------------------- one pass over the data

    def train_epoch(self, real: torch.Tensor, labels: torch.Tensor, progress: bool = False) -> list[float]:
        """One epoch in a fresh random order; the sums of the step's statistics (training/step.py slots). Stops
        early, with non-finite sums, as soon as a periodic check sees the run diverge."""
        cfg = self.cfg
        self.G.train()
        self.D.train()
        acc = GANStep.stats(self.device)  # sums over the epoch, kept on the device
        n, bs = len(real), cfg.train.batch_size
        perm = torch.randperm(n, generator=self.gen, device=self.device)
        bar = tqdm(range(math.ceil(n / bs)), desc=f"epoch {self.epoch + 1}/{cfg.train.epochs}", leave=False,
                   disable=not progress, mininterval=1.0)
        for i in bar:
            self.train_step(real[perm[i * bs:(i + 1) * bs]], labels[perm[i * bs:(i + 1) * bs]], acc)
            if self.step % CHECK_EVERY == 0 and not torch.isfinite(acc).all():
                break
        bar.close()
        return acc.tolist()

    def train_step(self, real: torch.Tensor, labels: torch.Tensor, acc: torch.Tensor) -> None:
        """One step on a batch of real samples (and their labels), with latents drawn from the prior; adds the step's
        statistics to ``acc``."""
        self.step += 1
        self.step_fn(real, self.prior.sample(len(real), self.gen, self.device), self.step, acc, labels)

    def term_stats(self) -> dict[str, float]:
        """What the step's schemes log per epoch (ADA's probability)."""
        return {k: v for t in self.step_fn.terms for k, v in t.stats().items()}

    def step_schedules(self, metric: float | None) -> None:
        for sch in self.schedules:
            step_schedule(sch, metric)

    def broken(self) -> list[str]:
        """The networks with a non-finite weight."""
        return [name for name, net in (("G", self.G), ("D", self.D))
                if not all(torch.isfinite(p).all() for p in net.parameters())]

    # ---------------------------------------------------------------- the checkpoint schema

    def state_dict(self) -> dict:
        C = Checkpoint
        state = {C.G: self.G.state_dict(), C.D: self.D.state_dict(), C.PRIOR: self.prior.state_dict(),
                 C.OPT_G: self.opt_g.state_dict(), C.OPT_D: self.opt_d.state_dict(),
                 C.GEN_STATE: self.gen.get_state(), C.TORCH_RNG: torch.get_rng_state(),
                 C.EPOCH: self.epoch, C.STEP: self.step, C.ELAPSED: self.elapsed, C.BEST: self.best}
        if self.ema:
            state[C.G_EMA] = self.ema.model.state_dict()
        state[C.SCHEDULES] = [sch.state_dict() if sch is not None else {} for sch in self.schedules]
        terms = {t.name: kept for t in self.step_fn.terms if (kept := t.state_dict())}
        if terms:
            state[C.TERMS] = terms
        return state

    def load_state_dict(self, ck: Checkpoint) -> None:
        """Continue from a checkpoint written by ``state_dict`` (refusing one that is not, or holds non-finite
        weights)."""
        C, state = Checkpoint, ck.state
        if not ck.resumable:
            raise GanlabError(f"--resume: {ck.path} is not a ganlab training checkpoint (it lacks G, D, the "
                              f"optimisers or the RNG state); move it away to resume from an epoch_N.pt")
        check_finite(ck.generator("raw"), ck.path, "generator's weights")
        check_finite(ck.discriminator(), ck.path, "discriminator's weights")
        self.G.load_state_dict(ck.generator("raw"))
        if ck.prior() is not None:
            self.prior.load_state_dict(ck.prior())
        if self.ema:
            self.ema.model.load_state_dict(state[C.G_EMA])
        self.D.load_state_dict(ck.discriminator())
        self.opt_g.load_state_dict(state[C.OPT_G])
        self.opt_d.load_state_dict(state[C.OPT_D])
        for sch, sd in zip(self.schedules, state.get(C.SCHEDULES, [])):
            if sch is not None:
                sch.load_state_dict(sd)
        kept = state.get(C.TERMS, {})
        for t in self.step_fn.terms:
            if t.name in kept:
                t.load_state_dict(kept[t.name])
        self.gen.set_state(state[C.GEN_STATE])
        torch.set_rng_state(state[C.TORCH_RNG])
        self.epoch, self.step, self.elapsed = state[C.EPOCH], state[C.STEP], state[C.ELAPSED]
        self.best = state.get(C.BEST, math.inf)

    def warm_start(self, path: str | os.PathLike) -> None:
        """Start from another run's G, D, prior and G's EMA (G's weights when the source kept no EMA); the
        optimisers, counters and RNG start fresh."""
        path = Path(path)
        if not path.is_file():
            raise GanlabError(f"config key 'train.init_from': {path} is not a file; accepted: a checkpoint written by "
                              f"ganlab train, e.g. runs/NAME/checkpoints/last.pt")
        try:
            ck = Checkpoint.load(path)
        except GanlabError:  # not a torch file, or one that needs code to load
            raise GanlabError(f"config key 'train.init_from': {path} cannot be read as a checkpoint; accepted: a "
                              f"checkpoint written by ganlab train") from None
        if not Checkpoint.holds_generator(ck.state) or not isinstance(ck.state.get(Checkpoint.D), dict):
            raise GanlabError(f"config key 'train.init_from': {path} is not a ganlab training checkpoint "
                              f"(it holds no G and D); accepted: runs/NAME/checkpoints/*.pt")
        parts = [(self.G, ck.generator("raw"), "G"), (self.D, ck.discriminator(), "D")]
        if ck.prior() is not None:
            parts.append((self.prior, ck.prior(), "the latent prior"))
        if self.ema:
            parts.append((self.ema.model, ck.generator("ema"), "G's EMA"))
        for module, state, name in parts:
            try:
                module.load_state_dict(state)
            except RuntimeError as e:
                first = str(e).strip().splitlines()[-1].strip()
                raise GanlabError(f"config key 'train.init_from': {name} in {path} does not fit this config's "
                                  f"model ({first}); use a checkpoint of a run with the same discriminator and "
                                  f"prior") from None
