"""Element-wise ops against NumPy on every dtype, layout and edge case they claim."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from conftest import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, LAYOUTS, NUMPY_DTYPE, assert_close, make, to_numpy

SHAPES = [(), (0,), (5,), (3, 4), (2, 3, 4)]

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _lgamma_scalar(v):
    if math.isnan(v):
        return v
    if math.isinf(v) or (v <= 0 and v == math.floor(v)):
        return math.inf
    return math.lgamma(v)


_lgamma = np.vectorize(_lgamma_scalar, otypes=[np.float64])


FLOAT_UNARY = {
    "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
    "log10": np.log10, "log1p": np.log1p, "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x),
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh,
    "acosh": np.arccosh, "atanh": np.arctanh, "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "erf": _erf, "erfc": _erfc, "lgamma": _lgamma, "reciprocal": lambda x: 1 / x,
}

NUMERIC_UNARY = {
    "neg": np.negative, "abs": np.abs, "sign": np.sign, "floor": np.floor, "ceil": np.ceil,
    "trunc": np.trunc, "square": np.square,
}


def _reference(fn, arr, out_dtype):
    with np.errstate(all="ignore"):
        return fn(arr.astype(np.float64)).astype(NUMPY_DTYPE[out_dtype])


@pytest.mark.parametrize("name", sorted(FLOAT_UNARY))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_float_unary_matches_numpy(name, dtype, layout, rng):
    t, a = make((3, 4), dtype, rng, layout)
    out = getattr(t, name)()
    assert_close(out, _reference(FLOAT_UNARY[name], a, dtype), dtype=dtype)
    assert_close(getattr(ft, name)(t), _reference(FLOAT_UNARY[name], a, dtype), dtype=dtype)


@pytest.mark.parametrize("name", sorted(FLOAT_UNARY))
@pytest.mark.parametrize("dtype", [ft.bool, ft.uint8, ft.int32, ft.int64])
def test_float_unary_promotes_integers_to_default_float(name, dtype, rng):
    t, a = make((7,), dtype, rng)
    assert_close(getattr(t, name)(), _reference(FLOAT_UNARY[name], a, ft.float32), dtype=ft.float32)


@pytest.mark.parametrize("name", sorted(FLOAT_UNARY))
@pytest.mark.parametrize("shape", SHAPES)
def test_float_unary_shapes_and_specials(name, shape, rng):
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5], dtype=np.float64)
    a = rng.choice(specials, size=shape)
    out = getattr(ft.tensor(a), name)()
    assert out.dtype == ft.float64
    assert_close(out, _reference(FLOAT_UNARY[name], a, ft.float64), dtype=ft.float64)


def test_erfinv_inverts_erf():
    y = np.linspace(-0.999, 0.999, 101)
    x = ft.tensor(y).erfinv()
    np.testing.assert_allclose(_erf(to_numpy(x)), y, rtol=1e-13, atol=1e-15)
    edge = ft.tensor([1.0, -1.0, 2.0, np.nan]).erfinv().tolist()
    assert edge[0] == math.inf and edge[1] == -math.inf and math.isnan(edge[2]) and math.isnan(edge[3])


def test_digamma_satisfies_recurrence_and_known_values():
    x = np.array([0.3, 1.0, 2.5, 7.0, 15.0, -0.5, -2.7])
    psi = to_numpy(ft.tensor(x).digamma())
    psi1 = to_numpy(ft.tensor(x + 1).digamma())
    np.testing.assert_allclose(psi1 - psi, 1 / x, rtol=1e-12)
    euler = 0.5772156649015329
    assert abs(ft.tensor(1.0, dtype=ft.float64).digamma().item() + euler) < 1e-14
    assert math.isnan(ft.tensor(-2.0).digamma().item())
    assert ft.tensor(0.0).digamma().item() == -math.inf


@pytest.mark.parametrize("name", sorted(NUMERIC_UNARY))
@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_numeric_unary_keeps_dtype(name, dtype, layout, rng):
    if dtype == ft.uint8 and name in ("neg",):
        pytest.skip("negating unsigned wraps; covered by test_integer_ops_wrap")
    t, a = make((3, 4), dtype, rng, layout)
    out = getattr(t, name)()
    with np.errstate(all="ignore"):
        expected = NUMERIC_UNARY[name](a).astype(NUMPY_DTYPE[dtype])
    assert_close(out, expected, dtype=dtype)


def test_integer_ops_wrap():
    assert ft.tensor([200], dtype=ft.uint8).neg().tolist() == [56]
    assert ft.tensor([-128], dtype=ft.int8).abs().tolist() == [-128]
    assert (ft.tensor([127], dtype=ft.int8) + 1).tolist() == [-128]


def test_neg_of_bool_raises():
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor is not supported"):
        -ft.tensor([True])


def test_round_is_half_to_even_with_decimals():
    a = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1.2345, 123.456])
    assert_close(ft.tensor(a).round(), np.round(a), dtype=ft.float64)
    assert_close(ft.tensor(a).round(decimals=2), np.round(a, 2), dtype=ft.float64)
    assert_close(ft.tensor(a).round(decimals=-1), np.round(a, -1), dtype=ft.float64)


def test_frac_and_its_dtype_check(rng):
    t, a = make((4, 3), ft.float32, rng, "transposed")
    assert_close(t.frac(), a - np.trunc(a), dtype=ft.float32)
    with pytest.raises(RuntimeError, match="frac_cpu\" not implemented for 'Long'"):
        ft.tensor([1, 2]).frac()


def test_logit_with_and_without_eps():
    p = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    with np.errstate(divide="ignore"):
        assert_close(ft.tensor(p).logit(), np.log(p / (1 - p)), dtype=ft.float64)
    q = np.clip(p, 0.1, 0.9)
    assert_close(ft.tensor(p).logit(eps=0.1), np.log(q / (1 - q)), dtype=ft.float64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_to_num_uses_dtype_extremes(dtype):
    a = np.array([np.nan, np.inf, -np.inf, 1.5], dtype=np.float32)
    out = ft.tensor(a, dtype=dtype).nan_to_num()
    info = {ft.float16: np.finfo(np.float16), ft.float32: np.finfo(np.float32), ft.float64: np.finfo(np.float64)}
    if dtype in info:
        expected = np.nan_to_num(a.astype(NUMPY_DTYPE[dtype]), posinf=info[dtype].max, neginf=info[dtype].min)
        assert_close(out, expected, dtype=dtype)
    assert ft.tensor(a).nan_to_num(nan=2.0, posinf=9.0, neginf=-9.0).tolist() == [2.0, 9.0, -9.0, 1.5]


@pytest.mark.parametrize("name,fn", [("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite),
                                     ("isposinf", np.isposinf), ("isneginf", np.isneginf), ("signbit", np.signbit)])
@pytest.mark.parametrize("dtype", [ft.float16, ft.float32, ft.float64, ft.int32])
def test_float_classification(name, fn, dtype):
    a = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -2.0, 3.0])
    if dtype == ft.int32:
        a = np.array([0, -2, 3])
    out = getattr(ft.tensor(a, dtype=dtype), name)()
    assert_close(out, fn(a.astype(NUMPY_DTYPE[dtype])), dtype=ft.bool)


# ---------------------------------------------------------------- binary ops

def _xlogy(x, y):
    with np.errstate(all="ignore"):
        r = x * np.log(y)
    return np.where(np.isnan(y), np.nan, np.where(x == 0, 0.0, r))


ARITH = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "maximum": np.maximum,
    "minimum": np.minimum, "fmax": np.fmax, "fmin": np.fmin,
}
FLOAT_BINARY = {
    "div": np.true_divide, "atan2": np.arctan2, "hypot": np.hypot, "copysign": np.copysign,
    "logaddexp": np.logaddexp, "logaddexp2": np.logaddexp2, "xlogy": _xlogy,
}
DIVISION = {"floor_divide": np.floor_divide, "remainder": np.remainder, "fmod": np.fmod}
COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}
BITWISE = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor}
LOGICAL = {"logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor}


def _pair(dtype, rng, layout, shape=(3, 4), low=-5, high=5):
    a_t, a = make(shape, dtype, rng, layout, low, high)
    b_t, b = make(shape[-1:], dtype, rng, "contiguous", low, high)  # broadcast along leading dims
    return a_t, a, b_t, b


@pytest.mark.parametrize("name", sorted(ARITH))
@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_arithmetic_matches_numpy(name, dtype, layout, rng):
    a_t, a, b_t, b = _pair(dtype, rng, layout)
    with np.errstate(all="ignore"):
        expected = ARITH[name](a, b).astype(NUMPY_DTYPE[dtype])
    assert_close(getattr(a_t, name)(b_t), expected, dtype=dtype)
    assert_close(getattr(ft, name)(a_t, b_t), expected, dtype=dtype)


@pytest.mark.parametrize("name", sorted(FLOAT_BINARY))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [ft.int32])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_float_binary_matches_numpy(name, dtype, layout, rng):
    a_t, a, b_t, b = _pair(dtype, rng, layout)
    out_dtype = dtype if dtype in FLOAT_DTYPES else ft.float32
    with np.errstate(all="ignore"):
        expected = FLOAT_BINARY[name](a.astype(np.float64), b.astype(np.float64)).astype(NUMPY_DTYPE[out_dtype])
    assert_close(getattr(a_t, name)(b_t), expected, dtype=out_dtype)


@pytest.mark.parametrize("name", sorted(DIVISION))
@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
def test_division_family_follows_python_signs(name, dtype, rng):
    a_t, a = make((4, 5), dtype, rng, "transposed", -20, 20)
    b = rng.choice([-7, -3, -1, 1, 2, 5], size=(5,)).astype(NUMPY_DTYPE[dtype]) if dtype != ft.uint8 else rng.choice([1, 2, 5], size=(5,)).astype(np.uint8)
    b_t = ft.tensor(b, dtype=dtype)
    with np.errstate(all="ignore"):
        expected = DIVISION[name](a, b).astype(NUMPY_DTYPE[dtype])
    assert_close(getattr(a_t, name)(b_t), expected, dtype=dtype)


def test_float_division_by_zero_gives_ieee_values():
    a = ft.tensor([1.0, -1.0, 0.0])
    assert ft.div(a, 0.0).tolist()[:2] == [math.inf, -math.inf]
    assert math.isnan(ft.div(a, 0.0).tolist()[2])
    assert math.isnan(ft.remainder(a, 0.0).tolist()[0])


@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod"])
def test_integer_division_by_zero_raises(name):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(ft.tensor([1, 2]), name)(ft.tensor([1, 0]))


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@pytest.mark.parametrize("dtype", [ft.int64, ft.int16, ft.float32, ft.float64])
def test_div_rounding_modes(mode, dtype, rng):
    a = rng.integers(-30, 30, size=(6,)).astype(NUMPY_DTYPE[dtype])
    b = rng.choice([-7, -4, 3, 5], size=(6,)).astype(NUMPY_DTYPE[dtype])
    out = ft.tensor(a).div(ft.tensor(b), rounding_mode=mode)
    q = a.astype(np.float64) / b.astype(np.float64)
    if mode is None:
        assert_close(out, q.astype(np.float32 if dtype in INT_DTYPES else NUMPY_DTYPE[dtype]))
    else:
        r = np.trunc(q) if mode == "trunc" else np.floor(q)
        assert out.dtype == dtype
        assert_close(out, r.astype(NUMPY_DTYPE[dtype]), dtype=dtype)
    with pytest.raises(RuntimeError, match="rounding_mode"):
        ft.tensor(a).div(ft.tensor(b), rounding_mode="round")


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
def test_pow(dtype, rng):
    a_t, a = make((3, 4), dtype, rng, "strided", 0, 4)
    e = rng.integers(0, 4, size=(4,)).astype(NUMPY_DTYPE[dtype])
    with np.errstate(all="ignore"):
        expected = np.power(a, e).astype(NUMPY_DTYPE[dtype])
    assert_close(a_t.pow(ft.tensor(e, dtype=dtype)), expected, dtype=dtype)
    assert_close(a_t ** 2, (a.astype(np.float64) ** 2).astype(NUMPY_DTYPE[dtype]), dtype=dtype)


def test_integer_negative_power_raises():
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        ft.tensor([2, 3]) ** ft.tensor([1, -1])


def test_scalar_base_power():
    assert (2 ** ft.tensor([0, 1, 3])).tolist() == [1, 2, 8]
    assert_close(2.0 ** ft.tensor([0.5, 1.0]), np.array([2 ** 0.5, 2.0], dtype=np.float32), dtype=ft.float32)


@pytest.mark.parametrize("name", sorted(COMPARE))
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_comparisons_give_bool(name, dtype, layout, rng):
    a_t, a, b_t, b = _pair(dtype, rng, layout, low=-2, high=2)
    assert_close(getattr(a_t, name)(b_t), COMPARE[name](a, b), dtype=ft.bool)


def test_comparison_operators_and_nan():
    a = ft.tensor([1.0, np.nan, 3.0])
    assert (a == a).tolist() == [True, False, True]
    assert (a != a).tolist() == [False, True, False]
    assert (a < 2).tolist() == [True, False, False]
    assert (2 <= a).tolist() == [False, False, True]


@pytest.mark.parametrize("name", sorted(BITWISE))
@pytest.mark.parametrize("dtype", [ft.bool] + INT_DTYPES)
def test_bitwise(name, dtype, rng):
    a_t, a, b_t, b = _pair(dtype, rng, "transposed", low=0, high=100)
    assert_close(getattr(a_t, name)(b_t), BITWISE[name](a, b), dtype=dtype)


def test_bitwise_operators_and_not():
    a, b = ft.tensor([12, 10]), ft.tensor([10, 6])
    assert (a & b).tolist() == [8, 2] and (a | b).tolist() == [14, 14] and (a ^ b).tolist() == [6, 12]
    assert (~a).tolist() == [-13, -11]
    assert (~ft.tensor([True, False])).tolist() == [False, True]
    assert (a << 2).tolist() == [48, 40] and (a >> 1).tolist() == [6, 5]
    assert (ft.tensor([1], dtype=ft.int8) << 9).tolist() == [0]
    assert (ft.tensor([-128], dtype=ft.int8) >> 9).tolist() == [-1]


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift"])
def test_bitwise_on_floats_raises(name):
    with pytest.raises(RuntimeError, match=f'"{name}_cpu" not implemented for \'Float\''):
        getattr(ft.tensor([1.0]), name)(ft.tensor([2.0]))
    with pytest.raises(RuntimeError, match="not implemented for 'Float'"):
        ~ft.tensor([1.0])


@pytest.mark.parametrize("name", sorted(LOGICAL))
@pytest.mark.parametrize("dtype", [ft.bool, ft.int32, ft.float32])
def test_logical(name, dtype, rng):
    a_t, a, b_t, b = _pair(dtype, rng, "contiguous", low=-1, high=2)
    assert_close(getattr(a_t, name)(b_t), LOGICAL[name](a, b), dtype=ft.bool)
    assert_close(a_t.logical_not(), np.logical_not(a), dtype=ft.bool)


def test_bool_subtraction_raises():
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool tensors is not supported"):
        ft.tensor([True]) - ft.tensor([False])


# ---------------------------------------------------------------- promotion through ops

PROMOTION_CASES = [
    (ft.int32, ft.float16, ft.float16), (ft.uint8, ft.int8, ft.int16), (ft.bool, ft.uint8, ft.uint8),
    (ft.int64, ft.float32, ft.float32), (ft.float16, ft.bfloat16, ft.float32), (ft.int16, ft.int32, ft.int32),
    (ft.float32, ft.float64, ft.float64),
]


@pytest.mark.parametrize("a,b,expected", PROMOTION_CASES)
def test_mixed_dtype_tensors_promote(a, b, expected):
    out = ft.ones(2, dtype=a) + ft.ones(2, dtype=b)
    assert out.dtype == expected
    assert out.tolist() == [2, 2] or out.tolist() == [True, True]


def test_scalars_do_not_widen_within_a_category():
    assert (ft.ones(2, dtype=ft.int8) + 1000).dtype == ft.int8
    assert (ft.ones(2, dtype=ft.float16) * 2.5).dtype == ft.float16
    assert (ft.ones(2, dtype=ft.int32) * 2.5).dtype == ft.float32
    assert (ft.tensor([True]) + 1).dtype == ft.int64
    assert (ft.ones(2, dtype=ft.float16) + ft.tensor(1.0, dtype=ft.float64)).dtype == ft.float16
    assert (ft.ones(2, dtype=ft.uint8) + ft.tensor(1.0, dtype=ft.float64)).dtype == ft.float64
    assert (ft.tensor([1, 2]) / 2).dtype == ft.float32


def test_add_alpha_and_reflected_ops():
    a, b = ft.tensor([1.0, 2.0]), ft.tensor([10.0, 20.0])
    assert a.add(b, alpha=2).tolist() == [21.0, 42.0]
    assert ft.sub(a, b, alpha=0.5).tolist() == [-4.0, -8.0]
    assert (10 - a).tolist() == [9.0, 8.0]
    assert_close(1 / b, np.array([0.1, 0.05], dtype=np.float32), dtype=ft.float32)
    assert (7 // ft.tensor([2, -2])).tolist() == [3, -4] and (7 % ft.tensor([3, -3])).tolist() == [1, -2]


def test_broadcast_mismatch_raises_with_sizes():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"):
        ft.ones(2, 3) + ft.ones(4)


def test_unsupported_operand_returns_not_implemented():
    with pytest.raises(TypeError):
        ft.ones(2) + "a"
    assert (ft.ones(2) == None) is False  # noqa: E711


# ---------------------------------------------------------------- in-place

def test_inplace_ops_mutate_and_share_storage():
    base = ft.zeros(2, 3)
    view = base.t()
    view.add_(ft.tensor([1.0, 2.0]))
    assert base.tolist() == [[1, 1, 1], [2, 2, 2]]
    v0 = base._version
    base.mul_(2)
    assert base._version > v0
    x = ft.ones(3)
    x += ft.tensor([1.0, 2.0, 3.0])
    assert x.tolist() == [2, 3, 4]
    x.exp_()
    assert_close(x, np.exp(np.array([2, 3, 4], dtype=np.float32)))


def test_inplace_result_that_cannot_be_cast_raises():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ft.tensor([1, 2]).add_(1.5)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ft.tensor([1, 2]).exp_()


def test_inplace_broadcast_must_match_self_shape():
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        ft.ones(3).add_(ft.ones(2, 3))


def test_inplace_with_overlapping_self_view():
    a = ft.tensor([[1.0, 2.0], [3.0, 4.0]])
    a.add_(a.t())
    assert a.tolist() == [[2.0, 5.0], [5.0, 8.0]]


INPLACE_BINARY = {
    "add_": (np.add, ALL_DTYPES[1:]), "sub_": (np.subtract, ALL_DTYPES[1:]), "mul_": (np.multiply, ALL_DTYPES[1:]),
    "div_": (np.true_divide, FLOAT_DTYPES), "pow_": (np.power, FLOAT_DTYPES), "atan2_": (np.arctan2, FLOAT_DTYPES),
    "remainder_": (np.remainder, FLOAT_DTYPES), "bitwise_and_": (np.bitwise_and, INT_DTYPES),
    "bitwise_xor_": (np.bitwise_xor, INT_DTYPES),
}


@pytest.mark.parametrize("name", INPLACE_BINARY)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("other_kind", ["tensor", "broadcast", "scalar"])
def test_inplace_binary_writes_numpy_result_into_any_layout(name, layout, other_kind, rng):
    ref, dtypes = INPLACE_BINARY[name]
    for dtype in dtypes:
        low = 1 if name == "pow_" else -5
        t, a = make((3, 4), dtype, rng, layout, low, 5)
        if dtype.is_floating_point and name != "pow_":
            t[0, 0], t[1, 2] = float("nan"), float("inf")
            a = to_numpy(t).copy()
        if other_kind == "scalar":
            other, b = 2, np.array(2, dtype=a.dtype)
        else:
            other, b = make((3, 4) if other_kind == "tensor" else (4,), dtype, rng, "contiguous", 1, 5)
        storage = t.data_ptr()
        version = t._version
        assert getattr(t, name)(other) is t
        with np.errstate(all="ignore"):
            expected = ref(a, b).astype(a.dtype)
        assert_close(t, expected, dtype=dtype)
        assert t.data_ptr() == storage and t._version > version


@pytest.mark.parametrize("name,sign", [("add_", 1), ("sub_", -1)])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_inplace_add_sub_with_alpha(name, sign, layout, rng):
    t, a = make((3, 4), ft.float64, rng, layout)
    other, b = make((4,), ft.float64, rng)
    getattr(t, name)(other, alpha=-0.5)
    assert_close(t, a + sign * -0.5 * b)
    with pytest.raises(TypeError, match="unexpected keyword argument 'alpha'"):
        t.mul_(other, alpha=2)


def test_inplace_div_rounding_modes():
    for mode, expected in (("floor", [-4.0, 3.0]), ("trunc", [-3.0, 3.0])):
        t = ft.tensor([-7.0, 7.0])
        t.div_(2, rounding_mode=mode)
        assert t.tolist() == expected


def test_inplace_binary_on_expanded_tensor_raises():
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        ft.zeros(3).expand(2, 3).add_(ft.ones(2, 3))


def test_inplace_binary_integer_division_by_zero_raises():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        ft.tensor([1, 2]).remainder_(ft.tensor([1, 0]))


def test_inplace_binary_modifying_saved_tensor_is_detected():
    w = ft.ones(3, requires_grad=True)
    x = ft.ones(3)
    y = (w * x).sum()
    x.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# ---------------------------------------------------------------- ternary and composites

def test_where_broadcasts_and_promotes(rng):
    c = rng.random((3, 1)) > 0.5
    x, y = rng.normal(size=(4,)), 2
    out = ft.where(ft.tensor(c), ft.tensor(x, dtype=ft.float32), y)
    assert_close(out, np.where(c, x.astype(np.float32), np.float32(y)), dtype=ft.float32)
    assert ft.where(ft.tensor([True, False]), ft.tensor([1, 2]), ft.tensor([1.5, 2.5])).dtype == ft.float32


@pytest.mark.parametrize("dtype", [ft.int32, ft.float32, ft.float64])
def test_clamp_bounds(dtype, rng):
    t, a = make((3, 4), dtype, rng, "transposed")
    assert_close(t.clamp(-1, 2), np.clip(a, -1, 2), dtype=dtype)
    assert_close(t.clamp(min=0), np.maximum(a, 0), dtype=dtype)
    assert_close(ft.clip(t, max=1), np.minimum(a, 1), dtype=dtype)
    lo = ft.tensor(np.full(4, -2), dtype=dtype)
    assert_close(t.clamp(min=lo), np.maximum(a, -2), dtype=dtype)
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        t.clamp()


def test_clamp_propagates_nan():
    assert math.isnan(ft.tensor([np.nan]).clamp(0, 1).item())


def test_lerp_addcmul_addcdiv(rng):
    s, e, w = rng.normal(size=(3, 4)), rng.normal(size=(4,)), rng.uniform(size=(3, 1))
    out = ft.tensor(s).lerp(ft.tensor(e), ft.tensor(w))
    assert_close(out, s + w * (e - s), dtype=ft.float64)
    assert_close(ft.tensor(s).lerp(ft.tensor(e), 1.0), np.broadcast_to(e, (3, 4)), dtype=ft.float64)
    t1, t2 = rng.normal(size=(3, 4)), rng.uniform(1, 2, size=(3, 4))
    assert_close(ft.tensor(s).addcmul(ft.tensor(t1), ft.tensor(t2), value=0.5), s + 0.5 * t1 * t2, dtype=ft.float64)
    assert_close(ft.addcdiv(ft.tensor(s), ft.tensor(t1), ft.tensor(t2), value=2), s + 2 * t1 / t2, dtype=ft.float64)


def test_isclose_allclose_equal():
    a = ft.tensor([1.0, np.nan, np.inf, 1.0])
    b = ft.tensor([1.0 + 1e-9, np.nan, np.inf, 1.1])
    assert ft.isclose(a, b).tolist() == [True, False, True, False]
    assert ft.isclose(a, b, equal_nan=True).tolist() == [True, True, True, False]
    assert ft.allclose(ft.tensor([1.0]), ft.tensor([1.0 + 1e-7]))
    assert ft.equal(ft.tensor([1, 2]), ft.tensor([1, 2])) and not ft.equal(ft.tensor([1, 2]), ft.tensor([1]))


def test_out_argument_writes_and_resizes():
    out = ft.empty(3)
    r = ft.exp(ft.zeros(3), out=out)
    assert r is out and out.tolist() == [1.0, 1.0, 1.0]
    out2 = ft.empty(0)
    ft.add(ft.ones(2, 2), 1, out=out2)
    assert out2.shape == (2, 2) and out2.tolist() == [[2.0, 2.0], [2.0, 2.0]]
