"""``parameters_to_vector`` / ``vector_to_parameters``: all parameters as one flat vector and back."""

from ... import _C
from ..._C import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(param, device):
    """The device all parameters so far live on (``None`` before the first)."""
    if device is not None and param.device != device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return param.device


def parameters_to_vector(parameters):
    """Concatenates the flattened ``parameters`` into one vector (a copy, in the graph)."""
    device = None
    flat = []
    for param in parameters:
        device = _check_same_device(param, device)
        flat.append(param.view(-1))
    return _C.cat(flat)


def vector_to_parameters(vec, parameters):
    """Makes each of ``parameters`` a view of its slice of ``vec`` (in order, as
    ``parameters_to_vector`` lays them out)."""
    if not isinstance(vec, Tensor):
        kind = type(vec)
        name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"expected torch.Tensor, but got: {name}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_same_device(param, device)
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
