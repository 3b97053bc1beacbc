"""`ferrovision.models`: as `torchvision.models` (classification architectures and the weights API)."""

from ._api import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models  # noqa: F401
from .resnet import *  # noqa: F401,F403
