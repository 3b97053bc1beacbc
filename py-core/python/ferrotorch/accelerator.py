"""``ferrotorch.accelerator``: the device-generic accelerator queries of ``torch.accelerator``.

This build runs on the CPU only (the CUDA backend is a later step), so no accelerator is present:
scripts that ask before choosing a device fall back to the CPU, as they do under PyTorch on a
machine without a GPU.
"""

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "synchronize"]


def is_available():
    """Whether an accelerator (a CUDA device) can be used: never in this build."""
    return False


def current_accelerator(check_available=False):
    """The accelerator's device type, or None when there is none."""
    return None


def device_count():
    """The number of accelerator devices: 0."""
    return 0


def current_device_index():
    raise RuntimeError("ferrotorch.accelerator: no accelerator is available")


def set_device_index(device):
    raise RuntimeError("ferrotorch.accelerator: no accelerator is available")


def synchronize(device=None):
    """Wait for queued accelerator work: with none present, there is nothing to wait for."""
