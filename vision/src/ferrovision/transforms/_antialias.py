"""Antialiased resize (PyTorch's `interpolate(..., antialias=True)`) as two separable passes.

PyTorch computes each output pixel as a normalised weighted sum of the input pixels under a filter
stretched by the downscale factor (PIL's algorithm), first along the width, then along the height.
The weights depend only on the sizes; each pass gathers the taps and sums them.
"""

import math

import numpy as np

import ferrotorch

# Filter half-widths (in input pixels at scale 1) and shapes, as in ATen's UpSampleKernel.cpp.
_SUPPORT = {"bilinear": 1.0, "bicubic": 2.0}


def _bilinear_filter(x, dtype):
    x = np.abs(x)
    return np.where(x < 1.0, dtype(1.0) - x, dtype(0.0)).astype(dtype)


def _bicubic_filter(x, dtype):
    # Keys' cubic with a = -0.5 (the antialiased kernels use PIL's constant, not -0.75), written as
    # ATen's cubic_convolution1/2 so that the float rounding is the same.
    a = dtype(-0.5)
    x = np.abs(x)
    near = ((a + dtype(2.0)) * x - (a + dtype(3.0))) * x * x + dtype(1.0)
    far = ((a * x - dtype(5.0) * a) * x + dtype(8.0) * a) * x - dtype(4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, dtype(0.0))).astype(dtype)


_FILTERS = {"bilinear": _bilinear_filter, "bicubic": _bicubic_filter}


def antialias_taps(in_size: int, out_size: int, mode: str, dtype=np.float32):
    """(indices, weights), both (out_size, taps): the input pixels and weights of each output pixel.

    Follows ATen's `_compute_indices_min_size_weights_aa` step by step, including which
    intermediate values are rounded to the image's float type, so that the weights are identical.
    """
    scale = dtype(dtype(in_size) / dtype(out_size))
    support = dtype(_SUPPORT[mode] * float(scale)) if scale >= 1.0 else dtype(_SUPPORT[mode])
    invscale = dtype(1.0 / float(scale)) if scale >= 1.0 else dtype(1.0)
    max_taps = int(math.ceil(support)) * 2 + 1
    indices = np.zeros((out_size, max_taps), dtype=np.int64)
    weights = np.zeros((out_size, max_taps), dtype=dtype)
    for i in range(out_size):
        center = dtype(float(scale) * (i + 0.5))
        # C++ truncates toward zero when it casts to int64.
        xmin = max(int(float(center - support) + 0.5), 0)
        xsize = min(max(min(int(float(center + support) + 0.5), in_size) - xmin, 0), max_taps)
        offsets = (np.arange(xsize) + xmin).astype(dtype) - center
        taps = _FILTERS[mode](((offsets.astype(np.float64) + 0.5) * float(invscale)).astype(dtype), dtype)
        total = dtype(0.0)
        for w in taps:
            total = dtype(total + w)
        if total != 0.0:
            taps = (taps / total).astype(dtype)
        indices[i, :xsize] = np.arange(xmin, xmin + xsize)
        weights[i, :xsize] = taps
    return indices, weights


def _resize_last_dim(img, in_size: int, out_size: int, mode: str, np_dtype):
    """One separable pass along the last dim: a sum over taps in ATen's order (no matmul, whose
    blocked summation would round differently and flip uint8 results that sit on a .5)."""
    indices, weights = antialias_taps(in_size, out_size, mode, np_dtype)
    gathered = img[..., ferrotorch.from_numpy(indices)]  # (..., out, taps)
    w = ferrotorch.from_numpy(weights)
    out = gathered[..., 0] * w[:, 0]
    for k in range(1, weights.shape[1]):
        out = out + gathered[..., k] * w[:, k]
    return out


def resize_antialias(img, size, mode: str):
    """Resize a float (N, C, H, W) tensor to `size` = (h, w) with PyTorch's antialiased kernels."""
    np_dtype = np.float64 if img.dtype == ferrotorch.float64 else np.float32
    out_h, out_w = size
    in_h, in_w = img.shape[-2], img.shape[-1]
    # Width first, then height, as ATen does (and it skips a dimension whose size does not change).
    if out_w != in_w:
        img = _resize_last_dim(img, in_w, out_w, mode, np_dtype)
    if out_h != in_h:
        img = _resize_last_dim(img.transpose(-1, -2), in_h, out_h, mode, np_dtype).transpose(-1, -2)
    return img
