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


class _UninitializedTensorMixin:
    """A tensor whose shape is not known yet (lazy modules' parameters and buffers). Its shape
    cannot be read; ``materialize(shape)`` allocates it in place and turns it into a plain
    ``cls_to_become``."""

    _default_requires_grad = False

    def __new__(cls, requires_grad=None, device=None, dtype=None):
        t = Tensor.__new__(cls, _C.empty(0, device=device, dtype=dtype))
        t.requires_grad_(cls._default_requires_grad if requires_grad is None else requires_grad)
        return t

    def __init__(self, requires_grad=None, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]

    def materialize(self, shape, device=None, dtype=None):
        """Allocates the tensor with ``shape`` (values uninitialized) in place."""
        self.data = _C.empty(shape, device=device or self.device, dtype=dtype or self.dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
            "in `load_state_dict` when trying to load an uninitialized parameter into an initialized one. "
            "Call `forward` to initialize the parameters before accessing their attributes."
        )

    def size(self, dim=None):
        return self.shape

    def numel(self):
        return self.shape

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    __str__ = __repr__


class UninitializedParameter(_UninitializedTensorMixin, Parameter):
    """A parameter of a lazy module (e.g. ``LazyLinear.weight``) before its first input."""

    cls_to_become = Parameter
    _default_requires_grad = True

    def __reduce_ex__(self, protocol):
        return (UninitializedParameter, (self.requires_grad,))


class UninitializedBuffer(_UninitializedTensorMixin, Tensor):
    """A buffer of a lazy module (e.g. ``LazyBatchNorm1d.running_mean``) before its first input."""

    cls_to_become = Tensor


def is_lazy(param):
    """Whether ``param`` is an uninitialized parameter or buffer still waiting for its shape."""
    return isinstance(param, _UninitializedTensorMixin)


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
