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
        return factory(*size, dtype=dtype or self.dtype, device=device, **kwargs)

    method.__name__ = "new_" + factory.__name__
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _C.full(size, fill_value, dtype=dtype or self.dtype, device=device)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return _C.tensor(data, dtype=dtype or self.dtype, device=device)


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
Tensor.__module__ = "ferrotorch"
