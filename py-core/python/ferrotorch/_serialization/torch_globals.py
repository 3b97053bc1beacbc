"""The names PyTorch's pickles use (``torch.FloatStorage``, ``torch._utils._rebuild_tensor_v2``,
``torch.float32``, ...) and the ferrotorch objects they stand for, in both directions."""

import functools
from collections import OrderedDict

import ferrotorch
from .. import _C

# dtype <-> legacy typed-storage class name, as PyTorch pickles storages.
STORAGE_NAMES = {
    ferrotorch.float32: "FloatStorage",
    ferrotorch.float64: "DoubleStorage",
    ferrotorch.float16: "HalfStorage",
    ferrotorch.bfloat16: "BFloat16Storage",
    ferrotorch.int64: "LongStorage",
    ferrotorch.int32: "IntStorage",
    ferrotorch.int16: "ShortStorage",
    ferrotorch.int8: "CharStorage",
    ferrotorch.uint8: "ByteStorage",
    ferrotorch.bool: "BoolStorage",
}
DTYPE_NAMES = {
    ferrotorch.float32: "float32",
    ferrotorch.float64: "float64",
    ferrotorch.float16: "float16",
    ferrotorch.bfloat16: "bfloat16",
    ferrotorch.int64: "int64",
    ferrotorch.int32: "int32",
    ferrotorch.int16: "int16",
    ferrotorch.int8: "int8",
    ferrotorch.uint8: "uint8",
    ferrotorch.bool: "bool",
}


class TorchGlobal:
    """Stands for the PyTorch global ``module.name`` when pickling: the pickler writes it as a
    GLOBAL instruction, so files name ``torch.*`` and PyTorch can read them."""

    _instances = {}

    def __new__(cls, module, name):
        # One object per name, so the pickler memoizes it like PyTorch's (later uses are BINGETs).
        key = (module, name)
        if key not in cls._instances:
            obj = super().__new__(cls)
            obj.module, obj.name = module, name
            cls._instances[key] = obj
        return cls._instances[key]

    def __repr__(self):
        return f"{self.module}.{self.name}"

    def __call__(self, *args):
        # Callable only so pickle accepts it as a reduce function; it is never called.
        raise TypeError(f"{self!r} is a name written into checkpoints, not a function")


class StorageType:
    """What ``torch.FloatStorage`` and friends unpickle to: they only carry a dtype."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"StorageType(dtype={self.dtype})"


def _rebuild_tensor(storage, storage_offset, size, stride):
    """A view of ``size``/``stride`` at ``storage_offset`` over ``storage`` (a flat tensor)."""
    if not isinstance(storage, _C.Tensor) or storage.dim() != 1:
        raise RuntimeError(f"_rebuild_tensor: expected a storage, got {type(storage).__name__}")
    return storage.as_strided(tuple(size), tuple(stride), int(storage_offset))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """``torch._utils._rebuild_tensor_v2``: the tensor view, with ``requires_grad`` restored."""
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks):
    """``torch._utils._rebuild_parameter``."""
    return ferrotorch.nn.Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """``torch._utils._rebuild_parameter_with_state``: a parameter with extra Python attributes."""
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    for k, v in (state or {}).items():
        setattr(param, k, v)
    return param


def _rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: how PyTorch pickles tensor subclasses."""
    result = func(*args)
    if new_type is ferrotorch.nn.Parameter and type(result) is not new_type:
        result = ferrotorch.nn.Parameter(result, result.requires_grad)
    if state:
        for k, v in (state[0] if isinstance(state, tuple) else state).items():
            setattr(result, k, v)
    return result


@functools.cache
def safe_torch_globals():
    """PyTorch's default ``weights_only`` allowlist, as ``{"module.name": ferrotorch object}``
    (one shared dict: do not modify it)."""
    rc = {
        "collections.OrderedDict": OrderedDict,
        "torch.nn.parameter.Parameter": ferrotorch.nn.Parameter,
        "torch.Size": ferrotorch.Size,
        "torch.Tensor": ferrotorch.Tensor,
        "torch.device": ferrotorch.device,
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.UntypedStorage": StorageType("UntypedStorage", ferrotorch.uint8),
    }
    for dtype, name in DTYPE_NAMES.items():
        rc[f"torch.{name}"] = dtype
    for dtype, name in STORAGE_NAMES.items():
        rc[f"torch.{name}"] = StorageType(name, dtype)
    return rc


def safe_builtins():
    """Builtins the restricted unpickler may call (``set``, ``bytearray``, ``complex``) besides
    ``collections.Counter`` and ``_codecs.encode`` (how protocol 2 pickles ``bytes``)."""
    import _codecs
    from collections import Counter

    return {
        "collections.Counter": Counter,
        "_codecs.encode": _codecs.encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
    }

