"""gradcheck for torch.linalg on well-conditioned float64 inputs: determinants, inverses,
solves, decompositions (through gauge-invariant functions of their factors, as PyTorch's own
tests do), pseudo-inverse and least squares; gradgradcheck for the smooth ones; node names."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import leaf

LAYOUTS = ["contiguous", "transposed", "strided"]


def well_conditioned(shape, rng, layout="contiguous"):
    """A leaf batch of square matrices near 2 I (non-singular, distinct eigenvalues likely)."""
    n = shape[-1]
    t = leaf(shape, rng, layout, -0.4, 0.4)
    with ft.no_grad():
        t.add_(ft.tensor(2 * np.eye(n)))
    return t


def spd(a):
    """A symmetric positive-definite function of any square ``a``: ``a a^T + n I``."""
    n = a.shape[-1]
    return a @ a.mT + n * ft.eye(n, dtype=a.dtype)


def sym(a):
    """The symmetric part of ``a`` (decompositions of symmetric input read one triangle)."""
    return (a + a.mT) / 2


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3)])
def test_det_inv_slogdet_gradcheck(layout, shape):
    a = well_conditioned(shape, np.random.default_rng(0), layout)
    assert gradcheck(ft.linalg.det, (a,))
    assert gradcheck(ft.linalg.inv, (a,))
    assert gradcheck(lambda t: ft.linalg.slogdet(t).logabsdet, (a,))
    assert gradcheck(lambda t: t.logdet(), (a,))


def test_det_inv_gradgradcheck_and_names():
    a = well_conditioned((3, 3), np.random.default_rng(1))
    assert gradgradcheck(ft.linalg.det, (a,))
    assert gradgradcheck(ft.linalg.inv, (a,))
    assert gradgradcheck(lambda t: ft.linalg.slogdet(t)[1], (a,))
    assert ft.linalg.det(a).grad_fn.name() == "LinalgDetBackward0"
    assert ft.linalg.inv(a).grad_fn.name() == "LinalgInvExBackward0"
    assert ft.linalg.slogdet(a)[1].grad_fn.name() == "LinalgSlogdetBackward0"


def test_det_of_singular_matrix_is_the_adjugate():
    a = ft.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], dtype=ft.float64, requires_grad=True)
    ft.linalg.det(a).backward()
    m = a.detach().numpy()
    cofactors = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(m, i, 0), j, 1)) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(a.grad.numpy(), cofactors, atol=1e-10)
    assert gradcheck(ft.linalg.det, (a,))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("a_shape,b_shape", [((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (3, 2)), ((3, 3), (2, 3, 1)), ((2, 3, 3), (2, 3))])
@pytest.mark.parametrize("left", [True, False])
def test_solve_gradcheck(layout, a_shape, b_shape, left):
    rng = np.random.default_rng(2)
    a = well_conditioned(a_shape, rng, layout)
    if not left and len(b_shape) >= 2 and b_shape[-1] != 3:
        b_shape = b_shape[:-2] + (b_shape[-1], b_shape[-2])
    b = leaf(b_shape, rng, "transposed" if len(b_shape) > 1 else "strided")
    assert gradcheck(lambda x, y: ft.linalg.solve(x, y, left=left), (a, b))


def test_solve_gradgradcheck_and_name():
    rng = np.random.default_rng(3)
    a, b = well_conditioned((3, 3), rng), leaf((3, 2), rng)
    assert gradgradcheck(ft.linalg.solve, (a, b))
    assert ft.linalg.solve(a, b).grad_fn.name() == "LinalgSolveExBackward0"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_gradcheck(layout, upper):
    a = leaf((2, 3, 3), np.random.default_rng(4), layout)
    assert gradcheck(lambda t: ft.linalg.cholesky(spd(t), upper=upper), (a,))


def test_cholesky_gradgradcheck_and_name():
    a = leaf((3, 3), np.random.default_rng(5))
    assert gradgradcheck(lambda t: ft.linalg.cholesky(spd(t)), (a,))
    assert ft.linalg.cholesky(spd(a)).grad_fn.name() == "LinalgCholeskyExBackward0"


def test_cholesky_gradient_is_symmetric():
    a = ft.tensor(spd(ft.tensor(np.random.default_rng(6).standard_normal((3, 3)))).numpy(), requires_grad=True)
    ft.linalg.cholesky(a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), a.grad.numpy().T, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4), (2, 4, 3)])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_qr_gradcheck(shape, layout):
    a = leaf(shape, np.random.default_rng(7), layout)
    assert gradcheck(lambda t: ft.linalg.qr(t), (a,))
    assert gradcheck(lambda t: ft.linalg.qr(t).R, (a,))
    assert ft.linalg.qr(a).Q.grad_fn.name() == "LinalgQrBackward0"


def test_qr_complete_square_and_refusals():
    a = leaf((3, 3), np.random.default_rng(8))
    assert gradcheck(lambda t: ft.linalg.qr(t, mode="complete"), (a,))
    with pytest.raises(RuntimeError, match="mode='r'"):
        ft.linalg.qr(a, mode="r").R.sum().backward()
    tall = leaf((4, 3), np.random.default_rng(8))
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        ft.linalg.qr(tall, mode="complete").Q.sum().backward()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_eigh_gradcheck(layout):
    a = leaf((2, 4, 4), np.random.default_rng(9), layout)
    # Eigenvectors are defined up to sign: check sign-invariant functions of them.
    assert gradcheck(lambda t: ft.linalg.eigh(sym(t)).eigenvalues, (a,))
    assert gradcheck(lambda t: ft.linalg.eigh(sym(t)).eigenvectors.abs(), (a,))
    assert gradcheck(lambda t: ft.linalg.eigvalsh(sym(t)), (a,))
    assert gradcheck(lambda t: ft.linalg.eigh(sym(t), UPLO="U").eigenvalues, (a,))


def test_eigh_gradgradcheck_and_name():
    a = leaf((3, 3), np.random.default_rng(10))
    assert gradgradcheck(lambda t: ft.linalg.eigvalsh(spd(t)), (a,))
    w, v = ft.linalg.eigh(sym(a))
    assert w.grad_fn.name() == "LinalgEighBackward0"
    assert ft.linalg.eigvalsh(sym(a)).grad_fn.name() == "LinalgEighBackward0"


def _svd_invariant(full_matrices):
    """Sign-invariant functions of the SVD factors: S, |U|, |Vh|, and U diag(S^2) Vh."""
    def f(t):
        u, s, vh = ft.linalg.svd(t, full_matrices=full_matrices)
        k = s.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        return s, u.abs(), vh.abs(), (u * (s * s).unsqueeze(-2)) @ vh
    return f


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd_gradcheck(shape, full_matrices):
    a = leaf(shape, np.random.default_rng(11), "transposed")
    assert gradcheck(_svd_invariant(full_matrices), (a,))
    assert gradcheck(ft.linalg.svdvals, (a,))
    assert ft.linalg.svd(a)[1].grad_fn.name() == "LinalgSvdBackward0"
    assert ft.linalg.svdvals(a).grad_fn.name() == "LinalgSvdBackward0"


def test_svdvals_gradgradcheck():
    a = leaf((3, 2), np.random.default_rng(12))
    assert gradgradcheck(ft.linalg.svdvals, (a,))


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4), (2, 3, 4)])
def test_pinv_gradcheck(shape):
    a = leaf(shape, np.random.default_rng(13), "strided")
    assert gradcheck(ft.linalg.pinv, (a,))
    assert ft.linalg.pinv(a).grad_fn.name() == "LinalgPinvBackward0"


def test_pinv_of_rank_deficient_matrix_gradcheck():
    rng = np.random.default_rng(14)
    u, v = leaf((4, 2), rng), leaf((2, 3), rng)
    assert gradcheck(lambda x, y: ft.linalg.pinv(x @ y), (u, v))


@pytest.mark.parametrize("b_shape", [(4, 2), (4,)])
def test_lstsq_solution_gradcheck(b_shape):
    rng = np.random.default_rng(15)
    a, b = leaf((4, 3), rng, "transposed"), leaf(b_shape, rng)
    assert gradcheck(lambda x, y: ft.linalg.lstsq(x, y).solution, (a, b))


def test_matrix_rank_is_not_differentiable():
    a = leaf((3, 3), np.random.default_rng(16))
    r = ft.linalg.matrix_rank(a)
    assert not r.requires_grad and r.grad_fn is None
