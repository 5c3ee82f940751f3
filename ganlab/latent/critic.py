"""A critic fitted after training, for the latent samplers (``--critic fitted``).

The samplers read a discriminator. By default it is the run's own D. That D was trained against the *raw*
generator of each step. When a run keeps an EMA generator, which is what gets sampled, the run's D never saw
it, and the last steps of a decayed schedule barely move it. ``ganlab latent fit-critic --run RUN`` trains a
WGAN-GP critic against the fixed generator that will be sampled, the same G and prior as ``--weights``:
    max  E D(x) - E D(G(z)) - 10 E (||grad D(x_hat)|| - 1)^2,   Adam 1e-4, betas (0, 0.9).
It starts from the run's D (``--init run``, when the architecture matches) or from scratch, and it can be
any registered discriminator (``--arch conv``). The result is RUN/latent/critic.pt. It is tied to the
generator by the sha256 of its weights, so a critic fitted for one checkpoint is refused for another.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
from tqdm import tqdm

from ..errors import GanlabError
from ..io import torch_load
from ..losses.penalties import gradient_penalty
from ..models import DISCRIMINATORS, build_discriminator
from ..models.generator import fingerprint
from .base import d_score

STATE = "critic.pt"
FORMAT = "ganlab-critic-v1"
INITS = ("run", "scratch")


def fit_critic(ctx, real: torch.Tensor, d_spec: dict, arch: str | None = None, init: str = "run",
               iters: int = 2000, batch_size: int = 64, lr: float = 1e-4, gp: float = 10.0, seed: int = 0,
               progress: bool = True) -> dict:
    """Train a WGAN-GP critic against ``ctx``'s fixed G and prior; returns the state to save.

    ``d_spec`` describes ``ctx.D`` (name, spectral_norm, d_out, ac_head). ``init='run'`` continues ``ctx.D``;
    ``init='scratch'`` builds a new ``arch`` (default: the run's architecture).
    """
    if init not in INITS:
        raise GanlabError(f"--init '{init}' is not accepted; accepted: {', '.join(INITS)}")
    if iters < 1:
        raise GanlabError(f"--iters {iters} must be >= 1")
    torch.manual_seed(seed)  # a scratch critic's initial weights
    g = torch.Generator().manual_seed(seed)
    if init == "run":
        if arch and arch != d_spec["name"]:
            raise GanlabError(f"--init run needs --arch {d_spec['name']} (the run's discriminator); "
                              f"for --arch {arch} use --init scratch")
        D, spec = copy.deepcopy(ctx.D), dict(d_spec)
    else:
        arch = arch or d_spec["name"]
        if arch not in DISCRIMINATORS:
            raise GanlabError(f"--arch '{arch}' is not a discriminator; accepted: "
                              f"{', '.join(sorted(DISCRIMINATORS))}")
        spec = {"name": arch, "spectral_norm": False, "d_out": 1, "ac_head": False}
        D = build_discriminator(arch)
    D.train().requires_grad_(True)
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.0, 0.9))
    gaps = []
    for _ in tqdm(range(iters), desc="fit-critic", disable=not progress, leave=False):
        x = real[torch.randint(0, len(real), (batch_size,), generator=g)]
        with torch.no_grad():
            fake = ctx.G(ctx.prior.sample(batch_size, g))
        d_real, d_fake = d_score(D, x).mean(), d_score(D, fake).mean()
        loss = d_fake - d_real + gp * gradient_penalty(D, x, fake, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        gaps.append((d_real - d_fake).item())
    tail = gaps[-max(1, iters // 10):]
    return {"format": FORMAT, "D": {**spec, "state": {k: v.detach().cpu() for k, v in D.state_dict().items()}},
            "G_sha256": fingerprint(ctx.G), "init": init, "iters": iters, "batch_size": batch_size,
            "seed": seed, "wasserstein_estimate": sum(tail) / len(tail)}


def load_critic(state_dir: str | Path, G: torch.nn.Module) -> tuple[torch.nn.Module, dict]:
    """The critic fitted for ``G`` in ``state_dir`` and its spec; clear errors when absent or for another G."""
    path = Path(state_dir) / STATE
    if not path.is_file():
        run = Path(state_dir).parent
        raise GanlabError(f"--critic fitted: {path} does not exist; fit it first with "
                          f"'ganlab latent fit-critic --run {run}'")
    try:
        saved = torch_load(path)
    except Exception as exc:
        raise GanlabError(f"{path} is not a ganlab critic file ({type(exc).__name__})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise GanlabError(f"{path} is not a ganlab critic file (expected format {FORMAT})")
    if saved["G_sha256"] != fingerprint(G):
        raise GanlabError(f"{path} was fitted for another generator (checkpoint or --weights); refit it with "
                          f"'ganlab latent fit-critic' for this one")
    spec = {k: v for k, v in saved["D"].items() if k != "state"}
    D = build_discriminator(spec["name"], spectral_norm=spec["spectral_norm"], d_out=spec["d_out"],
                            ac_head=spec["ac_head"])
    D.load_state_dict(saved["D"]["state"])
    return D.eval().requires_grad_(False), spec
