"""``ferrotorch.optim``: optimizers, learning-rate schedulers and SWA, laid out as ``torch.optim``."""

from .optimizer import Optimizer
from . import lr_scheduler, swa_utils  # noqa: F401
