"""Optuna as the search algorithm of a sweep (imported only when a SPEC has ``search``)."""
from __future__ import annotations

from ray.tune.search.optuna import OptunaSearch


class FinalMetricOptuna(OptunaSearch):
    """Optuna that waits for the trial's objective: a trial reports every epoch (losses, D outputs) but its
    objective only once it is evaluated at the end, so per-epoch results without it are not Optuna's."""

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if self.metric in result:
            super().on_trial_result(trial_id, result)
