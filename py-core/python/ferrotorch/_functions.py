"""The ``ferrotorch.*`` function namespace: Rust functions from ``_C`` plus function forms of
tensor methods and PyTorch's aliases."""

import builtins as _builtins
import math as _math

from . import _C
from ._C import Tensor

_SKIP = {"Tensor", "device", "dtype"}
_c_functions = {
    name: getattr(_C, name)
    for name in dir(_C)
    if not name.startswith("_") and callable(getattr(_C, name)) and name not in _SKIP
    and not isinstance(getattr(_C, name), _C.dtype)
}
globals().update(_c_functions)


def _method_function(name):
    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = name
    function.__qualname__ = name
    function.__doc__ = f"Function form of ``Tensor.{name}``."
    return function


# Every tensor method gets a function form (`ferrotorch.reshape(t, ...)`) unless `_C` already
# has one or it is a conversion that is no function in PyTorch.
_NOT_FUNCTIONS = {
    "bool", "byte", "char", "short", "int", "long", "half", "float", "double", "bfloat16", "cpu",
    "cuda", "to", "type", "type_as", "item", "tolist", "numpy", "size", "stride", "dim", "element_size",
    "ndimension", "nelement", "data_ptr", "untyped_storage_ptr", "storage_offset", "is_contiguous",
    "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "dim_order", "copy_", "fill_",
    "zero_", "view", "view_as", "reshape_as", "expand", "expand_as", "is_signed", "is_complex",
}
for _name in dir(Tensor):
    if _name.startswith("_") or _name in _NOT_FUNCTIONS or _name in globals():
        continue
    if callable(getattr(Tensor, _name, None)) and not isinstance(getattr(Tensor, _name), property):
        globals()[_name] = _method_function(_name)

# PyTorch's aliases.
_ALIASES = {
    "clip": "clamp", "true_divide": "div", "divide": "div", "multiply": "mul", "subtract": "sub",
    "negative": "neg", "absolute": "abs", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2", "fix": "trunc",
    "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le", "not_equal": "ne",
    "sgn": "sign",
}
for _alias, _target in _ALIASES.items():
    globals()[_alias] = globals()[_target]
    if not hasattr(Tensor, _alias) and hasattr(Tensor, _target):
        setattr(Tensor, _alias, getattr(Tensor, _target))
    if not hasattr(Tensor, _alias + "_") and hasattr(Tensor, _target + "_"):
        setattr(Tensor, _alias + "_", getattr(Tensor, _target + "_"))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|input - other| <= atol + rtol * |other|``, with infinities equal only to themselves."""
    if not isinstance(other, Tensor):
        other = _C.tensor(other, dtype=input.dtype)
    if input.dtype != other.dtype:
        raise RuntimeError(f"{input.dtype} did not match {other.dtype}")
    if input.dtype == _C.bool or not input.is_floating_point():
        a, b = input.double(), other.double()
    else:
        a, b = input, other
    close = a == b
    if equal_nan:
        close = close | (a.isnan() & b.isnan())
    finite = a.isfinite() & b.isfinite()
    within = (a - b).abs() <= (b.abs() * rtol + atol)
    return close | (finite & within)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``input`` is close to ``other``."""
    return _builtins.bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    """Same shape and same values."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return _builtins.bool((input == other).all())


__all__ = sorted(
    n for n in globals()
    if not n.startswith("_") and n not in {"Tensor"} and callable(globals()[n])
)
