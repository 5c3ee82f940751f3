"""Training: config tree and the loop."""
from .config import Config
from ..runs import Run, load_config
from .loop import train

__all__ = ["Config", "Run", "load_config", "train"]
