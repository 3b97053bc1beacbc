"""``ferrotorch.backends.mkldnn``: oneDNN (MKL-DNN). ferrotorch's CPU kernels are its own
(``gemm`` crate, im2col convolution), so oneDNN is not available; the ``enabled`` flag is kept
for scripts that set it."""

import sys

from ._flags import flags_context

enabled = True
deterministic = False
allow_tf32 = True

_module = sys.modules[__name__]


def is_available():
    """Whether oneDNN kernels exist in this build: never in ferrotorch."""
    return False


def flags(enabled=False, deterministic=False, allow_tf32=True):
    """Context manager: the given flags inside the block, the old ones after it."""
    return flags_context(_module, enabled=enabled, deterministic=deterministic, allow_tf32=allow_tf32)
