"""The module classes of ``ferrotorch.nn``, one family per file."""

import importlib as _importlib

_FAMILIES = (
    "module", "container", "linear", "flatten", "activation", "conv", "pooling", "fold",
    "normalization", "batchnorm", "instancenorm", "loss", "dropout", "sparse", "padding",
    "pixelshuffle", "upsampling", "channelshuffle", "distance", "rnn", "attention", "transformer",
)

__all__ = []
for _family in _FAMILIES:
    _module = _importlib.import_module(f"{__name__}.{_family}")
    __all__ += _module.__all__
    globals().update({_name: getattr(_module, _name) for _name in _module.__all__})
del _family, _module
