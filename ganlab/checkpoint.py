"""The one checkpoint schema of a training run (``last.pt``, ``best.pt``, ``epoch_N.pt``): its keys and the accessors
every reader uses. A leaf module (it imports only io and errors), so the platform import in models/ can use it too."""
from __future__ import annotations

import os
from pathlib import Path

from .io import torch_load


class Checkpoint:
    """The one checkpoint schema: what ``training.trainer.Trainer.state_dict`` writes to ``last.pt``, ``best.pt`` and
    ``epoch_N.pt``. Its keys are spelled here only; every reader (sampling, samplers, bundles, the platform import,
    resume and warm start) goes through these names and accessors."""

    G, G_EMA, D, PRIOR = "G", "G_ema", "D", "prior"
    OPT_G, OPT_D, SCHEDULES = "opt_g", "opt_d", "schedules"
    GEN_STATE, TORCH_RNG = "gen_state", "torch_rng"
    EPOCH, STEP, ELAPSED, BEST = "epoch", "step", "elapsed", "best"
    #: the state a training scheme keeps across steps, by scheme name (ADA's probability); absent when none keeps any
    TERMS = "terms"
    #: what a checkpoint needs to continue training (the others are optional: EMA, prior, schedules, best)
    RESUMABLE = frozenset({G, D, OPT_G, OPT_D, GEN_STATE, EPOCH})

    def __init__(self, state, path: str | os.PathLike):
        self.state, self.path = state, Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Checkpoint":
        """Read a checkpoint without executing code (``io.torch_load``: a bad file is a one-line error)."""
        return cls(torch_load(path), path)

    @staticmethod
    def holds_generator(state) -> bool:
        """A ganlab checkpoint (as opposed to a bare state_dict such as a platform G.pth)."""
        return isinstance(state, dict) and isinstance(state.get(Checkpoint.G), dict)

    @property
    def resumable(self) -> bool:
        return isinstance(self.state, dict) and self.RESUMABLE <= self.state.keys()

    @property
    def has_ema(self) -> bool:
        return self.G_EMA in self.state

    def generator(self, weights: str = "ema") -> dict:
        """G's state_dict: its EMA copy when ``weights`` is ``ema`` and the run kept one, else the trained weights."""
        return (self.state.get(self.G_EMA) if weights == "ema" else None) or self.state[self.G]

    def discriminator(self) -> dict:
        return self.state[self.D]

    def prior(self) -> dict | None:
        """The latent prior's state_dict, or None (checkpoints written before priors existed: N(0, I))."""
        return self.state.get(self.PRIOR)
