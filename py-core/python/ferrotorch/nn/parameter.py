"""``Parameter`` and ``Buffer``: tensors that a ``Module`` registers when assigned as attributes."""

from collections import OrderedDict

from .. import _C
from .._C import Tensor


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning one to a ``Module`` attribute adds it to
    ``parameters()``. It shares storage with ``data`` and requires grad by default.

    Args:
        data (Tensor): the parameter's values (an empty tensor when ``None``).
        requires_grad (bool): whether the parameter requires gradient. Default: ``True``.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = _C.empty(0)
        param = Tensor.__new__(cls, data.detach())
        param.requires_grad_(requires_grad)
        return param

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.detach().clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self.requires_grad, OrderedDict()))


def _rebuild_parameter(data, requires_grad, hooks):
    """Inverse of ``Parameter.__reduce_ex__`` (``hooks`` kept for PyTorch's signature)."""
    return Parameter(data, requires_grad)


class _BufferMeta(type(Tensor)):
    # A Buffer is a plain tensor flagged ``_is_buffer``; ``isinstance(t, Buffer)`` reads the flag.
    def __instancecheck__(cls, instance):
        if cls is Buffer and isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A tensor that is module state but not a parameter (e.g. BatchNorm's ``running_mean``):
    assigning one to a ``Module`` attribute adds it to ``buffers()``.

    Args:
        data (Tensor): buffer tensor (an empty tensor when ``None``).
        persistent (bool): whether the buffer is part of the module's ``state_dict``. Default: ``True``.
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = _C.empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t
