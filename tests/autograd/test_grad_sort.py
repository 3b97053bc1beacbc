"""gradcheck for sorting and selection (sort, msort, topk, kthvalue): the values' gradient
goes back to the positions they came from. unique records a backward that raises, as in
PyTorch; searchsorted/bucketize/histc/histogram/bincount have no gradient and work on inputs
that require one."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import leaf

LAYOUTS = ["contiguous", "transposed", "strided"]

# Random inputs have distinct values, so every selection is differentiable there.
SELECT = {
    "sort": lambda t: t.sort()[0],
    "sort_dim0_descending": lambda t: t.sort(0, descending=True)[0],
    "sort_stable": lambda t: ft.sort(t, dim=1, stable=True).values,
    "msort": lambda t: t.msort(),
    "topk": lambda t: t.topk(2)[0],
    "topk_smallest_dim0": lambda t: t.topk(2, dim=0, largest=False).values,
    "topk_all": lambda t: t.topk(4, dim=1, sorted=False)[0],
    "topk_zero": lambda t: t.topk(0)[0],
    "kthvalue": lambda t: t.kthvalue(2)[0],
    "kthvalue_keepdim_dim0": lambda t: t.kthvalue(3, 0, keepdim=True).values,
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(SELECT))
def test_select_gradcheck(name, layout):
    x = leaf((3, 4), np.random.default_rng(0), layout)
    assert gradcheck(SELECT[name], (x,))


@pytest.mark.parametrize("name", ["sort", "topk_smallest_dim0", "kthvalue", "kthvalue_keepdim_dim0"])
def test_select_gradgradcheck(name):
    x = leaf((3, 4), np.random.default_rng(1))
    assert gradgradcheck(lambda t: SELECT[name](t) ** 2, (x,))


def test_zero_dim_and_empty():
    rng = np.random.default_rng(2)
    s = leaf((), rng)
    assert gradcheck(lambda t: t.sort()[0], (s,))
    assert gradcheck(lambda t: t.kthvalue(1)[0], (s,))
    assert gradcheck(lambda t: t.topk(1)[0], (s,))
    e = leaf((0, 3), rng)
    assert gradcheck(lambda t: t.sort(0)[0], (e,))
    assert gradcheck(lambda t: t.topk(2, dim=1)[0], (e,))


def test_sort_gradient_goes_to_source_positions():
    x = ft.tensor([3.0, 1.0, 2.0], dtype=ft.float64).requires_grad_()
    values, indices = x.sort()
    assert not indices.requires_grad
    (values * ft.tensor([10.0, 20.0, 30.0], dtype=ft.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 10.0, 20.0])


def test_index_outputs_have_no_gradient():
    x = leaf((3, 4), np.random.default_rng(3))
    assert not x.argsort().requires_grad
    assert not x.topk(2)[1].requires_grad
    assert not x.kthvalue(1)[1].requires_grad
    assert x.argsort(dim=0, descending=True).dtype == ft.int64


@pytest.mark.parametrize("expr, node", [
    (lambda t: t.sort()[0], "SortBackward0"),
    (lambda t: t.msort(), "SortBackward0"),
    (lambda t: t.topk(1)[0], "TopkBackward0"),
    (lambda t: t.kthvalue(1)[0], "KthvalueBackward0"),
    (lambda t: t.unique(), "Unique2Backward0"),
    (lambda t: t.unique(dim=0), "UniqueDimBackward0"),
    (lambda t: t.unique_consecutive(), "UniqueConsecutiveBackward0"),
])
def test_node_names(expr, node):
    x = leaf((3, 4), np.random.default_rng(4))
    assert expr(x).grad_fn.name() == node


@pytest.mark.parametrize("op, message", [
    (lambda t: t.unique(), "_unique2"),
    (lambda t: t.unique(sorted=True, return_inverse=True, return_counts=True)[0], "_unique2"),
    (lambda t: t.unique(dim=1), "unique_dim"),
    (lambda t: t.unique_consecutive(), "unique_consecutive"),
])
def test_unique_backward_not_implemented(op, message):
    x = leaf((3, 4), np.random.default_rng(5))
    out = op(x)
    assert out.requires_grad
    with pytest.raises(NotImplementedError, match=message):
        out.sum().backward()


def test_unique_extras_have_no_gradient():
    x = leaf((3, 4), np.random.default_rng(6))
    _, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    assert not inverse.requires_grad and not counts.requires_grad


def test_non_differentiable_ops_accept_inputs_requiring_grad():
    rng = np.random.default_rng(7)
    x = leaf((10,), rng, low=0.0, high=1.0)
    bounds = ft.tensor([0.25, 0.5, 0.75], dtype=ft.float64).requires_grad_()
    plain_x, plain_b = x.detach(), bounds.detach()
    out = ft.searchsorted(bounds, x)
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), np.searchsorted(plain_b.numpy(), plain_x.numpy()))
    out = ft.bucketize(x, bounds, right=True)
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), ft.bucketize(plain_x, plain_b, right=True).numpy())
    h = x.histc(4, 0, 1)
    assert not h.requires_grad
    np.testing.assert_array_equal(h.numpy(), np.histogram(plain_x.numpy(), 4, (0, 1))[0])
    hist, edges = x.histogram(3)
    assert not hist.requires_grad and not edges.requires_grad
    counts = ft.tensor([0, 2, 2, 1]).bincount(weights=leaf((4,), rng))
    assert not counts.requires_grad
