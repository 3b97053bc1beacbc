"""``ferrotorch.backends.cuda``: whether this build has CUDA, the cuBLAS matmul switches
(``matmul.allow_tf32`` and the reduced-precision reductions) and the scaled-dot-product
attention backend switches."""

import contextlib

from .. import _C, _determinism

__all__ = [
    "is_built", "matmul", "flash_sdp_enabled", "enable_flash_sdp", "mem_efficient_sdp_enabled",
    "enable_mem_efficient_sdp", "math_sdp_enabled", "enable_math_sdp", "cudnn_sdp_enabled", "enable_cudnn_sdp",
    "sdp_kernel",
]


def is_built():
    """Whether ferrotorch was built with its CUDA backend (a device need not be present): always,
    since the backend loads CUDA at run time."""
    return True


class cuBLASModule:
    """``matmul``: cuBLAS's precision switches. ``allow_tf32`` is the float32 matmul precision
    seen as a bool (``"highest"`` is ``False``); unknown names raise ``AttributeError``."""

    _reductions = {"allow_fp16_reduced_precision_reduction": True, "allow_bf16_reduced_precision_reduction": True}

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _determinism.get_float32_matmul_precision() != "highest"
        if name in self._reductions:
            return self._reductions[name]
        raise AttributeError("Unknown attribute " + name)

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _determinism.set_float32_matmul_precision("high" if value else "highest")
        elif name in self._reductions:
            self._reductions[name] = value
        else:
            raise AttributeError("Unknown attribute " + name)


matmul = cuBLASModule()

# Which scaled-dot-product attention backends may run (all allowed by default, as in PyTorch);
# the switches live in the core, which chooses among the allowed (core-rs/src/ops/nn/sdp.rs).
def _sdp_switch(kind):
    def enabled():
        return _C._sdp_enabled(kind)

    def enable(value):
        _C._sdp_set_enabled(kind, bool(value))

    enabled.__name__, enable.__name__ = f"{kind}_sdp_enabled", f"enable_{kind}_sdp"
    enabled.__doc__ = f"Whether the {kind} scaled-dot-product attention backend may run."
    enable.__doc__ = f"Allows or forbids the {kind} scaled-dot-product attention backend."
    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _sdp_switch("flash")
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _sdp_switch("mem_efficient")
math_sdp_enabled, enable_math_sdp = _sdp_switch("math")
cudnn_sdp_enabled, enable_cudnn_sdp = _sdp_switch("cudnn")


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Sets the four backend switches for the block and restores them after (PyTorch's older
    form of ``nn.attention.sdpa_kernel``, which it runs)."""
    from ..nn.attention import SDPBackend, sdpa_kernel

    wanted = {SDPBackend.FLASH_ATTENTION: enable_flash, SDPBackend.MATH: enable_math,
              SDPBackend.EFFICIENT_ATTENTION: enable_mem_efficient, SDPBackend.CUDNN_ATTENTION: enable_cudnn}
    with sdpa_kernel([backend for backend, on in wanted.items() if on]) as value:
        yield value
