"""``ferrotorch.cpu``: the CPU device module, as ``torch.cpu`` (and its deprecated ``amp``)."""

from . import amp

__all__ = ["is_available", "device_count", "current_device", "synchronize", "amp"]


def is_available():
    """The CPU is always available."""
    return True


def device_count():
    """One CPU device."""
    return 1


def current_device():
    """The name of the current CPU device: ``'cpu'``."""
    return "cpu"


def synchronize(device=None):
    """Waits for all work on the CPU, which is always done: ops on the CPU run eagerly."""
