"""Metrics: FID, precision/recall, density/coverage, KID over shared Inception features; MNIST classifier metrics.
Each metric module registers itself (registry.py); importing the package imports them all."""
from ..registry import import_submodules

import_submodules(__name__, __path__)
