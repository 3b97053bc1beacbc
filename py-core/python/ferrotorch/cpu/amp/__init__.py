"""``ferrotorch.cpu.amp``: PyTorch's deprecated CPU spellings of ``amp.autocast`` and
``amp.GradScaler``."""

from .autocast_mode import autocast
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler"]
