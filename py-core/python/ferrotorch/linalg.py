"""``ferrotorch.linalg``: the functions of ``torch.linalg``, implemented in ``_C.linalg``."""

from ._C import linalg as _linalg

__all__ = [name for name in dir(_linalg) if not name.startswith("_")]
globals().update({name: getattr(_linalg, name) for name in __all__})
