"""Shared by the corpus scripts: NumPy-generated initial weights (so PyTorch and ferrotorch start
from the same model) and the metric lines the tests read."""

import numpy as np
import torch


def init_from_numpy(model, seed):
    """Overwrites every parameter with uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) NumPy draws."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else p.shape[0]
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)))


def report(name, value):
    """Prints one ``METRIC name value`` line."""
    print(f"METRIC {name} {float(value):.6f}")
