"""Max, average, adaptive and power-average pooling, and max unpooling.

Inputs are ``(N, C, *spatial)`` or unbatched ``(C, *spatial)`` with one to three spatial dims.
The kernels (and their gradients) are native (``ferrotorch._C``); power-average pooling is a
composite of them, as in PyTorch."""

import math

from ... import _C
from ..modules.utils import _ntuple
from .activation import relu

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "max_unpool1d", "max_unpool2d", "max_unpool3d",
    "lp_pool1d", "lp_pool2d", "lp_pool3d",
]


def _stride_or_empty(stride):
    # PyTorch's native ops read an empty stride as "the kernel size".
    return () if stride is None else stride


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """1-d max pooling over ``(N, C, L)``: ``(values, indices)``, indices flat within each
    input plane (NaN wins a window)."""
    return _C.max_pool1d_with_indices(input, kernel_size, _stride_or_empty(stride), padding, dilation, ceil_mode)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """2-d max pooling over ``(N, C, H, W)``: ``(values, indices)``, indices flat within each
    input plane (``h * W + w``)."""
    return _C.max_pool2d_with_indices(input, kernel_size, _stride_or_empty(stride), padding, dilation, ceil_mode)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """3-d max pooling over ``(N, C, D, H, W)``: ``(values, indices)``, indices flat within
    each input volume."""
    return _C.max_pool3d_with_indices(input, kernel_size, _stride_or_empty(stride), padding, dilation, ceil_mode)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling over ``(N, C, L)``; ``stride`` defaults to ``kernel_size``; with
    ``return_indices``, also the argmax positions (for ``max_unpool1d``)."""
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _C.max_pool1d(input, kernel_size, _stride_or_empty(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling over ``(N, C, H, W)``; ``stride`` defaults to ``kernel_size``; with
    ``return_indices``, also the argmax positions (for ``max_unpool2d``)."""
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _C.max_pool2d(input, kernel_size, _stride_or_empty(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-d max pooling over ``(N, C, D, H, W)``; ``stride`` defaults to ``kernel_size``; with
    ``return_indices``, also the argmax positions (for ``max_unpool3d``)."""
    if return_indices:
        return max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _C.max_pool3d(input, kernel_size, _stride_or_empty(stride), padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling over ``(N, C, L)``; ``count_include_pad`` counts the zero padding in
    the divisor."""
    return _C.avg_pool1d(input, kernel_size, _stride_or_empty(stride), padding, ceil_mode, count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-d average pooling over ``(N, C, H, W)``; ``divisor_override`` replaces the window size
    as divisor."""
    return _C.avg_pool2d(input, kernel_size, _stride_or_empty(stride), padding, ceil_mode, count_include_pad,
                         divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-d average pooling over ``(N, C, D, H, W)``; ``divisor_override`` replaces the window
    size as divisor."""
    return _C.avg_pool3d(input, kernel_size, _stride_or_empty(stride), padding, ceil_mode, count_include_pad,
                         divisor_override)


def _list_with_default(out_size, defaults):
    """``output_size`` with ``None`` entries taken from the input's trailing sizes."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]


def adaptive_avg_pool1d(input, output_size):
    """Averages over ``(N, C, L)`` in ``output_size`` near-equal windows."""
    return _C.adaptive_avg_pool1d(input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Averages over ``(N, C, H, W)`` in near-equal windows; a ``None`` size keeps the input's."""
    return _C.adaptive_avg_pool2d(input, _list_with_default(_ntuple(2)(output_size), input.size()))


def adaptive_avg_pool3d(input, output_size):
    """Averages over ``(N, C, D, H, W)`` in near-equal windows; a ``None`` size keeps the
    input's."""
    return _C.adaptive_avg_pool3d(input, _list_with_default(_ntuple(3)(output_size), input.size()))


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """Adaptive 1-d max pooling: ``(values, indices)``."""
    return _C.adaptive_max_pool1d(input, output_size)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """Adaptive 2-d max pooling: ``(values, indices)``; a ``None`` size keeps the input's."""
    return _C.adaptive_max_pool2d(input, _list_with_default(_ntuple(2)(output_size), input.size()))


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """Adaptive 3-d max pooling: ``(values, indices)``; a ``None`` size keeps the input's."""
    return _C.adaptive_max_pool3d(input, _list_with_default(_ntuple(3)(output_size), input.size()))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maxima over ``(N, C, L)`` in ``output_size`` near-equal windows (and their indices)."""
    out = adaptive_max_pool1d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maxima over ``(N, C, H, W)`` in near-equal windows (and their indices)."""
    out = adaptive_max_pool2d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maxima over ``(N, C, D, H, W)`` in near-equal windows (and their indices)."""
    out = adaptive_max_pool3d_with_indices(input, output_size)
    return out if return_indices else out[0]


def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    """The spatial output size of max unpooling: the inverse of max pooling's, or
    ``output_size`` (spatial, or with the leading ``N, C``) within one stride of it."""
    input_size = input.size()
    nd = len(kernel_size)
    default_size = [(input_size[-nd + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        return default_size
    output_size = list(output_size)
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(
            "output_size should be a sequence containing "
            f"{nd} or {nd + 2} elements, but it has a length of '{len(output_size)}'"
        )
    for d in range(nd):
        min_size = default_size[d] - stride[d]
        max_size = default_size[d] + stride[d]
        if not (min_size < output_size[d] < max_size):
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {min_size} and {max_size})')
    return output_size


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    ntuple = _ntuple(nd)
    kernel_size = ntuple(kernel_size)
    stride = ntuple(stride) if stride is not None else kernel_size
    size = _unpool_output_size(input, kernel_size, stride, ntuple(padding), output_size)
    return getattr(_C, f"max_unpool{nd}d")(input, indices, size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: each value goes back to its argmax position in zeros."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: each value goes back to its argmax position in zeros."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d``: each value goes back to its argmax position in zeros."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    """``(sum over each window of x**p) ** (1/p)``, as PyTorch computes it: the average pool of
    ``x**p`` times the window size (negative averages clamp to zero); ``p = ±inf`` is a max."""
    max_pool, avg_pool = (max_pool1d, max_pool2d, max_pool3d)[nd - 1], (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    if isinstance(norm_type, (int, float)):
        if norm_type == 0:
            raise ValueError(f"norm_type must be a non-zero value, but got {norm_type}")
        if norm_type == float("inf"):
            return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    numel = math.prod(_ntuple(nd)(kernel_size))
    return (out.sign() * relu(out.abs())).mul(numel).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-d power-average pooling: the ``norm_type``-norm of each window."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-d power-average pooling: the ``norm_type``-norm of each window."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-d power-average pooling: the ``norm_type``-norm of each window."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)
