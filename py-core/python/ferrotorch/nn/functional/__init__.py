"""``ferrotorch.nn.functional``: the stateless operations modules are built on, one family per
file (the names are those of ``torch.nn.functional``)."""

import importlib as _importlib

_FAMILIES = (
    "linear", "activation", "conv", "pooling", "normalization", "loss", "dropout", "sparse",
    "padding", "vision", "distance", "attention",
)

__all__ = []
for _family in _FAMILIES:
    # Importing a submodule binds its name on this package; the functions bound after it win
    # where the names clash (``linear``, ``dropout``).
    _module = _importlib.import_module(f"{__name__}.{_family}")
    __all__ += _module.__all__
    globals().update({_name: getattr(_module, _name) for _name in _module.__all__})
del _family, _module
