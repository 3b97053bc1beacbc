"""The kernel registry behind every v2 functional: one kernel per input type (pure tensor, PIL image,
`tv_tensors.Image`, `Mask`, `BoundingBoxes`, ...), found along the input type's MRO."""

import functools

from ferrotorch import Tensor

from .... import tv_tensors
from ....tv_tensors._tv_tensor import _as_tensor

_KERNEL_REGISTRY: dict = {}


def is_pure_tensor(inpt) -> bool:
    """A tensor that is not a TVTensor (the v2 transforms treat it as an image, see `Transform`)."""
    return isinstance(inpt, Tensor) and not isinstance(inpt, tv_tensors.TVTensor)


def _kernel_tv_tensor_wrapper(kernel):
    """Run `kernel` on the pure tensor and wrap its output like the input (metadata included)."""

    @functools.wraps(kernel)
    def wrapper(inpt, *args, **kwargs):
        return tv_tensors.wrap(kernel(_as_tensor(inpt), *args, **kwargs), like=inpt)

    return wrapper


def _register_kernel_internal(functional, input_type, *, tv_tensor_wrapper=True):
    registry = _KERNEL_REGISTRY.setdefault(functional, {})
    if input_type in registry:
        raise ValueError(f"Functional {functional} already has a kernel registered for type {input_type}.")

    def decorator(kernel):
        wrap = isinstance(input_type, type) and issubclass(input_type, tv_tensors.TVTensor) and tv_tensor_wrapper
        registry[input_type] = _kernel_tv_tensor_wrapper(kernel) if wrap else kernel
        return kernel

    return decorator


def _builtin_tv_tensor_types() -> set:
    return {
        obj for obj in vars(tv_tensors).values() if isinstance(obj, type) and issubclass(obj, tv_tensors.TVTensor)
    }


def _name_to_functional(name: str):
    from .. import functional

    try:
        return getattr(functional, name)
    except AttributeError:
        raise ValueError(
            f"Could not find functional with name '{name}' in ferrovision.transforms.v2.functional."
        ) from None


def register_kernel(functional, tv_tensor_cls):
    """Decorator registering a kernel of `functional` (a v2 functional or its name) for a custom TVTensor
    subclass. The kernel receives the TVTensor itself and must return the output type itself."""
    if isinstance(functional, str):
        functional = _name_to_functional(functional)
    elif not (
        callable(functional)
        and getattr(functional, "__module__", "").startswith("ferrovision.transforms.v2.functional")
    ):
        raise ValueError(
            "Kernels can only be registered on functionals from the ferrovision.transforms.v2.functional "
            f"namespace, but got {functional}."
        )
    if not (isinstance(tv_tensor_cls, type) and issubclass(tv_tensor_cls, tv_tensors.TVTensor)):
        raise ValueError(
            "Kernels can only be registered for subclasses of ferrovision.tv_tensors.TVTensor, "
            f"but got {tv_tensor_cls}."
        )
    if tv_tensor_cls in _builtin_tv_tensor_types():
        raise ValueError(f"Kernels cannot be registered for the builtin tv_tensor classes, but got {tv_tensor_cls}")
    return _register_kernel_internal(functional, tv_tensor_cls, tv_tensor_wrapper=False)


def _get_kernel(functional, input_type, *, allow_passthrough=False):
    """The kernel for `input_type` (walking its MRO up to TVTensor); a pass-through when allowed."""
    registry = _KERNEL_REGISTRY.get(functional)
    if not registry:
        raise ValueError(f"No kernel registered for functional {functional.__name__}.")
    for cls in input_type.__mro__:
        if cls in registry:
            return registry[cls]
        if cls is tv_tensors.TVTensor:
            break  # a TVTensor subclass without its own kernel must not fall back to the pure-tensor one
    if allow_passthrough:
        return lambda inpt, *args, **kwargs: inpt
    raise TypeError(
        f"Functional F.{functional.__name__} supports inputs of type {registry.keys()}, "
        f"but got {input_type} instead."
    )


def _dispatch(functional, inpt, *args, **kwargs):
    """Call the kernel of `functional` for `inpt` (the body of every functional)."""
    return _get_kernel(functional, type(inpt))(inpt, *args, **kwargs)
