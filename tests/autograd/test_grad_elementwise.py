"""gradcheck (float64 finite differences) for every element-wise op of the core's tables,
on contiguous, transposed and strided inputs, with broadcasting, plus gradgradcheck for the
smooth ones and the node names PyTorch uses."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import leaf

LAYOUTS = ["contiguous", "transposed", "strided"]

# Float functions with an input range where each is smooth (away from poles and branch cuts).
FLOAT_UNARY = {
    "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2), "log": (0.5, 3), "log2": (0.5, 3),
    "log10": (0.5, 3), "log1p": (-0.5, 2), "sqrt": (0.5, 3), "rsqrt": (0.5, 3), "sin": (-3, 3),
    "cos": (-3, 3), "tan": (-1, 1), "asin": (-0.8, 0.8), "acos": (-0.8, 0.8), "atan": (-3, 3),
    "sinh": (-2, 2), "cosh": (-2, 2), "tanh": (-2, 2), "asinh": (-3, 3), "acosh": (1.5, 3),
    "atanh": (-0.8, 0.8), "sigmoid": (-3, 3), "erf": (-2, 2), "erfc": (-2, 2), "erfinv": (-0.8, 0.8),
    "lgamma": (0.5, 3), "digamma": (0.5, 3), "reciprocal": (0.5, 3),
}

# Piecewise functions: checked away from their kinks.
NUMERIC_UNARY = {"neg": (-2, 2), "abs": (0.5, 2), "square": (-2, 2), "sign": (0.5, 2), "floor": (0.1, 0.9),
                 "ceil": (0.1, 0.9), "trunc": (0.1, 0.9)}

BINARY = {
    "add": ((-2, 2), (-2, 2)), "sub": ((-2, 2), (-2, 2)), "mul": ((-2, 2), (-2, 2)),
    "div": ((-2, 2), (0.5, 2)), "pow": ((0.5, 2), (-2, 2)), "atan2": ((0.5, 2), (0.5, 2)),
    "hypot": ((0.5, 2), (0.5, 2)), "logaddexp": ((-2, 2), (-2, 2)), "logaddexp2": ((-2, 2), (-2, 2)),
    "xlogy": ((-2, 2), (0.5, 2)), "maximum": ((-2, -1), (1, 2)), "minimum": ((-2, -1), (1, 2)),
    "fmax": ((-2, -1), (1, 2)), "fmin": ((-2, -1), (1, 2)), "remainder": ((0.1, 0.9), (2, 3)),
    "fmod": ((0.1, 0.9), (2, 3)), "copysign": ((0.5, 2), (0.5, 2)),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(FLOAT_UNARY))
def test_float_unary_gradcheck(name, layout):
    lo, hi = FLOAT_UNARY[name]
    x = leaf((3, 4), np.random.default_rng(0), layout, lo, hi)
    assert gradcheck(lambda t: getattr(t, name)(), (x,))
    assert getattr(x, name)().grad_fn.name().lower() == name.replace("_", "") + "backward0"


@pytest.mark.parametrize("name", sorted(set(FLOAT_UNARY) - {"digamma"}))
def test_float_unary_gradgradcheck(name):
    lo, hi = FLOAT_UNARY[name]
    x = leaf((5,), np.random.default_rng(1), "contiguous", lo, hi)
    assert gradgradcheck(lambda t: getattr(t, name)(), (x,))


@pytest.mark.parametrize("name", sorted(NUMERIC_UNARY))
def test_numeric_unary_gradcheck(name):
    lo, hi = NUMERIC_UNARY[name]
    x = leaf((2, 3), np.random.default_rng(2), "transposed", lo, hi)
    assert gradcheck(lambda t: getattr(t, name)(), (x,))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck_with_broadcasting(name, layout):
    (alo, ahi), (blo, bhi) = BINARY[name]
    rng = np.random.default_rng(3)
    a = leaf((3, 4), rng, layout, alo, ahi)
    b = leaf((1, 4), rng, "contiguous", blo, bhi)
    assert gradcheck(lambda x, y: getattr(x, name)(y), (a, b))
    assert gradcheck(lambda x, y: getattr(y, name)(x) if name in ("add", "mul", "maximum", "minimum", "hypot") else getattr(x, name)(y), (a, b))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "atan2", "hypot", "logaddexp", "xlogy"])
def test_binary_gradgradcheck(name):
    (alo, ahi), (blo, bhi) = BINARY[name]
    rng = np.random.default_rng(4)
    a, b = leaf((4,), rng, "contiguous", alo, ahi), leaf((4,), rng, "contiguous", blo, bhi)
    assert gradgradcheck(lambda x, y: getattr(x, name)(y), (a, b))


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_operators_with_python_scalars_on_both_sides(op):
    x = leaf((3,), np.random.default_rng(5), "contiguous", 0.5, 2)
    assert gradcheck(lambda t: eval(f"t {op} 1.5"), (x,))
    assert gradcheck(lambda t: eval(f"1.5 {op} t"), (x,))


def test_where_gradcheck():
    rng = np.random.default_rng(6)
    a, b = leaf((3, 4), rng), leaf((4,), rng)
    cond = ft.tensor(rng.random((3, 4)) > 0.5)
    assert gradcheck(lambda x, y: ft.where(cond, x, y), (a, b))
    assert gradcheck(lambda x: ft.where(cond, x, 0.0), (a,))


def test_pow_special_points_follow_pytorch():
    # d/da a**0 at a == 0 is 0; d/db 0**b for b > 0 is 0.
    a = ft.tensor([0.0, 2.0], dtype=ft.float64, requires_grad=True)
    b = ft.tensor([0.0, 3.0], dtype=ft.float64, requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 12.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 8.0 * np.log(2.0)])


def test_maximum_ties_split_the_gradient():
    a = ft.tensor([1.0, 2.0], dtype=ft.float64, requires_grad=True)
    b = ft.tensor([1.0, 1.0], dtype=ft.float64, requires_grad=True)
    ft.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 1.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 0.0])


def test_abs_gradient_at_zero_is_zero():
    x = ft.tensor([0.0, -2.0], dtype=ft.float64, requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, -1.0])


def test_gradients_of_nan_and_inf_inputs_follow_the_formulas():
    x = ft.tensor([np.nan, np.inf, -np.inf, 1.0], dtype=ft.float64, requires_grad=True)
    x.exp().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([np.nan, np.inf, -np.inf, 1.0]), rtol=1e-15)


def test_empty_and_zero_dim_inputs():
    e = ft.zeros(0, 3, dtype=ft.float64, requires_grad=True)
    (e.exp() * 2).sum().backward()
    assert tuple(e.grad.shape) == (0, 3)
    s = ft.tensor(0.5, dtype=ft.float64, requires_grad=True)
    assert gradcheck(lambda t: (t * t).sin(), (s,))


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16, ft.float32])
def test_lower_precision_dtypes_get_gradients_of_their_dtype(dtype):
    x = ft.tensor([0.5, 1.0], dtype=dtype, requires_grad=True)
    (x.exp() * x).sum().backward()
    assert x.grad.dtype == dtype
    ref = np.exp([0.5, 1.0]) * (1 + np.array([0.5, 1.0]))
    np.testing.assert_allclose(x.grad.float().numpy(), ref, rtol=2e-2)


def test_inplace_unary_and_binary_ops_are_differentiable():
    x = leaf((4,), np.random.default_rng(7))

    def f(t):
        h = t * 1
        h.sin_()
        h.mul_(t)
        h += 2
        return h

    assert gradcheck(f, (x,))


def test_clamp_with_number_bounds_passes_gradient_strictly_inside():
    # PyTorch 2.15's ClampBackward1: zero gradient at the bounds themselves.
    x = ft.tensor([-1.0, 0.0, 1.0, 2.0, 3.0, float("nan")], dtype=ft.float64, requires_grad=True)
    y = x.clamp(0, 2)
    assert y.grad_fn.name() == "ClampBackward1"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1, 0, 0, 0])
    for kwargs, expected in (({"min": 0.0}, [0, 0, 1, 1, 1, 0]), ({"max": 2}, [1, 1, 1, 0, 0, 0])):
        x.grad = None
        ft.clamp(x, **kwargs).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_clamp_with_tensor_bounds_splits_ties_and_reaches_the_bounds():
    x = ft.tensor([0.0, 1.0, 2.0], dtype=ft.float64, requires_grad=True)
    lo = ft.tensor(0.0, dtype=ft.float64, requires_grad=True)
    hi = ft.tensor(2.0, dtype=ft.float64, requires_grad=True)
    x.clamp(lo, hi).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 1, 0.5])
    assert lo.grad.item() == 0.5 and hi.grad.item() == 0.5


def test_clamp_gradcheck(rng):
    x = ft.tensor(rng.uniform(-2, 2, (3, 4)), dtype=ft.float64, requires_grad=True)
    assert ft.autograd.gradcheck(lambda a: a.clamp(-0.5, 0.7), (x,))
    assert ft.autograd.gradgradcheck(lambda a: a.clamp(min=-0.5).square(), (x,))
