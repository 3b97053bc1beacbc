"""``ferrotorch.backends.cudnn``: cuDNN's switches. CUDA convolutions run through cuDNN when its
library loads (a system install, ``$CUDA_HOME``, or the ``nvidia-cudnn-cu13`` wheel) and
``enabled`` is set; otherwise, and for windows cuDNN cannot express, through im2col + cuBLAS.
``benchmark`` times cuDNN's algorithms instead of trusting its heuristics, ``deterministic``
(or ``use_deterministic_algorithms(True)``) keeps to its deterministic ones, ``allow_tf32`` lets
float32 convolutions use TF32 (on by default, as in PyTorch). The switches are module
attributes that read and write the core's state."""

import sys
import types

from .. import _C
from ._flags import flags_context
from ._flags import set_flags as _set

# PyTorch defines the benchmark limit only where cuDNN is present; ferrotorch's search tries every
# algorithm, and finding out whether cuDNN is present means loading it, which import does not do.
benchmark_limit = None


def _core_flag(name):
    """A module property backed by the core's cuDNN switch ``name``."""
    return property(lambda self: _C._cudnn_flag(name), lambda self, value: _C._cudnn_set_flag(name, bool(value)))


class _CudnnModule(types.ModuleType):
    """This module, with its switches read from and written to the core."""

    enabled = _core_flag("enabled")
    benchmark = _core_flag("benchmark")
    deterministic = _core_flag("deterministic")

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
    """Whether the cuDNN library loads (no GPU needed, as in a CUDA build of PyTorch)."""
    return _C._cudnn_is_available()


def version():
    """cuDNN's version number (``91300`` for 9.13.0), or ``None`` when it is not available."""
    return _C._cudnn_version()


def is_acceptable(tensor):
    """Whether cuDNN would take ``tensor``: enabled, available, on a CUDA device, half/float/double
    (PyTorch's list; ferrotorch's cuDNN convolutions take bfloat16 too)."""
    return _module.enabled and is_available() and tensor.is_cuda and tensor.dtype in _TENSOR_DTYPES


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None, _allow_tf32=None):
    """Sets the given flags (``None`` keeps one); returns the previous values in this order."""
    previous = _set(_module, enabled=_enabled, benchmark=_benchmark, deterministic=_deterministic, allow_tf32=_allow_tf32)
    return (previous["enabled"], previous["benchmark"], benchmark_limit, previous["deterministic"], previous["allow_tf32"])


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Context manager: the given flags inside the block, the old ones after it."""
    return flags_context(_module, enabled=enabled, benchmark=benchmark, deterministic=deterministic, allow_tf32=allow_tf32)
