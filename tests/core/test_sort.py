"""Sorting, selection and counting: sort/argsort/msort, topk, kthvalue, unique,
searchsorted/bucketize, histc/histogram, bincount and the named result tuples."""

import pickle

import numpy as np
import pytest

import ferrotorch as ft
from conftest import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, LAYOUTS, NUMPY_DTYPE, assert_close, make, to_numpy

NAN, INF = float("nan"), float("inf")


def stable_argsort(a, axis=-1, descending=False):
    """PyTorch's stable order: ties keep their original order, NaN counts as the largest."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    idx = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - idx, axis)


def with_ties(shape, dtype, rng, layout="contiguous"):
    """Values drawn from a small set, so rows have many equal elements."""
    return make(shape, dtype, rng, layout, low=-2, high=2)


# ---------------------------------------------------------------- sort / argsort / msort


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_is_stable_and_matches_numpy(dtype, layout, dim, descending, rng):
    t, a = with_ties((5, 6), dtype, rng, layout)
    idx = stable_argsort(a, dim, descending)
    values, indices = t.sort(dim=dim, descending=descending)
    assert_close(indices, idx, dtype=ft.int64)
    assert_close(values, np.take_along_axis(a, idx, dim), dtype=dtype)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16, ft.float32, ft.float64])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_puts_nan_above_infinity_and_keeps_zeros_in_order(dtype, descending):
    data = [NAN, 1.0, -0.0, -INF, 0.0, INF, NAN, -2.5, 0.0, -0.0]
    t = ft.tensor(data, dtype=dtype)
    idx = stable_argsort(np.array(data), descending=descending)
    values, indices = t.sort(descending=descending)
    assert indices.tolist() == idx.tolist()
    got = to_numpy(values)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(np.array(data)[idx]))


@pytest.mark.parametrize("dtype", [ft.uint8, ft.int16, ft.int32, ft.int64, ft.float16, ft.float32, ft.float64])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_long_rows_use_a_stable_radix_path(dtype, descending, rng):
    t, a = make((3, 5000), dtype, rng, "transposed" if dtype == ft.float32 else "contiguous", low=-50, high=50)
    idx = stable_argsort(a, -1, descending)
    values, indices = t.sort(descending=descending)
    assert_close(indices, idx)
    assert_close(values, np.take_along_axis(a, idx, -1))


def test_sort_one_million_float32_matches_numpy(rng):
    a = rng.standard_normal(1_000_000).astype(np.float32)
    a[::1000] = np.nan
    values, indices = ft.from_numpy(a).sort()
    idx = np.argsort(a, kind="stable")
    np.testing.assert_array_equal(to_numpy(indices), idx)
    np.testing.assert_array_equal(to_numpy(values), a[idx])


def test_sort_of_scalars_and_empties():
    v, i = ft.tensor(3.5).sort()
    assert v.tolist() == 3.5 and i.tolist() == 0 and i.shape == ()
    v, i = ft.zeros(0, 3).sort(dim=0)
    assert v.shape == (0, 3) and i.dtype == ft.int64
    v, i = ft.zeros(2, 0).sort()
    assert v.shape == (2, 0)


def test_sort_accepts_stable_keyword_and_function_form():
    t = ft.tensor([2, 1, 2, 1])
    assert ft.sort(t, stable=True).indices.tolist() == [1, 3, 0, 2]
    assert ft.sort(t, descending=True, stable=True).indices.tolist() == [0, 2, 1, 3]


def test_sort_bad_dim():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ft.zeros(2, 2).sort(dim=2)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("descending", [False, True])
def test_argsort_matches_stable_numpy(dtype, descending, rng):
    t, a = with_ties((4, 7), dtype, rng, "strided")
    assert_close(t.argsort(dim=0, descending=descending), stable_argsort(a, 0, descending))
    assert_close(ft.argsort(t, descending=descending, stable=True), stable_argsort(a, -1, descending))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_msort_sorts_along_dim0(dtype, rng):
    t, a = make((6, 3), dtype, rng, "transposed")
    assert_close(t.msort(), np.sort(a, axis=0, kind="stable"), dtype=dtype)
    assert_close(ft.msort(t), np.sort(a, axis=0, kind="stable"), dtype=dtype)


# ---------------------------------------------------------------- topk / kthvalue


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [0, 1, 3, 6])
def test_topk_matches_stable_sort_prefix(dtype, layout, largest, k, rng):
    t, a = with_ties((4, 6), dtype, rng, layout)
    idx = stable_argsort(a, -1, descending=largest)[:, :k]
    r = t.topk(k, largest=largest)
    assert_close(r.indices, idx)
    assert_close(r.values, np.take_along_axis(a, idx, -1), dtype=dtype)


def test_topk_along_dim0_with_nan_first():
    t = ft.tensor([[1.0, NAN], [NAN, 2.0], [3.0, 5.0]])
    v, i = ft.topk(t, 2, dim=0)
    assert i.tolist() == [[1, 0], [2, 2]]
    assert np.isnan(to_numpy(v)[0]).tolist() == [True, True]


def test_topk_errors_and_scalars():
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        ft.zeros(3).topk(4)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        ft.zeros(3).topk(-1)
    v, i = ft.tensor(2.0).topk(1)
    assert v.tolist() == 2.0 and i.tolist() == 0


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
def test_kthvalue_matches_stable_sort(dtype, keepdim, dim, rng):
    t, a = with_ties((5, 4), dtype, rng, "transposed")
    for k in (1, 3, a.shape[dim]):
        idx = np.take(stable_argsort(a, dim), [k - 1], axis=dim)
        ref_v = np.take_along_axis(a, idx, dim)
        if not keepdim:
            idx, ref_v = idx.squeeze(dim), ref_v.squeeze(dim)
        v, i = t.kthvalue(k, dim=dim, keepdim=keepdim)
        assert_close(i, idx)
        assert_close(v, ref_v, dtype=dtype)


def test_kthvalue_counts_nan_as_largest():
    t = ft.tensor([NAN, 1.0, 3.0, 2.0])
    assert t.kthvalue(3).values.tolist() == 3.0
    assert np.isnan(t.kthvalue(4).values.item())


def test_kthvalue_errors():
    with pytest.raises(RuntimeError, match="kthvalue\\(\\): selected number k out of range for dimension 0"):
        ft.zeros(3).kthvalue(4)
    with pytest.raises(RuntimeError, match="selected number k out of range"):
        ft.zeros(3).kthvalue(0)
    with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
        ft.zeros(2, 0).kthvalue(1)


# ---------------------------------------------------------------- named result tuples


def test_named_tuples_unpack_index_and_name_their_fields():
    t = ft.tensor([3, 1, 2])
    r = t.sort()
    values, indices = r
    assert isinstance(r, tuple) and len(r) == 2
    assert r.values is r[0] and r.indices is r[1]
    assert values.tolist() == [1, 2, 3] and indices.tolist() == [1, 2, 0]
    assert type(r).__name__ == "sort" and type(t.topk(1)).__name__ == "topk"
    assert type(t.kthvalue(1)).__name__ == "kthvalue"
    assert repr(r).startswith("torch.return_types.sort(\nvalues=tensor(")
    assert isinstance(r, ft.return_types.sort)


def test_named_tuples_pickle_and_rebuild():
    r = ft.return_types.topk((1, 2))
    assert pickle.loads(pickle.dumps(r)) == r and type(pickle.loads(pickle.dumps(r))) is type(r)
    with pytest.raises(TypeError, match="takes a 2-sequence"):
        ft.return_types.sort((1,))


# ---------------------------------------------------------------- unique


def numpy_unique(a, **kw):
    return np.unique(a, return_inverse=True, return_counts=True, equal_nan=False, **kw)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_unique_matches_numpy(dtype, layout, rng):
    t, a = with_ties((4, 5), dtype, rng, layout)
    values, inverse, counts = numpy_unique(a)
    got = t.unique(return_inverse=True, return_counts=True)
    assert_close(got[0], values, dtype=dtype)
    assert_close(got[1], inverse.reshape(a.shape), dtype=ft.int64)
    assert_close(got[2], counts, dtype=ft.int64)


def test_unique_result_forms():
    t = ft.tensor([2, 1, 2])
    assert isinstance(t.unique(), ft.Tensor)
    r = ft.unique(t, return_counts=True)
    assert isinstance(r, tuple) and len(r) == 2 and r[1].tolist() == [1, 2]
    r = ft.unique(t, sorted=False, return_inverse=True)
    assert r[0].tolist() == [1, 2] and r[1].tolist() == [1, 0, 1]


def test_unique_keeps_every_nan():
    t = ft.tensor([NAN, 1.0, NAN, 1.0])
    v, c = t.unique(return_counts=True)
    values, _, counts = numpy_unique(to_numpy(t))
    assert_close(v, values)
    assert c.tolist() == counts.tolist() == [2, 1, 1]


def test_unique_of_scalar_and_empty():
    v, i, c = ft.tensor(4).unique(return_inverse=True, return_counts=True)
    assert v.tolist() == [4] and i.shape == () and c.tolist() == [1]
    v, i = ft.zeros(0, 2).unique(return_inverse=True)
    assert v.shape == (0,) and i.shape == (0, 2)


@pytest.mark.parametrize("dtype", [ft.bool, ft.uint8, ft.int32, ft.float16, ft.float64])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_along_dim_matches_numpy(dtype, dim, rng):
    t, a = make((6, 3), dtype, rng, "transposed", low=0, high=2)
    values, inverse, counts = numpy_unique(a, axis=dim)
    v, i, c = t.unique(dim=dim, return_inverse=True, return_counts=True)
    assert_close(v, values, dtype=dtype)
    assert_close(i, inverse.reshape(-1))
    assert_close(c, counts)


def consecutive_reference(seq):
    values, inverse, counts = [], [], []
    for x in seq:
        if not values or not (x == values[-1]):
            values.append(x)
            counts.append(0)
        counts[-1] += 1
        inverse.append(len(values) - 1)
    return values, inverse, counts


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_unique_consecutive_matches_reference(dtype, rng):
    t, a = with_ties((3, 4), dtype, rng, "strided")
    values, inverse, counts = consecutive_reference(a.reshape(-1).tolist())
    v, i, c = t.unique_consecutive(return_inverse=True, return_counts=True)
    assert_close(v, np.array(values, dtype=a.dtype), dtype=dtype)
    assert_close(i, np.array(inverse).reshape(a.shape))
    assert_close(c, np.array(counts))


def test_unique_consecutive_along_dim():
    t = ft.tensor([[1, 1, 2, 1], [3, 3, 4, 3]])
    v, i, c = ft.unique_consecutive(t, return_inverse=True, return_counts=True, dim=1)
    assert v.tolist() == [[1, 2, 1], [3, 4, 3]]
    assert i.tolist() == [0, 0, 1, 2] and c.tolist() == [2, 1, 1]
    assert ft.unique_consecutive(ft.tensor([NAN, NAN])).shape == (2,)


def test_unique_dim_errors():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ft.zeros(2, 2).unique(dim=2)
    with pytest.raises(RuntimeError, match="Number of zero sized dimensions is more than one"):
        ft.zeros(0, 0).unique(dim=0)


# ---------------------------------------------------------------- searchsorted / bucketize


@pytest.mark.parametrize("dtype", [ft.uint8, ft.int16, ft.int64, ft.float16, ft.bfloat16, ft.float32, ft.float64])
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_matches_numpy(dtype, side, rng):
    b, nb = make((9,), dtype, rng, low=0, high=6)
    sb = ft.tensor(np.sort(nb), dtype=dtype)
    v, nv = make((3, 4), dtype, rng, "transposed", low=-1, high=7)
    ref = np.searchsorted(np.sort(nb), nv, side=side)
    assert_close(ft.searchsorted(sb, v, side=side), ref, dtype=ft.int64)
    assert_close(ft.searchsorted(sb, v, right=side == "right"), ref, dtype=ft.int64)


def test_searchsorted_rows_of_boundaries(rng):
    b = np.sort(rng.integers(0, 10, (2, 3, 5)), axis=-1)
    v = rng.integers(-1, 11, (2, 3, 4))
    got = ft.searchsorted(ft.tensor(b), ft.tensor(v), right=True)
    ref = np.stack([np.searchsorted(b[i, j], v[i, j], side="right") for i in range(2) for j in range(3)]).reshape(2, 3, 4)
    assert_close(got, ref)


def test_searchsorted_with_sorter_scalar_int32_and_nan():
    b = np.array([3.0, 1.0, 2.0, 5.0])
    sorter = np.argsort(b)
    v = np.array([0.0, 2.0, 2.5, 9.0, NAN])
    got = ft.searchsorted(ft.tensor(b), ft.tensor(v), sorter=ft.tensor(sorter))
    assert_close(got, np.searchsorted(b, v, sorter=sorter))
    r = ft.searchsorted(ft.tensor([1, 3, 5]), 3, right=True, out_int32=True)
    assert r.shape == () and r.item() == 2 and r.dtype == ft.int32
    assert ft.searchsorted(ft.tensor([1, 3, 5]), 3.5).item() == 2


def test_searchsorted_promotes_mixed_dtypes():
    assert ft.searchsorted(ft.tensor([1, 2, 3]), ft.tensor([1.5, 2.5])).tolist() == [1, 2]
    assert ft.searchsorted(ft.tensor([0.5, 1.5]), ft.tensor([1], dtype=ft.uint8)).tolist() == [1]


def test_searchsorted_empty_inputs():
    assert ft.searchsorted(ft.zeros(0), ft.ones(3)).tolist() == [0, 0, 0]
    assert ft.searchsorted(ft.ones(3), ft.ones(0)).shape == (0,)


def test_searchsorted_errors():
    b = ft.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="side can only be 'left' or 'right' but got middle"):
        ft.searchsorted(b, b, side="middle")
    with pytest.raises(RuntimeError, match="side and right can't be set to opposites, got side of left while right was True"):
        ft.searchsorted(b, b, side="left", right=True)
    with pytest.raises(RuntimeError, match="boundaries tensor should be 1 dimension or the first N-1 dimensions"):
        ft.searchsorted(ft.zeros(2, 3), ft.zeros(3, 3))
    with pytest.raises(RuntimeError, match="input value can be a scalar only when boundaries tensor dimension is 1"):
        ft.searchsorted(ft.zeros(2, 3), 1.0)
    with pytest.raises(RuntimeError, match="boundaries tensor should have positive dimension"):
        ft.searchsorted(ft.tensor(1.0), ft.zeros(2))
    with pytest.raises(RuntimeError, match="sorter must be a tensor of long dtype but got dtype Int"):
        ft.searchsorted(b, b, sorter=ft.tensor([0, 1], dtype=ft.int32))
    with pytest.raises(RuntimeError, match="sorter index out of range"):
        ft.searchsorted(b, b, sorter=ft.tensor([0, 2]))
    with pytest.raises(RuntimeError, match="boundary and sorter must have the same size"):
        ft.searchsorted(b, b, sorter=ft.tensor([0]))


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("dtype", [ft.int32, ft.float32, ft.float64])
def test_bucketize_matches_numpy_digitize(right, dtype, rng):
    bounds = np.array([-2, 0, 1, 3])
    v, nv = make((5, 3), dtype, rng, "strided", low=-4, high=5)
    got = ft.bucketize(v, ft.tensor(bounds, dtype=dtype), right=right)
    assert_close(got, np.digitize(nv, bounds, right=not right), dtype=ft.int64)
    assert ft.bucketize(0.5, ft.tensor([0.0, 1.0]), out_int32=True).dtype == ft.int32
    with pytest.raises(RuntimeError, match=r"boundaries tensor must be 1 dimension, but got dim\(2\)"):
        ft.bucketize(v, ft.zeros(2, 2))


# ---------------------------------------------------------------- histc / histogram / bincount


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_histc_matches_numpy_histogram(dtype, layout, rng):
    t, a = make((20, 30), dtype, rng, layout)
    got = t.histc(bins=8, min=-4, max=4)
    ref, _ = np.histogram(a.astype(np.float64), bins=8, range=(-4, 4))
    assert_close(got, ref.astype(np.float64), dtype=dtype, atol=0, rtol=0)


def test_histc_uses_the_data_range_when_min_equals_max(rng):
    a = rng.uniform(-3, 7, 1000)
    ref, _ = np.histogram(a, bins=10)
    assert_close(ft.tensor(a).histc(10), ref.astype(np.float64), atol=0.5)


def test_histc_ignores_nan_and_values_outside_the_range():
    t = ft.tensor([NAN, -1.0, 0.0, 0.5, 1.0, 2.0, INF])
    assert t.histc(bins=2, min=0, max=1).tolist() == [1.0, 2.0]


def test_histc_constant_and_empty_inputs():
    assert ft.full((3,), 2.0).histc(bins=4).tolist() == [0.0, 0.0, 3.0, 0.0]
    assert ft.zeros(0).histc(bins=3).tolist() == [0.0, 0.0, 0.0]


def test_histc_errors():
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        ft.tensor([1, 2]).histc()
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        ft.ones(2).histc(bins=0)
    with pytest.raises(RuntimeError, match="torch.histc: max must be larger than min"):
        ft.ones(2).histc(min=2, max=1)
    with pytest.raises(RuntimeError, match=r"torch.histc: range of \[nan, nan\] is not finite"):
        ft.tensor([1.0, NAN]).histc()


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
@pytest.mark.parametrize("density", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_histogram_with_bin_count_matches_numpy(dtype, density, weighted, rng):
    t, a = make((50,), dtype, rng)
    w, nw = make((50,), dtype, rng, low=0, high=2)
    kw = {"weight": w} if weighted else {}
    hist, edges = ft.histogram(t, 7, range=(-3.0, 4.0), density=density, **kw)
    ref_h, ref_e = np.histogram(a.astype(np.float64), 7, range=(-3.0, 4.0), density=density, weights=nw if weighted else None)
    assert_close(edges, ref_e, dtype=dtype)
    assert_close(hist, ref_h, dtype=dtype, rtol=1e-5, atol=1e-6)


def test_histogram_with_edges_and_default_range(rng):
    a = rng.uniform(0, 10, 200)
    edges = np.array([0.0, 1.0, 2.5, 7.0, 10.0])
    r = ft.tensor(a).histogram(ft.tensor(edges))
    assert_close(r.hist, np.histogram(a, edges)[0].astype(np.float64))
    assert_close(r.bin_edges, edges)
    h, e = ft.histogram(ft.tensor(a), bins=5)
    ref_h, ref_e = np.histogram(a, 5)
    assert_close(h, ref_h.astype(np.float64))
    assert_close(e, ref_e)
    assert type(r).__name__ == "histogram"


def test_histogram_errors():
    t = ft.ones(3)
    with pytest.raises(RuntimeError, match="input tensor and bins tensors should have the same dtype"):
        t.histogram(ft.tensor([0.0, 1.0], dtype=ft.float64))
    with pytest.raises(RuntimeError, match="min should not exceed max"):
        t.histogram(3, range=(2.0, 1.0))
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        t.histogram(0)
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        ft.tensor([1, 2]).histogram(2)
    with pytest.raises(RuntimeError, match="should have the same shape as the input tensor"):
        t.histogram(2, weight=ft.ones(2))


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_bincount_matches_numpy(dtype, rng):
    t, a = make((40,), dtype, rng, "strided", low=0, high=9)
    assert_close(t.bincount(), np.bincount(a.astype(np.int64)), dtype=ft.int64)
    assert_close(ft.bincount(t, minlength=20), np.bincount(a.astype(np.int64), minlength=20), dtype=ft.int64)


@pytest.mark.parametrize("wdtype,out", [(ft.float32, ft.float32), (ft.float64, ft.float64), (ft.int32, ft.float64), (ft.float16, ft.float64)])
def test_bincount_weights_choose_the_result_dtype(wdtype, out, rng):
    a = rng.integers(0, 5, 30)
    w = rng.integers(0, 4, 30)
    got = ft.tensor(a).bincount(ft.tensor(w, dtype=wdtype))
    assert_close(got, np.bincount(a, weights=w), dtype=out)


def test_bincount_empty_and_errors():
    assert_close(ft.tensor([], dtype=ft.int64).bincount(minlength=3), np.zeros(3, np.int64))
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs."):
        ft.tensor([1, -1]).bincount()
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs."):
        ft.tensor([[1]]).bincount()
    with pytest.raises(RuntimeError, match="not implemented for 'Float'"):
        ft.tensor([1.0]).bincount()
    with pytest.raises(RuntimeError, match="minlength should be >= 0"):
        ft.tensor([1]).bincount(minlength=-1)
    with pytest.raises(RuntimeError, match="weights should be 1-d and have the same length as input"):
        ft.tensor([1, 2]).bincount(ft.ones(3))
