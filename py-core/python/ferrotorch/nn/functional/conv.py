"""Convolutions, transposed convolutions, and ``unfold``/``fold`` (im2col/col2im).

The convolutions are the Rust functions themselves (``ferrotorch.conv2d is F.conv2d``, as in
PyTorch), so a call runs no Python frame:

- ``conv1d/2d/3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)``:
  input ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)``, weight
  ``(C_out, C_in / groups, *kernel)``, bias ``(C_out)``; ``padding`` is ints, ``'valid'`` (none)
  or ``'same'`` (output size = input size, stride 1 only).
- ``conv_transpose1d/2d/3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
  groups=1, dilation=1)``: the adjoint (gradient) of the convolution, weight
  ``(C_in, C_out / groups, *kernel)``; output size per dim
  ``(in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.
"""

from ... import _C
from ..modules.utils import _pair

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "unfold", "fold",
]

conv1d = _C.conv1d
conv2d = _C.conv2d
conv3d = _C.conv3d
conv_transpose1d = _C.conv_transpose1d
conv_transpose2d = _C.conv_transpose2d
conv_transpose3d = _C.conv_transpose3d


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extracts sliding blocks (im2col): ``(N, C, H, W)`` -> ``(N, C * kH * kW, L)``, L the
    number of block positions; ``(C, H, W)`` -> ``(C * kH * kW, L)``."""
    return _C._im2col(input, _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding blocks back into images (col2im), the adjoint of ``unfold``:
    ``(N, C * kH * kW, L)`` -> ``(N, C, *output_size)``; ``(C * kH * kW, L)`` -> ``(C, *output_size)``."""
    return _C._col2im(input, _pair(output_size), _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride))
