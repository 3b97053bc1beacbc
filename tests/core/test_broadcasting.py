"""Property tests: binary ops over random broadcastable shapes, dtypes and strides."""

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ferrotorch as ft
from conftest import NUMPY_DTYPE, assert_close

DTYPES = [ft.int32, ft.int64, ft.float32, ft.float64, ft.int8, ft.float16]
OPS = {"add": np.add, "mul": np.multiply, "sub": np.subtract, "maximum": np.maximum, "lt": np.less}


def _category(d):
    return 0 if d == ft.bool else (2 if d.is_floating_point else 1)


def _documented_result_type(da, a_ndim, db, b_ndim):
    """PyTorch's documented rule: a 0-d operand only matters when its category is higher."""
    if (a_ndim == 0) == (b_ndim == 0):
        return ft.promote_types(da, db)
    dim, zero = (da, db) if b_ndim == 0 else (db, da)
    return ft.promote_types(dim, zero) if _category(zero) > _category(dim) else dim


def _as_tensor(arr, dtype, transpose):
    """The same values as `arr`, optionally held in a transposed (non-contiguous) layout."""
    if transpose and arr.ndim >= 2:
        base = ft.tensor(np.ascontiguousarray(arr.T), dtype=dtype)
        return base.permute(*reversed(range(arr.ndim)))
    return ft.tensor(arr, dtype=dtype)


@settings(max_examples=150, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=4),
    da=st.sampled_from(DTYPES),
    db=st.sampled_from(DTYPES),
    op=st.sampled_from(sorted(OPS)),
    ta=st.booleans(),
    tb=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_binary_ops_broadcast_like_numpy(shapes, da, db, op, ta, tb, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-9, 9, size=shapes.input_shapes[0]).astype(NUMPY_DTYPE[da])
    b = rng.integers(-9, 9, size=shapes.input_shapes[1]).astype(NUMPY_DTYPE[db])
    out = getattr(_as_tensor(a, da, ta), op)(_as_tensor(b, db, tb))
    promoted = _documented_result_type(da, a.ndim, db, b.ndim)
    expected_dtype = ft.bool if op == "lt" else promoted
    with np.errstate(all="ignore"):
        expected = OPS[op](a.astype(np.float64), b.astype(np.float64))
    assert out.dtype == expected_dtype
    assert tuple(out.shape) == shapes.result_shape
    if expected_dtype == ft.bool:
        # Compared in the promoted type, as PyTorch does.
        pa = a.astype(NUMPY_DTYPE[promoted]).astype(np.float64)
        pb = b.astype(NUMPY_DTYPE[promoted]).astype(np.float64)
        assert_close(out, np.less(pa, pb))
    elif expected_dtype.is_floating_point:
        assert_close(out, expected.astype(NUMPY_DTYPE[expected_dtype]), dtype=expected_dtype)
    else:
        # Integer results wrap on overflow like NumPy's fixed-width integers.
        assert_close(out, expected.astype(np.int64).astype(NUMPY_DTYPE[expected_dtype]), dtype=expected_dtype)


@settings(max_examples=100, deadline=None)
@given(
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=4),
    perm_seed=st.integers(0, 1000),
    dtype=st.sampled_from([ft.float32, ft.int16, ft.bool, ft.bfloat16]),
)
def test_contiguous_copy_of_any_permutation_matches_numpy(shape, perm_seed, dtype):
    rng = np.random.default_rng(perm_seed)
    a = rng.integers(0, 2, size=shape).astype(np.float32)
    perm = tuple(rng.permutation(len(shape)))
    t = ft.tensor(a, dtype=dtype).permute(*perm)
    c = t.contiguous()
    assert c.is_contiguous()
    assert_close(c, a.transpose(perm).astype(NUMPY_DTYPE[dtype]) if dtype != ft.bool else a.transpose(perm).astype(bool))
