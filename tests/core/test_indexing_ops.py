"""The index ops (gather/scatter, index_*, masked_*, take/put, nonzero) against NumPy
references, with PyTorch's error messages."""

import itertools

import numpy as np
import pytest

import ferrotorch as ft
from conftest import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, LAYOUTS, NUMPY_DTYPE, assert_close, make, random_array, to_numpy

NUMERIC_DTYPES = INT_DTYPES + FLOAT_DTYPES


def long(values):
    return ft.tensor(np.asarray(values, dtype=np.int64))


def small_ints(shape, dtype, rng, low=-3, high=4):
    """Integer-valued data (exact in every dtype, so reductions compare exactly)."""
    lo = 0 if dtype in (ft.uint8, ft.bool) else low
    arr = rng.integers(lo, high, size=shape)
    if dtype == ft.bool:
        arr = arr > 1
    return ft.tensor(arr, dtype=dtype), arr.astype(np.float64 if dtype in FLOAT_DTYPES else NUMPY_DTYPE[dtype])


def positions(index, dim):
    """For each position of `index`, its full coordinate with `dim` replaced by the index value."""
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        yield pos, tuple(target)


def gather_ref(a, dim, index):
    sl = tuple(slice(0, index.shape[d]) if d != dim else slice(None) for d in range(a.ndim))
    return np.take_along_axis(a[sl], index, dim)


def scatter_ref(a, dim, index, src, combine=lambda d, s: s):
    out = a.copy()
    for pos, target in positions(index, dim):
        out[target] = combine(out[target], src[pos] if np.ndim(src) else src)
    return out


# --- gather / take_along_dim ----------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_matches_take_along_axis(dtype, layout, dim, rng):
    t, a = make((4, 5, 3), dtype, rng, layout)
    d = dim % 3
    shape = [3, 4, 2]
    shape[d] = 6
    idx = rng.integers(0, a.shape[d], size=shape)
    assert_close(t.gather(dim, long(idx)), gather_ref(a, d, idx), dtype=dtype)
    assert_close(ft.gather(t, dim, long(idx)), gather_ref(a, d, idx), dtype=dtype)


def test_gather_with_a_non_contiguous_index(rng):
    t, a = make((4, 5), ft.float32, rng)
    idx = long(rng.integers(0, 4, size=(5, 4))).t()
    assert_close(t.gather(0, idx), gather_ref(a, 0, to_numpy(idx)))


def test_gather_empty_and_zero_dim(rng):
    t, a = make((3, 4), ft.float32, rng)
    assert tuple(t.gather(1, ft.zeros(3, 0, dtype=ft.int64)).shape) == (3, 0)
    s = ft.tensor(2.5)
    assert_close(s.gather(0, ft.tensor(0)), np.float32(2.5))


def test_gather_index_dtype_must_be_int64():
    with pytest.raises(RuntimeError, match=r"gather\(\): Expected dtype int64 for index"):
        ft.zeros(3).gather(0, ft.tensor([0], dtype=ft.int32))


def test_gather_out_of_bounds_raises_runtime_error():
    with pytest.raises(RuntimeError, match="index 7 is out of bounds for dimension 0 with size 3"):
        ft.zeros(3).gather(0, long([0, 7]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        ft.zeros(3).gather(0, long([-1]))


def test_gather_shape_errors():
    with pytest.raises(RuntimeError, match="Index tensor must have the same number of dimensions as input tensor"):
        ft.zeros(3, 3).gather(0, long([0]))
    with pytest.raises(RuntimeError, match=r"Size does not match at dimension 1 expected index \[1, 4\] to be no larger than self \[3, 3\] apart from dimension 0"):
        ft.zeros(3, 3).gather(0, long([[0, 0, 0, 0]]))


@pytest.mark.parametrize("dtype", [ft.float32, ft.int64, ft.bool])
def test_take_along_dim_broadcasts_like_numpy(dtype, rng):
    t, a = make((3, 1, 4), dtype, rng)
    idx = rng.integers(0, 4, size=(1, 5, 2))
    assert_close(t.take_along_dim(long(idx), 2), np.take_along_axis(a, idx, 2), dtype=dtype)
    assert_close(ft.take_along_dim(t, long(idx), dim=-1), np.take_along_axis(a, idx, -1), dtype=dtype)


def test_take_along_dim_without_dim_flattens(rng):
    t, a = make((3, 4), ft.float32, rng, "transposed")
    idx = rng.integers(0, 12, size=(5,))
    assert_close(t.take_along_dim(long(idx)), np.take_along_axis(a.ravel(), idx, 0))


def test_take_along_dim_errors():
    with pytest.raises(RuntimeError, match="dtype of indices should be Long but got Int"):
        ft.zeros(3).take_along_dim(ft.tensor([0], dtype=ft.int32), 0)
    with pytest.raises(RuntimeError, match="input and indices should have the same number of dimensions"):
        ft.zeros(3, 3).take_along_dim(long([0]), 0)


# --- scatter family -------------------------------------------------------------------


def unique_index(rng, shape, dim, size):
    """An index with distinct values along `dim` (scatter without reduction is then defined)."""
    idx = np.empty(shape, np.int64)
    for pos in np.ndindex(*[s for d, s in enumerate(shape) if d != dim]):
        perm = rng.permutation(size)[: shape[dim]]
        sl = list(pos)
        sl.insert(dim, slice(None))
        idx[tuple(sl)] = perm
    return idx


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_matches_reference(dtype, layout, dim, rng):
    t, a = make((4, 5), dtype, rng, layout)
    src, s = make((4, 5), dtype, rng)
    shape = [3, 4]
    idx = unique_index(rng, shape, dim, a.shape[dim])
    assert_close(t.scatter(dim, long(idx), src), scatter_ref(a, dim, idx, s), dtype=dtype)
    assert_close(t.scatter(dim, long(idx), 1), scatter_ref(a, dim, idx, NUMPY_DTYPE[dtype](1)), dtype=dtype)
    assert_close(t.scatter(dim, long(idx), value=2), scatter_ref(a, dim, idx, NUMPY_DTYPE[dtype](2)), dtype=dtype)


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_scatter_in_place_writes_self_and_returns_it(layout, rng):
    t, a = make((4, 5), ft.float32, rng, layout)
    a = a.copy()
    idx = unique_index(rng, [2, 5], 0, 4)
    src, s = make((2, 5), ft.float32, rng)
    v = t._version
    r = t.scatter_(0, long(idx), src)
    assert r is t
    assert t._version > v
    assert_close(t, scatter_ref(a, 0, idx, s))


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
@pytest.mark.parametrize("reduce,combine", [("add", lambda d, s: d + s), ("multiply", lambda d, s: d * s)])
def test_scatter_with_legacy_reduce(dtype, reduce, combine, rng):
    t, a = small_ints((3, 4), dtype, rng)
    src, s = small_ints((3, 4), dtype, rng)
    idx = rng.integers(0, 3, size=(3, 4))
    assert_close(t.scatter(0, long(idx), src, reduce=reduce), scatter_ref(a, 0, idx, s, combine), dtype=dtype)


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_scatter_add_sums_duplicates(dtype, rng):
    t, a = small_ints((3, 4), dtype, rng)
    src, s = small_ints((5, 4), dtype, rng)
    idx = rng.integers(0, 3, size=(5, 4))
    expected = scatter_ref(a, 0, idx, s, lambda d, x: d + x)
    assert_close(t.scatter_add(0, long(idx), src), expected, dtype=dtype)
    r = t.clone()
    r.scatter_add_(0, long(idx), src)
    assert_close(r, expected, dtype=dtype)


REDUCTIONS = {
    "sum": (np.add.reduce, 0), "prod": (np.multiply.reduce, 1), "amax": (np.max, None),
    "amin": (np.min, None), "mean": (np.mean, None),
}


def scatter_reduce_ref(a, dim, index, src, reduce, include_self):
    out = a.astype(np.float64)
    groups = {}
    for pos, target in positions(index, dim):
        groups.setdefault(target, []).append(float(src[pos]))
    for target, vals in groups.items():
        vals = ([float(a[target])] if include_self else []) + vals
        fn = REDUCTIONS[reduce][0]
        r = fn(np.array(vals))
        if reduce == "mean" and a.dtype.kind in "iu":
            r = np.floor(np.sum(vals) / len(vals))
        out[target] = r
    return out


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
@pytest.mark.parametrize("reduce", list(REDUCTIONS))
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_reference(dtype, reduce, include_self, rng):
    t, a = small_ints((3, 4), dtype, rng)
    src, s = small_ints((4, 4), dtype, rng)
    idx = rng.integers(0, 3, size=(4, 3))
    expected = scatter_reduce_ref(a, 0, idx, s, reduce, include_self)
    got = t.scatter_reduce(0, long(idx), src, reduce, include_self=include_self)
    assert got.dtype == dtype
    np.testing.assert_allclose(to_numpy(got).astype(np.float64), expected.astype(NUMPY_DTYPE[dtype]).astype(np.float64), rtol=1e-2)


def test_scatter_reduce_amax_propagates_nan():
    t = ft.zeros(2)
    r = t.scatter_reduce(0, long([0, 0, 1]), ft.tensor([1.0, float("nan"), 3.0]), "amax")
    assert np.isnan(to_numpy(r)[0]) and to_numpy(r)[1] == 3


def test_scatter_with_empty_index_is_a_no_op(rng):
    t, a = make((3, 4), ft.float32, rng)
    assert_close(t.scatter(0, ft.zeros(0, 4, dtype=ft.int64), ft.ones(2, 4)), a)


def test_scatter_errors():
    t = ft.zeros(3, 3)
    with pytest.raises(RuntimeError, match=r"scatter\(\): Expected dtype int64 for index"):
        t.scatter(0, ft.tensor([[0]], dtype=ft.int32), ft.ones(1, 1))
    with pytest.raises(RuntimeError, match=r"scatter\(\): Expected self.dtype to be equal to src.dtype"):
        t.scatter(0, long([[0]]), ft.ones(1, 1, dtype=ft.float64))
    with pytest.raises(RuntimeError, match="index 7 is out of bounds for dimension 0 with size 3"):
        t.scatter(0, long([[7]]), ft.ones(1, 1))
    with pytest.raises(RuntimeError, match=r"Expected index \[1, 4\] to be no larger than self \[3, 3\] apart from dimension 0 and to be no larger size than src \[1, 4\]"):
        t.scatter(0, long([[0, 0, 0, 0]]), ft.ones(1, 4))
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply."):
        t.scatter(0, long([[0]]), ft.ones(1, 1), reduce="max")
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin, got max"):
        t.scatter_reduce(0, long([[0]]), ft.ones(1, 1), "max")
    with pytest.raises(RuntimeError, match=r"scatter_add\(\): Expected dtype int64 for index"):
        t.scatter_add(0, ft.tensor([[0]], dtype=ft.int32), ft.ones(1, 1))


# --- index_select / index_add / index_copy / index_fill -------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select_matches_numpy_take(dtype, layout, dim, rng):
    t, a = make((4, 5, 3), dtype, rng, layout)
    idx = rng.integers(0, a.shape[dim], size=7)
    assert_close(t.index_select(dim, long(idx)), np.take(a, idx, axis=dim), dtype=dtype)
    assert_close(t.index_select(dim, ft.tensor(idx, dtype=ft.int32)), np.take(a, idx, axis=dim), dtype=dtype)
    assert_close(ft.index_select(t, dim, long(idx[:0])), np.take(a, idx[:0], axis=dim), dtype=dtype)


def test_index_select_with_zero_dim_index_keeps_the_dim(rng):
    t, a = make((4, 3), ft.float32, rng)
    assert_close(t.index_select(0, ft.tensor(2)), a[[2]])


def test_index_select_errors():
    with pytest.raises(IndexError, match="index out of range in self"):
        ft.zeros(3).index_select(0, long([3]))
    with pytest.raises(IndexError, match="index out of range in self"):
        ft.zeros(3).index_select(0, long([-1]))
    with pytest.raises(IndexError, match=r"index_select\(\): Index is supposed to be a vector"):
        ft.zeros(3).index_select(0, long([[0]]))
    with pytest.raises(RuntimeError, match=r"index_select\(\): Expected dtype int32 or int64 for index"):
        ft.zeros(3).index_select(0, ft.tensor([0.0]))


def index_add_ref(a, dim, idx, src, alpha=1):
    out = a.copy()
    for k, i in enumerate(idx):
        sl_out = [slice(None)] * a.ndim
        sl_src = [slice(None)] * a.ndim
        sl_out[dim], sl_src[dim] = i, k
        out[tuple(sl_out)] = out[tuple(sl_out)] + alpha * src[tuple(sl_src)]
    return out


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
@pytest.mark.parametrize("dim", [0, 1])
def test_index_add_accumulates_duplicates(dtype, layout, dim, rng):
    t, a = small_ints((4, 5), dtype, rng)
    if layout != "contiguous":
        t = t.t().contiguous().t() if layout == "transposed" else ft.zeros(8, 10, dtype=dtype)[::2, ::2]
        t[...] = ft.tensor(a, dtype=dtype)
    n = 6
    idx = rng.integers(0, a.shape[dim], size=n)
    sshape = [4, 5]
    sshape[dim] = n
    src, s = small_ints(sshape, dtype, rng)
    expected = index_add_ref(a, dim, idx, s)
    assert_close(t.index_add(dim, long(idx), src), expected.astype(a.dtype), dtype=dtype)
    t.index_add_(dim, ft.tensor(idx, dtype=ft.int32), src, alpha=2)
    assert_close(t, index_add_ref(a, dim, idx, s, 2).astype(a.dtype), dtype=dtype)


def test_index_add_errors():
    t = ft.zeros(3, 3)
    with pytest.raises(RuntimeError, match=r"index_add_\(\): self \(Float\) and source \(Double\) must have the same scalar type"):
        t.index_add(0, long([0]), ft.ones(1, 3, dtype=ft.float64))
    with pytest.raises(IndexError, match="index out of range in self"):
        t.index_add(0, long([3]), ft.ones(1, 3))
    with pytest.raises(RuntimeError, match=r"source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = \[3, 3\] source.shape = \[1, 2\]"):
        t.index_add(0, long([0]), ft.ones(1, 2))
    with pytest.raises(RuntimeError, match=r"Number of indices \(2\) should be equal to source.size\(dim\) \(1\)"):
        t.index_add(0, long([0, 1]), ft.ones(1, 3))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, 1])
def test_index_copy_matches_numpy_assignment(dtype, dim, rng):
    t, a = make((4, 5), dtype, rng, "transposed")
    a = a.copy()
    idx = rng.permutation(a.shape[dim])[:3]
    sshape = [4, 5]
    sshape[dim] = 3
    src, s = make(sshape, dtype, rng)
    sl = [slice(None)] * 2
    sl[dim] = idx
    expected = a.copy()
    expected[tuple(sl)] = s
    assert_close(t.index_copy(dim, long(idx), src), expected, dtype=dtype)
    t.index_copy_(dim, long(idx), src)
    assert_close(t, expected, dtype=dtype)


def test_index_copy_errors():
    t = ft.zeros(3, 3)
    with pytest.raises(RuntimeError, match="index_copy_\\(\\): Expected a long tensor for index, but got Int"):
        t.index_copy(0, ft.tensor([0], dtype=ft.int32), ft.ones(1, 3))
    with pytest.raises(IndexError, match=r"index_copy_\(\): index 5 is out of bounds for dimension 0 with size 3"):
        t.index_copy(0, long([5]), ft.ones(1, 3))
    with pytest.raises(RuntimeError, match="same dtype"):
        t.index_copy(0, long([0]), ft.ones(1, 3, dtype=ft.int64))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_index_fill_allows_negative_indices(dtype, rng):
    t, a = make((4, 5), dtype, rng, "strided")
    expected = a.copy()
    expected[:, [1, -1]] = 1
    assert_close(t.index_fill(1, long([1, -1]), 1), expected, dtype=dtype)
    assert_close(t.index_fill(-1, long([1, -1]), ft.tensor(1)), expected, dtype=dtype)
    t.index_fill_(1, long([1, -1]), True)
    assert_close(t, expected, dtype=dtype)


def test_index_fill_errors():
    with pytest.raises(RuntimeError, match=r"index_fill_\(\): Expected dtype int64 for index."):
        ft.zeros(3).index_fill(0, ft.tensor([0], dtype=ft.int32), 1)
    with pytest.raises(IndexError, match="index -4 is out of bounds for dimension 0 with size 3"):
        ft.zeros(3).index_fill(0, long([-4]), 1)
    with pytest.raises(RuntimeError, match=r"index_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension\(s\)."):
        ft.zeros(3).index_fill(0, long([0]), ft.ones(1))


# --- index_put ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_index_put_accumulate_sums_duplicates(dtype, rng):
    t, a = small_ints((4, 3), dtype, rng)
    i = np.array([0, 2, 0, 0])
    j = np.array([1, 1, 1, 2])
    v, vals = small_ints((4,), dtype, rng)
    expected = a.copy()
    np.add.at(expected, (i, j), vals)
    assert_close(t.index_put((long(i), long(j)), v, accumulate=True), expected.astype(a.dtype), dtype=dtype)
    r = t.clone()
    r.index_put_((long(i), long(j)), v, True)
    assert_close(r, expected.astype(a.dtype), dtype=dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_index_put_with_none_entries_and_masks(dtype, rng):
    t, a = make((4, 3), dtype, rng)
    v, vals = make((3,), dtype, rng)
    expected = a.copy()
    expected[:, [0, 2]] = vals[:2]
    assert_close(t.index_put((None, long([0, 2])), v[:2]), expected, dtype=dtype)
    m = rng.random((4, 3)) > 0.5
    expected = a.copy()
    expected[m] = vals[0]
    assert_close(ft.index_put(t, (ft.tensor(m),), v[0]), expected, dtype=dtype)


def test_index_put_errors():
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match, got Float for the destination and Double for the source."):
        ft.zeros(3).index_put_((long([0]),), ft.ones(1, dtype=ft.float64))
    with pytest.raises(TypeError, match="must be tuple of Tensors"):
        ft.zeros(3).index_put_(([0],), ft.ones(1))


# --- masked ops -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_masked_fill_matches_numpy_where(dtype, layout, rng):
    t, a = make((4, 5), dtype, rng, layout)
    m = rng.random((5,)) > 0.5
    expected = np.where(m, NUMPY_DTYPE[dtype](1), a)
    assert_close(t.masked_fill(ft.tensor(m), 1), expected, dtype=dtype)
    assert_close(t.masked_fill(ft.tensor(m), ft.tensor(1)), expected, dtype=dtype)


def test_masked_fill_broadcasts_self_with_the_mask():
    t = ft.zeros(3)
    m = ft.tensor([[True], [False]])
    assert_close(t.masked_fill(m, 2.0), np.where(np.array([[True], [False]]), 2.0, np.zeros(3)).astype(np.float32))


def test_masked_fill_in_place_and_casts_the_value(rng):
    t = ft.zeros(4, dtype=ft.int32)
    v = t._version
    assert t.masked_fill_(ft.tensor([True, False, True, False]), 2.9) is t
    assert_close(t, np.array([2, 0, 2, 0], np.int32))
    assert t._version > v


def test_masked_fill_with_nan_value():
    r = ft.zeros(2).masked_fill(ft.tensor([True, False]), float("nan"))
    assert np.isnan(to_numpy(r)[0]) and to_numpy(r)[1] == 0


def test_masked_fill_errors():
    with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks, but got mask with dtype unsigned char"):
        ft.zeros(2).masked_fill(ft.tensor([1, 0], dtype=ft.uint8), 1)
    with pytest.raises(RuntimeError, match=r"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension\(s\)."):
        ft.zeros(2).masked_fill(ft.tensor([True, False]), ft.ones(1))
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(2\) must match the existing size \(3\)"):
        ft.zeros(2).masked_fill_(ft.ones(3, dtype=ft.bool), 1)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_masked_select_matches_boolean_indexing(dtype, layout, rng):
    t, a = make((4, 5), dtype, rng, layout)
    m = rng.random((4, 5)) > 0.5
    assert_close(t.masked_select(ft.tensor(m)), a[m], dtype=dtype)
    m1 = rng.random((5,)) > 0.5
    assert_close(ft.masked_select(t, ft.tensor(m1)), np.broadcast_to(a, (4, 5))[np.broadcast_to(m1, (4, 5))], dtype=dtype)


def test_masked_select_needs_a_bool_mask():
    with pytest.raises(RuntimeError, match="masked_select: expected BoolTensor for mask"):
        ft.zeros(2).masked_select(ft.tensor([1, 0]))


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_masked_scatter_fills_true_positions_in_order(dtype, layout, rng):
    t, a = make((4, 5), dtype, rng, layout)
    m = rng.random((4, 5)) > 0.5
    src, s = make((25,), dtype, rng)
    expected = a.copy()
    expected[m] = s[: m.sum()]
    assert_close(t.masked_scatter(ft.tensor(m), src), expected, dtype=dtype)
    t.masked_scatter_(ft.tensor(m), src)
    assert_close(t, expected, dtype=dtype)


def test_masked_scatter_errors():
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        ft.zeros(3).masked_scatter(ft.tensor([True, True, False]), ft.ones(1))
    with pytest.raises(RuntimeError, match="masked_scatter_: expected self and source to have same dtypes but got Float and Double"):
        ft.zeros(3).masked_scatter(ft.tensor([True, True, False]), ft.ones(3, dtype=ft.float64))


# --- take / put -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_take_reads_the_flattened_tensor(dtype, layout, rng):
    t, a = make((3, 4), dtype, rng, layout)
    idx = rng.integers(-12, 12, size=(2, 5))
    assert_close(t.take(long(idx)), np.take(a, idx), dtype=dtype)
    assert_close(ft.take(t, long(idx[:0])), np.take(a, idx[:0]), dtype=dtype)


def test_take_errors():
    with pytest.raises(IndexError, match="out of range: tried to access index 7 on a tensor of 6 elements."):
        ft.zeros(2, 3).take(long([7]))
    with pytest.raises(RuntimeError, match="take\\(\\): Expected a long tensor for index, but got Int"):
        ft.zeros(2, 3).take(ft.tensor([0], dtype=ft.int32))
    with pytest.raises(IndexError, match="take\\(\\): tried to take from an empty tensor"):
        ft.zeros(0).take(long([0]))


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_put_writes_the_flattened_tensor(dtype, layout, rng):
    t, a = make((3, 4), dtype, rng, layout)
    idx = rng.permutation(12)[:5] - 6
    src, s = make((5,), dtype, rng)
    expected = np.ascontiguousarray(a).copy()
    np.put(expected, idx, s)
    assert_close(t.put(long(idx), src), expected, dtype=dtype)
    assert t.put_(long(idx), src) is t
    assert_close(t, expected, dtype=dtype)


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_put_accumulate_sums_duplicates(dtype, rng):
    t, a = small_ints((2, 3), dtype, rng)
    idx = np.array([0, 5, 0, -1])
    src, s = small_ints((4,), dtype, rng)
    expected = a.copy().ravel()
    np.add.at(expected, idx, s)
    assert_close(t.put(long(idx), src, accumulate=True), expected.reshape(2, 3).astype(a.dtype), dtype=dtype)


def test_put_errors():
    t = ft.zeros(2, 3)
    with pytest.raises(IndexError, match="out of range: tried to access index -7 on a tensor of 6 elements."):
        t.put_(long([-7]), ft.ones(1))
    with pytest.raises(RuntimeError, match=r"put_\(\): Expected source and index to have the same number of elements, but got source.numel\(\) = 2, index.numel\(\) = 1"):
        t.put_(long([0]), ft.ones(2))
    with pytest.raises(RuntimeError, match="put_\\(\\): self and source expected to have the same dtype"):
        t.put_(long([0]), ft.ones(1, dtype=ft.int64))


# --- nonzero / argwhere ---------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_nonzero_matches_argwhere(dtype, layout, rng):
    t, a = make((3, 4, 5), dtype, rng, layout, low=-1, high=2)
    assert_close(t.nonzero(), np.argwhere(a), dtype=ft.int64)
    assert_close(ft.argwhere(t), np.argwhere(a), dtype=ft.int64)
    parts = t.nonzero(as_tuple=True)
    assert isinstance(parts, tuple) and len(parts) == 3
    for got, want in zip(parts, np.nonzero(a)):
        assert_close(got, want, dtype=ft.int64)


def test_nonzero_counts_nan_as_nonzero():
    t = ft.tensor([0.0, float("nan"), 0.0, -0.0, 1.0])
    assert_close(t.nonzero(), np.array([[1], [4]]))


def test_nonzero_of_zero_dim_and_empty_tensors():
    assert tuple(ft.tensor(3).nonzero().shape) == (1, 0)
    assert tuple(ft.tensor(0).nonzero().shape) == (0, 0)
    (only,) = ft.tensor(3).nonzero(as_tuple=True)
    assert_close(only, np.array([0]))
    assert tuple(ft.zeros(0, 3).nonzero().shape) == (0, 2)


def test_nonzero_of_a_large_tensor_is_in_order(rng):
    a = rng.random(200_000) > 0.7
    assert_close(ft.tensor(a).nonzero(), np.argwhere(a))
    b = rng.standard_normal((300, 400))
    assert_close(ft.tensor(b).masked_select(ft.tensor(b > 1)), b[b > 1])


def test_large_gather_and_index_put_are_exact(rng):
    a = rng.standard_normal((500, 300))
    idx = rng.integers(0, 500, size=(700, 300))
    t = ft.tensor(a)
    assert_close(t.gather(0, long(idx)), np.take_along_axis(a, idx, 0))
    rows = rng.integers(0, 500, size=2000)
    vals = rng.standard_normal((2000, 300))
    expected = a.copy()
    np.add.at(expected, rows, vals)
    assert_close(t.index_put((long(rows),), ft.tensor(vals), accumulate=True), expected)
    assert_close(t.index_add(0, long(rows), ft.tensor(vals)), expected)
