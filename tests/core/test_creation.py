"""Factories and dtype handling against NumPy and PyTorch's documented behaviour."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from conftest import ALL_DTYPES, FLOAT_DTYPES, NUMPY_DTYPE, assert_close, to_numpy


def test_tensor_infers_dtype_from_python_values():
    assert ft.tensor([1, 2]).dtype == ft.int64
    assert ft.tensor([1, 2.5]).dtype == ft.float32
    assert ft.tensor([True, False]).dtype == ft.bool
    assert ft.tensor([True, 2]).dtype == ft.int64
    assert ft.tensor(3).dtype == ft.int64 and ft.tensor(3).dim() == 0
    assert ft.tensor([]).dtype == ft.float32 and ft.tensor([]).shape == (0,)
    assert ft.tensor([[1, 2], [3, 4]]).shape == (2, 2)
    assert ft.tensor(((1, 2), (3, 4))).tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_tensor_from_numpy_copies_with_dtype(dtype, rng):
    a = rng.uniform(-3, 3, size=(2, 3))
    t = ft.tensor(a, dtype=dtype)
    assert t.dtype == dtype
    expected = a.astype(np.float32).astype(NUMPY_DTYPE[dtype]) if dtype != ft.bfloat16 else a.astype(np.float32)
    if dtype == ft.bfloat16:
        assert_close(t, expected, dtype=dtype)
    else:
        np.testing.assert_array_equal(to_numpy(t), a.astype(NUMPY_DTYPE[dtype]))
    a[0, 0] = 100
    assert to_numpy(t)[0, 0] != 100


def test_tensor_rejects_ragged_and_bad_values():
    with pytest.raises(ValueError, match="expected sequence of length 2 at dim 1"):
        ft.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="invalid data type 'str'"):
        ft.tensor(["a"])


def test_default_dtype_controls_float_factories():
    try:
        ft.set_default_dtype(ft.float64)
        assert ft.tensor([1.5]).dtype == ft.float64
        assert ft.zeros(2).dtype == ft.float64
        assert (ft.tensor([1]) / 2).dtype == ft.float64
        assert ft.get_default_dtype() == ft.float64
    finally:
        ft.set_default_dtype(ft.float32)
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        ft.set_default_dtype(ft.int64)


@pytest.mark.parametrize("factory,value", [(ft.zeros, 0), (ft.ones, 1), (ft.empty, None)])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_constant_factories(factory, value, dtype):
    for shape_args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = factory(*shape_args, dtype=dtype)
        assert t.shape == (2, 3) and t.dtype == dtype
        if value is not None:
            assert (to_numpy(t) == value).all()
    assert factory(0).shape == (0,)
    assert factory(()).shape == ()


def test_like_factories_and_full():
    base = ft.ones(2, 3, dtype=ft.int16)
    assert ft.zeros_like(base).dtype == ft.int16 and ft.zeros_like(base).tolist() == [[0] * 3] * 2
    assert ft.ones_like(base, dtype=ft.float64).dtype == ft.float64
    assert ft.full((2,), 7).dtype == ft.int64 and ft.full((2,), 7.5).dtype == ft.float32
    assert ft.full((2,), True).dtype == ft.bool
    assert ft.full_like(base, 3).tolist() == [[3] * 3] * 2


def test_negative_sizes_raise():
    with pytest.raises(RuntimeError, match="Trying to create tensor with negative dimension -1"):
        ft.zeros(2, -1)


def test_overflowing_size_raises():
    with pytest.raises(RuntimeError):
        ft.zeros(2 ** 40, 2 ** 40)


@pytest.mark.parametrize("args", [(5,), (2, 9), (1, 10, 3), (10, 1, -2), (0, 1, 0.1), (-1.5, 2.5, 0.5), (3, 3)])
def test_arange_matches_numpy(args):
    t = ft.arange(*args)
    expected = np.arange(*args)
    if expected.dtype.kind == "f":
        assert t.dtype == ft.float32
        assert_close(t, expected.astype(np.float32))
    else:
        assert t.dtype == ft.int64
        np.testing.assert_array_equal(to_numpy(t), expected)


def test_arange_errors():
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        ft.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="upper bound and larger bound inconsistent with step sign"):
        ft.arange(0, 5, -1)


@pytest.mark.parametrize("start,end,steps", [(0, 1, 5), (-2, 7, 10), (3, 3, 4), (0, 1, 1), (0, 1, 0), (10, -10, 21)])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_linspace_and_logspace_match_numpy(start, end, steps, dtype):
    assert_close(ft.linspace(start, end, steps, dtype=dtype), np.linspace(start, end, steps).astype(NUMPY_DTYPE[dtype]), dtype=dtype)
    assert_close(ft.logspace(start / 10, end / 10, steps, dtype=dtype), np.logspace(start / 10, end / 10, steps).astype(NUMPY_DTYPE[dtype]), dtype=dtype)
    assert_close(ft.logspace(0, 3, 4, base=2.0), np.array([1, 2, 4, 8], dtype=np.float32))


def test_eye_and_tri_indices():
    np.testing.assert_array_equal(to_numpy(ft.eye(3)), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(to_numpy(ft.eye(2, 4, dtype=ft.int32)), np.eye(2, 4, dtype=np.int32))
    for row, col, off in [(3, 3, 0), (4, 3, 1), (3, 5, -1), (0, 2, 0)]:
        np.testing.assert_array_equal(to_numpy(ft.tril_indices(row, col, off)), np.stack(np.tril_indices(row, off, col)))
        np.testing.assert_array_equal(to_numpy(ft.triu_indices(row, col, off)), np.stack(np.triu_indices(row, off, col)))


def test_dtype_objects():
    assert ft.float32 is ft.float and ft.int64 is ft.long and ft.float64 is ft.double
    assert repr(ft.float32) == "torch.float32"
    assert ft.float16.is_floating_point and not ft.int8.is_floating_point
    assert ft.uint8.is_signed is False and ft.int8.is_signed
    assert ft.bfloat16.itemsize == 2 and ft.int64.itemsize == 8


# PyTorch's promotion table (torch.promote_types), as documented.
PROMOTE = [
    (ft.uint8, ft.int8, ft.int16), (ft.uint8, ft.int16, ft.int16), (ft.int8, ft.int64, ft.int64),
    (ft.bool, ft.int8, ft.int8), (ft.bool, ft.float16, ft.float16), (ft.int64, ft.float16, ft.float16),
    (ft.float16, ft.bfloat16, ft.float32), (ft.bfloat16, ft.float64, ft.float64), (ft.int32, ft.bfloat16, ft.bfloat16),
]


@pytest.mark.parametrize("a,b,expected", PROMOTE)
def test_promote_types_table(a, b, expected):
    assert ft.promote_types(a, b) == expected
    assert ft.promote_types(b, a) == expected


def test_result_type_and_can_cast():
    assert ft.result_type(ft.tensor([1], dtype=ft.int8), 1000) == ft.int8
    assert ft.result_type(ft.tensor([1]), 1.0) == ft.float32
    assert ft.result_type(ft.tensor(1.0, dtype=ft.float64), ft.tensor([1], dtype=ft.int32)) == ft.float64
    assert ft.result_type(2, 3.0) == ft.float32
    assert ft.can_cast(ft.int32, ft.float16) and not ft.can_cast(ft.float32, ft.int64)
    assert ft.can_cast(ft.bool, ft.uint8) and not ft.can_cast(ft.int8, ft.bool)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_conversions_round_trip_special_values(dtype):
    t = ft.tensor([math.inf, -math.inf, math.nan, -0.0], dtype=dtype)
    v = t.double().tolist()
    assert v[0] == math.inf and v[1] == -math.inf and math.isnan(v[2]) and math.copysign(1, v[3]) == -1


def test_float_to_int_conversion_truncates():
    assert ft.tensor([-1.7, 1.7, 2.5]).long().tolist() == [-1, 1, 2]
    assert ft.tensor([0.0, 0.3, -2.0]).bool().tolist() == [False, True, True]
    assert ft.tensor([300]).to(ft.uint8).tolist() == [44]


def test_set_num_threads_resizes_the_pool():
    n = ft.get_num_threads()
    assert n >= 1
    try:
        ft.set_num_threads(1)
        assert ft.get_num_threads() == 1
        big = ft.arange(100_000, dtype=ft.float64)
        assert (big * 2).sum().item() == 2 * sum(range(100_000))
        ft.set_num_threads(3)
        assert ft.get_num_threads() == 3
        assert (big * 2).sum().item() == 2 * sum(range(100_000))
    finally:
        ft.set_num_threads(n)
    with pytest.raises(RuntimeError, match="positive"):
        ft.set_num_threads(0)
