"""``ferrotorch.cuda``: CUDA devices, as ``torch.cuda``.

The backend loads the CUDA libraries at run time (nothing CUDA is needed to install or import
ferrotorch): the NVIDIA driver from the system, NVRTC and cuBLAS from the loader path,
``$CUDA_HOME``/``$CUDA_PATH`` or the pip packages ``nvidia-cuda-nvrtc`` and ``nvidia-cublas``.
On a machine without a driver or GPU, :func:`is_available` is False and the calls that need a
device raise PyTorch's RuntimeError ("Found no NVIDIA driver on your system..." or "No CUDA GPUs
are available").
"""

from .. import _C
from . import _libs

__all__ = [
    "is_available", "device_count", "is_initialized", "init", "current_device", "set_device", "device",
    "device_of", "get_device_name", "get_device_properties", "get_device_capability", "synchronize",
    "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state",
    "get_rng_state_all", "set_rng_state", "set_rng_state_all", "default_generators", "memory_allocated", "max_memory_allocated",
    "memory_reserved", "max_memory_reserved", "memory_stats", "reset_peak_memory_stats", "empty_cache",
    "memory_summary", "mem_get_info", "set_per_process_memory_fraction", "memory_snapshot", "memory_cached",
    "max_memory_cached", "reset_max_memory_allocated", "reset_max_memory_cached", "Stream", "Event", "current_stream", "default_stream", "set_stream", "stream",
    "StreamContext", "CUDAGraph", "graph", "graph_pool_handle", "is_current_stream_capturing",
]

# Registered at import, before any query, so every later library load can use the wheels.
_libs.register()

_initialized = False


def is_available():
    """Whether a CUDA device can be used (a driver loads and sees at least one GPU)."""
    return _C._cuda_is_available()


def device_count():
    """The number of CUDA devices; 0 without a driver or GPU."""
    return _C._cuda_device_count()


def is_initialized():
    """Whether CUDA has been initialised in this process (by :func:`init` or a device call)."""
    return _initialized


def init():
    """Initialises CUDA; raises RuntimeError when no driver or GPU is present."""
    global _initialized
    _C._cuda_init()
    _initialized = True


def _device_index(device, optional=False, lazy=False):
    """The CUDA device index named by ``device`` (an int, ``"cuda:N"``, a ``ferrotorch.device``).

    ``None`` means the current device when ``optional``; with ``lazy`` it is returned as None
    instead, for queries that must not initialise CUDA (PyTorch's memory statistics)."""
    from .. import device as _torch_device

    if device is None:
        if not optional:
            raise ValueError("Expected a cuda device, but got: None")
        return None if lazy else current_device()
    if isinstance(device, bool):
        raise ValueError(f"Expected a cuda device, but got: {device}")
    if isinstance(device, int):
        return device
    if isinstance(device, str):
        device = _torch_device(device)
    if isinstance(device, _torch_device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        if device.index is None:
            return None if lazy else (current_device() if optional else 0)
        return device.index
    raise ValueError(f"Expected a cuda device, but got: {device!r}")


def current_device():
    """The index of the current device of this thread."""
    init()
    return _C._cuda_current_device()


def set_device(device):
    """Makes ``device`` current for this thread; a negative index does nothing."""
    index = _device_index(device)
    if index >= 0:
        init()
        _C._cuda_set_device(index)


class device:
    """Context manager that makes a device current and restores the previous one on exit;
    a negative index or None does nothing."""

    def __init__(self, device):
        self.idx = -1 if device is None else _device_index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return
        self.prev_idx = current_device()
        if self.idx != self.prev_idx:
            set_device(self.idx)

    def __exit__(self, exc_type, exc_value, traceback):
        if self.prev_idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


_device_guard = device  # `device` is also a common parameter name below


class device_of(device):
    """Context manager that makes the device of a tensor current (a CPU tensor: no change)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if getattr(obj, "is_cuda", False) else -1)


class _CudaDeviceProperties:
    """What :func:`get_device_properties` returns, with ``torch.cuda``'s attribute names."""

    def __init__(self, properties):
        self.__dict__.update(properties)

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count}, L2_cache_size={self.L2_cache_size // (1024 * 1024)}MB)")


def _existing_device(device):
    """The index of a device that exists, named by ``device`` (the current one for None),
    initialising CUDA; PyTorch's AssertionError for another index."""
    init()
    index = _device_index(device, optional=True)
    if index < 0 or index >= device_count():
        raise AssertionError("Invalid device id")
    return index


def get_device_properties(device=None):
    """The properties (name, compute capability, memory, ...) of a device."""
    index = _existing_device(device)
    return _CudaDeviceProperties(_C._cuda_get_device_properties(index))


def get_device_name(device=None):
    """The name of a device, e.g. ``'NVIDIA H100 80GB HBM3'``."""
    return get_device_properties(device).name


def get_device_capability(device=None):
    """The compute capability of a device as ``(major, minor)``."""
    properties = get_device_properties(device)
    return properties.major, properties.minor


def synchronize(device=None):
    """Waits for all work queued on a device."""
    init()
    with _device_guard(device):
        _C._cuda_synchronize(current_device())


from .random import (  # noqa: E402
    manual_seed, manual_seed_all, seed, seed_all, initial_seed, get_rng_state, get_rng_state_all,
    set_rng_state, set_rng_state_all,
)


def __getattr__(name):
    # `default_generators`: one per device, as many as there are devices (none without a GPU).
    if name == "default_generators":
        return tuple(_C._cuda_default_generator(i) for i in range(device_count()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
from .memory import (  # noqa: E402
    memory_allocated, max_memory_allocated, memory_reserved, max_memory_reserved, memory_stats,
    reset_peak_memory_stats, empty_cache, memory_summary, mem_get_info, set_per_process_memory_fraction,
    memory_snapshot, memory_cached, max_memory_cached, reset_max_memory_allocated, reset_max_memory_cached,
)
from .streams import Event, Stream, StreamContext, current_stream, default_stream, set_stream, stream  # noqa: E402
from .graphs import CUDAGraph, graph, graph_pool_handle, is_current_stream_capturing  # noqa: E402
