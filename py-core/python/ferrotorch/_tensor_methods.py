"""Tensor methods that PyTorch also writes in Python: printing, iteration, ``new_*``."""

from . import _C
from ._C import Tensor
from ._tensor_str import tensor_repr, tensor_format


def _iter(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (self.select(0, i) for i in range(self.shape[0]))


def _new_factory(factory):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        return factory(*size, dtype=dtype or self.dtype, device=device or self.device, **kwargs)

    method.__name__ = "new_" + factory.__name__
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _C.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return _C.tensor(data, dtype=dtype or self.dtype, device=device or self.device)


def _get_device(self):
    """The CUDA ordinal of the tensor's device, -1 on the CPU."""
    return -1 if self.device.type == "cpu" else self.device.index


def _record_stream(self, stream):
    """Marks the tensor's memory as used by work queued on ``stream``: once the tensor is freed,
    its memory is reused only after the work queued on ``stream`` by then has finished."""
    if self.device.type != "cuda":
        raise NotImplementedError(f"Could not run 'aten::record_stream' with arguments from the '{self.device.type.upper()}' backend.")
    _C._cuda_record_stream(self, stream.device_index, stream.cuda_stream)


def _dim_order(self):
    strides = self.stride()
    return tuple(sorted(range(self.dim()), key=lambda d: -strides[d]))


Tensor.__repr__ = tensor_repr
Tensor.__str__ = tensor_repr
Tensor.__format__ = tensor_format
Tensor.__iter__ = _iter
Tensor.__array_priority__ = 1000
Tensor.new_zeros = _new_factory(_C.zeros)
Tensor.new_ones = _new_factory(_C.ones)
Tensor.new_empty = _new_factory(_C.empty)
Tensor.new_full = _new_full
Tensor.new_tensor = _new_tensor
Tensor.dim_order = _dim_order
Tensor.get_device = _get_device
Tensor.record_stream = _record_stream
Tensor.__module__ = "ferrotorch"


def _dtype_name(dtype):
    """``torch.float32`` -> ``'float32'``: dtypes pickle by name."""
    return str(dtype).rsplit(".", 1)[-1]


def _rebuild_tensor(array, dtype_name, requires_grad):
    """Inverse of ``Tensor.__reduce_ex__``: a leaf tensor from a NumPy copy of its values."""
    dtype = getattr(_C, dtype_name)
    t = _C.tensor(array, dtype=dtype)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _reduce_ex(self, protocol):
    # Pickle the values (bfloat16 through float32, which holds every bfloat16 exactly).
    values = self.detach().cpu()
    if values.dtype == _C.bfloat16:
        values = values.float()
    return (_rebuild_tensor, (values.numpy().copy(), _dtype_name(self.dtype), self.requires_grad))


_DEEPCOPY_NON_LEAF = (
    "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.  "
    "If you were attempting to deepcopy a module, this may be because of a torch.nn.utils.weight_norm usage, "
    "see https://github.com/pytorch/pytorch/pull/103001"
)


def _deepcopy(self, memo):
    """A leaf copy with its own storage; ``requires_grad``, ``grad`` and attributes are copied too."""
    import copy

    if not self.is_leaf:
        raise RuntimeError(_DEEPCOPY_NON_LEAF)
    if id(self) in memo:
        return memo[id(self)]
    values = self.detach().clone()
    new = values if type(self) is Tensor else Tensor.__new__(type(self), values)
    new.requires_grad_(self.requires_grad)
    memo[id(self)] = new
    if self.grad is not None:
        new.grad = copy.deepcopy(self.grad, memo)
    for key, value in getattr(self, "__dict__", {}).items():
        setattr(new, key, copy.deepcopy(value, memo))
    return new


Tensor.__reduce_ex__ = _reduce_ex
Tensor.__deepcopy__ = _deepcopy
