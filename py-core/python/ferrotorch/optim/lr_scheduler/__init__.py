"""Learning-rate schedulers (``torch.optim.lr_scheduler``).

Each scheduler rewrites ``optimizer.param_groups[i]["lr"]`` when stepped; ``state_dict()``
holds every attribute except the optimizer, with PyTorch's keys.
"""

from .scheduler import LRScheduler, _LRScheduler, EPOCH_DEPRECATION_WARNING  # noqa: F401
from .lambda_lr import LambdaLR, MultiplicativeLR
from .decay import StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR
from .cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from .cyclic import CyclicLR, OneCycleLR
from .plateau import ReduceLROnPlateau
from .composite import SequentialLR, ChainedScheduler

__all__ = [
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "SequentialLR",
    "CosineAnnealingLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "CyclicLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "PolynomialLR",
    "LRScheduler",
]
