"""`ferrovision.ops`: as `torchvision.ops`."""

from .misc import MLP, Conv2dNormActivation, FrozenBatchNorm2d, Permute, SqueezeExcitation  # noqa: F401
from .stochastic_depth import StochasticDepth, stochastic_depth  # noqa: F401
