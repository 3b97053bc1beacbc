"""`ferrovision.transforms`: as `torchvision.transforms` (v1), on PIL images and ferrotorch tensors."""

from . import functional  # noqa: F401
from .autoaugment import AugMix, AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide  # noqa: F401
from .transforms import *  # noqa: F401,F403
from . import v2  # noqa: F401
