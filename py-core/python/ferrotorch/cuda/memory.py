"""Memory statistics of ``ferrotorch.cuda``, as ``torch.cuda.memory``.

No CUDA tensor memory is allocated by this build yet (the caching allocator is the next step of
the backend), so every counter is 0 and there is no cache to empty; the argument checks and the
errors are PyTorch's.
"""

import collections

from . import _device_index, device_count

__all__ = ["memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "memory_stats", "reset_peak_memory_stats", "empty_cache", "memory_summary"]


def memory_allocated(device=None):
    """Bytes of device memory held by tensors on ``device``: 0."""
    _device_index(device, optional=True, lazy=True)
    return 0


def max_memory_allocated(device=None):
    """Peak of :func:`memory_allocated` since start or the last reset: 0."""
    _device_index(device, optional=True, lazy=True)
    return 0


def memory_reserved(device=None):
    """Bytes of device memory held by the caching allocator: 0."""
    _device_index(device, optional=True, lazy=True)
    return 0


def max_memory_reserved(device=None):
    """Peak of :func:`memory_reserved`: 0."""
    _device_index(device, optional=True, lazy=True)
    return 0


def memory_stats(device=None):
    """The allocator's statistics: empty while nothing was allocated, as in PyTorch before
    CUDA is initialised."""
    _device_index(device, optional=True, lazy=True)
    return collections.OrderedDict()


def reset_peak_memory_stats(device=None):
    """Resets the peak counters; raises as PyTorch does for a device that does not exist."""
    index = _device_index(device, optional=True, lazy=True)
    if index is None:
        if device_count() == 0:
            raise RuntimeError("invalid argument to reset_peak_memory_stats")
        return
    if index < 0 or index >= device_count():
        raise RuntimeError(f"Invalid device argument {index}: did you call init?")


def empty_cache():
    """Releases cached, unused device memory: none is cached."""


def memory_summary(device=None, abbreviated=False):
    """A readable table of the allocator's statistics (all zero in this build)."""
    index = _device_index(device, optional=True, lazy=True)
    where = "the current device" if index is None else f"device {index}"
    rows = [("Allocated memory", 0), ("Active memory", 0), ("Reserved memory", 0), ("Non-releasable memory", 0)]
    width = 75
    lines = ["=" * width, f" ferrotorch CUDA memory summary, {where}".ljust(width), "-" * width]
    lines += [f" {name:<40}{value:>10} B".ljust(width) for name, value in rows]
    lines.append("=" * width)
    return "\n".join(lines) + "\n"
