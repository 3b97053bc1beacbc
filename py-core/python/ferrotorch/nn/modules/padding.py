"""Padding modules: thin shells over ``F.pad``, one per mode and number of padded dims.

``padding`` is an int (the same amount on every side) or a tuple ``(left, right[, top, bottom[,
front, back]])``, last dim first, as ``F.pad`` takes it.
"""

from .. import functional as F
from .module import Module
from .utils import _ntuple, _pair, _quadruple

__all__ = [
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
]

_sextuple = _ntuple(6, "_sextuple")
# Padding tuple parser per number of padded dims.
_PARSE = {1: _pair, 2: _quadruple, 3: _sextuple}


class _PadNd(Module):
    """Pads the last ``_dims`` dims with ``F.pad(input, padding, _mode)``."""

    _mode = None
    _dims = None

    def __init__(self, padding):
        super().__init__()
        self.padding = _PARSE[self._dims](padding)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``: (C, W) or (N, C, W) -> W + left + right."""

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with ``value``: (C, H, W) or (N, C, H, W)."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with ``value``: (C, D, H, W) or (N, C, D, H, W)."""

    _dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd, ConstantPad1d):
    """Pads the last dim with zeros: (C, W) or (N, C, W)."""


class ZeroPad2d(_ZeroPadNd, ConstantPad2d):
    """Pads the last two dims with zeros: (C, H, W) or (N, C, H, W)."""


class ZeroPad3d(_ZeroPadNd, ConstantPad3d):
    """Pads the last three dims with zeros: (C, D, H, W) or (N, C, D, H, W)."""


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its reflection (edge not repeated): (C, W) or (N, C, W)."""

    _mode, _dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pads the last two dims with their reflection: (C, H, W) or (N, C, H, W)."""

    _mode, _dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Pads the last three dims with their reflection: (C, D, H, W) or (N, C, D, H, W)."""

    _mode, _dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating its edge values: (C, W) or (N, C, W)."""

    _mode, _dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pads the last two dims by repeating their edges: (C, H, W) or (N, C, H, W)."""

    _mode, _dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Pads the last three dims by repeating their edges: (C, D, H, W) or (N, C, D, H, W)."""

    _mode, _dims = "replicate", 3


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        if input.dim() not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"expected {self._dims + 1}D or {self._dims + 2}D input (got {input.dim()}D input)")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """Pads the last dim by wrapping around: (C, W) or (N, C, W)."""

    _dims = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last two dims by wrapping around: (C, H, W) or (N, C, H, W)."""

    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last three dims by wrapping around: (C, D, H, W) or (N, C, D, H, W)."""

    _dims = 3
