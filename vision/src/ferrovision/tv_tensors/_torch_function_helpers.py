"""`set_return_type`: whether Tensor methods on a TVTensor return pure tensors (default) or TVTensors."""

_TORCHFUNCTION_SUBCLASS = False


class _ReturnTypeCM:
    """Restores the previous return type on exit, so `set_return_type` also works as a context manager."""

    def __init__(self, to_restore):
        self.to_restore = to_restore

    def __enter__(self):
        return self

    def __exit__(self, *args):
        global _TORCHFUNCTION_SUBCLASS
        _TORCHFUNCTION_SUBCLASS = self.to_restore


def set_return_type(return_type: str):
    """Set the return type of tensor operations on TVTensors: "Tensor" (default) or "TVTensor".

    Usable as a global switch or as a context manager (``with set_return_type("TVTensor"): ...``).
    It affects Tensor methods and operators called on a TVTensor (``img + 2``, ``img.flip(-1)``); in
    ferrovision it does not affect functions of the ``ferrotorch`` namespace (``ferrotorch.add(img, 2)``),
    which always return pure tensors (ferrotorch has no ``__torch_function__`` protocol).
    """
    global _TORCHFUNCTION_SUBCLASS
    to_restore = _TORCHFUNCTION_SUBCLASS
    try:
        _TORCHFUNCTION_SUBCLASS = {"tensor": False, "tvtensor": True}[return_type.lower()]
    except KeyError:
        raise ValueError(f"return_type must be 'TVTensor' or 'Tensor', got {return_type}") from None
    return _ReturnTypeCM(to_restore)


def _must_return_subclass() -> bool:
    return _TORCHFUNCTION_SUBCLASS


# The methods that keep the TVTensor type of their input (as torchvision's _FORCE_TORCHFUNCTION_SUBCLASS).
_FORCE_TORCHFUNCTION_SUBCLASS = {"clone", "to", "detach", "requires_grad_", "pin_memory"}
