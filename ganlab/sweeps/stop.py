"""A sweep's stopping rule for dead trials (SPEC ``stop: {collapsed_epochs: N}``).

A trial whose generator maps every latent to the same image stops receiving a useful signal: in the reports' table,
lsgan-s0 had all of G's tanh outputs at +-1 (tanh' ~ 4e-6) and one image for every z from epoch 4 on, and stayed so
through epoch 27 (docs/RESULTS.md). Training such a trial to the full budget costs up to an hour of a core and
changes nothing, so a sweep may stop it after N consecutive dead epochs. An epoch is dead when

- G gave one image: the per-pixel standard deviation over 1,000 fixed latents (``g_pixel_std`` in every epoch's
  metrics row) is below ``COLLAPSED_STD``; a working MNIST run has 0.15-0.4; or
- G stopped learning: its images on those latents moved by less than ``FROZEN_DRIFT`` (mean absolute change per
  pixel since the previous epoch, ``g_drift``). Measured on the reports' sweep: saturating-s0 (the saturating loss
  with D(x) = 1, D(G(z)) = 7e-12 from epoch ~10: no gradient reaches G) moved 8.0e-4 in the ten epochs 10-20 in all;
  working runs moved 0.07-0.13 in their last ten epochs (vanilla-s0 0.133, md-gan-s0 0.093, wgan-gp-s0 0.071), so
  at least 7e-3 per epoch on average (the drift over ten epochs is at most the sum of the ten). Those ran at a
  constant rate: where a schedule lowers G's learning rate (linear, cosine, plateau), the threshold is scaled by
  the epoch's rate over the run's highest, since G's steps shrink with it. Rows written before
  ``g_drift`` existed count as frozen only when G's numbers are equal to the last bit (md-gan-s0 before its loss was
  fixed).

The trial is then measured as it is and recorded as collapsed, with the epochs: a finding with its evidence
(metrics.jsonl, the grids), not a missing row.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import GanlabError
from ..runs import Run, read_metrics

COLLAPSED_STD = 0.01  # per-pixel std over latents, images in [-1, 1]
FROZEN_DRIFT = 1e-3  # mean |change| per pixel in one epoch, images in [-1, 1]
KEYS = ("collapsed_epochs",)


class Collapsed(GanlabError):
    """Raised from a trial's epoch callback when the rule fires; carries the epochs of the dead stretch."""

    def __init__(self, first: int, last: int, n: int):
        super().__init__(f"collapsed: G gave one image for every latent (per-pixel std < {COLLAPSED_STD}) or stopped "
                         f"learning (its images moved < {FROZEN_DRIFT} per epoch), from epoch {first} to {last}; "
                         f"stopped after {n} such epochs")
        self.first, self.last = first, last


def check(raw) -> dict | None:
    """The SPEC's ``stop`` mapping, checked."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        raise GanlabError(f"SPEC key 'stop' must be a mapping, e.g. {{collapsed_epochs: 10}}; accepted keys: "
                          f"{', '.join(KEYS)}")
    for key, value in raw.items():
        if key not in KEYS:
            raise GanlabError(f"SPEC key 'stop.{key}' is unknown; accepted: {', '.join(KEYS)}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise GanlabError(f"SPEC key 'stop.{key}' = {value!r} must be an integer >= 1 (epochs)")
    return dict(raw)


def _dead(row: dict, before: dict | None, top_lr: float | None) -> bool:
    std = row.get("g_pixel_std")
    if std is None:  # written before the numbers existed: never counts
        return False
    if "g_drift" in row:
        frozen = row["g_drift"] < FROZEN_DRIFT * _lr_share(row, before, top_lr)
    else:
        frozen = before is not None and (before.get("g_pixel_std"), before.get("g_saturated")) == \
            (std, row.get("g_saturated"))
    return std < COLLAPSED_STD or frozen


def _lr_share(row: dict, before: dict | None, top_lr: float | None) -> float:
    """The learning rate G's epoch ran at, as a share of the run's highest: a schedule that decays the rate (linear,
    cosine, plateau) slows G's images with it, which is not a dead G, so the drift threshold scales with it. A row
    logs the rate set *after* its epoch, so the epoch's own rate is the row before's (the first epoch: its own)."""
    lr = (before or row).get("lr_g")
    return lr / top_lr if lr is not None and top_lr else 1.0


def dead_stretch(rows: list[dict], n: int) -> tuple[int, int] | None:
    """(first, last) epoch of the final run of >= n consecutive dead epochs (one image, or G frozen), else None."""
    dead = []
    top_lr = max((r["lr_g"] for r in rows if r.get("lr_g") is not None), default=None)
    for i in range(len(rows) - 1, -1, -1):
        if not _dead(rows[i], rows[i - 1] if i else None, top_lr):
            break
        dead.append(rows[i]["epoch"])
    return (dead[-1], dead[0]) if len(dead) >= n else None


def enforce(stop: dict | None, run_dir: Path) -> None:
    """Raise Collapsed if the run in ``run_dir`` meets the rule (read from its metrics.jsonl, so a resumed trial
    counts the epochs it trained before)."""
    n = (stop or {}).get("collapsed_epochs")
    if not n or not Run(run_dir).metrics.is_file():
        return
    stretch = dead_stretch(read_metrics(Run(run_dir)), n)
    if stretch:
        raise Collapsed(*stretch, n)
