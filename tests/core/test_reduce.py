"""Reductions against NumPy: sum/mean/prod, extremes, statistics, norms, softmax, scans,
order statistics; every dtype claimed, every layout, int/tuple/negative/None dims, keepdim,
empty and 0-d inputs, NaN/inf, and PyTorch's errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ferrotorch as ft
from conftest import (ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, LAYOUTS, NUMPY_DTYPE, assert_close,
                      make, to_numpy)

SHAPE = (3, 4, 5)
DIMS = [None, 0, -1, 1, (0, 2), (-1, 0), (0, 1, 2), []]
INTEGRAL = [ft.bool] + INT_DTYPES


def axis(dim):
    """The NumPy `axis` of a ferrotorch `dim` (an empty list reduces everything)."""
    if dim is None or (isinstance(dim, list) and not dim):
        return None
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


def wide(arr):
    """The array in the widest type of its kind, for exact references."""
    return arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64)


def sum_dtype(dtype):
    return ft.int64 if dtype in INTEGRAL else dtype


# --- sum, nansum, prod, mean, nanmean ---------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_matches_numpy(dtype, layout, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    expected = wide(a).sum(axis=axis(dim), keepdims=keepdim)
    assert_close(t.sum(dim, keepdim), expected, dtype=sum_dtype(dtype), atol=0.1 if dtype == ft.float16 else None)


@pytest.mark.parametrize("dtype", [ft.int32, ft.bool, ft.float32])
def test_sum_dtype_argument_converts_first(dtype, rng):
    t, a = make(SHAPE, dtype, rng)
    assert_close(t.sum(1, dtype=ft.float64), wide(a).astype(np.float64).sum(1), dtype=ft.float64)
    assert_close(ft.sum(t, dtype=ft.int32), np.int32(wide(a).astype(np.int64).sum()) if dtype != ft.float32
                 else np.int32(a.astype(np.int32).sum()), dtype=ft.int32)


def test_sum_of_integers_wraps_in_int64():
    t = ft.tensor([2**62, 2**62, 2**62], dtype=ft.int64)
    assert t.sum().item() == np.array([2**62] * 3, dtype=np.int64).sum()


def test_sum_of_float32_is_accurate_for_long_rows(rng):
    a = rng.uniform(0, 1, 3_000_001).astype(np.float32)
    got = ft.tensor(a).sum().item()
    assert abs(got - a.astype(np.float64).sum()) / a.sum(dtype=np.float64) < 1e-6


def test_sum_of_float32_is_accurate_down_long_columns(rng):
    a = rng.uniform(0, 1, (400_003, 3)).astype(np.float32)
    got = to_numpy(ft.tensor(a).sum(0))
    np.testing.assert_allclose(got, a.astype(np.float64).sum(0), rtol=1e-6)


@pytest.mark.parametrize("shape,dim", [((2000, 300), 0), ((2000, 300), 1), ((300, 2000), (0, 1)),
                                       ((7, 50000), 0), ((50000, 7), 1), ((4, 300, 200), 1)])
@pytest.mark.parametrize("threads", [None, 16])
def test_sum_of_large_tensors_runs_in_parallel_correctly(shape, dim, threads, rng):
    # 16 threads on this machine too: the split of work depends on the pool size, and a
    # 16-core machine once hit a bad split that 2 cores never reach.
    before = ft.get_num_threads()
    try:
        if threads:
            ft.set_num_threads(threads)
        t, a = make(shape, ft.float64, rng)
        assert_close(t.sum(dim), a.sum(axis=dim), dtype=ft.float64, rtol=1e-10)
        t, a = make(shape, ft.int32, rng)
        assert_close(t.sum(dim), wide(a).sum(axis=dim), dtype=ft.int64)
    finally:
        ft.set_num_threads(before)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [None, 0, (1, 2), -2])
def test_nansum_treats_nan_as_zero(dtype, layout, dim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    t = ft.where(t > 3, ft.tensor(float("nan"), dtype=dtype), t)
    a = np.where(a > 3, np.nan, a)
    assert_close(t.nansum(dim), np.nansum(wide(a), axis=axis(dim)), dtype=dtype, atol=0.1 if dtype == ft.float16 else None)


def test_nansum_of_integers_is_sum():
    t = ft.tensor([[1, 2], [3, 4]], dtype=ft.int16)
    assert_close(t.nansum(0), np.array([4, 6]), dtype=ft.int64)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_matches_numpy(dtype, layout, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout, low=-2, high=3)
    if dtype.is_floating_point:
        t, a = make(SHAPE, dtype, rng, layout, low=0.5, high=1.5)
    expected = wide(a).prod(axis=dim, keepdims=keepdim and dim is not None)
    got = t.prod() if dim is None else t.prod(dim, keepdim)
    assert_close(got, expected, dtype=sum_dtype(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_mean_matches_numpy(dtype, layout, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    assert_close(t.mean(dim, keepdim), wide(a).mean(axis=axis(dim), keepdims=keepdim), dtype=dtype)


def test_mean_of_integers_with_float_dtype(rng):
    t, a = make(SHAPE, ft.int32, rng)
    assert_close(t.mean(1, dtype=ft.float64), wide(a).mean(1), dtype=ft.float64)


def test_mean_of_integers_raises():
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long"):
        ft.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="Optional dtype must be either a floating point or complex dtype. Got: Int"):
        ft.tensor([1.0]).mean(dtype=ft.int32)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dim", [None, 0, (0, 2)])
def test_nanmean_ignores_nan(dtype, dim, rng):
    t, a = make(SHAPE, dtype, rng)
    t = ft.where(t > 2, ft.tensor(float("nan"), dtype=dtype), t)
    a = np.where(a > 2, np.nan, a)
    with _nowarn():
        expected = np.nanmean(wide(a), axis=axis(dim))
    assert_close(t.nanmean(dim), expected, dtype=dtype)


class _nowarn:
    """Silences NumPy's all-NaN-slice warnings in references."""

    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def test_nanmean_of_integers_raises():
    with pytest.raises(RuntimeError, match="nanmean\\(\\): expected input to have floating point or complex dtype but got Long"):
        ft.tensor([1]).nanmean()


def test_empty_reductions_give_identities():
    e = ft.zeros(0, 3)
    assert_close(e.sum(), np.float32(0), dtype=ft.float32)
    assert_close(e.sum(0), np.zeros(3), dtype=ft.float32)
    assert_close(e.sum(1), np.zeros(0), dtype=ft.float32)
    assert_close(e.prod(0), np.ones(3), dtype=ft.float32)
    assert_close(e.mean(0), np.full(3, np.nan), dtype=ft.float32)
    assert math.isnan(e.mean().item())
    assert_close(e.all(0), np.ones(3, bool), dtype=ft.bool)
    assert_close(e.any(0), np.zeros(3, bool), dtype=ft.bool)
    assert_close(e.count_nonzero(0), np.zeros(3, np.int64), dtype=ft.int64)
    assert_close(e.sum(0, keepdim=True), np.zeros((1, 3)), dtype=ft.float32)


@pytest.mark.parametrize("dim", [0, -1, (0,), None, []])
def test_zero_dim_tensors_reduce_over_dim_0_and_minus_1(dim):
    t = ft.tensor(2.5)
    assert_close(t.sum(dim), np.float32(2.5), dtype=ft.float32)
    assert_close(t.sum(dim, keepdim=True), np.float32(2.5), dtype=ft.float32)
    assert_close(t.mean(dim), np.float32(2.5), dtype=ft.float32)
    assert_close(t.amax(dim), np.float32(2.5), dtype=ft.float32)


def test_zero_dim_tensors_reject_other_dims():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        ft.tensor(1.0).sum(1)


def test_zero_dim_max_and_argmax_along_dim():
    v, i = ft.tensor(3).max(0)
    assert (v.item(), i.item(), v.shape, i.shape) == (3, 0, (), ())
    assert ft.tensor(3.0).argmax(-1).item() == 0


def test_dims_out_of_range_and_repeated_raise():
    t = ft.zeros(2, 3)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        t.sum(2)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        t.sum((0, -2))


# --- extremes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_amax_amin_match_numpy(dtype, layout, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    assert_close(t.amax(dim, keepdim), a.max(axis=axis(dim), keepdims=keepdim), dtype=dtype)
    assert_close(t.amin(dim, keepdim), a.min(axis=axis(dim), keepdims=keepdim), dtype=dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_max_min_without_dim_give_a_value(dtype, layout, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    assert_close(t.max(), a.max(), dtype=dtype)
    assert_close(ft.min(t), a.min(), dtype=dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_dim_give_values_and_first_indices(dtype, layout, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout, low=-2, high=2)
    values, indices = t.max(dim, keepdim)
    assert_close(values, a.max(axis=dim, keepdims=keepdim), dtype=dtype)
    assert_close(indices, np.expand_dims(a.argmax(axis=dim), dim) if keepdim else a.argmax(axis=dim), dtype=ft.int64)
    r = ft.min(t, dim=dim, keepdim=keepdim)
    assert_close(r.values, a.min(axis=dim, keepdims=keepdim), dtype=dtype)
    assert_close(r.indices, np.expand_dims(a.argmin(axis=dim), dim) if keepdim else a.argmin(axis=dim), dtype=ft.int64)


def test_max_with_dim_returns_a_named_tuple():
    r = ft.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)
    assert isinstance(r, ft.return_types.max) and isinstance(r, tuple)
    assert r.values.tolist() == [5.0, 7.0] and r.indices.tolist() == [1, 0]
    assert repr(r) == "torch.return_types.max(\nvalues=tensor([5., 7.]),\nindices=tensor([1, 0]))"
    assert type(ft.tensor([1]).aminmax()).__name__ == "aminmax"


def test_max_of_two_tensors_is_maximum():
    a, b = ft.tensor([1.0, 5.0, float("nan")]), ft.tensor([3.0, 2.0, 0.0])
    assert_close(ft.max(a, b), np.array([3.0, 5.0, np.nan]), dtype=ft.float32)
    assert_close(a.min(b), np.array([1.0, 2.0, np.nan]), dtype=ft.float32)


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin_match_numpy(dtype, layout, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout, low=-3, high=3)
    assert_close(t.argmax(dim, keepdim), np.argmax(a, axis=dim, keepdims=keepdim), dtype=ft.int64)
    assert_close(t.argmin(dim, keepdim), np.argmin(a, axis=dim, keepdims=keepdim), dtype=ft.int64)


def test_argmax_of_bool_raises():
    with pytest.raises(RuntimeError, match="\"argmax_cpu\" not implemented for 'Bool'"):
        ft.tensor([True, False]).argmax()


def test_argmax_on_large_tensors_picks_the_first_maximum(rng):
    a = rng.integers(0, 50, (300, 4000)).astype(np.int32)
    t = ft.tensor(a)
    assert_close(t.argmax(), np.argmax(a), dtype=ft.int64)
    assert_close(t.argmax(0), np.argmax(a, 0), dtype=ft.int64)
    assert_close(t.argmin(1), np.argmin(a, 1), dtype=ft.int64)
    flat = np.zeros(1_000_000, np.float32)
    flat[[700_000, 900_000]] = 1.0
    assert ft.tensor(flat).argmax().item() == 700_000


def test_nan_propagates_through_extremes():
    a = np.array([[1.0, np.nan, 3.0, np.nan], [np.inf, -np.inf, 0.0, 2.0]], np.float32)
    t = ft.tensor(a)
    assert_close(t.amax(1), np.array([np.nan, np.inf]), dtype=ft.float32)
    assert_close(t.amin(1), np.array([np.nan, -np.inf]), dtype=ft.float32)
    assert math.isnan(t.max().item())
    assert_close(t.argmax(1), np.array([1, 0]), dtype=ft.int64)
    assert_close(t.argmin(1), np.array([1, 1]), dtype=ft.int64)
    assert t.argmax().item() == 1
    v, i = t.max(0)
    assert_close(v, np.array([np.inf, np.nan, 3.0, np.nan]), dtype=ft.float32)
    assert_close(i, np.array([1, 0, 0, 0]), dtype=ft.int64)


def test_nan_propagates_down_columns_of_large_tensors():
    a = np.ones((5000, 10), np.float32)
    a[4000, 3] = np.nan
    a[100, 3] = 2.0
    a[10, 5] = np.nan
    t = ft.tensor(a)
    assert_close(t.amax(0), np.nanmax(a, 0) * np.where(np.isnan(a).any(0), np.nan, 1), dtype=ft.float32)
    assert_close(t.argmax(0), np.argmax(np.where(np.isnan(a), np.inf, a), 0), dtype=ft.int64)


def test_empty_extremes_raise_like_pytorch():
    e = ft.zeros(0, 3)
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified for input.numel\(\) == 0. Specify the reduction dim with the 'dim' argument."):
        e.max()
    with pytest.raises(IndexError, match=r"max\(\): Expected reduction dim 0 to have non-zero size."):
        e.max(0)
    with pytest.raises(IndexError, match=r"amax\(\): Expected reduction dim 0 to have non-zero size."):
        e.amax(0)
    with pytest.raises(RuntimeError, match=r"amin\(\): Expected reduction dim to be specified"):
        e.amin()
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified for input.numel\(\) == 0."):
        e.argmax()
    with pytest.raises(IndexError, match=r"argmin\(\): Expected reduction dim 0 to have non-zero size."):
        e.argmin(0)
    with pytest.raises(RuntimeError, match="cannot compute aminmax over an empty dimension"):
        e.aminmax()
    assert tuple(e.max(1).values.shape) == (0,)
    assert tuple(e.amax(1).shape) == (0,)
    assert tuple(e.argmax(1).shape) == (0,)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_aminmax_matches_numpy(dtype, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, "transposed")
    lo, hi = t.aminmax(dim=dim, keepdim=keepdim)
    assert_close(lo, a.min(axis=dim, keepdims=keepdim), dtype=dtype)
    assert_close(hi, a.max(axis=dim, keepdims=keepdim), dtype=dtype)


# --- statistics -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_std_match_numpy(dtype, layout, dim, correction, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    var = wide(a).var(axis=axis(dim), ddof=correction, keepdims=keepdim)
    assert_close(t.var(dim, correction=correction, keepdim=keepdim), var, dtype=dtype)
    assert_close(t.std(dim, correction=correction, keepdim=keepdim), np.sqrt(var), dtype=dtype)


def test_var_legacy_unbiased_argument(rng):
    t, a = make(SHAPE, ft.float64, rng)
    assert_close(t.var(1, False), a.var(1), dtype=ft.float64)
    assert_close(t.var(unbiased=False), a.var(), dtype=ft.float64)
    assert_close(t.std(False), a.std(), dtype=ft.float64)
    assert_close(t.std(0, True, True), a.std(0, ddof=1, keepdims=True), dtype=ft.float64)


def test_var_mean_and_std_mean_return_plain_tuples(rng):
    t, a = make(SHAPE, ft.float32, rng, "strided")
    v, m = ft.var_mean(t, 1)
    assert_close(v, wide(a).var(1, ddof=1), dtype=ft.float32)
    assert_close(m, wide(a).mean(1), dtype=ft.float32)
    s, m = ft.std_mean(t, (0, 2), correction=0, keepdim=True)
    assert_close(s, wide(a).std((0, 2), keepdims=True), dtype=ft.float32)
    assert_close(m, wide(a).mean((0, 2), keepdims=True), dtype=ft.float32)


def test_var_of_large_offset_values_is_stable(rng):
    a = (1e6 + rng.uniform(0, 1, 200_000)).astype(np.float32)
    assert_close(ft.tensor(a).var(), wide(a).var(ddof=1), dtype=ft.float32, rtol=1e-4)
    b = a.reshape(-1, 8)
    assert_close(ft.tensor(b).var(0), wide(b).var(0, ddof=1), dtype=ft.float32, rtol=1e-4)


def test_var_of_too_few_elements():
    assert math.isnan(ft.tensor([1.0]).var().item())
    assert ft.tensor([1.0, 2.0]).var(correction=2).item() == math.inf
    assert math.isnan(ft.zeros(0).var().item())


def test_var_of_integers_raises():
    with pytest.raises(RuntimeError, match="std and var only support floating point and complex dtypes"):
        ft.tensor([1, 2]).var()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, -1, math.inf, -math.inf, 0, "fro"])
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
def test_norm_matches_numpy(dtype, layout, p, dim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    x = np.abs(wide(a))
    ax = axis(dim)
    if p in (2, "fro"):
        expected = np.sqrt((x ** 2).sum(ax))
    elif p == math.inf:
        expected = x.max(ax)
    elif p == -math.inf:
        expected = x.min(ax)
    elif p == 0:
        expected = (x != 0).sum(ax).astype(np.float64)
    else:
        expected = (x ** p).sum(ax) ** (1 / p)
    assert_close(t.norm(p, dim), expected, dtype=dtype)


def test_norm_default_is_two_norm_and_keeps_dims(rng):
    t, a = make(SHAPE, ft.float32, rng)
    assert_close(t.norm(), np.sqrt((wide(a) ** 2).sum()), dtype=ft.float32)
    assert_close(ft.norm(t, dim=1, keepdim=True), np.sqrt((wide(a) ** 2).sum(1, keepdims=True)), dtype=ft.float32)


def test_norm_errors():
    with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"):
        ft.tensor([1, 2]).norm()
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        ft.zeros(0).norm(math.inf)
    assert ft.zeros(0).norm().item() == 0.0


def np_logsumexp(a, ax, keepdims=False):
    a = wide(a)
    m = np.max(a, axis=ax, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(a - m), axis=ax, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=ax) if ax is not None else r.reshape(())


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_matches_numpy(dtype, layout, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    assert_close(t.logsumexp(dim, keepdim), np_logsumexp(a, dim, keepdim), dtype=dtype)


def test_logsumexp_is_stable_and_handles_infinities():
    a = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [-1000.0, -1001.0]])
    assert_close(ft.tensor(a).logsumexp(1), np.array([1000 + np.log(2), -np.inf, np.inf, np.nan, -1000 + np.log1p(np.exp(-1))]), dtype=ft.float64)


def test_logsumexp_of_integers_gives_default_float():
    assert_close(ft.tensor([[0, 0]]).logsumexp(1), np.array([np.log(2)]), dtype=ft.float32)


def test_logsumexp_over_empty_dim_is_minus_inf():
    assert_close(ft.zeros(0, 2).logsumexp(0), np.full(2, -np.inf), dtype=ft.float32)


# --- softmax ----------------------------------------------------------------------------------

def np_softmax(a, dim):
    a = wide(a)
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_match_numpy(dtype, layout, dim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    assert_close(t.softmax(dim), np_softmax(a, dim), dtype=dtype)
    assert_close(ft.log_softmax(t, dim), np.log(np_softmax(a, dim)), dtype=dtype)


def test_softmax_is_stable_for_large_inputs():
    t = ft.tensor([[1000.0, 1001.0, -np.inf], [-1000.0, -1000.0, -1000.0]])
    assert_close(t.softmax(1), np.array([[1 / (1 + np.e), np.e / (1 + np.e), 0], [1 / 3] * 3]), dtype=ft.float32)
    assert_close(t.log_softmax(1).select(0, 1), np.full(3, -np.log(3)), dtype=ft.float32)


def test_softmax_dtype_argument_and_integer_error():
    t = ft.tensor([[1, 2, 3]])
    assert_close(t.softmax(1, dtype=ft.float64), np_softmax(np.array([[1.0, 2, 3]]), 1), dtype=ft.float64)
    with pytest.raises(RuntimeError, match="\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"):
        t.softmax(1)


def test_softmax_of_large_tensors_along_each_dim(rng):
    t, a = make((64, 700, 3), ft.float32, rng)
    for d in range(3):
        assert_close(t.softmax(d), np_softmax(a, d), dtype=ft.float32)


def test_softmax_of_0d_and_empty_tensors():
    assert ft.tensor(3.0).softmax(0).item() == 1.0
    assert tuple(ft.zeros(0, 3).softmax(0).shape) == (0, 3)


# --- all / any / count_nonzero ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_all_any_match_numpy(dtype, layout, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout, low=0, high=3)
    out = ft.uint8 if dtype == ft.uint8 else ft.bool
    ax = axis(dim)
    if keepdim or dim is not None:
        assert_close(t.all(dim, keepdim), np.all(a, axis=ax, keepdims=keepdim).astype(NUMPY_DTYPE[out]), dtype=out)
        assert_close(t.any(dim, keepdim), np.any(a, axis=ax, keepdims=keepdim).astype(NUMPY_DTYPE[out]), dtype=out)
    else:
        assert_close(t.all(), np.array(np.all(a)).astype(NUMPY_DTYPE[out]), dtype=out)
        assert_close(ft.any(t), np.array(np.any(a)).astype(NUMPY_DTYPE[out]), dtype=out)


def test_all_any_treat_nan_as_true():
    t = ft.tensor([float("nan"), 1.0])
    assert t.all().item() is True


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [None, 0, (1, 2), -1])
def test_count_nonzero_matches_numpy(dtype, dim, rng):
    t, a = make(SHAPE, dtype, rng, "strided", low=-1, high=2)
    assert_close(t.count_nonzero(dim), np.count_nonzero(a, axis=axis(dim)), dtype=ft.int64)


# --- scans ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_cumprod_match_numpy(dtype, layout, dim, rng):
    t, a = make(SHAPE, dtype, rng, layout, low=-2, high=3)
    assert_close(t.cumsum(dim), np.cumsum(wide(a), axis=dim), dtype=sum_dtype(dtype), atol=0.05 if dtype == ft.float16 else None)
    t, a = make(SHAPE, dtype, rng, layout, low=-2, high=3) if not dtype.is_floating_point else make(SHAPE, dtype, rng, layout, low=0.5, high=1.5)
    assert_close(ft.cumprod(t, dim), np.cumprod(wide(a), axis=dim), dtype=sum_dtype(dtype))


def test_cumsum_dtype_argument_and_in_place(rng):
    t, a = make((4, 5), ft.int32, rng)
    assert_close(t.cumsum(1, dtype=ft.float64), np.cumsum(a.astype(np.float64), 1), dtype=ft.float64)
    assert_close(ft.cumsum(t, 0, dtype=ft.int32), np.cumsum(a, 0).astype(np.int32), dtype=ft.int32)
    t.cumsum_(0)
    assert_close(t, np.cumsum(a, 0), dtype=ft.int32)


def test_scans_of_0d_and_empty_tensors():
    assert_close(ft.tensor(3).cumsum(0), np.int64(3), dtype=ft.int64)
    assert_close(ft.zeros(2, 0).cumprod(1), np.zeros((2, 0)), dtype=ft.float32)
    v, i = ft.tensor(2.0).cummax(-1)
    assert (v.item(), i.item()) == (2.0, 0)


def ref_cum_extreme(a, dim, maximum):
    """PyTorch's cummax/cummin: ties move the index forward, NaN sticks."""
    a = np.moveaxis(a, dim, -1)
    values, indices = np.empty_like(a), np.empty(a.shape, np.int64)
    for pos in np.ndindex(a.shape[:-1]):
        best, at = None, 0
        for j, x in enumerate(a[pos]):
            if best is None or np.isnan(x) or (not np.isnan(best) and (x >= best if maximum else x <= best)):
                best, at = x, j
            values[pos + (j,)], indices[pos + (j,)] = best, at
    return np.moveaxis(values, -1, dim), np.moveaxis(indices, -1, dim)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, -1])
def test_cummax_cummin_match_reference(dtype, layout, dim, rng):
    t, a = make(SHAPE, dtype, rng, layout, low=-2, high=2)
    for maximum, r in ((True, t.cummax(dim)), (False, ft.cummin(t, dim))):
        v, i = ref_cum_extreme(a, dim, maximum)
        assert_close(r.values, v, dtype=dtype)
        assert_close(r.indices, i, dtype=ft.int64)


def test_cummax_with_nan():
    r = ft.tensor([1.0, float("nan"), 3.0, float("nan")]).cummax(0)
    v, i = ref_cum_extreme(np.array([1.0, np.nan, 3.0, np.nan]), 0, True)
    assert_close(r.values, v, dtype=ft.float32)
    assert_close(r.indices, i, dtype=ft.int64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dim", [0, -1])
def test_logcumsumexp_matches_numpy(dtype, dim, rng):
    t, a = make(SHAPE, dtype, rng, "transposed")
    assert_close(t.logcumsumexp(dim), np.logaddexp.accumulate(wide(a), axis=dim), dtype=dtype)


# --- order statistics -------------------------------------------------------------------------

def lower_median(a, ax):
    s = np.sort(a, axis=ax)
    return np.take(s, (a.shape[ax] - 1) // 2, axis=ax)


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_median_along_dim_gives_lower_median_and_its_index(dtype, layout, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    values, indices = t.median(dim, keepdim)
    expected = lower_median(a, dim)
    assert_close(values, np.expand_dims(expected, dim) if keepdim else expected, dtype=dtype)
    idx = to_numpy(indices) if keepdim else np.expand_dims(to_numpy(indices), dim)
    np.testing.assert_array_equal(np.take_along_axis(a, idx, dim), np.expand_dims(expected, dim))


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
def test_median_without_dim_is_lower_median_of_all(dtype, rng):
    t, a = make(SHAPE, dtype, rng, "transposed")
    assert_close(t.median(), np.sort(a.ravel())[(a.size - 1) // 2], dtype=dtype)


def test_median_with_nan_and_nanmedian():
    t = ft.tensor([[1.0, float("nan"), 3.0, 2.0], [4.0, 1.0, 2.0, 5.0]])
    v, i = t.median(1)
    assert_close(v, np.array([np.nan, 2.0]), dtype=ft.float32)
    assert i.tolist() == [1, 2]
    v, i = t.nanmedian(1)
    assert_close(v, np.array([2.0, 2.0]), dtype=ft.float32)
    assert i.tolist() == [3, 2]
    assert math.isnan(t.median().item())
    assert t.nanmedian().item() == 2.0
    assert math.isnan(ft.tensor([float("nan")] * 2).nanmedian().item())
    assert math.isnan(ft.zeros(0).median().item())


def test_median_of_empty_dim_raises():
    with pytest.raises(IndexError, match=r"median\(\): Expected reduction dim 0 to have non-zero size."):
        ft.zeros(0, 2).median(0)


def ref_mode(a, dim):
    a = np.moveaxis(a, dim, -1)
    values, indices = np.empty(a.shape[:-1], a.dtype), np.empty(a.shape[:-1], np.int64)
    for pos in np.ndindex(a.shape[:-1]):
        row = list(a[pos])
        best = min(set(row), key=lambda v: (-row.count(v), v))
        values[pos], indices[pos] = best, len(row) - 1 - row[::-1].index(best)
    return values, indices


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_mode_gives_smallest_most_frequent_value_and_last_index(dtype, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, "strided", low=0, high=3)
    values, indices = ref_mode(a, dim)
    r = t.mode(dim, keepdim)
    assert_close(r.values, np.expand_dims(values, dim) if keepdim else values, dtype=dtype)
    assert_close(r.indices, np.expand_dims(indices, dim) if keepdim else indices, dtype=ft.int64)


INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_quantile_matches_numpy(dtype, layout, interpolation, dim, keepdim, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    q = np.array([0.0, 0.13, 0.5, 0.75, 1.0])
    expected = np.quantile(wide(a), q, axis=dim, keepdims=keepdim, method=interpolation)
    assert_close(t.quantile(ft.tensor(q, dtype=dtype), dim, keepdim, interpolation=interpolation), expected, dtype=dtype)
    assert_close(ft.quantile(t, 0.3, dim, keepdim, interpolation=interpolation),
                 np.quantile(wide(a), 0.3, axis=dim, keepdims=keepdim, method=interpolation), dtype=dtype)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_nanquantile_ignores_nan_and_quantile_propagates_it(interpolation, rng):
    a = rng.uniform(-1, 1, (4, 7))
    a[0, 2] = np.nan
    a[2, :] = np.nan
    t = ft.tensor(a)
    with _nowarn():
        expected = np.nanquantile(a, [0.2, 0.9], axis=1, method=interpolation)
    assert_close(t.nanquantile(ft.tensor([0.2, 0.9], dtype=ft.float64), 1, interpolation=interpolation), expected, dtype=ft.float64)
    assert_close(t.quantile(0.5, 1, interpolation=interpolation), np.quantile(a, 0.5, axis=1, method=interpolation), dtype=ft.float64)


def test_quantile_errors():
    t = ft.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"quantile\(\) q must be in the range \[0, 1\] but got 1.5"):
        t.quantile(1.5)
    with pytest.raises(RuntimeError, match=r"quantile\(\) q values must be in the range \[0, 1\]"):
        t.quantile(ft.tensor([0.5, -0.1]))
    with pytest.raises(RuntimeError, match=r"quantile\(\) q tensor must be same dtype as the input tensor"):
        t.quantile(ft.tensor([0.5], dtype=ft.float64))
    with pytest.raises(RuntimeError, match=r"quantile\(\) q must be a scalar or 1D tensor"):
        t.quantile(ft.tensor([[0.5]]))
    with pytest.raises(RuntimeError, match=r"quantile\(\) input tensor must be either float or double dtype"):
        ft.tensor([1, 2]).quantile(0.5)
    with pytest.raises(RuntimeError, match=r"quantile\(\) input tensor must be non-empty"):
        ft.zeros(0).quantile(0.5)
    with pytest.raises(RuntimeError, match=r"quantile\(\) interpolation must be one of linear, lower, higher, midpoint or nearest. Got cubic"):
        t.quantile(0.5, interpolation="cubic")


# --- function forms, out= ---------------------------------------------------------------------

def test_out_argument_receives_the_result(rng):
    t, a = make(SHAPE, ft.float32, rng)
    out = ft.empty(3, 5)
    r = ft.sum(t, 1, out=out)
    assert r is out
    assert_close(out, wide(a).sum(1), dtype=ft.float32)
    out = ft.empty(0)
    ft.cumsum(t, 0, out=out)
    assert_close(out, np.cumsum(wide(a), 0), dtype=ft.float32)


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=4), data=st.data())
def test_sum_and_amax_over_random_shapes_dims_and_permutations(shape, data):
    rng = np.random.default_rng(len(shape))
    a = rng.uniform(-3, 3, shape).astype(np.float64)
    perm = data.draw(st.permutations(range(len(shape))))
    t = ft.tensor(a).permute(*perm) if shape else ft.tensor(a)
    a = a.transpose(perm) if shape else a
    dims = data.draw(st.lists(st.integers(0, max(len(shape) - 1, 0)), unique=True)) if shape else []
    keepdim = data.draw(st.booleans())
    ax = tuple(dims) if dims else None
    assert_close(t.sum(tuple(dims) if dims else None, keepdim), a.sum(axis=ax, keepdims=keepdim), dtype=ft.float64)
    nonempty = all(a.shape[d] > 0 for d in (dims or range(a.ndim)))
    if nonempty and dims:
        assert_close(t.amax(tuple(dims), keepdim), a.max(axis=ax, keepdims=keepdim), dtype=ft.float64)
