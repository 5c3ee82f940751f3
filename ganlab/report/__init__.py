"""Reports: comparing runs and sample sets on one protocol (``ganlab compare``)."""
from .collect import describe, load_entry, save_run_evaluation
from .compare import compare, leaderboard

__all__ = ["compare", "describe", "leaderboard", "load_entry", "save_run_evaluation"]
