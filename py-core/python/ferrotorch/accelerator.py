"""``ferrotorch.accelerator``: the device-generic accelerator queries of ``torch.accelerator``,
answered by ``ferrotorch.cuda`` (the only accelerator backend). Every wheel is built with CUDA,
so they answer as PyTorch's CUDA build does: without a usable GPU ``is_available()`` is False
(scripts that ask before choosing a device fall back to the CPU) and the calls that need a device
raise its RuntimeError."""

from . import cuda as _cuda

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "synchronize"]


def is_available():
    """Whether an accelerator (a CUDA device) can be used."""
    return _cuda.is_available()


def current_accelerator(check_available=False):
    """The accelerator this build targets, ``device(type='cuda')``; None when
    ``check_available`` and no GPU can be used."""
    if check_available and not _cuda.is_available():
        return None
    from . import device

    return device("cuda")


def device_count():
    """The number of accelerator devices."""
    return _cuda.device_count()


def current_device_index():
    """The index of the current accelerator device; raises without one."""
    return _cuda.current_device()


def set_device_index(device):
    """Makes ``device`` the current accelerator device."""
    _cuda.set_device(device)


def synchronize(device=None):
    """Waits for queued accelerator work."""
    _cuda.synchronize(device)
