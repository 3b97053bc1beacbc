"""nn.functional.interpolate / grid_sample / affine_grid / pixel_shuffle / pixel_unshuffle /
channel_shuffle and the Upsample, PixelShuffle and ChannelShuffle modules, against float64 NumPy
references that restate PyTorch's index formulas."""

import itertools
import math
import warnings

import numpy as np
import pytest
from conftest import LAYOUTS, assert_close, leaf, make

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.nn import functional as F

A = -0.75  # cubic convolution constant


# ------------------------------------------------------------------------------------------------
# NumPy references: one (out, in) resampling matrix per spatial axis


def cubic_kernel(x):
    """Keys' cubic convolution kernel with a = -0.75, as a function of the distance to the tap."""
    x = abs(x)
    if x <= 1:
        return (A + 2) * x**3 - (A + 3) * x**2 + 1
    if x < 2:
        return A * x**3 - 5 * A * x**2 + 8 * A * x - 4 * A
    return 0.0


def nearest_matrix(n_in, n_out, scale_factor, exact, shortcuts):
    """PyTorch computes nearest indices in float32: floor(i * s) or floor((i + 1/2) * s)."""
    m = np.zeros((n_out, n_in))
    s = np.float32(1.0 / scale_factor) if scale_factor else np.float32(n_in) / np.float32(n_out)
    for i in range(n_out):
        if shortcuts and not exact and n_out == n_in:
            src = i
        elif shortcuts and not exact and n_out == 2 * n_in:
            src = i // 2
        elif exact:
            src = int(np.floor(np.float32((i + 0.5) * float(s))))
        else:
            src = int(np.floor(np.float32(i) * s))
        m[i, min(src, n_in - 1)] = 1.0
    return m


def source_position(i, n_in, n_out, align_corners, scale_factor, cubic):
    if align_corners:
        return i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    s = 1.0 / scale_factor if scale_factor else n_in / n_out
    src = (i + 0.5) * s - 0.5
    return src if cubic else max(src, 0.0)


def linear_matrix(n_in, n_out, align_corners, scale_factor):
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        src = source_position(i, n_in, n_out, align_corners, scale_factor, False)
        i0 = min(math.floor(src), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        frac = min(max(src - i0, 0.0), 1.0)
        m[i, i0] += 1 - frac
        m[i, i1] += frac
    return m


def cubic_matrix(n_in, n_out, align_corners, scale_factor):
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        src = source_position(i, n_in, n_out, align_corners, scale_factor, True)
        i0 = min(math.floor(src), n_in - 1)
        t = src - i0
        for j in range(-1, 3):
            m[i, min(max(i0 + j, 0), n_in - 1)] += cubic_kernel(t - j)
    return m


def area_matrix(n_in, n_out):
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        start, end = math.floor(i * n_in / n_out), math.ceil((i + 1) * n_in / n_out)
        m[i, start:end] = 1 / (end - start)
    return m


def ref_interpolate(x, out_sizes, mode, align_corners=False, scale_factors=None):
    x = np.asarray(x, dtype=np.float64)
    spatial = x.ndim - 2
    scale_factors = scale_factors or [None] * spatial
    for k, (n_out, s) in enumerate(zip(out_sizes, scale_factors)):
        axis, n_in = k + 2, x.shape[k + 2]
        if mode in ("nearest", "nearest-exact"):
            m = nearest_matrix(n_in, n_out, s, mode == "nearest-exact", spatial == 2)
        elif mode == "area":
            m = area_matrix(n_in, n_out)
        elif mode == "bicubic":
            m = cubic_matrix(n_in, n_out, align_corners, s)
        elif n_in == n_out and not align_corners:
            m = np.eye(n_in)
        else:
            m = linear_matrix(n_in, n_out, align_corners, s)
        x = np.moveaxis(np.tensordot(m, np.moveaxis(x, axis, 0), axes=1), 0, axis)
    return x


# ------------------------------------------------------------------------------------------------
# interpolate

SPATIAL_MODES = [
    ("nearest", 3), ("nearest", 4), ("nearest", 5), ("nearest-exact", 3), ("nearest-exact", 4),
    ("nearest-exact", 5), ("linear", 3), ("bilinear", 4), ("bicubic", 4), ("trilinear", 5),
    ("area", 3), ("area", 4), ("area", 5),
]
INTERPOLATING = {"linear", "bilinear", "bicubic", "trilinear"}


def spatial_shape(rank):
    return {3: (2, 3, 7), 4: (2, 2, 5, 6), 5: (1, 2, 3, 4, 5)}[rank]


@pytest.mark.parametrize("mode,rank,align_corners", [
    (mode, rank, align) for mode, rank in SPATIAL_MODES
    for align in ([False, True] if mode in INTERPOLATING else [False])
])
@pytest.mark.parametrize("size_kind", ["up", "down", "mixed"])
def test_interpolate_to_size_matches_reference(mode, rank, align_corners, size_kind, rng):
    shape = spatial_shape(rank)
    factor = {"up": (2.6, 3, 1.5), "down": (0.5, 0.4, 0.7), "mixed": (1.8, 0.5, 1)}[size_kind]
    out_sizes = [max(1, int(n * f)) for n, f in zip(shape[2:], factor)]
    x, arr = make(shape, ft.float64, rng)
    kwargs = {"align_corners": align_corners} if mode in INTERPOLATING else {}
    out = F.interpolate(x, size=out_sizes, mode=mode, **kwargs)
    assert_close(out, ref_interpolate(arr, out_sizes, mode, align_corners), ft.float64)


@pytest.mark.parametrize("mode,rank", SPATIAL_MODES)
@pytest.mark.parametrize("scale", [0.37, 1.1, 1.7, 2.0, 3.3])
def test_interpolate_by_scale_factor_uses_the_given_scale(mode, rank, scale, rng):
    shape = spatial_shape(rank)
    x, arr = make(shape, ft.float64, rng)
    out_sizes = [math.floor(n * scale) for n in shape[2:]]
    kwargs = {"align_corners": False} if mode in INTERPOLATING else {}
    out = F.interpolate(x, scale_factor=scale, mode=mode, **kwargs)
    # 'area' always recomputes its scale from the sizes.
    scales = None if mode == "area" else [scale] * (rank - 2)
    assert_close(out, ref_interpolate(arr, out_sizes, mode, False, scales), ft.float64)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_recompute_scale_factor_uses_sizes(mode, rng):
    x, arr = make((1, 2, 5, 4), ft.float64, rng)
    out = F.interpolate(x, scale_factor=(1.7, 2.3), mode=mode, recompute_scale_factor=True)
    assert_close(out, ref_interpolate(arr, [8, 9], mode), ft.float64)


def test_interpolate_nearest_1d_has_no_same_size_shortcut(rng):
    # scale 1.1 on 3 pixels keeps 3 pixels, but 1-D nearest still reads floor(i / 1.1).
    x = ft.arange(3.0).reshape(1, 1, 3)
    assert F.interpolate(x, scale_factor=1.1).flatten().tolist() == [0.0, 0.0, 1.0]
    assert F.interpolate(x.unsqueeze(-1), scale_factor=(1.1, 1)).flatten().tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area"])
def test_interpolate_non_contiguous_inputs(layout, mode, rng):
    x, arr = make((2, 3, 4, 5), ft.float64, rng, layout)
    kwargs = {"align_corners": True} if mode in INTERPOLATING else {}
    out = F.interpolate(x, size=(7, 3), mode=mode, **kwargs)
    assert_close(out, ref_interpolate(arr, [7, 3], mode, True), ft.float64)


@pytest.mark.parametrize("mode,rank", [("nearest", 4), ("linear", 3), ("bicubic", 4), ("trilinear", 5), ("area", 4)])
def test_interpolate_float32(mode, rank, rng):
    x, arr = make(spatial_shape(rank), ft.float32, rng)
    out_sizes = [n * 2 - 1 for n in spatial_shape(rank)[2:]]
    out = F.interpolate(x, size=out_sizes, mode=mode)
    assert_close(out, ref_interpolate(arr, out_sizes, mode), ft.float32, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_interpolate_bilinear_half_precision(dtype, rng):
    x, arr = make((1, 2, 4, 4), dtype, rng)
    out = F.interpolate(x, size=(6, 3), mode="bilinear")
    assert_close(out, ref_interpolate(arr, [6, 3], "bilinear"), dtype, rtol=2e-2, atol=5e-2)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "area"])
def test_interpolate_empty_batch(mode):
    out = F.interpolate(ft.zeros(0, 3, 4, 4), size=(6, 2), mode=mode)
    assert out.shape == (0, 3, 6, 2)


def test_interpolate_nearest_copies_nan_and_inf():
    arr = np.array([[[np.nan, np.inf, -np.inf, 1.0]]])
    out = F.interpolate(ft.tensor(arr), scale_factor=2)
    assert_close(out, np.repeat(arr, 2, axis=-1), ft.float64)


def test_interpolate_nearest_keeps_uint8():
    arr = np.arange(6, dtype=np.uint8).reshape(1, 1, 2, 3)
    out = F.interpolate(ft.tensor(arr), scale_factor=2)
    assert out.dtype == ft.uint8
    assert_close(out, arr.repeat(2, 2).repeat(2, 3))


def test_upsample_aliases_warn_and_match_interpolate(rng):
    x, arr = make((1, 2, 3, 4), ft.float64, rng)
    with pytest.warns(UserWarning, match="upsample_bilinear"):
        out = F.upsample_bilinear(x, size=(5, 7))
    assert_close(out, ref_interpolate(arr, [5, 7], "bilinear", True), ft.float64)
    with pytest.warns(UserWarning, match="upsample_nearest"):
        out = F.upsample_nearest(x, scale_factor=2)
    assert_close(out, ref_interpolate(arr, [6, 8], "nearest"), ft.float64)
    with pytest.warns(UserWarning, match="upsample"):
        out = F.upsample(x, size=4, mode="bicubic")
    assert_close(out, ref_interpolate(arr, [4, 4], "bicubic"), ft.float64)


@pytest.mark.parametrize("mode,shape,size", [
    ("nearest", (1, 2, 3), 5), ("nearest-exact", (1, 1, 2, 3), (3, 2)), ("linear", (1, 2, 3), 4),
    ("bilinear", (1, 1, 3, 2), (2, 4)), ("bicubic", (1, 1, 3, 3), (4, 2)),
    ("trilinear", (1, 1, 2, 2, 2), (3, 1, 3)), ("area", (1, 1, 4, 3), (3, 2)),
])
def test_interpolate_passes_gradcheck(mode, shape, size, rng):
    x = leaf(shape, rng)
    kwargs = {"align_corners": False} if mode in INTERPOLATING else {}
    assert ft.autograd.gradcheck(lambda t: F.interpolate(t, size=size, mode=mode, **kwargs), [x])


@pytest.mark.parametrize("mode,shape,scale", [
    ("bicubic", (1, 1, 3, 4), 1.1), ("nearest", (1, 2, 4), 1.1), ("nearest", (1, 1, 4), 2.1),
    ("nearest", (1, 1, 2, 1, 2), 1.1),
])
def test_interpolate_gradient_with_scale_factor_keeping_the_size(mode, shape, scale, rng):
    # The output keeps (or doubles) the size but the indices follow 1/scale, not a copy.
    x = leaf(shape, rng)
    assert ft.autograd.gradcheck(lambda t: F.interpolate(t, scale_factor=scale, mode=mode), [x])


def test_interpolate_bicubic_align_corners_passes_gradgradcheck(rng):
    x = leaf((1, 1, 3, 2), rng, "transposed")
    fn = lambda t: F.interpolate(t, size=(4, 3), mode="bicubic", align_corners=True)  # noqa: E731
    assert ft.autograd.gradcheck(fn, [x]) and ft.autograd.gradgradcheck(fn, [x])


@pytest.mark.parametrize("call,error,match", [
    (lambda x: F.interpolate(x, size=2, scale_factor=2), ValueError, "only one of size or scale_factor"),
    (lambda x: F.interpolate(x), ValueError, "either size or scale_factor"),
    (lambda x: F.interpolate(x, size=(2,)), ValueError, r"spatial dimensions of \[3, 3\] and output size of \(2,\)"),
    (lambda x: F.interpolate(x, scale_factor=(2,)), ValueError, r"scale_factor of shape \(2,\)"),
    (lambda x: F.interpolate(x, size=(2, 2.0)), TypeError, "expected size to be one of int"),
    (lambda x: F.interpolate(x, size=2, mode="area", align_corners=True), ValueError, "align_corners option"),
    (lambda x: F.interpolate(x, size=2, recompute_scale_factor=True), ValueError, "recompute_scale_factor"),
    (lambda x: F.interpolate(x, size=(0, 2)), RuntimeError, r"input \(H: 3, W: 3\) output \(H: 0, W: 2\)"),
    (lambda x: F.interpolate(x, size=2, mode="linear"), NotImplementedError, "Got 4D input, but linear mode needs 3D"),
    (lambda x: F.interpolate(x, size=2, mode="trilinear"), NotImplementedError, "trilinear mode needs 5D"),
    (lambda x: F.interpolate(x, size=2, mode="cubic"), NotImplementedError, r"\(got 4D\) .* \(got cubic\)"),
    (lambda x: F.interpolate(x, size=2, antialias=True), ValueError, "Anti-alias option"),
    (lambda x: F.interpolate(x[0, 0], size=2), NotImplementedError, r"\(got 2D\)"),
    (lambda x: F.interpolate(x[0], size=2, mode="bicubic"), NotImplementedError, r"\(got 3D\)"),
    (lambda x: F.interpolate(x[:, :0], size=2), RuntimeError, r"Non-empty 4D data tensor expected .*\[1, 0, 3, 3\]"),
    (lambda x: F.interpolate(x.long(), size=2, mode="bilinear"), NotImplementedError, "not implemented"),
    (lambda x: F.interpolate(x[:, :, :, :0], size=2, mode="area"), RuntimeError,
     r"adaptive_avg_pool2d\(\): .* sizes \[1, 1, 3, 0\] with dimension 3 being empty"),
])
def test_interpolate_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(ft.zeros(1, 1, 3, 3))


def test_interpolate_antialias_is_not_implemented():
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(ft.zeros(1, 1, 4, 4), size=2, mode="bilinear", antialias=True)


# ------------------------------------------------------------------------------------------------
# grid_sample


def unnormalize(c, size, align_corners):
    return (c + 1) / 2 * (size - 1) if align_corners else ((c + 1) * size - 1) / 2


def reflect(c, low2, high2):
    if low2 == high2:
        return 0.0
    low, span = low2 / 2, (high2 - low2) / 2
    d = abs(c - low)
    flips, extra = math.floor(d / span), math.fmod(d, span)
    return extra + low if flips % 2 == 0 else span - extra + low


def pad_coordinate(c, size, padding_mode, align_corners):
    if padding_mode == "zeros":
        return c
    if padding_mode == "reflection":
        c = reflect(c, 0, 2 * (size - 1)) if align_corners else reflect(c, -1, 2 * size - 1)
    return min(max(c, 0.0), size - 1.0)


def ref_grid_sample(x, grid, mode, padding_mode, align_corners):
    """Loops over every output point; taps outside the image read zero."""
    n, c, *sizes = x.shape
    out = np.zeros((n, c) + grid.shape[1:-1])
    for b in range(n):
        for point in np.ndindex(*grid.shape[1:-1]):
            coords = grid[(b,) + point][::-1]  # (x, y[, z]) -> outermost axis first
            src = [unnormalize(float(v), s, align_corners) for v, s in zip(coords, sizes)]
            if mode == "bicubic":
                taps = [
                    [(pad_coordinate(math.floor(p) + j, s, padding_mode, align_corners),
                      cubic_kernel(p - math.floor(p) - j)) for j in range(-1, 3)]
                    for p, s in zip(src, sizes)
                ]
            else:
                src = [pad_coordinate(p, s, padding_mode, align_corners) for p, s in zip(src, sizes)]
                if mode == "nearest":
                    taps = [[(float(np.rint(p)), 1.0)] for p in src]
                else:
                    taps = [[(math.floor(p), 1 - (p - math.floor(p))), (math.floor(p) + 1, p - math.floor(p))]
                            for p in src]
            value = np.zeros(c)
            for combo in itertools.product(*taps):
                idx = [int(p) for p, _ in combo]
                if all(p >= 0 and p <= s - 1 for (p, _), s in zip(combo, sizes)):
                    value += np.prod([w for _, w in combo]) * x[(b, slice(None)) + tuple(idx)]
            out[(b, slice(None)) + point] = value
    return out


GRID_MODES = [(m, p) for m in ["bilinear", "nearest", "bicubic"] for p in ["zeros", "border", "reflection"]]


def random_grid(shape, rng):
    grid = rng.uniform(-1.7, 1.7, shape)
    grid.flat[:4] = [-1.0, 1.0, 0.0, 1.0]  # the corners and centre exactly
    return grid


@pytest.mark.parametrize("mode,padding_mode", GRID_MODES)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_2d_matches_reference(mode, padding_mode, align_corners, rng):
    x, arr = make((2, 3, 4, 5), ft.float64, rng)
    grid = random_grid((2, 3, 4, 2), rng)
    out = F.grid_sample(x, ft.tensor(grid), mode, padding_mode, align_corners)
    assert_close(out, ref_grid_sample(arr, grid, mode, padding_mode, align_corners), ft.float64)


@pytest.mark.parametrize("mode,padding_mode", GRID_MODES)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_3d_matches_reference(mode, padding_mode, align_corners, rng):
    x, arr = make((1, 2, 3, 4, 3), ft.float64, rng)
    grid = random_grid((1, 2, 2, 3, 3), rng)
    out = F.grid_sample(x, ft.tensor(grid), mode, padding_mode, align_corners)
    assert_close(out, ref_grid_sample(arr, grid, mode, padding_mode, align_corners), ft.float64)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_grid_sample_non_contiguous_input_and_grid(layout, rng):
    x, arr = make((2, 3, 4, 5), ft.float32, rng, layout)
    grid, grid_arr = make((2, 3, 4, 2), ft.float32, rng, layout, low=-1.2, high=1.2)
    out = F.grid_sample(x, grid, "bilinear", "reflection", False)
    expected = ref_grid_sample(arr, grid_arr.astype(np.float64), "bilinear", "reflection", False)
    assert_close(out, expected, ft.float32, rtol=1e-5, atol=1e-5)


def test_grid_sample_identity_affine_grid_reproduces_input(rng):
    x, arr = make((2, 3, 4, 5), ft.float64, rng)
    theta = ft.tensor(np.tile(np.eye(2, 3), (2, 1, 1)))
    for align_corners in (False, True):
        grid = F.affine_grid(theta, (2, 3, 4, 5), align_corners)
        assert_close(F.grid_sample(x, grid, align_corners=align_corners), arr, ft.float64)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_half_precision(dtype, mode, rng):
    x, arr = make((1, 2, 4, 5), dtype, rng, low=-2, high=2)
    grid, grid_arr = make((1, 3, 3, 2), dtype, rng, low=-1, high=1)
    out = F.grid_sample(x, grid, mode, "zeros", False)
    expected = ref_grid_sample(arr.astype(np.float64), grid_arr.astype(np.float64), mode, "zeros", False)
    assert_close(out, expected, dtype, rtol=3e-2, atol=6e-2)


def test_grid_sample_outside_reads_zero_even_next_to_inf():
    arr = np.array([[[[np.inf, 1.0], [2.0, np.nan]]]])
    grid = np.array([[[[-3.0, -3.0], [3.0, 0.0], [0.0, 5.0]]]])
    out = F.grid_sample(ft.tensor(arr), ft.tensor(grid), "bilinear", "zeros", False)
    assert_close(out, np.zeros((1, 1, 1, 3)), ft.float64)


def test_grid_sample_empty_batch():
    out = F.grid_sample(ft.zeros(0, 2, 3, 3), ft.zeros(0, 4, 5, 2), align_corners=False)
    assert out.shape == (0, 2, 4, 5)


def test_grid_sample_default_align_corners_warns():
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(ft.zeros(1, 1, 2, 2), ft.zeros(1, 1, 1, 2))


@pytest.mark.parametrize("mode,padding_mode", GRID_MODES)
def test_grid_sample_passes_gradcheck(mode, padding_mode, rng):
    x = leaf((1, 2, 3, 3), rng)
    grid = leaf((1, 2, 2, 2), rng, low=-1.3, high=1.3)
    fn = lambda a, g: F.grid_sample(a, g, mode, padding_mode, True)  # noqa: E731
    assert ft.autograd.gradcheck(fn, [x, grid])


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_grid_sample_3d_passes_gradcheck(mode, rng):
    x = leaf((1, 1, 2, 3, 2), rng)
    grid = leaf((1, 1, 2, 2, 3), rng, "transposed", low=-1.2, high=1.2)
    assert ft.autograd.gradcheck(lambda a, g: F.grid_sample(a, g, mode, "zeros", False), [x, grid])


def test_grid_sample_passes_gradgradcheck(rng):
    x = leaf((1, 1, 3, 3), rng)
    grid = leaf((1, 1, 2, 2), rng, low=-0.9, high=0.9)
    fn = lambda a, g: F.grid_sample(a, g, "bicubic", "border", False)  # noqa: E731
    assert ft.autograd.gradgradcheck(fn, [x, grid])


@pytest.mark.parametrize("input_shape,grid_shape,kwargs,error,match", [
    ((1, 1, 3, 3), (1, 2, 2, 2), {"mode": "area"}, ValueError, "expected mode to be 'bilinear', 'nearest' or 'bicubic'"),
    ((1, 1, 3, 3), (1, 2, 2, 2), {"padding_mode": "wrap"}, ValueError, "expected padding_mode"),
    ((1, 1, 3, 3), (2, 2, 2, 2), {}, RuntimeError, r"same batch size, but got input with sizes \[1, 1, 3, 3\]"),
    ((1, 1, 3, 3), (1, 2, 2, 3), {}, RuntimeError, r"size 2 in last dimension, but got grid with sizes \[1, 2, 2, 3\]"),
    ((1, 1, 0, 3), (1, 2, 2, 2), {}, RuntimeError, "dimension 2 being empty"),
    ((1, 1, 3, 3), (1, 2, 2, 2, 2), {}, RuntimeError, "expected 4D input and grid with same number of dimensions"),
    ((1, 3, 3), (1, 2, 1), {}, RuntimeError, "expected 5D input and grid"),
])
def test_grid_sample_errors(input_shape, grid_shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        F.grid_sample(ft.zeros(*input_shape), ft.zeros(*grid_shape), align_corners=False, **kwargs)


def test_grid_sample_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.grid_sample(ft.zeros(1, 1, 2, 2), ft.zeros(1, 1, 1, 2, dtype=ft.float64), align_corners=False)


# ------------------------------------------------------------------------------------------------
# affine_grid


def ref_affine_grid(theta, spatial, align_corners):
    def centres(n):
        if n == 1:
            return np.zeros(1)
        c = np.linspace(-1, 1, n)
        return c if align_corners else c * (n - 1) / n

    out = np.zeros((theta.shape[0],) + tuple(spatial) + (len(spatial),))
    for b in range(theta.shape[0]):
        for point in np.ndindex(*spatial):
            # The homogeneous point is (x, y[, z], 1): innermost axis first.
            coords = [centres(n)[i] for n, i in zip(spatial, point)][::-1]
            out[(b,) + point] = theta[b] @ np.array(coords + [1.0])
    return out


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 1, 3, 4, 2)])
def test_affine_grid_matches_reference(align_corners, size, rng):
    spatial = size[2:]
    theta_shape = (2, len(spatial), len(spatial) + 1)
    theta, arr = make(theta_shape, ft.float64, rng, "transposed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = F.affine_grid(theta, size, align_corners)
    assert_close(out, ref_affine_grid(arr, spatial, align_corners), ft.float64)


def test_affine_grid_float32(rng):
    theta, arr = make((3, 2, 3), ft.float32, rng)
    out = F.affine_grid(theta, (3, 1, 4, 2), align_corners=False)
    assert_close(out, ref_affine_grid(arr.astype(np.float64), (4, 2), False), ft.float32)


@pytest.mark.parametrize("size", [(1, 1, 2, 3), (1, 1, 2, 2, 3)])
def test_affine_grid_passes_gradcheck(size, rng):
    theta = leaf((1, len(size) - 2, len(size) - 1), rng)
    assert ft.autograd.gradcheck(lambda t: F.affine_grid(t, size, align_corners=False), [theta])


@pytest.mark.parametrize("theta_shape,size,dtype,error,match", [
    ((1, 2, 3), (1, 1, 3, 3), ft.int64, ValueError, "Expected theta to have floating point type"),
    ((1, 2, 4), (1, 1, 3, 3), ft.float32, ValueError, "Nx2x3 for size"),
    ((1, 2, 3), (1, 1, 3, 3, 3), ft.float32, ValueError, "Nx3x4 for size"),
    ((1, 2, 3), (1, 1, 3), ft.float32, NotImplementedError, "affine_grid only supports 4D and 5D sizes"),
    ((1, 2, 3), (1, 1, 0, 3), ft.float32, ValueError, "Expected non-zero, positive output size"),
])
def test_affine_grid_errors(theta_shape, size, dtype, error, match):
    with pytest.raises(error, match=match):
        F.affine_grid(ft.zeros(*theta_shape, dtype=dtype), size, align_corners=False)


# ------------------------------------------------------------------------------------------------
# pixel_shuffle, pixel_unshuffle, channel_shuffle


def ref_pixel_shuffle(x, r):
    *batch, c, h, w = x.shape
    out = np.empty((*batch, c // (r * r), h * r, w * r), dtype=x.dtype)
    for ch, i, j in np.ndindex(c // (r * r), r, r):
        out[..., ch, i::r, j::r] = x[..., ch * r * r + i * r + j, :, :]
    return out


def ref_channel_shuffle(x, groups):
    c = x.shape[1]
    order = [(k % groups) * (c // groups) + k // groups for k in range(c)]
    return x[:, order]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.int64])
def test_pixel_shuffle_matches_reference(layout, dtype, rng):
    x, arr = make((2, 8, 3, 2), dtype, rng, layout)
    assert_close(F.pixel_shuffle(x, 2), ref_pixel_shuffle(arr, 2), dtype)


def test_pixel_shuffle_extra_batch_dims_and_empty_batch(rng):
    x, arr = make((2, 3, 9, 2, 2), ft.float64, rng)
    assert_close(F.pixel_shuffle(x, 3), ref_pixel_shuffle(arr, 3), ft.float64)
    assert F.pixel_shuffle(ft.zeros(0, 4, 2, 2), 2).shape == (0, 1, 4, 4)
    assert F.pixel_shuffle(ft.zeros(4, 2, 3), 2).shape == (1, 4, 6)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_pixel_unshuffle_inverts_pixel_shuffle(layout, rng):
    x, arr = make((2, 3, 6, 4), ft.float64, rng, layout)
    out = F.pixel_unshuffle(x, 2)
    assert out.shape == (2, 12, 3, 2)
    assert_close(F.pixel_shuffle(out, 2), arr, ft.float64)
    # Each output channel block (c, i, j) reads pixels (i::2, j::2) of channel c.
    assert_close(out[:, 4 * 1 + 2 * 1 + 0], arr[:, 1, 1::2, 0::2], ft.float64)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_channel_shuffle_matches_reference(layout, groups, rng):
    x, arr = make((2, 6, 3, 2), ft.float32, rng, layout)
    assert_close(F.channel_shuffle(x, groups), ref_channel_shuffle(arr, groups), ft.float32)


def test_channel_shuffle_3d_and_empty_batch(rng):
    x, arr = make((1, 4, 5), ft.float64, rng)
    assert_close(F.channel_shuffle(x, 2), ref_channel_shuffle(arr, 2), ft.float64)
    assert F.channel_shuffle(ft.zeros(0, 6, 2), 2).shape == (0, 6, 2)


@pytest.mark.parametrize("fn", [
    lambda t: F.pixel_shuffle(t, 2), lambda t: F.pixel_unshuffle(t.reshape(1, 1, 4, 2), 2),
    lambda t: F.channel_shuffle(t.reshape(1, 4, 2), 2),
])
def test_shuffles_pass_gradcheck(fn, rng):
    assert ft.autograd.gradcheck(fn, [leaf((1, 4, 1, 2), rng, "strided")])


@pytest.mark.parametrize("call,match", [
    (lambda: F.pixel_shuffle(ft.zeros(8, 3), 2), "pixel_shuffle expects input to have at least 3 dimensions"),
    (lambda: F.pixel_shuffle(ft.zeros(1, 6, 3, 3), 2), r"input.size\(-3\)=6 is not divisible by 4"),
    (lambda: F.pixel_shuffle(ft.zeros(1, 8, 3, 3), 0), "positive upscale_factor, but got 0"),
    (lambda: F.pixel_unshuffle(ft.zeros(1, 2, 3, 4), 2), r"height to be divisible .* input.size\(-2\)=3"),
    (lambda: F.pixel_unshuffle(ft.zeros(1, 2, 4, 3), 2), r"width to be divisible .* input.size\(-1\)=3"),
    (lambda: F.pixel_unshuffle(ft.zeros(4, 4), 2), "pixel_unshuffle expects input to have at least 3"),
    (lambda: F.pixel_unshuffle(ft.zeros(1, 2, 4, 4), 0), "positive downscale_factor, but got 0"),
    (lambda: F.channel_shuffle(ft.zeros(1, 6, 3), 4), "Got 6 channels and 4 groups"),
    (lambda: F.channel_shuffle(ft.zeros(1, 6, 3), 0), "must be positive. Value of groups:0"),
    (lambda: F.channel_shuffle(ft.zeros(1, 6), 2), r"> 2 dims, but got input with sizes \[1, 6\]"),
])
def test_shuffle_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


# ------------------------------------------------------------------------------------------------
# Modules


@pytest.mark.parametrize("module,text", [
    (lambda: nn.Upsample(scale_factor=2), "Upsample(scale_factor=2.0, mode='nearest')"),
    (lambda: nn.Upsample(size=3, mode="bilinear"), "Upsample(size=3, mode='bilinear')"),
    (lambda: nn.Upsample(scale_factor=(2, 3), mode="bicubic", align_corners=True),
     "Upsample(scale_factor=(2.0, 3.0), mode='bicubic')"),
    (lambda: nn.UpsamplingNearest2d(scale_factor=2), "UpsamplingNearest2d(scale_factor=2.0, mode='nearest')"),
    (lambda: nn.UpsamplingBilinear2d(size=(3, 4)), "UpsamplingBilinear2d(size=(3, 4), mode='bilinear')"),
    (lambda: nn.PixelShuffle(2), "PixelShuffle(upscale_factor=2)"),
    (lambda: nn.PixelUnshuffle(3), "PixelUnshuffle(downscale_factor=3)"),
    (lambda: nn.ChannelShuffle(2), "ChannelShuffle(groups=2)"),
])
def test_module_repr_and_empty_state_dict(module, text):
    m = module()
    assert repr(m) == text
    assert list(m.state_dict().keys()) == [] and list(m.parameters()) == []


def test_upsample_module_forwards_its_arguments(rng):
    x, arr = make((1, 2, 3, 4), ft.float64, rng)
    m = nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=False, recompute_scale_factor=True)
    assert m.name == "Upsample" and m.recompute_scale_factor is True
    assert_close(m(x), ref_interpolate(arr, [4, 6], "bilinear"), ft.float64)
    assert_close(nn.UpsamplingBilinear2d(scale_factor=2)(x), ref_interpolate(arr, [6, 8], "bilinear", True), ft.float64)
    assert_close(nn.UpsamplingNearest2d(size=(2, 5))(x), ref_interpolate(arr, [2, 5], "nearest"), ft.float64)


def test_shuffle_modules_forward(rng):
    x, arr = make((2, 4, 2, 2), ft.float64, rng)
    assert_close(nn.PixelShuffle(2)(x), ref_pixel_shuffle(arr, 2), ft.float64)
    assert_close(nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(x)), arr, ft.float64)
    assert_close(nn.ChannelShuffle(2)(x), ref_channel_shuffle(arr, 2), ft.float64)
