"""Sweeps: many configs and seeds as one resumable Ray Tune experiment (``ganlab sweep``)."""
from .spec import Spec, load, parse

__all__ = ["Spec", "load", "parse"]
