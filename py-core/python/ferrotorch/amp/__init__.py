"""``ferrotorch.amp``: automatic mixed precision (autocast and GradScaler), as ``torch.amp``."""

from .autocast_mode import autocast, autocast_op, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]

