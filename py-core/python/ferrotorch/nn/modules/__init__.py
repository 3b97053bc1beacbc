"""The module classes of ``ferrotorch.nn``, one family per file."""

from .._families import reexport as _reexport

_FAMILIES = (
    "module", "container", "linear", "flatten", "activation", "conv", "pooling", "fold",
    "normalization", "batchnorm", "instancenorm", "loss", "dropout", "sparse", "padding",
    "pixelshuffle", "upsampling", "channelshuffle", "distance", "rnn", "attention", "transformer",
)

__all__ = _reexport(__name__, _FAMILIES, globals())
