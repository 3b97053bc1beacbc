"""Process-wide numerics switches: deterministic algorithms and float32 matmul precision
(``torch.use_deterministic_algorithms``, ``torch.set_float32_matmul_precision`` and friends).

ferrotorch's CPU kernels are deterministic already, so the switches are state that scripts set
and read back, with PyTorch's validation (deterministic mode also keeps cuDNN's convolutions to
deterministic algorithms); ``backends.cuda.matmul.allow_tf32`` reads and writes
the matmul precision here.
"""

import warnings

__all__ = [
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
    "get_deterministic_debug_mode", "set_float32_matmul_precision", "get_float32_matmul_precision",
]

_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest"}

_DEBUG_MODES = ("default", "warn", "error")
_MATMUL_PRECISIONS = ("highest", "high", "medium")


def _require_bool(value, name, position=None):
    if not isinstance(value, bool):
        where = f" (position {position})" if position is not None else ""
        raise TypeError(
            f"use_deterministic_algorithms(): argument '{name}'{where} must be bool, not {type(value).__name__}"
        )


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Asks for deterministic algorithms (``mode=True``); with ``warn_only=True`` an op without a
    deterministic implementation would warn instead of raising."""
    _require_bool(mode, "mode", 1)
    _require_bool(warn_only, "warn_only")
    _state["deterministic"], _state["warn_only"] = mode, warn_only
    from . import _C

    _C._cudnn_set_flag("deterministic_algorithms", mode)  # cuDNN keeps to deterministic algorithms


def are_deterministic_algorithms_enabled():
    """Whether :func:`use_deterministic_algorithms` turned deterministic mode on."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """Whether deterministic mode was turned on with ``warn_only=True``."""
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """The same switch by level: ``"default"``/0 off, ``"warn"``/1 warn only, ``"error"``/2 on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES.index(debug_mode)
    elif isinstance(debug_mode, int) and not isinstance(debug_mode, bool):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """The level :func:`set_deterministic_debug_mode` takes: 0 off, 1 warn only, 2 on."""
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_float32_matmul_precision(precision):
    """``"highest"`` (the default), ``"high"`` or ``"medium"``: how much internal precision float32
    matrix products may give up for speed. Any other string warns and changes nothing."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _MATMUL_PRECISIONS:
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
            "setFloat32MatmulPrecision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _state["matmul_precision"] = precision
    # cuBLAS reads the setting as "may float32 products use TF32".
    from . import _C

    _C._cuda_set_allow_tf32(precision != "highest")


def get_float32_matmul_precision():
    """The setting of :func:`set_float32_matmul_precision`."""
    return _state["matmul_precision"]
