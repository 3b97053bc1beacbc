"""``ferrotorch.nn.functional``: the stateless operations modules are built on, one family per
file (the names are those of ``torch.nn.functional``)."""

from .._families import reexport as _reexport

_FAMILIES = (
    "linear", "activation", "conv", "pooling", "normalization", "loss", "dropout", "sparse",
    "padding", "vision", "distance", "attention",
)

__all__ = _reexport(__name__, _FAMILIES, globals())
