"""`TVTensor`: the base of the tensor subclasses that tell the v2 transforms what a tensor holds.

torchvision relies on PyTorch's ``__torch_function__`` protocol so that operations on a TVTensor return
pure tensors (except ``clone``, ``to``, ``detach``, ``requires_grad_``, ``pin_memory``, which keep the
subclass and its metadata). ferrotorch has no such protocol: its Rust ops return plain ``Tensor`` objects,
but methods that return ``self`` (in-place ops, no-op conversions such as ``.float()`` of a float tensor)
would return the subclass. So every Tensor method and operator is wrapped once, when the class is
created, by `_method_wrapper`, which applies torchvision's rule to the method's result. Functions of the
``ferrotorch`` namespace are not wrapped; they already return pure tensors.
"""

import inspect

import ferrotorch
from ferrotorch import Tensor

from ._torch_function_helpers import _FORCE_TORCHFUNCTION_SUBCLASS, _must_return_subclass

# Tensor attributes that are not tensor operations: left as they are.
_NOT_WRAPPED = {
    "__new__", "__init__", "__init_subclass__", "__subclasshook__", "__getattribute__", "__setattr__",
    "__delattr__", "__repr__", "__str__", "__format__", "__hash__", "__reduce__", "__reduce_ex__",
    "__getstate__", "__setstate__", "__sizeof__", "__dir__", "__deepcopy__", "__class__", "__doc__",
    "__module__", "__array__", "__array_interface__", "__array_priority__", "__dlpack__", "__dlpack_device__",
    "__bool__", "__len__", "__index__", "__int__", "__float__", "__setitem__", "__delitem__", "__iter__",
}  # fmt: skip


def _as_tensor(tensor: Tensor) -> Tensor:
    """The same tensor (storage and autograd history) as a pure `ferrotorch.Tensor`."""
    return tensor if type(tensor) is Tensor else Tensor.__new__(Tensor, tensor)


def _as_subclass(tensor: Tensor, cls) -> Tensor:
    """The same tensor (storage and autograd history) as an instance of `cls`, without metadata."""
    return Tensor.__new__(cls, tensor)


def _method_wrapper(name: str, method):
    """`method` with torchvision's output rule: pure tensors out, unless forced or asked for."""

    def wrapper(self, *args, **kwargs):
        output = method(self, *args, **kwargs)
        cls = type(self)
        if _must_return_subclass() or name in _FORCE_TORCHFUNCTION_SUBCLASS:
            return cls._wrap_output(output, (self, *args), kwargs)
        if isinstance(output, TVTensor):
            return _as_tensor(output)
        if isinstance(output, tuple) and any(isinstance(o, TVTensor) for o in output):
            return type(output)(_as_tensor(o) if isinstance(o, TVTensor) else o for o in output)
        return output

    wrapper.__name__ = name
    wrapper.__qualname__ = f"TVTensor.{name}"
    wrapper.__doc__ = getattr(method, "__doc__", None)
    return wrapper


def _wrapped_tensor_methods() -> dict:
    methods = {}
    for name in dir(Tensor):
        if name in _NOT_WRAPPED:
            continue
        static = inspect.getattr_static(Tensor, name)
        if isinstance(static, (property, type(Tensor.shape), int, str, classmethod, staticmethod)):
            continue  # attributes (shape, dtype, grad, T, ...) and constants
        if callable(static):
            methods[name] = _method_wrapper(name, getattr(Tensor, name))
    return methods


class TVTensor(Tensor):
    """Base class for all TVTensors (`Image`, `Video`, `Mask`, `BoundingBoxes`, `KeyPoints`).

    A TVTensor shares storage and autograd history with the tensor it was made from. Operations on it
    return pure tensors, except ``clone``, ``to``, ``detach``, ``requires_grad_`` and ``pin_memory``
    (see `set_return_type` to change that).
    """

    def __init__(self, *args, **kwargs):
        pass  # everything happens in __new__, as for torch.Tensor subclasses

    @staticmethod
    def _to_tensor(data, dtype=None, device=None, requires_grad=None) -> Tensor:
        if requires_grad is None:
            requires_grad = data.requires_grad if isinstance(data, Tensor) else False
        if isinstance(data, Tensor):
            tensor = _as_tensor(data)
            if dtype is not None and tensor.dtype != dtype:
                tensor = tensor.to(dtype)
        else:
            tensor = ferrotorch.as_tensor(data) if dtype is None else ferrotorch.as_tensor(data).to(dtype)
        if device is not None and str(device) != "cpu":
            tensor = tensor.to(device)
        return tensor.requires_grad_(requires_grad)

    @classmethod
    def _wrap_output(cls, output, args=(), kwargs=None):
        if isinstance(output, Tensor) and not isinstance(output, cls):
            output = _as_subclass(output, cls)
        if isinstance(output, (tuple, list)):
            output = type(output)(cls._wrap_output(part, args, kwargs) for part in output)
        return output

    @classmethod
    def wrap(cls, tensor: Tensor, like: "TVTensor", **kwargs) -> "TVTensor":
        """`tensor` as a `cls`, with the metadata of `like` (subclasses with metadata override this)."""
        return _as_subclass(tensor, cls)

    def _make_repr(self, **kwargs) -> str:
        # torchvision appends ", " even when there is no metadata: `Image([...], )`.
        extra_repr = ", ".join(f"{key}={value}" for key, value in kwargs.items())
        return f"{self._subclass_repr()[:-1]}, {extra_repr})"

    def _subclass_repr(self) -> str:
        """The tensor's repr with the class name in place of "tensor", as PyTorch prints subclasses."""
        lines = Tensor.__repr__(_as_tensor(self)).split("\n")
        name = type(self).__name__
        shift = len(name) - len("tensor")
        rest = [" " * shift + line if shift >= 0 else line[-shift:] for line in lines[1:]]
        return "\n".join([name + lines[0][len("tensor") :]] + rest)

    def __repr__(self) -> str:
        return self._subclass_repr()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        return self.detach().clone().requires_grad_(self.requires_grad)

    def __reduce_ex__(self, protocol):
        # Pickle as the pure tensor plus the metadata, rebuilt by `wrap`.
        return (_rebuild_tv_tensor, (type(self), _as_tensor(self).detach().clone(), dict(self.__dict__)))


def _rebuild_tv_tensor(cls, tensor, metadata):
    out = _as_subclass(tensor, cls)
    out.__dict__.update(metadata)
    return out


for _name, _method in _wrapped_tensor_methods().items():
    setattr(TVTensor, _name, _method)
del _name, _method
