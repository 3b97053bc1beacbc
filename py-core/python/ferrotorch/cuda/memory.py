"""Memory statistics of ``ferrotorch.cuda``, as ``torch.cuda.memory``: the counters of each
device's caching allocator. Without a GPU every counter is 0 and the argument checks and errors
are PyTorch's.
"""

import collections
import warnings

from .. import _C
from . import _device_index, _existing_device, device_count, is_available

__all__ = ["memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "memory_stats", "reset_peak_memory_stats", "empty_cache", "memory_summary", "mem_get_info",
           "set_per_process_memory_fraction", "memory_snapshot", "memory_cached", "max_memory_cached",
           "reset_max_memory_allocated", "reset_max_memory_cached"]


def _stats(device):
    """The allocator's counters of ``device`` (the current one when None), or None without a GPU."""
    index = _device_index(device, optional=True, lazy=True)
    if not is_available():
        return None
    from . import current_device

    return _C._cuda_memory_stats(current_device() if index is None else index)


def _counter(device, key):
    stats = _stats(device)
    return 0 if stats is None else stats[key]


def memory_allocated(device=None):
    """Bytes of device memory held by tensors on ``device``."""
    return _counter(device, "allocated_bytes.all.current")


def max_memory_allocated(device=None):
    """Peak of :func:`memory_allocated` since start or the last reset."""
    return _counter(device, "allocated_bytes.all.peak")


def memory_reserved(device=None):
    """Bytes of device memory held by the caching allocator (in use or cached)."""
    return _counter(device, "reserved_bytes.all.current")


def max_memory_reserved(device=None):
    """Peak of :func:`memory_reserved`."""
    return _counter(device, "reserved_bytes.all.peak")


def memory_stats(device=None):
    """The allocator's statistics: empty without a GPU, as in PyTorch before CUDA is initialised."""
    stats = _stats(device)
    return collections.OrderedDict(sorted((stats or {}).items()))


def reset_peak_memory_stats(device=None):
    """Resets the peak counters; raises as PyTorch does for a device that does not exist."""
    index = _device_index(device, optional=True, lazy=True)
    if index is None:
        if device_count() == 0:
            raise RuntimeError("invalid argument to reset_peak_memory_stats")
        from . import current_device

        index = current_device()
    if index < 0 or index >= device_count():
        raise RuntimeError(f"Invalid device argument {index}: did you call init?")
    _C._cuda_reset_peak_memory_stats(index)


def empty_cache():
    """Releases the cached, unused device memory of every device."""
    for index in range(device_count()):
        _C._cuda_empty_cache(index)


def memory_summary(device=None, abbreviated=False):
    """A readable table of the allocator's statistics."""
    index = _device_index(device, optional=True, lazy=True)
    where = "the current device" if index is None else f"device {index}"
    stats = _stats(device) or {}
    rows = [
        ("Allocated memory", stats.get("allocated_bytes.all.current", 0)),
        ("Allocated memory (peak)", stats.get("allocated_bytes.all.peak", 0)),
        ("Reserved memory", stats.get("reserved_bytes.all.current", 0)),
        ("Reserved memory (peak)", stats.get("reserved_bytes.all.peak", 0)),
        ("Non-releasable memory (free, split)", stats.get("inactive_split_bytes.all.current", 0)),
    ]
    counts = [
        ("Allocations", stats.get("allocation.all.current", 0)),
        ("Segments", stats.get("segment.all.current", 0)),
        ("Device allocations / frees", f"{stats.get('num_device_alloc', 0)} / {stats.get('num_device_free', 0)}"),
        ("Out-of-memory retries / errors", f"{stats.get('num_alloc_retries', 0)} / {stats.get('num_ooms', 0)}"),
    ]
    width = 75
    lines = ["=" * width, f" ferrotorch CUDA memory summary, {where}".ljust(width), "-" * width]
    lines += [f" {name:<40}{value:>14} B".ljust(width) for name, value in rows]
    lines += [f" {name:<40}{value:>14}".ljust(width) for name, value in counts]
    lines.append("=" * width)
    return "\n".join(lines) + "\n"


def mem_get_info(device=None):
    """``(free, total)`` bytes of the device's memory, as the driver counts them (other
    processes' memory and this allocator's cache both count as used)."""
    return _C._cuda_mem_get_info(_existing_device(device))


def set_per_process_memory_fraction(fraction, device=None):
    """Caps the caching allocator of ``device`` at ``fraction`` of its memory: a request that
    would take its segments past the cap raises "CUDA out of memory" (after emptying the cache)."""
    index = _existing_device(device)
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    if fraction < 0 or fraction > 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    _C._cuda_set_memory_fraction(index, fraction)


def memory_snapshot():
    """The caching allocator's segments on every device: dicts with ``device``, ``address``,
    ``total_size``, ``allocated_size``, ``active_size``, ``stream``, ``segment_type``
    ('small' or 'large') and ``blocks`` (``address``, ``size``, ``state``: 'active_allocated' or
    'inactive'), as PyTorch's ``memory_snapshot()``; empty without a GPU."""
    if not is_available():
        return []
    return [segment for index in range(device_count()) for segment in _C._cuda_memory_snapshot(index)]


def _deprecated(old, new, message):
    """PyTorch's deprecated name ``old`` for ``new``, warning with PyTorch's ``message``."""
    def alias(device=None):
        warnings.warn(message, FutureWarning, stacklevel=2)
        return globals()[new](device)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated: :func:`{new}`."
    return alias


def _renamed(old, new):
    return _deprecated(old, new, f"torch.cuda.{old} has been renamed to torch.cuda.{new}")


def _resets(old):
    return _deprecated(old, "reset_peak_memory_stats", f"torch.cuda.{old} now calls torch.cuda.reset_peak_memory_stats, "
                                                       "which resets /all/ peak memory stats.")


memory_cached = _renamed("memory_cached", "memory_reserved")
max_memory_cached = _renamed("max_memory_cached", "max_memory_reserved")
reset_max_memory_allocated = _resets("reset_max_memory_allocated")
reset_max_memory_cached = _resets("reset_max_memory_cached")
