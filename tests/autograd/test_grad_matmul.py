"""gradcheck for the matrix products: every 1-D/2-D/batched case of matmul with broadcasting,
the fused add-products with beta/alpha, contractions (einsum, tensordot, inner, kron), trace and
diagonal; gradgradcheck for the gemm family; node names; and that an operand which needs no
gradient gets none computed."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import leaf

LAYOUTS = ["contiguous", "transposed", "strided"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_mm_gradcheck(layout):
    rng = np.random.default_rng(0)
    a, b = leaf((3, 4), rng, layout), leaf((4, 2), rng, "transposed")
    assert gradcheck(lambda x, y: x.mm(y), (a, b))
    assert a.mm(b).grad_fn.name() == "MmBackward0"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bmm_gradcheck(layout):
    rng = np.random.default_rng(1)
    a, b = leaf((2, 3, 4), rng, layout), leaf((2, 4, 2), rng, "strided")
    assert gradcheck(lambda x, y: x.bmm(y), (a, b))
    assert a.bmm(b).grad_fn.name() == "BmmBackward0"


@pytest.mark.parametrize("shapes", [
    ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)),
    ((2, 3, 4), (4, 2)), ((3, 4), (2, 4, 2)), ((2, 1, 3, 4), (3, 4, 2)), ((1, 3, 4), (2, 4, 2)),
])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_matmul_broadcasting_gradcheck(shapes, layout):
    rng = np.random.default_rng(2)
    a, b = leaf(shapes[0], rng, layout), leaf(shapes[1], rng, "strided")
    assert gradcheck(lambda x, y: x @ y, (a, b))


def test_matmul_gradgradcheck():
    rng = np.random.default_rng(3)
    for sa, sb in [((3, 4), (4, 2)), ((2, 3, 4), (4, 2)), ((4,), (4,)), ((3, 4), (4,))]:
        assert gradgradcheck(lambda x, y: x @ y, (leaf(sa, rng), leaf(sb, rng)))


def test_mm_gradgradcheck():
    rng = np.random.default_rng(4)
    assert gradgradcheck(lambda x, y: x.mm(y), (leaf((2, 3), rng), leaf((3, 2), rng, "transposed")))
    assert gradgradcheck(lambda x, y: x.bmm(y), (leaf((2, 2, 3), rng), leaf((2, 3, 2), rng)))


def test_matmul_with_empty_inner_dim_gives_zero_gradients():
    a = ft.zeros(3, 0, dtype=ft.float64, requires_grad=True)
    b = ft.zeros(0, 2, dtype=ft.float64, requires_grad=True)
    (a @ b).sum().backward()
    assert a.grad.shape == (3, 0) and b.grad.shape == (0, 2)


def test_operand_without_requires_grad_gets_no_gradient():
    rng = np.random.default_rng(5)
    w = leaf((4, 3), rng)
    x = ft.tensor(rng.standard_normal((5, 4)))
    out = x.mm(w)
    (gw,) = ft.autograd.grad(out.sum(), [w])
    np.testing.assert_allclose(gw.numpy(), x.numpy().T @ np.ones((5, 3)))
    assert x.grad is None


@pytest.mark.parametrize("layout", LAYOUTS)
def test_mv_dot_vdot_gradcheck(layout):
    rng = np.random.default_rng(6)
    m, v, w = leaf((3, 4), rng, layout), leaf((4,), rng, layout), leaf((4,), rng)
    assert gradcheck(lambda x, y: x.mv(y), (m, v))
    assert gradcheck(lambda x, y: x.dot(y), (v, w))
    assert gradcheck(lambda x, y: x.vdot(y), (v, w))
    assert gradgradcheck(lambda x, y: x.mv(y), (m, v))
    assert m.mv(v).grad_fn.name() == "MvBackward0"
    assert v.dot(w).grad_fn.name() == "DotBackward0"
    assert v.vdot(w).grad_fn.name() == "VdotBackward0"


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2.0), (0, 3)])
def test_add_products_gradcheck(beta, alpha):
    rng = np.random.default_rng(7)
    kw = dict(beta=beta, alpha=alpha)
    assert gradcheck(lambda c, x, y: c.addmm(x, y, **kw), (leaf((3, 2), rng), leaf((3, 4), rng, "transposed"), leaf((4, 2), rng)))
    assert gradcheck(lambda c, x, y: c.addmm(x, y, **kw), (leaf((2,), rng), leaf((3, 4), rng), leaf((4, 2), rng, "strided")))
    assert gradcheck(lambda c, x, y: c.addmv(x, y, **kw), (leaf((3,), rng), leaf((3, 4), rng, "strided"), leaf((4,), rng)))
    assert gradcheck(lambda c, x, y: c.addr(x, y, **kw), (leaf((3, 4), rng, "transposed"), leaf((3,), rng), leaf((4,), rng)))
    assert gradcheck(lambda c, x, y: c.baddbmm(x, y, **kw), (leaf((2, 3, 2), rng), leaf((2, 3, 4), rng), leaf((2, 4, 2), rng, "transposed")))
    assert gradcheck(lambda c, x, y: c.addbmm(x, y, **kw), (leaf((3, 2), rng), leaf((2, 3, 4), rng, "strided"), leaf((2, 4, 2), rng)))


def test_add_product_names_and_gradgradcheck():
    rng = np.random.default_rng(8)
    c, x, y = leaf((3, 2), rng), leaf((3, 4), rng), leaf((4, 2), rng)
    assert c.addmm(x, y).grad_fn.name() == "AddmmBackward0"
    assert gradgradcheck(lambda c, x, y: c.addmm(x, y, beta=0.5, alpha=2.0), (c, x, y))
    v1, v2 = leaf((3,), rng), leaf((2,), rng)
    assert c.addr(v1, v2).grad_fn.name() == "AddrBackward0"
    b1, b2 = leaf((2, 3, 4), rng), leaf((2, 4, 2), rng)
    assert c.addbmm(b1, b2).grad_fn.name() == "AddbmmBackward0"
    assert leaf((2, 3, 2), rng).baddbmm(b1, b2).grad_fn.name() == "BaddbmmBackward0"
    assert leaf((3,), rng).addmv(x, leaf((4,), rng)).grad_fn.name() == "AddmvBackward0"


def test_outer_inner_kron_gradcheck():
    rng = np.random.default_rng(9)
    assert gradcheck(lambda x, y: x.outer(y), (leaf((3,), rng), leaf((4,), rng, "strided")))
    assert gradcheck(lambda x, y: x.inner(y), (leaf((2, 3), rng, "transposed"), leaf((4, 3), rng)))
    assert gradcheck(lambda x, y: x.inner(y), (leaf((), rng), leaf((2, 3), rng)))
    assert gradcheck(lambda x, y: x.kron(y), (leaf((2, 3), rng), leaf((2, 2), rng, "strided")))
    assert gradcheck(lambda x, y: x.kron(y), (leaf((2,), rng), leaf((2, 1, 3), rng)))


@pytest.mark.parametrize("dims", [1, 2, ([0, 2], [1, 0])])
def test_tensordot_gradcheck(dims):
    rng = np.random.default_rng(10)
    a = leaf((2, 3, 4), rng, "transposed")
    b = leaf({1: (4, 3), 2: (3, 4, 2)}.get(dims if isinstance(dims, int) else 0, (4, 2, 3)), rng)
    assert gradcheck(lambda x, y: ft.tensordot(x, y, dims=dims), (a, b))


@pytest.mark.parametrize("equation,shapes", [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(3, 4)]),
    ("i,j->ij", [(3,), (2,)]),
    ("...ij,...jk", [(2, 3, 4), (4, 2)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bi,bi->b", [(1, 3), (2, 3)]),
])
def test_einsum_gradcheck(equation, shapes):
    rng = np.random.default_rng(11)
    ops = tuple(leaf(s, rng, "transposed" if i == 0 else "contiguous") for i, s in enumerate(shapes))
    assert gradcheck(lambda *xs: ft.einsum(equation, *xs), ops)


def test_einsum_gradgradcheck():
    rng = np.random.default_rng(12)
    assert gradgradcheck(lambda x, y: ft.einsum("ij,jk->ik", x, y), (leaf((2, 3), rng), leaf((3, 2), rng)))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_trace_and_diagonal_gradcheck(layout):
    rng = np.random.default_rng(13)
    x = leaf((3, 4), rng, layout)
    assert gradcheck(lambda t: t.trace(), (x,))
    assert x.trace().grad_fn.name() == "TraceBackward0"
    for offset in (-1, 0, 2):
        assert gradcheck(lambda t: t.diagonal(offset), (x,))
    y = leaf((2, 3, 3), rng, layout)
    assert gradcheck(lambda t: t.diagonal(0, 1, 2), (y,))
    assert gradcheck(lambda t: ft.linalg.diagonal(t, offset=1), (y,))
    assert y.diagonal(0, 1, 2).grad_fn.name() == "DiagonalBackward0"
    np.testing.assert_array_equal(ft.autograd.grad(x.trace(), [x])[0].numpy(), np.eye(3, 4))


@pytest.mark.parametrize("n", [-2, -1, 1, 2, 3])
def test_matrix_power_gradcheck(n):
    rng = np.random.default_rng(14)
    a = ft.tensor(rng.standard_normal((2, 3, 3)) * 0.3 + 2 * np.eye(3), requires_grad=True)
    assert gradcheck(lambda t: ft.linalg.matrix_power(t, n), (a,))


def test_vecdot_gradcheck():
    rng = np.random.default_rng(15)
    assert gradcheck(lambda x, y: ft.linalg.vecdot(x, y), (leaf((2, 3), rng, "strided"), leaf((3,), rng)))
    assert gradcheck(lambda x, y: ft.linalg.vecdot(x, y, dim=0), (leaf((3, 2), rng), leaf((3, 1), rng)))


def test_multi_dot_gradcheck():
    rng = np.random.default_rng(16)
    ops = (leaf((3,), rng), leaf((3, 4), rng), leaf((4, 2), rng), leaf((2,), rng))
    assert gradcheck(lambda *xs: ft.linalg.multi_dot(xs), ops)
