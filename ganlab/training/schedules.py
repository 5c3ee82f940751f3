"""Learning-rate schedules, stepped once per epoch on both optimisers.

none; step (multiply by ``gamma`` every ``step_size`` epochs); linear (to 0 at the last epoch);
cosine (to 0 at the last epoch); plateau (multiply by ``gamma`` when the periodic metric
``eval.metric`` has not improved for ``patience`` evaluations: the WGAN-GP report halved both rates
after its best-FID epoch).
"""
from __future__ import annotations

import torch
from torch.optim import lr_scheduler

SCHEDULES = ("none", "step", "linear", "cosine", "plateau")


def build_schedule(cfg, opt: torch.optim.Optimizer, epochs: int):
    """The schedule of ``cfg.optim`` over ``epochs`` steps of it (the MNIST loop: its epochs)."""
    o = cfg.optim
    if o.schedule == "step":
        return lr_scheduler.StepLR(opt, step_size=o.step_size, gamma=o.gamma)
    if o.schedule == "linear":
        return lr_scheduler.LambdaLR(opt, lambda e: max(0.0, 1 - e / epochs))
    if o.schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    if o.schedule == "plateau":
        return lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=o.gamma, patience=o.patience)
    return None


def step_schedule(schedule, metric: float | None) -> None:
    """Advance one epoch; a plateau schedule moves only on epochs that were evaluated."""
    if schedule is None:
        return
    if isinstance(schedule, lr_scheduler.ReduceLROnPlateau):
        if metric is not None:
            schedule.step(metric)
    else:
        schedule.step()
