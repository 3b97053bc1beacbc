"""Resampling and rearranging images: ``interpolate``, ``grid_sample``, ``affine_grid``, pixel and channel shuffles.

Everything here is a composite of differentiable tensor ops, so autograd (and double backward)
comes for free. Resizing is separable: for each spatial axis, the source indices and weights
depend only on the sizes, so they are computed once on the host (with PyTorch's exact index
formulas, in PyTorch's arithmetic precision) and applied as one ``index_select`` and a weighted
sum over the taps. ``grid_sample`` gathers its taps from a flattened image in one ``gather``.
"""

import itertools
import math
import warnings

import numpy as np

import ferrotorch as ft

from ...amp.autocast_mode import autocast_call, autocast_op

__all__ = [
    "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "grid_sample", "affine_grid",
]

_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution constant.
_INTERPOLATING_MODES = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}
_AXIS_NAMES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}
# PyTorch's C++ names, used in its dtype-mismatch messages.
_SCALAR_TYPE_NAMES = {
    ft.float16: "Half", ft.bfloat16: "BFloat16", ft.float32: "Float", ft.float64: "Double",
}


# ----------------------------------------------------------------------------------------------
# Per-axis source indices and weights (NumPy, shapes only: PyTorch computes these on the host too)


def _opmath_dtype(dtype):
    """The precision PyTorch computes indices and weights in: double for float64, else float."""
    return np.float64 if dtype == ft.float64 else np.float32


def _scale_from_sizes(in_size, out_size, scale_factor, dtype):
    """``compute_scales_value``: 1/scale_factor when one was given (and positive), else in/out."""
    if scale_factor is not None and scale_factor > 0:
        return dtype(1.0 / scale_factor)
    return dtype(in_size) / dtype(out_size)


def _linear_scale(in_size, out_size, align_corners, scale_factor, dtype):
    """``area_pixel_compute_scale``: the source step per output pixel."""
    if align_corners:
        return dtype(in_size - 1) / dtype(out_size - 1) if out_size > 1 else dtype(0)
    return _scale_from_sizes(in_size, out_size, scale_factor, dtype)


def _source_positions(scale, out_size, align_corners, cubic, dtype):
    """``area_pixel_compute_source_index`` for every output pixel (fractional source positions)."""
    dst = np.arange(out_size, dtype=dtype)
    if align_corners:
        return scale * dst
    src = scale * (dst + dtype(0.5)) - dtype(0.5)
    return src if cubic else np.maximum(src, dtype(0))


def _floor_and_fraction(src, in_size, dtype):
    """``guard_index_and_lambda``: the integer position at or below ``src`` (at most in_size - 1)
    and the fraction past it, clamped to [0, 1]. PyTorch floors in float (``floorf``)."""
    index = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), in_size - 1)
    return index, np.clip(src - index.astype(dtype), dtype(0), dtype(1))


def _nearest_taps(in_size, out_size, scale_factor, exact, shortcuts):
    """Source index of each output pixel for 'nearest' (floor(i * scale)) and 'nearest-exact'
    (floor((i + 0.5) * scale)). ``shortcuts``: PyTorch's 2-D nearest kernel maps same-size and
    double-size outputs exactly (i and i // 2), whatever the scale factor."""
    dst = np.arange(out_size)
    if shortcuts and not exact and out_size == in_size:
        return dst[None], None
    if shortcuts and not exact and out_size == 2 * in_size:
        return (dst >> 1)[None], None
    scale = _scale_from_sizes(in_size, out_size, scale_factor, np.float32)
    if exact:
        # (i + 0.5) is double in PyTorch's source; the product is rounded to float by floorf.
        src = ((dst + 0.5) * np.float64(scale)).astype(np.float32)
    else:
        src = dst.astype(np.float32) * scale
    return np.minimum(np.floor(src).astype(np.int64), in_size - 1)[None], None


def _linear_taps(in_size, out_size, align_corners, scale_factor, dtype):
    """Two source indices and weights per output pixel (``compute_source_index_and_lambda``)."""
    if out_size == in_size and not align_corners:
        dst = np.arange(out_size)
        return np.stack([dst, dst]), np.stack([np.ones(out_size, dtype), np.zeros(out_size, dtype)])
    scale = _linear_scale(in_size, out_size, align_corners, scale_factor, dtype)
    src = _source_positions(scale, out_size, align_corners, False, dtype)
    index0, lambda1 = _floor_and_fraction(src, in_size, dtype)
    index1 = index0 + (index0 < in_size - 1)
    return np.stack([index0, index1]), np.stack([dtype(1) - lambda1, lambda1])


def _cubic_coefficients(t, a=_CUBIC_A):
    """Weights of the four taps at offsets -1, 0, 1, 2 for a fraction ``t`` (cubic convolution).
    Works on NumPy arrays and on tensors alike."""
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_taps(in_size, out_size, align_corners, scale_factor, dtype):
    """Four source indices (clamped to the border) and weights per output pixel."""
    scale = _linear_scale(in_size, out_size, align_corners, scale_factor, dtype)
    src = _source_positions(scale, out_size, align_corners, True, dtype)
    index, t = _floor_and_fraction(src, in_size, dtype)
    taps = np.stack([np.clip(index - 1 + j, 0, in_size - 1) for j in range(4)])
    return taps, np.stack(_cubic_coefficients(t)).astype(dtype)


def _area_matrix(in_size, out_size):
    """(out, in) matrix averaging each adaptive-pooling window [floor(i*in/out), ceil((i+1)*in/out))."""
    matrix = np.zeros((out_size, in_size))
    for i in range(out_size):  # one row per output pixel: a loop over a size, not over elements
        start, end = (i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


# ----------------------------------------------------------------------------------------------
# Applying per-axis taps


def _resample_axis(input, axis, index, weight):
    """Output pixel o along ``axis`` = sum_k weight[k, o] * input[..., index[k, o], ...]."""
    trailing = (1,) * (input.dim() - axis - 1)
    out = None
    for k in range(index.shape[0]):  # a loop over the 1, 2 or 4 taps
        tap = input.index_select(axis, ft.tensor(index[k], dtype=ft.int64))
        if weight is None:
            return tap
        w = ft.tensor(weight[k], dtype=input.dtype).reshape((-1,) + trailing)
        out = tap * w if out is None else out.addcmul(tap, w)
    return out


def _average_axis(input, axis, out_size):
    """Adaptive average pooling along one axis, as a product with an averaging matrix."""
    matrix = ft.tensor(_area_matrix(input.shape[axis], out_size), dtype=input.dtype)
    return input.movedim(axis, -1).matmul(matrix.t()).movedim(-1, axis)


def _axis_taps(mode, in_size, out_size, align_corners, scale_factor, dtype, spatial_dims):
    """(index, weight) of one axis for a point-sampling mode."""
    if mode in ("nearest", "nearest-exact"):
        return _nearest_taps(in_size, out_size, scale_factor, mode == "nearest-exact", spatial_dims == 2)
    opmath = _opmath_dtype(dtype)
    if mode == "bicubic":
        return _cubic_taps(in_size, out_size, align_corners, scale_factor, opmath)
    return _linear_taps(in_size, out_size, align_corners, scale_factor, opmath)


# ----------------------------------------------------------------------------------------------
# interpolate


def _is_integer(x):
    """An int, a NumPy integer or an integer tensor (what PyTorch accepts as a size)."""
    if isinstance(x, ft.Tensor):
        return not x.is_floating_point()
    return isinstance(x, (int, np.integer))


def _output_size_and_scales(input, size, scale_factor, recompute_scale_factor, mode):
    """PyTorch's argument handling: exactly one of ``size`` and ``scale_factor``, each per spatial
    dim; returns the output sizes and the scale factors the index formulas may use."""
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format."
                )
            if not all(_is_integer(x) for x in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(x) for x in size]}"
                )
            output_size = [int(x) for x in size]
        else:
            output_size = [int(size)] * dim
        scale_factors = None
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "scale_factor in (s1, s2, ...,sK) format."
                )
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
        output_size = [math.floor(n * s) for n, s in zip(input.shape[2:], scale_factors)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or mode == "area":
        # The index formulas then see only the integer sizes, as in PyTorch.
        scale_factors = None
    return output_size, scale_factors or [None] * dim


def _check_mode_and_rank(input, mode):
    """PyTorch's errors for a mode that does not fit the input's rank."""
    rank = input.dim()
    needed = _INTERPOLATING_MODES.get(mode)
    if rank in (3, 4, 5) and mode in ("nearest", "nearest-exact", "area"):
        return
    if needed == rank:
        return
    if rank in (3, 4, 5) and mode in ("linear", "bilinear", "trilinear"):
        raise NotImplementedError(f"Got {rank}D input, but {mode} mode needs {needed}D input")
    raise NotImplementedError(
        "Input Error: Only 3D, 4D and 5D input Tensors supported"
        f" (got {rank}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact"
        f" (got {mode})"
    )


def _check_sizes(input, output_size):
    """The upsampling kernels' checks: non-empty channels/spatial dims, positive sizes."""
    rank = input.dim()
    if math.prod(input.shape[1:]) == 0:
        raise RuntimeError(
            f"Non-empty {rank}D data tensor expected but got a tensor with sizes {list(input.shape)}"
        )
    in_sizes = input.shape[2:]
    if min(in_sizes) <= 0 or min(output_size) <= 0:
        names = _AXIS_NAMES[rank - 2]
        given = ", ".join(f"{n}: {s}" for n, s in zip(names, in_sizes))
        wanted = ", ".join(f"{n}: {s}" for n, s in zip(names, output_size))
        joiner = " and output" if rank == 3 else " output"
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input ({given}){joiner} ({wanted})"
        )


def _check_area_input(input):
    """Adaptive average pooling's check: every spatial dim non-empty (1-D inputs run the 2-D op)."""
    shape = list(input.shape)
    if len(shape) == 3:
        shape.insert(2, 1)
    for dim in range(2, len(shape)):
        if shape[dim] == 0:
            raise RuntimeError(
                f"adaptive_avg_pool{len(shape) - 2}d(): Expected input to have non-zero size for non-batch "
                f"dimensions, but input has sizes {shape} with dimension {dim} being empty"
            )


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizes ``input`` (N, C, d1[, d2[, d3]]) to ``size`` or by ``scale_factor``.

    ``mode``: 'nearest' | 'nearest-exact' | 'linear' (3-D) | 'bilinear' (4-D) | 'bicubic' (4-D) |
    'trilinear' (5-D) | 'area' (adaptive average pooling). ``align_corners`` (interpolating modes
    only) maps the corner pixels' centres onto each other. When ``scale_factor`` is given and
    ``recompute_scale_factor`` is not true, the index formulas use 1/scale_factor itself rather
    than in/out, as PyTorch does.
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the "
                "interpolating modes: linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    output_size, scale_factors = _output_size_and_scales(
        input, size, scale_factor, recompute_scale_factor, mode
    )
    if antialias and not (mode in ("bilinear", "bicubic") and input.dim() == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor as input"
        )
    _check_mode_and_rank(input, mode)
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported yet")
    if mode == "area":
        _check_area_input(input)
        return autocast_call(f"adaptive_avg_pool{input.dim() - 2}d", _average, input, output_size)
    _check_sizes(input, output_size)
    if mode not in ("nearest", "nearest-exact") and not input.is_floating_point():
        raise NotImplementedError(f'"upsample_{mode}" not implemented for {input.dtype}')
    name = _UPSAMPLE_OPS[mode].format(input.dim() - 2)
    return autocast_call(name, _resample, input, output_size, scale_factors, mode, align_corners)


# PyTorch's op behind each interpolation mode (the names autocast's lists use), by spatial rank.
_UPSAMPLE_OPS = {
    "nearest": "upsample_nearest{}d",
    "nearest-exact": "_upsample_nearest_exact{}d",
    "linear": "upsample_linear1d",
    "bilinear": "upsample_bilinear2d",
    "bicubic": "upsample_bicubic2d",
    "trilinear": "upsample_trilinear3d",
}


def _average(input, output_size):
    """``interpolate``'s 'area' mode: adaptive average pooling, axis by axis."""
    out = input
    for axis, n in enumerate(output_size, start=2):
        out = _average_axis(out, axis, n)
    return out


def _resample(input, output_size, scale_factors, mode, align_corners):
    """``interpolate``'s interpolating modes, axis by axis."""
    out = input
    for axis, (n_in, n_out, scale) in enumerate(zip(input.shape[2:], output_size, scale_factors), start=2):
        index, weight = _axis_taps(mode, n_in, n_out, align_corners, scale, input.dtype, input.dim() - 2)
        out = _resample_axis(out, axis, index, weight)
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ----------------------------------------------------------------------------------------------
# Pixel and channel shuffles: pure views and one copy


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): moves channel blocks into space."""
    r = upscale_factor
    if input.dim() < 3:
        raise RuntimeError(
            "pixel_shuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.dim()} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, channels, height, width = input.shape
    if channels % (r * r) != 0:
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}"
        )
    b = len(batch)
    out = input.reshape(*batch, channels // (r * r), r, r, height, width)
    out = out.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return out.reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): the inverse of ``pixel_shuffle``."""
    r = downscale_factor
    if input.dim() < 3:
        raise RuntimeError(
            "pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.dim()} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *batch, channels, height, width = input.shape
    for name, dim, n in (("height", -2, height), ("width", -1, width)):
        if n % r != 0:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({dim})={n} is not divisible by {r}"
            )
    b = len(batch)
    out = input.reshape(*batch, channels, height // r, r, width // r, r)
    out = out.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return out.reshape(*batch, channels * r * r, height // r, width // r)


def channel_shuffle(input, groups):
    """(N, C, *) -> (N, C, *) with the channels of ``groups`` groups interleaved."""
    if input.dim() <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}"
        )
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, channels, *rest = input.shape
    if channels % groups != 0:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {channels} channels and {groups} groups."
        )
    out = input.reshape(n, groups, channels // groups, *rest).transpose(1, 2)
    return out.reshape(n, channels, *rest)


# ----------------------------------------------------------------------------------------------
# grid_sample


def _unnormalize(coord, size, align_corners):
    """[-1, 1] -> pixel coordinates: -1/1 are the corner pixels' centres (align_corners) or edges."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _clip(coord, size):
    """Clamps into [0, size - 1]; like PyTorch, the borders themselves pass no gradient."""
    inside = (coord > 0) & (coord < size - 1)
    return ft.where(inside, coord, coord.detach().clamp(0, size - 1))


def _reflect(coord, twice_low, twice_high):
    """Reflects ``coord`` off the bounds twice_low/2 and twice_high/2 until it lies between them."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    shifted = coord - low
    # |shifted|, with PyTorch's gradient at zero (+1).
    distance = ft.where(shifted < 0, -shifted, shifted)
    extra = distance.fmod(span)
    flips = (distance.detach() / span).floor()
    return ft.where(flips.fmod(2) == 0, extra + low, span - extra + low)


def _apply_padding(coord, size, padding_mode, align_corners):
    """``compute_coordinates``: where an out-of-range source coordinate reads from."""
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return _clip(coord, size)
    return coord


def _grid_axis_taps(coord, size, mode, padding_mode, align_corners):
    """The taps one axis contributes: a list of (position, weight) tensors, where positions hold
    integral values (possibly out of range: those read zero)."""
    source = _unnormalize(coord, size, align_corners)
    if mode == "bicubic":
        # Padding applies to each tap, not to the source coordinate (that would shift the taps).
        base = source.detach().floor()
        weights = _cubic_coefficients(source - base)
        return [
            (_apply_padding(base + (j - 1), size, padding_mode, align_corners).detach(), w)
            for j, w in enumerate(weights)
        ]
    source = _apply_padding(source, size, padding_mode, align_corners)
    if mode == "nearest":
        # Weight 1 with a zero gradient: the grid still receives a (zero) gradient, as in PyTorch.
        return [(source.detach().round(), ft.where(ft.ones_like(source, dtype=ft.bool), 1.0, source))]
    base = source.detach().floor()
    return [(base, base + 1 - source), (base + 1, source - base)]


def _check_grid_sample(input, grid):
    if input.dtype != grid.dtype:
        raise RuntimeError(
            f"expected scalar type {_SCALAR_TYPE_NAMES.get(input.dtype, input.dtype)} but found "
            f"{_SCALAR_TYPE_NAMES.get(grid.dtype, grid.dtype)}"
        )
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input with "
            f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got "
            f"grid with sizes {list(grid.shape)}"
        )
    for i in range(2, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                f"sizes {list(input.shape)} with dimension {i} being empty"
            )
    if input.dim() not in (4, 5) or input.dim() != grid.dim():
        rank = 4 if input.dim() == 4 else 5
        raise RuntimeError(
            f"grid_sampler(): expected {rank}D input and grid with same number of dimensions, but got "
            f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if not input.is_floating_point():
        raise NotImplementedError(f'"grid_sampler" not implemented for {input.dtype}')


@autocast_op("grid_sampler")
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples ``input`` (N, C, [D,] H, W) at the normalised locations ``grid`` (N, [Do,] Ho, Wo,
    2 or 3; last dim (x, y[, z]) in [-1, 1]) with 'bilinear' | 'nearest' | 'bicubic' interpolation
    and 'zeros' | 'border' | 'reflection' padding. Output: (N, C, [Do,] Ho, Wo)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode "
            "to be 'zeros', 'border', or 'reflection', "
            f"but got: '{padding_mode}'"
        )
    if align_corners is None:
        warnings.warn(
            "Default grid_sample and affine_grid behavior has changed "
            "to align_corners=False since 1.3.0. Please specify "
            "align_corners=True if the old behavior is desired. "
            "See the documentation of grid_sample for details.",
            stacklevel=2,
        )
        align_corners = False
    _check_grid_sample(input, grid)
    n, channels, *in_sizes = input.shape
    out_sizes = list(grid.shape[1:-1])
    points = math.prod(out_sizes)
    flat_grid = grid.reshape(n, points, len(in_sizes))
    if grid.dtype in (ft.float16, ft.bfloat16):
        # Coordinates in float, as PyTorch's kernels do: half precision cannot hold pixel positions.
        flat_grid = flat_grid.float()
    # Spatial axis k (outermost first) reads grid coordinate len-1-k: the grid is (x, y[, z]).
    axes = [
        _grid_axis_taps(flat_grid[:, :, len(in_sizes) - 1 - k], size, mode, padding_mode, align_corners)
        for k, size in enumerate(in_sizes)
    ]
    pixels = math.prod(in_sizes)
    strides = [math.prod(in_sizes[k + 1:]) for k in range(len(in_sizes))]
    indices, weights = [], []
    for combination in itertools.product(*axes):
        index, weight, valid = 0, 1, True
        for (position, w), size, stride in zip(combination, in_sizes, strides):
            valid = valid & (position >= 0) & (position <= size - 1)
            index = index + position.clamp(0, size - 1).long() * stride
            weight = weight * w
        # Taps outside the image read the zero pixel appended after the last one.
        indices.append(ft.where(valid, index, pixels))
        weights.append(weight)
    # Gather whole pixels (rows of C values) from a channels-last (N * (pixels + 1), C) table.
    batch_offset = ft.arange(n, dtype=ft.int64).reshape(n, 1, 1) * (pixels + 1)
    index = (ft.stack(indices, 1) + batch_offset).reshape(-1)
    table = input.reshape(n, channels, pixels).transpose(1, 2)
    table = ft.cat([table, input.new_zeros(n, 1, channels)], 1).reshape(n * (pixels + 1), channels)
    values = table.index_select(0, index).reshape(n, len(indices), points, channels)
    values = values * ft.stack(weights, 1).to(input.dtype).unsqueeze(-1)
    # (Reducing a size-1 dim is a slow strided reduction; nearest has one tap.)
    values = values.squeeze(1) if len(indices) == 1 else values.sum(1)
    return values.transpose(1, 2).reshape(n, channels, *out_sizes)


# ----------------------------------------------------------------------------------------------
# affine_grid


def _base_coordinates(steps, align_corners):
    """Pixel centres in [-1, 1] along one axis (the corner pixels' centres at +-1 if align_corners)."""
    if steps <= 1:
        return np.zeros(steps)
    coords = np.linspace(-1.0, 1.0, steps)
    return coords if align_corners else coords * (steps - 1) / steps


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, [D,] H, W, 2 or 3) for ``grid_sample`` from affine matrices ``theta``
    (N, 2, 3) for a 4-D ``size`` (N, C, H, W), or (N, 3, 4) for a 5-D ``size``."""
    if align_corners is None:
        warnings.warn(
            "Default grid_sample and affine_grid behavior has changed "
            "to align_corners=False since 1.3.0. Please specify "
            "align_corners=True if the old behavior is desired. "
            "See the documentation of grid_sample for details.",
            stacklevel=2,
        )
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(
                f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got {theta.shape}."
            )
        spatial_size = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(
                f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got {theta.shape}."
            )
        spatial_size = size[-3:]
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, "
            "for 2D and 3D affine transforms, respectively. "
            f"Got size {size}."
        )
    if align_corners and min(spatial_size) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed "
            "for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. "
            "See the documentation of affine_grid for details.",
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(
            f"affine_grid: expected theta with batch size {size[0]}, but got theta with sizes {list(theta.shape)}"
        )
    # Homogeneous pixel coordinates (x, y[, z], 1), x varying fastest: (points, dims + 1).
    axes = [_base_coordinates(s, align_corners) for s in spatial_size]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([m.reshape(-1) for m in reversed(mesh)] + [np.ones(mesh[0].size)], axis=1)
    grid = ft.tensor(base, dtype=theta.dtype).matmul(theta.transpose(1, 2))
    return grid.reshape(size[0], *spatial_size, len(spatial_size))
