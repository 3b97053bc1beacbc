"""``ferrotorch.special`` against float64 references: NumPy where it has the function, otherwise
series, sums and bisection written here in plain Python."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import special
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import LAYOUTS, assert_close, make


def as64(values):
    return ft.tensor(np.asarray(values, dtype=np.float64), dtype=ft.float64)


# --- references ------------------------------------------------------------------------------

def bessel_i_ref(order, x, scaled):
    """I_order(x) (times exp(-|x|) when scaled) by its power series, summed in log space."""
    if x == 0:
        return 1.0 if order == 0 else 0.0
    ax, total, k = abs(x), 0.0, 0
    while True:
        log_term = (2 * k + order) * math.log(ax / 2) - math.lgamma(k + 1) - math.lgamma(k + order + 1)
        term = math.exp(log_term - (ax if scaled else 0.0))
        total += term
        if k > ax and term < 1e-18 * total:
            break
        k += 1
    return total * (math.copysign(1.0, x) if order == 1 else 1.0)


def hurwitz_zeta_ref(s, q, n=200_000):
    """Direct sum of n terms plus the integral tail and half the next term."""
    k = np.arange(n, dtype=np.float64)
    return float(np.sum((q + k) ** -s) + (q + n) ** (1 - s) / (s - 1) + 0.5 * (q + n) ** -s)


def log_ndtr_ref(x):
    """log Phi(x): erfc where it does not underflow, else Laplace's continued fraction."""
    if x > 0:
        return math.log1p(-0.5 * math.erfc(x / math.sqrt(2)))
    if x > -30:
        return math.log(0.5 * math.erfc(-x / math.sqrt(2)))
    z = -x
    fraction = z
    for k in range(200, 0, -1):
        fraction = z + k / fraction
    return -z * z / 2 - 0.5 * math.log(2 * math.pi) - math.log(fraction)


def ndtri_ref(p):
    """Bisection on Phi(x) = p in the lower half (1 - p is exact for p > 0.5), mirrored."""
    if p > 0.5:
        return -ndtri_ref(1 - p)
    low, high = -40.0, 0.0
    for _ in range(200):
        mid = (low + high) / 2
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < p:
            low = mid
        else:
            high = mid
    return (low + high) / 2


# --- re-exported core functions --------------------------------------------------------------

@pytest.mark.parametrize("name,core", [
    ("expit", "sigmoid"), ("gammaln", "lgamma"), ("psi", "digamma"), ("digamma", "digamma"),
    ("erf", "erf"), ("erfc", "erfc"), ("erfinv", "erfinv"), ("exp2", "exp2"), ("expm1", "expm1"),
    ("log1p", "log1p"), ("xlogy", "xlogy"), ("logit", "logit"), ("round", "round"), ("logsumexp", "logsumexp"),
])
def test_aliases_compute_the_core_function(name, core, rng):
    x, _ = make((5,), ft.float64, rng, low=0.05, high=0.95)
    args = (x, x) if name == "xlogy" else (x, 0) if name == "logsumexp" else (x,)
    np.testing.assert_array_equal(getattr(special, name)(*args).numpy(), getattr(ft, core)(*args).numpy())


def test_gammaln_and_expit_values():
    x = [0.5, 1.0, 3.7, 30.0]
    assert_close(special.gammaln(as64(x)), [math.lgamma(v) for v in x])
    assert_close(special.expit(as64([-2.0, 0.0, 3.0])), 1 / (1 + np.exp(-np.array([-2.0, 0.0, 3.0]))))


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_softmax_log_softmax_with_dtype(dtype, rng):
    x, a = make((3, 4), ft.float32, rng)
    e = np.exp(a.astype(np.float64) - a.max(1, keepdims=True))
    ref = e / e.sum(1, keepdims=True)
    assert_close(special.softmax(x, 1, dtype=dtype), ref, dtype=dtype, rtol=1e-5, atol=1e-6)
    assert_close(special.log_softmax(x, 1, dtype=dtype), np.log(ref), dtype=dtype, rtol=1e-5, atol=1e-5)


# --- Bessel ----------------------------------------------------------------------------------

BESSEL_POINTS = [-60.0, -19.5, -3.0, -0.5, 0.0, 1e-3, 0.7, 5.0, 19.99, 20.0, 20.01, 35.0, 100.0, 700.0]


@pytest.mark.parametrize("name,order,scaled", [("i0", 0, False), ("i0e", 0, True), ("i1", 1, False), ("i1e", 1, True)])
def test_bessel_values_float64(name, order, scaled):
    points = BESSEL_POINTS if scaled else [v for v in BESSEL_POINTS if abs(v) < 700]
    expected = [bessel_i_ref(order, v, scaled) for v in points]
    # rtol 1e-12: the log-space reference itself rounds the exponent (~700 * 1e-16)
    assert_close(getattr(special, name)(as64(points)), expected, rtol=1e-12, atol=0)


def test_i0_matches_numpy(rng):
    x, a = make((4, 5), ft.float64, rng, "transposed", low=-30, high=30)
    assert_close(special.i0(x), np.i0(a), rtol=1e-13)
    assert_close(ft.i0(x), np.i0(a), rtol=1e-13)


def test_i0_overflows_to_inf_like_the_function():
    assert special.i0(as64([800.0, -800.0])).tolist() == [math.inf, math.inf]
    assert special.i1(as64([800.0, -800.0])).tolist() == [math.inf, -math.inf]
    assert math.isnan(special.i0e(as64([math.nan])).item())


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16, ft.float32])
def test_bessel_low_precision_dtypes_and_layouts(dtype, layout, rng):
    x, a = make((3, 4), dtype, rng, layout, low=-25, high=25)
    for name, order, scaled in [("i0e", 0, True), ("i1e", 1, True)]:  # unscaled ones overflow float16
        expected = np.vectorize(lambda v: bessel_i_ref(order, float(v), scaled))(a.astype(np.float64))
        assert_close(getattr(special, name)(x), expected, dtype=dtype)


def test_bessel_of_integers_is_default_float():
    assert special.i0(ft.tensor([1, 2])).dtype == ft.float32
    assert_close(special.i1(ft.tensor([1, 2])), [bessel_i_ref(1, 1.0, False), bessel_i_ref(1, 2.0, False)])


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e"])
def test_bessel_gradcheck_both_branches(name):
    x = as64([-21.0, -2.0, 0.0, 0.3, 19.0, 23.0]).requires_grad_()
    assert gradcheck(getattr(special, name), (x,))
    assert gradgradcheck(getattr(special, name), (as64([-1.5, 0.4, 22.0]).requires_grad_(),))


def test_bessel_gradients_are_the_known_derivatives():
    x = as64([-3.0, 0.0, 0.5, 25.0]).requires_grad_()
    (grad,) = ft.autograd.grad(special.i0(x).sum(), x)
    assert_close(grad, [bessel_i_ref(1, v, False) for v in [-3.0, 0.0, 0.5, 25.0]], rtol=1e-12)
    (grad,) = ft.autograd.grad(special.i1(x).sum(), x)
    expected = [0.5 if v == 0 else bessel_i_ref(0, v, False) - bessel_i_ref(1, v, False) / v for v in [-3.0, 0.0, 0.5, 25.0]]
    assert_close(grad, expected, rtol=1e-12)


# --- zeta, polygamma, multigammaln -----------------------------------------------------------

def test_zeta_values():
    s = [2.0, 3.0, 1.5, 4.5, 2.0, 2.0]
    q = [1.0, 0.25, 2.0, 7.5, 30.0, -1.5]
    expected = [hurwitz_zeta_ref(a, b) if b > 0 else hurwitz_zeta_ref(a, b + 2) + (b) ** -a + (b + 1) ** -a for a, b in zip(s, q)]
    assert_close(special.zeta(as64(s), as64(q)), expected, rtol=1e-12)
    assert special.zeta(as64([2.0]), as64([1.0])).item() == pytest.approx(math.pi ** 2 / 6, rel=1e-15)


def test_zeta_poles_and_domain():
    got = special.zeta(as64([1.0, 2.0, 2.0, 0.5, 2.5, 2.0]), as64([1.0, 0.0, -3.0, 1.0, -1.5, math.inf]))
    assert got.tolist()[:3] == [math.inf] * 3
    assert math.isnan(got[3].item()) and math.isnan(got[4].item()) and got[5].item() == 0.0


def test_zeta_broadcasts_and_takes_numbers(rng):
    q, b = make((2, 3), ft.float32, rng, "strided", low=0.5, high=4)
    got = special.zeta(2.0, q)
    assert got.dtype == ft.float32
    assert_close(got, np.vectorize(lambda v: hurwitz_zeta_ref(2.0, float(v)))(b))
    s = as64([[2.0], [3.5]])
    assert tuple(special.zeta(s, as64([1.0, 2.0, 3.0])).shape) == (2, 3)


def test_zeta_gradcheck_in_q():
    q = as64([0.3, 1.0, 4.0, 12.0]).requires_grad_()
    assert gradcheck(lambda q: special.zeta(as64([2.5]), q), (q,))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_polygamma_is_signed_zeta(n):
    x = [0.2, 1.0, 3.3, 25.0]
    expected = [(-1) ** (n + 1) * math.factorial(n) * hurwitz_zeta_ref(n + 1, v) for v in x]
    assert_close(special.polygamma(n, as64(x)), expected, rtol=1e-12)
    assert_close(ft.polygamma(n, as64(x)), expected, rtol=1e-12)


def test_polygamma_known_values_and_digamma_case():
    assert special.polygamma(1, as64([1.0])).item() == pytest.approx(math.pi ** 2 / 6, rel=1e-15)
    assert special.polygamma(2, as64([1.0])).item() == pytest.approx(-2 * 1.2020569031595942, rel=1e-14)
    x = as64([0.5, 2.0])
    np.testing.assert_array_equal(special.polygamma(0, x).numpy(), ft.digamma(x).numpy())
    with pytest.raises(RuntimeError, match="does not support negative n"):
        special.polygamma(-1, x)


def test_polygamma_dtype_and_gradient_is_next_order():
    assert special.polygamma(1, ft.tensor([1, 2])).dtype == ft.float32
    x = as64([0.7, 2.0, 9.0]).requires_grad_()
    (grad,) = ft.autograd.grad(special.polygamma(1, x).sum(), x)
    assert_close(grad, special.polygamma(2, x.detach()).numpy(), rtol=1e-10)
    assert gradcheck(lambda x: special.polygamma(2, x), (x,))


@pytest.mark.parametrize("p", [1, 2, 4])
def test_multigammaln(p, rng):
    x, a = make((2, 3), ft.float64, rng, "transposed", low=2, high=6)
    expected = p * (p - 1) / 4 * math.log(math.pi) + sum(
        np.vectorize(math.lgamma)(a - j / 2) for j in range(p)
    )
    assert_close(special.multigammaln(x, p), expected)
    assert_close(ft.mvlgamma(x, p), expected)
    assert gradcheck(lambda t: special.multigammaln(t, p), (x.detach().clone().requires_grad_(),))


def test_multigammaln_validates_p():
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        special.multigammaln(as64([2.0]), 0)


# --- normal distribution ---------------------------------------------------------------------

NDTR_POINTS = [-38.0, -10.0, -3.0, -0.5, 0.0, 0.5, 3.0, 9.0]


def test_ndtr_values():
    assert_close(special.ndtr(as64(NDTR_POINTS)), [0.5 * math.erfc(-v / math.sqrt(2)) for v in NDTR_POINTS], rtol=1e-14, atol=0)


def test_log_ndtr_values_in_both_tails():
    points = [-1000.0, -100.0, -40.0, -20.5, -19.5] + NDTR_POINTS[1:] + [12.0]
    expected = [log_ndtr_ref(v) for v in points]
    assert_close(special.log_ndtr(as64(points)), expected, rtol=1e-13, atol=0)


def test_ndtri_values():
    p = [1e-300, 1e-20, 1e-5, 0.01, 0.1353, 0.2, 0.5, 0.8, 0.9, 0.999, 1 - 1e-12]
    assert_close(special.ndtri(as64(p)), [ndtri_ref(v) for v in p], rtol=1e-12, atol=1e-15)
    assert special.ndtri(as64([0.5])).item() == 0.0


def test_ndtri_edges():
    got = special.ndtri(as64([0.0, 1.0, -0.1, 1.1, math.nan])).tolist()
    assert got[:2] == [-math.inf, math.inf] and all(math.isnan(v) for v in got[2:])


def test_ndtri_inverts_ndtr_float32(rng):
    x, a = make((3, 4), ft.float32, rng, "transposed", low=-4, high=4)
    assert_close(special.ndtri(special.ndtr(x)), a, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name,points", [
    ("ndtr", [-5.0, -0.3, 0.0, 2.0]),
    ("log_ndtr", [-25.0, -19.0, -0.3, 0.0, 2.0]),
    ("ndtri", [1e-4, 0.05, 0.3, 0.5, 0.95]),
])
def test_normal_functions_gradcheck(name, points):
    assert gradcheck(getattr(special, name), (as64(points).requires_grad_(),))


def test_ndtri_gradient_is_reciprocal_density():
    p = as64([1e-6, 0.2, 0.5, 0.9]).requires_grad_()
    x = special.ndtri(p)
    (grad,) = ft.autograd.grad(x.sum(), p)
    density = np.exp(-x.detach().numpy() ** 2 / 2) / math.sqrt(2 * math.pi)
    assert_close(grad, 1 / density, rtol=1e-9)


# --- elementary composites -------------------------------------------------------------------

def test_xlog1py_values_and_zero_rule():
    x, y = [0.0, 0.0, 2.0, -1.5, 0.0], [-1.0, math.nan, 1.0, 3.0, 5.0]
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(np.array(x) == 0, 0.0, np.array(x) * np.log1p(np.array(y)))
    expected[1] = np.nan
    assert_close(special.xlog1py(as64(x), as64(y)), expected)


def test_xlog1py_broadcasts_and_takes_numbers(rng):
    x, a = make((3, 1), ft.float32, rng, low=0, high=3)
    y, b = make((3, 4), ft.float32, rng, "transposed", low=0, high=3)
    assert_close(special.xlog1py(x, y), a * np.log1p(b))
    assert_close(special.xlog1py(2.0, y), 2 * np.log1p(b))
    assert_close(special.xlog1py(x, 1.0), a * np.log(2.0))


def test_xlog1py_gradcheck(rng):
    x = as64([0.5, -1.0, 2.0]).requires_grad_()
    y = as64([0.1, 2.0, 5.0]).requires_grad_()
    assert gradcheck(special.xlog1py, (x, y))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sinc_matches_numpy(layout, rng):
    x, a = make((3, 4), ft.float64, rng, layout, low=-3, high=3)
    assert_close(special.sinc(x), np.sinc(a))
    assert_close(ft.sinc(x), np.sinc(a))


def test_sinc_at_zero_integers_and_gradient():
    assert special.sinc(ft.tensor([0, 1])).tolist()[0] == 1.0
    assert special.sinc(ft.tensor([0, 1])).dtype == ft.float32
    x = as64([0.0, 0.5, -1.3]).requires_grad_()
    (grad,) = ft.autograd.grad(special.sinc(x).sum(), x)
    assert grad[0].item() == 0.0
    assert gradcheck(special.sinc, (as64([0.2, 0.5, -1.3]).requires_grad_(),))


def test_entr_values_and_gradient():
    x = [-1.0, 0.0, 0.5, 2.0, math.nan]
    expected = [-math.inf, 0.0, -0.5 * math.log(0.5), -2 * math.log(2.0), math.nan]
    assert_close(special.entr(as64(x)), expected)
    assert gradcheck(special.entr, (as64([0.3, 1.0, 2.5]).requires_grad_(),))


def test_empty_inputs_keep_shape():
    empty = ft.zeros(0, 3, dtype=ft.float64)
    for name in ["i0", "i1e", "ndtri", "log_ndtr", "sinc", "entr"]:
        assert tuple(getattr(special, name)(empty).shape) == (0, 3)
    assert tuple(special.zeta(2.0, empty).shape) == (0, 3)
