"""``ferrotorch.nn.attention``: ``SDPBackend`` and the ``sdpa_kernel`` context, which choose the
backends ``scaled_dot_product_attention`` may run, as ``torch.nn.attention``'s.

ferrotorch has two implementations (core-rs/src/ops/nn/sdp.rs): its fused kernels serve
``FLASH_ATTENTION`` (float16 and bfloat16 on CUDA) and ``EFFICIENT_ATTENTION`` (every float dtype
on CUDA); tensor ops serve ``MATH`` (and on the CPU also ``FLASH_ATTENTION``). There is no cuDNN
attention: its switch is kept and no kernel answers to it."""

import contextlib
import enum

from ... import _C

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The scaled-dot-product attention backends, numbered as PyTorch's."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


# The core's name for each backend's switch (OVERRIDEABLE, for out-of-tree devices, has none).
_SWITCHES = {
    SDPBackend.MATH: "math",
    SDPBackend.FLASH_ATTENTION: "flash",
    SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
    SDPBackend.CUDNN_ATTENTION: "cudnn",
}
_FUSED = (SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION)


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the block only ``backends`` (one ``SDPBackend`` or a list) may run; with
    ``set_priority`` the list's order also says which runs first where several could."""
    if isinstance(backends, SDPBackend):
        backends = [backends]
    if not isinstance(backends, (list, tuple)) or not all(isinstance(b, SDPBackend) for b in backends):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances")
    previous = {name: _C._sdp_enabled(name) for name in _SWITCHES.values()}
    previous_priority = _C._sdp_priority()
    try:
        for backend, name in _SWITCHES.items():
            _C._sdp_set_enabled(name, backend in backends)
        if set_priority:
            ours = [b for b in backends if b in _FUSED or b == SDPBackend.MATH]
            _C._sdp_set_priority(None if not ours else ("math" if ours[0] == SDPBackend.MATH else "fused"))
        yield {}
    finally:
        for name, value in previous.items():
            _C._sdp_set_enabled(name, value)
        _C._sdp_set_priority(previous_priority)
