"""``ferrotorch.backends.cuda``: whether this build has CUDA, the cuBLAS matmul switches
(``matmul.allow_tf32`` and the reduced-precision reductions) and the scaled-dot-product
attention backend switches."""

from .. import _determinism

__all__ = [
    "is_built", "matmul", "flash_sdp_enabled", "enable_flash_sdp", "mem_efficient_sdp_enabled",
    "enable_mem_efficient_sdp", "math_sdp_enabled", "enable_math_sdp", "cudnn_sdp_enabled", "enable_cudnn_sdp",
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

# Which scaled-dot-product attention kernels may run (all allowed by default, as in PyTorch).
_sdp_enabled = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def _sdp_switch(kind):
    def enabled():
        return _sdp_enabled[kind]

    def enable(value):
        _sdp_enabled[kind] = bool(value)

    enabled.__name__, enable.__name__ = f"{kind}_sdp_enabled", f"enable_{kind}_sdp"
    enabled.__doc__ = f"Whether the {kind} scaled-dot-product attention kernel may run."
    enable.__doc__ = f"Allows or forbids the {kind} scaled-dot-product attention kernel."
    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _sdp_switch("flash")
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _sdp_switch("mem_efficient")
math_sdp_enabled, enable_math_sdp = _sdp_switch("math")
cudnn_sdp_enabled, enable_cudnn_sdp = _sdp_switch("cudnn")
