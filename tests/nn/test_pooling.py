"""Pooling (``nn.functional`` pooling and the pooling modules) against float64 NumPy references."""

import itertools
import math

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck
from conftest import assert_close, leaf, make, to_numpy

MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
MAX_UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}
LP_POOL = {1: F.lp_pool1d, 2: F.lp_pool2d, 3: F.lp_pool3d}


# ----------------------------------------------------------------------------- references


def ref_out_len(length, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size, ceil mode's last window starting inside input or left pad."""
    span = length + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = span // s + 1
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1
    return out


def ref_pool(x, windows, reduce):
    """Applies ``reduce(window_values (lead..., n), coords)`` over every output position; windows[d][o]
    lists the input positions along dim d read by output index o."""
    nd = len(windows)
    lead, spatial = x.shape[:-nd], x.shape[-nd:]
    outs = [len(w) for w in windows]
    values = np.empty(lead + tuple(outs))
    indices = np.empty(lead + tuple(outs), dtype=np.int64)
    for o in itertools.product(*[range(n) for n in outs]):
        pos = [windows[d][o[d]] for d in range(nd)]
        sub = x[(Ellipsis,) + np.ix_(*pos)].reshape(lead + (-1,))
        flat_positions = np.ravel_multi_index(np.meshgrid(*pos, indexing="ij"), spatial).reshape(-1)
        v, i = reduce(sub, flat_positions, o)
        values[(Ellipsis,) + o] = v
        indices[(Ellipsis,) + o] = i
    return values, indices


def sliding_windows(spatial, k, s, p, d, ceil_mode):
    out = []
    for L, kk, ss, pp, dd in zip(spatial, k, s, p, d):
        n = ref_out_len(L, kk, ss, pp, dd, ceil_mode)
        out.append([[q for q in range(o * ss - pp, o * ss - pp + (kk - 1) * dd + 1, dd) if 0 <= q < L] for o in range(n)])
    return out


def take_max(sub, positions, _o):
    # np.argmax picks the first NaN (then the first maximum): windows in the tests hold one NaN.
    a = np.argmax(np.where(np.isnan(sub), np.inf, sub), axis=-1)
    return np.take_along_axis(sub, a[..., None], -1)[..., 0], positions[a]


def np_max_pool(x, k, s, p, d, ceil_mode):
    return ref_pool(x, sliding_windows(x.shape[-len(k):], k, s, p, d, ceil_mode), take_max)


def np_avg_pool(x, k, s, p, ceil_mode, count_include_pad=True, divisor=None):
    nd = len(k)
    spatial = x.shape[-nd:]
    windows = sliding_windows(spatial, k, s, p, [1] * nd, ceil_mode)

    def mean(sub, _positions, o):
        if divisor is not None:
            div = divisor
        elif count_include_pad:
            div = math.prod(min(o[d] * s[d] - p[d] + k[d], spatial[d] + p[d]) - (o[d] * s[d] - p[d]) for d in range(nd))
        else:
            div = sub.shape[-1]
        return sub.sum(-1) / div, 0

    return ref_pool(x, windows, mean)[0]


def adaptive_windows(spatial, out):
    return [[list(range(o * L // n, -(-(o + 1) * L // n))) for o in range(n)] for L, n in zip(spatial, out)]


def np_adaptive_avg(x, out):
    return ref_pool(x, adaptive_windows(x.shape[-len(out):], out), lambda sub, pos, o: (sub.mean(-1), 0))[0]


def np_adaptive_max(x, out):
    return ref_pool(x, adaptive_windows(x.shape[-len(out):], out), take_max)


def np_unpool(x, idx, nd, out):
    lead = x.shape[:-nd]
    res = np.zeros(lead + tuple(out))
    planes_x, planes_i = x.reshape(-1, int(np.prod(x.shape[-nd:]))), idx.reshape(-1, int(np.prod(x.shape[-nd:])))
    planes_r = res.reshape(-1, int(np.prod(out)))
    for r, v, i in zip(planes_r, planes_x, planes_i):
        r[i] = v
    return res


def distinct(shape, seed=0):
    """float64 values all different (and well apart), so max pooling's argmax is unambiguous."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.5 - n / 4


def channels_last(shape, rng, dtype=ft.float64):
    """A (N, C, *spatial) view of a (N, *spatial, C) tensor, and its NumPy twin."""
    nd = len(shape) - 2
    arr = rng.uniform(-5, 5, size=(shape[0],) + tuple(shape[2:]) + (shape[1],))
    perm = (0, nd + 1) + tuple(range(1, nd + 1))
    return ft.tensor(arr, dtype=dtype).permute(*perm), arr.transpose(perm)


def tup(v, nd):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd


# ----------------------------------------------------------------------------- max pooling

MAX_CASES = [
    # nd, shape, kernel, stride, padding, dilation, ceil_mode
    (1, (2, 3, 9), 3, None, 0, 1, False),
    (1, (2, 3, 10), 3, 2, 1, 2, True),
    (2, (2, 3, 7, 6), 3, 2, 1, 1, False),
    (2, (2, 3, 5, 5), 2, 2, 1, 1, True),  # ceil mode: last window starting in the right pad is dropped
    (2, (1, 2, 6, 7), (3, 2), (2, 1), (1, 0), (1, 2), True),
    (2, (1, 2, 5, 5), 3, 3, 0, 1, True),  # ceil mode adds a partial last window
    (3, (1, 2, 5, 4, 6), 2, None, 0, 1, False),
    (3, (1, 2, 5, 5, 5), (3, 2, 2), (2, 1, 2), 1, (1, 2, 1), True),
]


@pytest.mark.parametrize("case", MAX_CASES)
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_max_pool_values_and_indices_match_numpy(case, dtype):
    nd, shape, k, s, p, d, ceil_mode = case
    arr = distinct(shape)
    x = ft.tensor(arr, dtype=dtype)
    out, idx = MAX_POOL[nd](x, k, s, p, d, ceil_mode, return_indices=True)
    ev, ei = np_max_pool(arr, tup(k, nd), tup(s if s is not None else k, nd), tup(p, nd), tup(d, nd), ceil_mode)
    assert_close(out, ev, dtype)
    assert idx.dtype == ft.int64
    np.testing.assert_array_equal(idx.numpy(), ei)
    assert_close(MAX_POOL[nd](x, k, s, p, d, ceil_mode), ev, dtype)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("layout", ["channels_last", "strided", "transposed"])
def test_max_pool_non_contiguous_input(nd, layout, rng):
    shape = (2, 3) + (5,) * nd
    if layout == "channels_last":
        x, arr = channels_last(shape, rng)
    else:
        x, arr = make(shape, ft.float64, rng, layout)
    out, idx = MAX_POOL[nd](x, 2, 1, 1, 1, False, True)
    ev, ei = np_max_pool(arr, (2,) * nd, (1,) * nd, (1,) * nd, (1,) * nd, False)
    assert_close(out, ev)
    np.testing.assert_array_equal(idx.numpy(), ei)


def test_max_pool_nan_wins_its_window():
    arr = distinct((1, 1, 4, 4))
    arr[0, 0, 1, 0] = np.nan
    out, idx = F.max_pool2d(ft.tensor(arr), 2, return_indices=True)
    assert np.isnan(out.numpy()[0, 0, 0, 0])
    assert idx.numpy()[0, 0, 0, 0] == 4
    ev, _ = np_max_pool(arr, (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert_close(out, ev)


def test_max_pool_of_all_minus_inf_points_at_the_window_start():
    x = ft.full((1, 1, 2, 2), -math.inf, dtype=ft.float64)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert out.item() == -math.inf and idx.item() == 0


def test_max_pool_empty_dilated_window_is_minus_inf_without_gradient():
    # Taps at -1 and 2 of a length-2 input: the window holds no element.
    x = ft.tensor([[[1.0, 2.0]]], dtype=ft.float64, requires_grad=True)
    out, idx = F.max_pool1d(x, 2, 3, 1, 3, return_indices=True)
    assert out.item() == -math.inf
    assert idx.item() == 2  # PyTorch's: the window's first tap after the padding
    out.sum().backward()
    assert_close(x.grad, np.zeros((1, 1, 2)))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_unbatched_input(nd):
    arr = distinct((3,) + (4,) * nd)
    out, idx = MAX_POOL[nd](ft.tensor(arr), 2, return_indices=True)
    ev, ei = np_max_pool(arr[None], (2,) * nd, (2,) * nd, (0,) * nd, (1,) * nd, False)
    assert_close(out, ev[0])
    np.testing.assert_array_equal(idx.numpy(), ei[0])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_pools_of_empty_batch_are_empty(nd):
    x = ft.zeros((0, 2) + (4,) * nd)
    assert MAX_POOL[nd](x, 2).shape == (0, 2) + (2,) * nd
    assert AVG_POOL[nd](x, 2).shape == (0, 2) + (2,) * nd
    assert ADAPTIVE_AVG[nd](x, 3).shape == (0, 2) + (3,) * nd
    assert ADAPTIVE_MAX[nd](x, 3).shape == (0, 2) + (3,) * nd


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_half_precision_pools_match_loosely(dtype, rng):
    x, arr = make((2, 3, 6, 6), dtype, rng)
    assert_close(F.max_pool2d(x, 3, 2, 1), np_max_pool(arr.astype(np.float64), (3, 3), (2, 2), (1, 1), (1, 1), False)[0], dtype)
    assert_close(F.avg_pool2d(x, 3, 2, 1), np_avg_pool(arr.astype(np.float64), (3, 3), (2, 2), (1, 1), False), dtype)
    assert_close(F.adaptive_avg_pool2d(x, 4), np_adaptive_avg(arr.astype(np.float64), (4, 4)), dtype)


def test_max_pool2d_of_integers_is_exact():
    arr = np.random.default_rng(1).permutation(32).reshape(2, 4, 4).astype(np.int64)
    out, idx = F.max_pool2d(ft.tensor(arr), 2, return_indices=True)
    ev, ei = np_max_pool(arr.astype(np.float64)[None], (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert out.dtype == ft.int64
    np.testing.assert_array_equal(out.numpy(), ev[0].astype(np.int64))
    np.testing.assert_array_equal(idx.numpy(), ei[0])


# ----------------------------------------------------------------------------- average pooling

AVG_CASES = [
    # nd, shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    (1, (2, 3, 9), 3, None, 0, False, True, None),
    (1, (2, 3, 8), 3, 2, 1, True, False, None),
    (2, (2, 3, 7, 6), 3, 2, 1, False, True, None),
    (2, (2, 3, 7, 6), 3, 2, 1, False, False, None),
    (2, (1, 2, 5, 5), 2, 2, 1, True, True, None),
    (2, (1, 2, 5, 6), (3, 2), (2, 3), (1, 1), True, False, None),
    (2, (1, 2, 6, 6), 3, 2, 1, False, True, 5),
    (3, (1, 2, 5, 4, 6), 2, None, 0, False, True, None),
    (3, (1, 2, 5, 5, 5), (3, 2, 2), (2, 1, 2), 1, True, False, None),
    (3, (1, 2, 4, 4, 4), 2, 2, 1, False, True, 3),
]


@pytest.mark.parametrize("case", AVG_CASES)
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_avg_pool_matches_numpy(case, dtype, rng):
    nd, shape, k, s, p, ceil_mode, include, divisor = case
    x, arr = make(shape, dtype, rng)
    args = (x, k, s, p, ceil_mode, include) + ((divisor,) if nd > 1 else ())
    expected = np_avg_pool(arr.astype(np.float64), tup(k, nd), tup(s if s is not None else k, nd), tup(p, nd),
                           ceil_mode, include, divisor)
    assert_close(AVG_POOL[nd](*args), expected, dtype)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("layout", ["channels_last", "strided", "broadcast"])
def test_avg_pool_non_contiguous_input(nd, layout, rng):
    shape = (2, 3) + (5,) * nd
    if layout == "channels_last":
        x, arr = channels_last(shape, rng)
    else:
        x, arr = make(shape, ft.float64, rng, layout)
    expected = np_avg_pool(arr, (3,) * nd, (2,) * nd, (1,) * nd, True, False)
    assert_close(AVG_POOL[nd](x, 3, 2, 1, True, False), expected)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_avg_pool_unbatched_input(nd, rng):
    x, arr = make((3,) + (5,) * nd, ft.float64, rng)
    assert_close(AVG_POOL[nd](x, 2, 1, 1), np_avg_pool(arr[None], (2,) * nd, (1,) * nd, (1,) * nd, False)[0])


# ----------------------------------------------------------------------------- adaptive pooling


@pytest.mark.parametrize("nd,shape,out", [
    (1, (2, 3, 7), (3,)),
    (1, (2, 3, 4), (6,)),  # larger than the input: windows overlap and repeat
    (2, (2, 3, 7, 5), (3, 2)),
    (2, (1, 2, 5, 5), (5, 5)),
    (3, (1, 2, 5, 4, 6), (2, 3, 4)),
])
def test_adaptive_pools_match_numpy(nd, shape, out, rng):
    arr = distinct(shape)
    x = ft.tensor(arr)
    assert_close(ADAPTIVE_AVG[nd](x, out), np_adaptive_avg(arr, out))
    values, idx = ADAPTIVE_MAX[nd](x, out, return_indices=True)
    ev, ei = np_adaptive_max(arr, out)
    assert_close(values, ev)
    np.testing.assert_array_equal(idx.numpy(), ei)


@pytest.mark.parametrize("nd", [2, 3])
def test_adaptive_output_size_none_keeps_the_input_size(nd):
    arr = distinct((2, 3) + (4,) * nd)
    out = (None,) + (2,) * (nd - 1)
    assert_close(ADAPTIVE_AVG[nd](ft.tensor(arr), out), np_adaptive_avg(arr, (4,) + (2,) * (nd - 1)))
    assert_close(ADAPTIVE_MAX[nd](ft.tensor(arr), out), np_adaptive_max(arr, (4,) + (2,) * (nd - 1))[0])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_pools_on_channels_last_and_unbatched(nd, rng):
    x, arr = channels_last((2, 3) + (5,) * nd, rng)
    assert_close(ADAPTIVE_AVG[nd](x, 3), np_adaptive_avg(arr, (3,) * nd))
    assert_close(ADAPTIVE_MAX[nd](x[0], 3), np_adaptive_max(arr[:1], (3,) * nd)[0][0])


def test_adaptive_avg_pool_to_zero_size_is_empty():
    assert F.adaptive_avg_pool2d(ft.ones(1, 4, 4), (0, 2)).shape == (1, 0, 2)


# ----------------------------------------------------------------------------- unpooling and lp pooling


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_puts_maxima_back(nd):
    arr = distinct((2, 2) + (4,) * nd)
    out, idx = MAX_POOL[nd](ft.tensor(arr), 2, return_indices=True)
    un = MAX_UNPOOL[nd](out, idx, 2)
    assert_close(un, np_unpool(out.numpy(), idx.numpy(), nd, (4,) * nd))


def test_max_unpool_output_size_between_defaults():
    arr = distinct((1, 1, 5, 5))
    out, idx = F.max_pool2d(ft.tensor(arr), 2, return_indices=True)
    un = F.max_unpool2d(out, idx, 2, output_size=(1, 1, 5, 5))
    assert_close(un, np_unpool(out.numpy(), idx.numpy(), 2, (5, 5)))
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(out, idx, 2, output_size=(7, 7))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("p", [2.0, 3])
def test_lp_pool_matches_numpy(nd, p, rng):
    x, arr = make((2, 2) + (5,) * nd, ft.float64, rng, low=0.1, high=2.0)
    windows = sliding_windows(arr.shape[-nd:], (2,) * nd, (2,) * nd, (0,) * nd, (1,) * nd, True)
    expected = ref_pool(arr, windows, lambda sub, pos, o: ((sub ** p).sum(-1) ** (1 / p), 0))[0]
    # Partial windows (ceil mode) are scaled by the full kernel size, as in PyTorch.
    scale = ref_pool(np.ones_like(arr), windows, lambda sub, pos, o: (sub.sum(-1), 0))[0]
    assert_close(LP_POOL[nd](x, p, 2, ceil_mode=True), expected * (2 ** nd / scale) ** (1 / p))


def test_lp_pool_infinite_norm_is_max_of_abs(rng):
    x, arr = make((1, 2, 6), ft.float64, rng)
    assert_close(F.lp_pool1d(x, math.inf, 2), np.abs(arr).reshape(1, 2, 3, 2).max(-1))


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("nd,k,s,p,d,ceil_mode", [
    (1, 3, 2, 1, 1, True),
    (2, 2, 1, 1, 1, False),
    (2, 2, 2, 0, 2, True),
    (3, 2, 1, 0, 1, False),
])
def test_max_pool_gradcheck(nd, k, s, p, d, ceil_mode):
    x = ft.tensor(distinct((1, 2) + (4,) * nd), requires_grad=True)
    assert gradcheck(lambda t: MAX_POOL[nd](t, k, s, p, d, ceil_mode), (x,))
    assert gradgradcheck(lambda t: MAX_POOL[nd](t, k, s, p, d, ceil_mode), (x,))


@pytest.mark.parametrize("nd,k,s,p,ceil_mode,include,divisor", [
    (1, 3, 2, 1, True, False, None),
    (2, 3, 2, 1, False, True, None),
    (2, 2, 2, 1, True, False, 3),
    (3, 2, 1, 1, False, False, None),
])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_avg_pool_gradcheck(nd, k, s, p, ceil_mode, include, divisor, layout, rng):
    x = leaf((1, 2) + (4,) * nd, rng, layout)
    extra = (divisor,) if nd > 1 else ()
    fn = lambda t: AVG_POOL[nd](t, k, s, p, ceil_mode, include, *extra)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_pool_gradcheck(nd, rng):
    x = leaf((1, 2) + (5,) * nd, rng, "strided")
    assert gradcheck(lambda t: ADAPTIVE_AVG[nd](t, 3), (x,))
    assert gradgradcheck(lambda t: ADAPTIVE_AVG[nd](t, 3), (x,))
    xm = ft.tensor(distinct((1, 2) + (5,) * nd), requires_grad=True)
    assert gradcheck(lambda t: ADAPTIVE_MAX[nd](t, 3), (xm,))
    assert gradgradcheck(lambda t: ADAPTIVE_MAX[nd](t, 3), (xm,))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_gradcheck(nd, rng):
    arr = distinct((1, 2) + (4,) * nd)
    _, idx = MAX_POOL[nd](ft.tensor(arr), 2, return_indices=True)
    x = leaf(tuple(idx.shape), rng)
    assert gradcheck(lambda t: MAX_UNPOOL[nd](t, idx, 2), (x,))
    assert gradgradcheck(lambda t: MAX_UNPOOL[nd](t, idx, 2), (x,))


def test_lp_pool_gradcheck(rng):
    x = leaf((1, 2, 4, 4), rng, low=0.5, high=2.0)
    assert gradcheck(lambda t: F.lp_pool2d(t, 2, 2), (x,))
    assert gradgradcheck(lambda t: F.lp_pool2d(t, 3, 2, 1), (x,))


def test_max_pool_gradient_goes_to_the_argmax():
    arr = distinct((1, 1, 4, 4))
    x = ft.tensor(arr, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    _, ei = np_max_pool(arr, (2, 2), (2, 2), (0, 0), (1, 1), False)
    expected = np.zeros(16)
    expected[ei.reshape(-1)] = 1
    assert_close(x.grad, expected.reshape(1, 1, 4, 4))


@pytest.mark.parametrize("fn,name", [
    (lambda x: F.max_pool2d(x, 2), "MaxPool2DWithIndicesBackward0"),
    (lambda x: F.max_pool3d(x.unsqueeze(0), 2), "MaxPool3DWithIndicesBackward0"),
    (lambda x: F.avg_pool2d(x, 2), "AvgPool2DBackward0"),
    (lambda x: F.avg_pool3d(x.unsqueeze(0), 2), "AvgPool3DBackward0"),
    (lambda x: F.adaptive_avg_pool2d(x, 3), "AdaptiveAvgPool2DBackward0"),
    (lambda x: F.adaptive_max_pool2d(x, 3), "AdaptiveMaxPool2DBackward0"),
    (lambda x: F.adaptive_max_pool3d(x.unsqueeze(0), 3), "AdaptiveMaxPool3DBackward0"),
])
def test_autograd_node_names_are_pytorchs(fn, name):
    x = ft.ones(1, 2, 4, 4, requires_grad=True)
    assert fn(x).grad_fn.name() == name


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.max_pool2d(ft.ones(1, 3, 4, 4), 3, padding=2), RuntimeError,
     r"pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1"),
    (lambda: F.max_pool2d(ft.ones(1, 3, 2, 2), 3), RuntimeError,
     r"Given input size: \(3x2x2\)\. Calculated output size: \(3x0x0\)\. Output size is too small"),
    (lambda: F.avg_pool1d(ft.ones(1, 3, 2), 3), RuntimeError, r"Output size is too small"),
    (lambda: F.max_pool2d(ft.ones(1, 3, 8, 8), 2, padding=2, dilation=3), RuntimeError,
     r"pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 2, kW = 2, kH = 2"),
    (lambda: F.avg_pool3d(ft.ones(1, 3, 2, 4, 4), 3, padding=1), RuntimeError,
     r"input image \(T: 2 H: 4 W: 4\) smaller than kernel size \(kT: 3 kH: 3 kW: 3\)"),
    (lambda: F.max_pool2d(ft.ones(1, 3, 4, 4), 2, stride=0), RuntimeError, "stride should not be zero"),
    (lambda: F.max_pool2d(ft.ones(1, 3, 4, 4), 2, dilation=0), RuntimeError,
     "dilation should be greater than zero, but got dilationH: 0 dilationW: 0"),
    (lambda: F.avg_pool2d(ft.ones(1, 3, 4, 4), 2, padding=-1), RuntimeError, "pad must be non-negative, but got pad: -1"),
    (lambda: F.max_pool2d(ft.ones(1, 3, 4, 4), (2, 2, 2)), RuntimeError,
     "max_pool2d: kernel_size must either be a single int, or a tuple of two ints"),
    (lambda: F.max_pool2d(ft.ones(4, 4), 2), RuntimeError, r"Expected 3D or 4D \(batch mode\) tensor"),
    (lambda: F.avg_pool1d(ft.ones(2, 0, 4), 2), RuntimeError, r"Expected 2D or 3D \(batch mode\) tensor"),
    (lambda: F.avg_pool2d(ft.ones(1, 3, 4, 4), 2, divisor_override=0), RuntimeError, "divisor must be not zero"),
    (lambda: F.avg_pool2d(ft.ones(1, 3, 4, 4, dtype=ft.int32), 2), NotImplementedError, "not implemented for 'Int'"),
    (lambda: F.max_pool2d(ft.ones(1, 3, 4, 4, dtype=ft.bool), 2), NotImplementedError, "not implemented for 'Bool'"),
    (lambda: F.adaptive_avg_pool2d(ft.ones(1, 3, 4, 4), (-1, 2)), RuntimeError,
     r"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received \{-1, 2\}"),
    (lambda: F.adaptive_max_pool2d(ft.ones(1, 0, 4), 2), RuntimeError,
     r"Expected input to have non-zero size for non-batch dimensions, but input has sizes \[1, 0, 4\] with dimension 1 being empty"),
    (lambda: F.adaptive_avg_pool3d(ft.ones(4, 4), 2), ValueError, "Input dimension should be at least 4"),
    (lambda: F.adaptive_avg_pool1d(ft.ones(1, 4, 4), (2, 2)), RuntimeError, "output_size must be 1"),
    (lambda: F.adaptive_avg_pool2d(ft.ones(1, 1, 3, 4, 4), 2), RuntimeError, r"Expected 3D or 4D tensor, but got \[1, 1, 3, 4, 4\]"),
    (lambda: F.lp_pool2d(ft.ones(1, 3, 4, 4), 0, 2), ValueError, "norm_type must be a non-zero value"),
    (lambda: nn.LPPool1d(0, 2), ValueError, "norm_type must be a non-zero value, but got 0"),
])
def test_bad_arguments_raise_pytorchs_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_max_unpool_rejects_bad_indices():
    x = ft.ones(1, 3, 2, 2)
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: 99 \(output volumes are of size 4x4"):
        F.max_unpool2d(x, ft.full((1, 3, 2, 2), 99, dtype=ft.int64), 2)
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: -1"):
        F.max_unpool2d(x, ft.full((1, 3, 2, 2), -1, dtype=ft.int64), 2)
    with pytest.raises(RuntimeError, match="elements in indices should be type int64 but got: Int"):
        F.max_unpool2d(x, ft.zeros((1, 3, 2, 2), dtype=ft.int32), 2)
    with pytest.raises(RuntimeError, match=r"Expected shape of indices to be same as that of the input tensor \(\[1, 3, 2, 2\]\)"):
        F.max_unpool2d(x, ft.zeros((1, 3, 2, 3), dtype=ft.int64), 2)
    with pytest.raises(RuntimeError, match="Input to max_unpooling3d should be a 4d or 5d Tensor"):
        F.max_unpool3d(ft.ones(2, 2, 2), ft.zeros((2, 2, 2), dtype=ft.int64), 2)


# ----------------------------------------------------------------------------- modules


@pytest.mark.parametrize("module,text", [
    (nn.MaxPool1d(3), "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)"),
    (nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True, return_indices=True),
     "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)"),
    (nn.MaxPool3d((1, 2, 3)), "MaxPool3d(kernel_size=(1, 2, 3), stride=(1, 2, 3), padding=0, dilation=1, ceil_mode=False)"),
    (nn.MaxUnpool1d(2), "MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))"),
    (nn.MaxUnpool2d(2, stride=1, padding=1), "MaxUnpool2d(kernel_size=(2, 2), stride=(1, 1), padding=(1, 1))"),
    (nn.MaxUnpool3d((1, 2, 2)), "MaxUnpool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2), padding=(0, 0, 0))"),
    (nn.AvgPool1d(3), "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"),
    (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=2),
     "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
    (nn.AvgPool3d((1, 2, 2)), "AvgPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2), padding=0)"),
    (nn.LPPool1d(2, 3), "LPPool1d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"),
    (nn.LPPool2d(1.5, (2, 3), stride=1, ceil_mode=True), "LPPool2d(norm_type=1.5, kernel_size=(2, 3), stride=1, ceil_mode=True)"),
    (nn.LPPool3d(2, 2), "LPPool3d(norm_type=2, kernel_size=2, stride=None, ceil_mode=False)"),
    (nn.AdaptiveMaxPool1d(3), "AdaptiveMaxPool1d(output_size=3)"),
    (nn.AdaptiveMaxPool2d((None, 2), return_indices=True), "AdaptiveMaxPool2d(output_size=(None, 2))"),
    (nn.AdaptiveMaxPool3d(2), "AdaptiveMaxPool3d(output_size=2)"),
    (nn.AdaptiveAvgPool1d(3), "AdaptiveAvgPool1d(output_size=3)"),
    (nn.AdaptiveAvgPool2d((2, None)), "AdaptiveAvgPool2d(output_size=(2, None))"),
    (nn.AdaptiveAvgPool3d((1, 2, 3)), "AdaptiveAvgPool3d(output_size=(1, 2, 3))"),
])
def test_module_repr_is_pytorchs(module, text):
    assert repr(module) == text
    assert len(module.state_dict()) == 0


def test_modules_forward_through_functional(rng):
    x, arr = make((2, 3, 6, 6), ft.float64, rng)
    assert_close(nn.MaxPool2d(3, 2, 1)(x), np_max_pool(arr, (3, 3), (2, 2), (1, 1), (1, 1), False)[0])
    assert_close(nn.AvgPool2d(3, 2, 1, count_include_pad=False)(x), np_avg_pool(arr, (3, 3), (2, 2), (1, 1), False, False))
    assert_close(nn.AdaptiveAvgPool2d((None, 4))(x), np_adaptive_avg(arr, (6, 4)))
    assert_close(nn.AvgPool1d(2)(x[0]), np_avg_pool(arr[0], (2,), (2,), (0,), False))
    values, idx = nn.AdaptiveMaxPool1d(2, return_indices=True)(x[0])
    ev, ei = np_adaptive_max(arr[0], (2,))
    assert_close(values, ev)
    np.testing.assert_array_equal(idx.numpy(), ei)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    out, idx = pool(x)
    assert_close(unpool(out, idx), np_unpool(out.numpy(), idx.numpy(), 2, (6, 6)))
    assert_close(nn.LPPool2d(2, 2)(x.abs()), np.sqrt((arr ** 2).reshape(2, 3, 3, 2, 3, 2).sum((3, 5))))
