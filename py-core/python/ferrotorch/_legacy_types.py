"""PyTorch's legacy tensor types (``FloatTensor``, ``LongTensor``, ...): constructors by dtype
that old scripts call (``FloatTensor(2, 3)``, ``LongTensor([1, 2])``), test with ``isinstance``,
pass to ``Tensor.type`` and ``set_default_tensor_type``; plus ``typename``.

They are not subclasses of ``Tensor`` (as in PyTorch): ``isinstance(t, FloatTensor)`` asks
whether ``t`` is a float32 CPU tensor.
"""

import warnings

from . import _C
from ._C import Tensor
from ._size import Size

__all__ = [
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor", "CharTensor",
    "ShortTensor", "IntTensor", "LongTensor", "BoolTensor", "set_default_tensor_type", "typename",
]


def _check_device(device):
    if device is None:
        return
    kind = device.type if isinstance(device, _C.device) else str(device).partition(":")[0]
    if kind != "cpu":
        raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {kind} was passed")


def _is_size(args):
    """``FloatTensor(2, 3)`` and ``FloatTensor(Size([2, 3]))`` give sizes; a list or tuple is data."""
    if len(args) == 1 and isinstance(args[0], Size):
        return True
    return all(isinstance(a, int) and not isinstance(a, bool) for a in args)


class _LegacyTensorType(type):
    """The metaclass: calling a legacy type builds a tensor of its dtype, ``isinstance`` checks
    the dtype."""

    def __call__(cls, *args, device=None):
        _check_device(device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            other = args[0]
            if other.dtype != cls.dtype:
                raise TypeError(f"expected {cls.__name__} (got {other.type()})")
            return other.view(other.shape)  # an alias sharing storage and history, as in PyTorch
        if not args:
            return _C.empty(0, dtype=cls.dtype)
        if _is_size(args):
            size = args[0] if len(args) == 1 and isinstance(args[0], Size) else args
            return _C.empty(tuple(size), dtype=cls.dtype)
        if len(args) == 1:
            data = args[0]
            if isinstance(data, (int, float, bool)):
                raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
            if isinstance(data, str):
                raise TypeError("new(): invalid data type 'str'")
            return _C.tensor(data, dtype=cls.dtype)
        names = ", ".join(type(a).__name__ for a in args)
        raise TypeError(
            f"new() received an invalid combination of arguments - got ({names}), but expected one of:\n"
            " * (*, torch.device device = None)\n * (Tensor other)\n"
            " * (tuple of ints size, *, torch.device device = None)\n * (object data, *, torch.device device = None)"
        )

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and not obj.is_cuda


def _legacy_type(name, dtype):
    return _LegacyTensorType(name, (), {
        "dtype": dtype, "is_cuda": False, "is_sparse": False, "__module__": "ferrotorch",
        "__doc__": f"Legacy constructor of {dtype} CPU tensors: ``{name}(*sizes)`` or ``{name}(data)``.",
    })


FloatTensor = _legacy_type("FloatTensor", _C.float32)
DoubleTensor = _legacy_type("DoubleTensor", _C.float64)
HalfTensor = _legacy_type("HalfTensor", _C.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", _C.bfloat16)
ByteTensor = _legacy_type("ByteTensor", _C.uint8)
CharTensor = _legacy_type("CharTensor", _C.int8)
ShortTensor = _legacy_type("ShortTensor", _C.int16)
IntTensor = _legacy_type("IntTensor", _C.int32)
LongTensor = _legacy_type("LongTensor", _C.int64)
BoolTensor = _legacy_type("BoolTensor", _C.bool)

_BY_NAME = {
    t.__name__: t for t in (
        FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, ByteTensor, CharTensor, ShortTensor,
        IntTensor, LongTensor, BoolTensor,
    )
}


def _legacy_type_named(name):
    """The legacy type named ``'torch.FloatTensor'`` (or ``'ferrotorch.FloatTensor'``), else ``None``."""
    package, _, short = name.rpartition(".")
    return _BY_NAME.get(short) if package in ("torch", "ferrotorch") else None


def set_default_tensor_type(t):
    """Deprecated in PyTorch: sets the default dtype from a floating legacy type or its name."""
    warnings.warn(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
        "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
        UserWarning,
        stacklevel=2,
    )
    if isinstance(t, str):
        named = _legacy_type_named(t)
        if named is None:
            raise AttributeError(f"module 'torch' has no attribute '{t.rpartition('.')[2]}'")
        t = named
    if not isinstance(t, _LegacyTensorType):
        raise TypeError("invalid type object: only floating-point types are supported as the default type")
    if t.dtype not in (_C.float16, _C.bfloat16, _C.float32, _C.float64):
        raise TypeError("only floating-point types are supported as the default type")
    _C.set_default_dtype(t.dtype)


def typename(obj, /):
    """The fully qualified name of ``obj``'s type; a tensor's is ``Tensor.type()``
    (``'torch.FloatTensor'``)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


_type_name = Tensor.type  # the core's: the name, or a conversion to a dtype


def _type(self, dtype=None, non_blocking=False):
    """``Tensor.type``: with no argument the type's name (``'torch.FloatTensor'``); given a dtype,
    a legacy type or a type name, the tensor converted to it."""
    if isinstance(dtype, str):
        named = _legacy_type_named(dtype)
        if named is None:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = named
    if isinstance(dtype, _LegacyTensorType):
        dtype = dtype.dtype
    return _type_name(self) if dtype is None else self.to(dtype, non_blocking=non_blocking)


Tensor.type = _type
