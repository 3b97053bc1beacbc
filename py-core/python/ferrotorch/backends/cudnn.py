"""``ferrotorch.backends.cudnn``: cuDNN's switches. ``enabled``, ``benchmark``,
``deterministic`` and ``allow_tf32`` are module attributes scripts set; without a CUDA device
cuDNN is unavailable and ``version()`` is ``None``, as in PyTorch. ferrotorch has no cuDNN
backend yet, so it is unavailable on a GPU too; ``allow_tf32`` still governs the float32
products of its CUDA convolutions (im2col + cuBLAS), as it governs cuDNN's in PyTorch."""

import sys
import types

from .. import _C
from ._flags import flags_context
from ._flags import set_flags as _set

enabled = True
benchmark = False
deterministic = False
# PyTorch defines the benchmark limit only where cuDNN is present.
benchmark_limit = None


class _CudnnModule(types.ModuleType):
    """This module, with ``allow_tf32`` read from and written to the core's switch."""

    @property
    def allow_tf32(self):
        return _C._cuda_conv_allow_tf32()

    @allow_tf32.setter
    def allow_tf32(self, value):
        _C._cuda_set_conv_allow_tf32(bool(value))


sys.modules[__name__].__class__ = _CudnnModule
_module = sys.modules[__name__]
_TENSOR_DTYPES = (_C.float16, _C.float32, _C.float64)


def is_available():
    """Whether cuDNN can run: not yet (no cuDNN backend; convolutions use im2col + GEMM)."""
    return False


def version():
    """cuDNN's version number, or ``None`` when it is not available (ferrotorch does not report
    the version of the library it loads)."""
    return None


def is_acceptable(tensor):
    """Whether cuDNN would take ``tensor``: enabled, on a CUDA device, half/float/double."""
    return enabled and is_available() and tensor.is_cuda and tensor.dtype in _TENSOR_DTYPES


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None, _allow_tf32=None):
    """Sets the given flags (``None`` keeps one); returns the previous values in this order."""
    previous = _set(_module, enabled=_enabled, benchmark=_benchmark, deterministic=_deterministic, allow_tf32=_allow_tf32)
    return (previous["enabled"], previous["benchmark"], benchmark_limit, previous["deterministic"], previous["allow_tf32"])


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Context manager: the given flags inside the block, the old ones after it."""
    return flags_context(_module, enabled=enabled, benchmark=benchmark, deterministic=deterministic, allow_tf32=allow_tf32)
