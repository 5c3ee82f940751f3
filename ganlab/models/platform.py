"""The platform's checkpoint format: ``checkpoints/G.pth`` = G.state_dict() saved from a DataParallel
wrapper, so every key carries the prefix ``module.``. Import accepts keys with or without it."""
from __future__ import annotations

import os
from pathlib import Path


from ..errors import GanlabError
from ..io import check_finite, torch_load, torch_save
from ..checkpoint import Checkpoint
from .generator import Generator

PREFIX = "module."


def export_generator(G: Generator, path: str | os.PathLike) -> Path:
    state = {PREFIX + k: v.detach().cpu().clone() for k, v in G.state_dict().items()}
    torch_save(state, path)
    return Path(path)


def strip_prefix(state: dict) -> dict:
    return {(k[len(PREFIX):] if k.startswith(PREFIX) else k): v for k, v in state.items()}


def import_generator(path: str | os.PathLike, weights: str = "ema") -> Generator:
    """A platform G.pth or a ganlab checkpoint; of a checkpoint, its EMA generator when the run kept one
    (``weights="ema"``) or the trained weights themselves (``weights="raw"``)."""
    path = Path(path)
    if not path.is_file():
        raise GanlabError(f"generator checkpoint {path} does not exist; expected a platform G.pth (a state_dict)")
    state = torch_load(path)  # a file that is not a weights-only checkpoint is a one-line error there
    if Checkpoint.holds_generator(state):
        state = Checkpoint(state, path).generator(weights)
    if not isinstance(state, dict):
        raise GanlabError(f"{path} holds a {type(state).__name__}, expected the generator's state_dict")
    check_finite(state, path, "generator's weights")
    G = Generator()
    try:
        G.load_state_dict(strip_prefix(state))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise GanlabError(f"{path} is not the fixed generator's state_dict (fc1..fc4): {first}") from None
    return G
