"""gradcheck (float64 finite differences) for the reductions, scans and order statistics, on
contiguous, transposed and strided inputs, with dim/keepdim variants, the special cases
(ties, zeros, NaN) checked against hand-derived gradients, gradgradcheck for the smooth ones,
and PyTorch's node names."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import leaf

LAYOUTS = ["contiguous", "transposed", "strided"]


def grad_of(fn, x):
    """The gradient of ``fn(x).sum()`` with respect to ``x``, as NumPy."""
    x.grad = None
    fn(x).sum().backward()
    return x.grad.numpy()


def distinct(shape, rng, layout="contiguous"):
    """A leaf whose elements are all different (no ties for the selecting reductions)."""
    n = int(np.prod(shape))
    values = rng.permutation(n).astype(np.float64) / n + 0.5
    with ft.no_grad():
        base = ft.tensor(values.reshape(shape))
        t = {"contiguous": base, "transposed": ft.tensor(values.reshape(shape[::-1])).permute(*range(len(shape))[::-1]),
             "strided": ft.tensor(np.repeat(values.reshape(shape), 2, axis=-1))[..., ::2]}[layout]
    return t.clone().requires_grad_() if layout == "contiguous" else t.requires_grad_()


# ---- sums, products, means -------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_prod_gradcheck(layout, dim, keepdim):
    x = leaf((3, 4), np.random.default_rng(0), layout, 0.5, 1.5)
    f = (lambda t: t.prod()) if dim is None else (lambda t: t.prod(dim, keepdim))
    assert gradcheck(f, (x,))


@pytest.mark.parametrize("zeros", [[1], [1, 3]])
def test_prod_with_zeros_matches_product_of_the_others(zeros):
    values = np.array([2.0, 0.0, 3.0, 4.0])
    values[zeros] = 0.0
    x = ft.tensor(values, requires_grad=True)
    expected = np.array([np.prod(np.delete(values, i)) for i in range(4)])
    np.testing.assert_allclose(grad_of(lambda t: t.prod(), x), expected)
    np.testing.assert_allclose(grad_of(lambda t: t.reshape(2, 2).prod(1), x),
                               [values[1], values[0], values[3], values[2]])


def test_prod_with_zeros_gradcheck_and_gradgradcheck():
    x = ft.tensor([[1.5, 0.0, 2.0], [0.5, -1.0, 0.7]], dtype=ft.float64, requires_grad=True)
    assert gradcheck(lambda t: t.prod(1), (x,))
    assert gradgradcheck(lambda t: t.prod(1), (x,))
    assert gradgradcheck(lambda t: t.prod(), (x,))


def test_prod_of_zero_d_and_empty():
    x = ft.tensor(3.0, dtype=ft.float64, requires_grad=True)
    assert gradcheck(lambda t: t.prod(), (x,))
    e = ft.zeros(0, 3, dtype=ft.float64, requires_grad=True)
    e.prod(0).sum().backward()
    assert e.grad.shape == (0, 3)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_nansum_skips_nan(layout):
    x = leaf((3, 4), np.random.default_rng(1), layout)
    assert gradcheck(lambda t: t.nansum(1), (x,))
    y = ft.tensor([1.0, float("nan"), 2.0], requires_grad=True)
    np.testing.assert_array_equal(grad_of(lambda t: t.nansum(), y), [1.0, 0.0, 1.0])
    assert y.nansum().grad_fn.name() == "NansumBackward0"


def test_nanmean_divides_by_the_count_of_numbers():
    y = ft.tensor([1.0, float("nan"), 2.0, 5.0], dtype=ft.float64, requires_grad=True)
    np.testing.assert_allclose(grad_of(lambda t: t.nanmean(), y), [1 / 3, 0.0, 1 / 3, 1 / 3])
    x = leaf((2, 3), np.random.default_rng(2), "transposed")
    assert gradcheck(lambda t: t.nanmean(0, keepdim=True), (x,))


# ---- extremes ------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_gradcheck(name, layout):
    x = distinct((3, 4), np.random.default_rng(3), layout)
    assert gradcheck(lambda t: getattr(t, name)(1), (x,))
    assert gradcheck(lambda t: getattr(t, name)((0, 1), keepdim=True), (x,))
    assert getattr(x, name)().grad_fn.name() == name.capitalize() + "Backward0"


@pytest.mark.parametrize("name", ["amax", "max", "amin", "min", "median", "nanmedian"])
def test_full_reductions_split_ties_evenly(name):
    x = ft.tensor([[1.0, 3.0], [3.0, 3.0]], requires_grad=True) if name in ("amax", "max") else \
        ft.tensor([[1.0, 1.0], [3.0, 1.0]], requires_grad=True) if name in ("amin", "min") else \
        ft.tensor([2.0, 1.0, 2.0, 5.0], requires_grad=True)
    g = grad_of(lambda t: getattr(t, name)(), x).reshape(-1)
    expected = {"amax": [0, 1 / 3, 1 / 3, 1 / 3], "max": [0, 1 / 3, 1 / 3, 1 / 3], "amin": [1 / 3, 1 / 3, 0, 1 / 3],
                "min": [1 / 3, 1 / 3, 0, 1 / 3], "median": [0.5, 0, 0.5, 0], "nanmedian": [0.5, 0, 0.5, 0]}[name]
    np.testing.assert_allclose(g, expected)


def test_max_min_full_names_and_gradcheck():
    x = distinct((2, 3), np.random.default_rng(4), "strided")
    assert gradcheck(lambda t: t.max(), (x,))
    assert gradcheck(lambda t: t.min(), (x,))
    assert x.max().grad_fn.name() == "MaxBackward1"
    assert x.min().grad_fn.name() == "MinBackward1"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["max", "min", "median", "nanmedian", "mode"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_dim_selections_gradcheck(name, layout, keepdim):
    x = distinct((3, 4), np.random.default_rng(5), layout)
    assert gradcheck(lambda t: getattr(t, name)(1, keepdim=keepdim)[0], (x,))
    assert gradcheck(lambda t: getattr(t, name)(0, keepdim)[0], (x,))


def test_max_dim_sends_the_gradient_to_the_returned_index():
    x = ft.tensor([[1.0, 5.0, 5.0], [2.0, 2.0, 0.0]], requires_grad=True)
    values, indices = x.max(1)
    values.sum().backward()
    expected = np.zeros((2, 3))
    expected[0, indices[0].item()] = 1
    expected[1, indices[1].item()] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert values.grad_fn.name() == "MaxBackward0"
    assert x.min(0)[0].grad_fn.name() == "MinBackward0"
    assert x.median(1)[0].grad_fn.name() == "MedianBackward1"
    assert x.mode(1)[0].grad_fn.name() == "ModeBackward0"


def test_max_dim_of_zero_d_input():
    x = ft.tensor(2.0, dtype=ft.float64, requires_grad=True)
    assert gradcheck(lambda t: t.max(0)[0], (x,))


def test_aminmax_gradcheck_both_outputs():
    x = distinct((3, 4), np.random.default_rng(6), "transposed")
    assert gradcheck(lambda t: ft.aminmax(t, dim=1), (x,))
    assert gradcheck(lambda t: ft.aminmax(t).max, (x,))
    assert ft.aminmax(x).min.grad_fn.name() == "AminmaxBackward0"


# ---- statistics ----------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim,correction,keepdim", [(None, 1, False), (1, 0, False), ((0, 1), 1, True), (0, 2, True)])
def test_var_std_gradcheck(name, layout, dim, correction, keepdim):
    x = leaf((3, 4), np.random.default_rng(7), layout)
    assert gradcheck(lambda t: getattr(t, name)(dim, correction=correction, keepdim=keepdim), (x,))


@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_var_mean_std_mean_gradcheck(name):
    x = leaf((3, 4), np.random.default_rng(8), "strided")
    assert gradcheck(lambda t: getattr(ft, name)(t, 1, correction=1), (x,))
    assert gradcheck(lambda t: getattr(ft, name)(t, 0)[1], (x,))
    assert getattr(ft, name)(x)[0].grad_fn.name() == {"var_mean": "VarMeanBackward0", "std_mean": "StdMeanBackward0"}[name]


def test_var_std_gradgradcheck_and_names():
    x = leaf((2, 3), np.random.default_rng(9))
    assert gradgradcheck(lambda t: t.var(1), (x,))
    assert gradgradcheck(lambda t: t.std(), (x,))
    assert x.var().grad_fn.name() == "VarBackward0"
    assert x.std().grad_fn.name() == "StdBackward0"


def test_std_of_constant_has_zero_gradient():
    x = ft.ones(4, dtype=ft.float64, requires_grad=True)
    np.testing.assert_array_equal(grad_of(lambda t: t.std(), x), np.zeros(4))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_logsumexp_gradcheck_and_gradgradcheck(layout):
    x = leaf((3, 4), np.random.default_rng(10), layout)
    assert gradcheck(lambda t: t.logsumexp(1), (x,))
    assert gradcheck(lambda t: t.logsumexp((0, 1), keepdim=True), (x,))
    assert gradgradcheck(lambda t: t.logsumexp(0), (x,))
    assert x.logsumexp(0).grad_fn.name() == "LogsumexpBackward0"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_gradcheck(name, layout, dim):
    x = leaf((3, 4), np.random.default_rng(11), layout)
    assert gradcheck(lambda t: getattr(t, name)(dim), (x,))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradgradcheck_and_names(name):
    x = leaf((2, 3), np.random.default_rng(12))
    assert gradgradcheck(lambda t: getattr(t, name)(1), (x,))
    assert getattr(x, name)(1).grad_fn.name() == {"softmax": "SoftmaxBackward0", "log_softmax": "LogSoftmaxBackward0"}[name]


def test_softmax_of_zero_d():
    x = ft.tensor(0.3, dtype=ft.float64, requires_grad=True)
    assert gradcheck(lambda t: t.log_softmax(0), (x,))


# ---- norms -------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("ord", [2, 1, 3, 1.5, 0.5, float("inf"), -float("inf"), 0])
def test_vector_norm_gradcheck(ord, layout):
    x = distinct((3, 4), np.random.default_rng(13), layout)
    assert gradcheck(lambda t: ft.linalg.vector_norm(t, ord), (x,))
    assert gradcheck(lambda t: ft.linalg.vector_norm(t, ord, dim=1, keepdim=True), (x,))


def test_norm_at_zero_vector_has_zero_gradient():
    x = ft.zeros(3, dtype=ft.float64, requires_grad=True)
    np.testing.assert_array_equal(grad_of(lambda t: t.norm(), x), np.zeros(3))
    assert x.norm().grad_fn.name() == "LinalgVectorNormBackward0"


def test_norm_gradgradcheck():
    x = leaf((2, 3), np.random.default_rng(14))
    assert gradgradcheck(lambda t: t.norm(dim=1), (x,))
    assert gradgradcheck(lambda t: ft.linalg.vector_norm(t, 3), (x,))


def test_inf_norm_ties_split_evenly():
    x = ft.tensor([3.0, -3.0, 1.0], requires_grad=True)
    np.testing.assert_allclose(grad_of(lambda t: ft.linalg.vector_norm(t, float("inf")), x), [0.5, -0.5, 0.0])


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, float("inf"), -float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_gradcheck(ord, keepdim):
    x = leaf((2, 3, 4), np.random.default_rng(15), "transposed")
    assert gradcheck(lambda t: ft.linalg.matrix_norm(t, ord, keepdim=keepdim), (x,))


def test_linalg_norm_and_torch_norm_gradcheck():
    x = leaf((3, 4), np.random.default_rng(16), "strided")
    assert gradcheck(lambda t: ft.linalg.norm(t), (x,))
    assert gradcheck(lambda t: ft.linalg.norm(t, 1, dim=0), (x,))
    assert gradcheck(lambda t: t.norm(p="nuc"), (x,))


# ---- scans -------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scan_gradcheck(name, layout, dim):
    x = leaf((3, 4), np.random.default_rng(17), layout, 0.5, 1.5)
    assert gradcheck(lambda t: getattr(t, name)(dim), (x,))


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp"])
def test_scan_gradgradcheck_and_names(name):
    x = leaf((2, 3), np.random.default_rng(18), "contiguous", 0.5, 1.5)
    assert gradgradcheck(lambda t: getattr(t, name)(1), (x,))
    assert getattr(x, name)(0).grad_fn.name() == name.capitalize() + "Backward0"


@pytest.mark.parametrize("row", [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 5.0], [1.5, 2.0, 3.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
def test_cumprod_with_zeros(row):
    x = ft.tensor([row, [1.0, -2.0, 0.5, 3.0]], dtype=ft.float64, requires_grad=True)
    assert gradcheck(lambda t: t.cumprod(1), (x,))
    assert gradgradcheck(lambda t: t.cumprod(1), (x,))


def test_scans_of_zero_d_and_empty():
    x = ft.tensor(0.7, dtype=ft.float64, requires_grad=True)
    for name in ["cumsum", "cumprod", "logcumsumexp"]:
        assert gradcheck(lambda t: getattr(t, name)(0), (x,))
        e = ft.zeros(0, 2, dtype=ft.float64, requires_grad=True)
        getattr(e, name)(0).sum().backward()
        assert e.grad.shape == (0, 2)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_gradcheck(name):
    x = distinct((3, 4), np.random.default_rng(19), "transposed")
    assert gradcheck(lambda t: getattr(t, name)(1)[0], (x,))
    assert getattr(x, name)(0)[0].grad_fn.name() == name.capitalize() + "Backward0"


# ---- quantiles ---------------------------------------------------------------------------

@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_quantile_gradcheck(interpolation, layout):
    x = distinct((3, 5), np.random.default_rng(20), layout)
    assert gradcheck(lambda t: t.quantile(0.3, 1, interpolation=interpolation), (x,))
    q = ft.tensor([0.1, 0.5, 0.8], dtype=ft.float64)
    assert gradcheck(lambda t: t.quantile(q, 0, keepdim=True, interpolation=interpolation), (x,))
    assert gradcheck(lambda t: t.quantile(0.65, interpolation=interpolation), (x,))


def test_quantile_linear_weights():
    x = ft.tensor([4.0, 1.0, 3.0, 2.0], dtype=ft.float64, requires_grad=True)
    # rank 0.4 * 3 = 1.2 between the sorted 2.0 (index 3) and 3.0 (index 2)
    np.testing.assert_allclose(grad_of(lambda t: t.quantile(0.4), x), [0.0, 0.0, 0.2, 0.8])


def test_nanquantile_ignores_nan():
    x = ft.tensor([4.0, float("nan"), 3.0, 1.0], dtype=ft.float64, requires_grad=True)
    np.testing.assert_allclose(grad_of(lambda t: t.nanquantile(0.5), x), [0.0, 0.0, 1.0, 0.0])
