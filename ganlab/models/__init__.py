"""Models: the fixed generator and the registered discriminators (each discriminator module registers itself: a new
one is a new file here)."""
from ..registry import import_submodules
from .discriminators import DISCRIMINATORS, build_discriminator
from .generator import IMG_DIM, Z_DIM, Generator
from .platform import export_generator, import_generator

import_submodules(__name__, __path__)

__all__ = ["DISCRIMINATORS", "IMG_DIM", "Z_DIM", "Generator", "build_discriminator",
           "export_generator", "import_generator"]
