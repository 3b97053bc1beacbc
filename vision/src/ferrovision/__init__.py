"""ferrovision: datasets, transforms, models and image ops for ferrotorch, with torchvision's API."""

from . import datasets, io, models, ops, transforms, tv_tensors, utils  # noqa: F401

__version__ = "0.1.0"
