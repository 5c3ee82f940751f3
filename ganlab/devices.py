"""Where ganlab computes: the one rule for arithmetic on a GPU (a leaf module: training and metrics both use it)."""
from __future__ import annotations

import torch


def exact_fp32(device: torch.device) -> torch.device:
    """fp32 means fp32 on a GPU too: no TF32 in its matrix products or convolutions (training and Inception alike).
    Returns ``device``."""
    if device.type == "cuda":
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    return device
