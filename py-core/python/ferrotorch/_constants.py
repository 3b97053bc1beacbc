"""The numeric constants torch exposes at top level (``torch.pi``, ``torch.newaxis``, ...)."""

from math import e, inf, nan, pi

# Indexing with ``None`` inserts a dimension, as in NumPy.
newaxis = None

__all__ = ["pi", "e", "inf", "nan", "newaxis"]
