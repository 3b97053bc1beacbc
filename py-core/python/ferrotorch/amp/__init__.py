"""``ferrotorch.amp``: automatic mixed precision (autocast and GradScaler), as ``torch.amp``."""

import sys as _sys

from .autocast_mode import autocast, autocast_op, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]

# PyTorch's `torch.autocast` alias and the deprecated `torch.cpu.amp` namespace: the parent
# package imports this one, so both are set up from here.
_sys.modules[__name__.rpartition(".")[0]].autocast = autocast
from .. import cpu  # noqa: E402,F401
