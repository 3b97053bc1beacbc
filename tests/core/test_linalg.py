"""Matrix products and torch.linalg, compared with NumPy."""

import numpy as np
import pytest

import ferrotorch as ft
from conftest import FLOAT_DTYPES, INT_DTYPES, LAYOUTS, NUMPY_DTYPE, assert_close, make, to_numpy

MATMUL_TOL = {ft.float16: (2e-2, 2e-2), ft.bfloat16: (5e-2, 1e-1), ft.float32: (1e-5, 1e-4), ft.float64: (1e-12, 1e-12)}


def reference_matmul(a, b, dtype):
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    if dtype in INT_DTYPES:
        return np.matmul(a.astype(np.int64), b.astype(np.int64)).astype(NUMPY_DTYPE[dtype])
    return ref


def check_product(got, expected, dtype):
    if dtype in INT_DTYPES:
        assert got.dtype == dtype
        np.testing.assert_array_equal(to_numpy(got), expected)
    else:
        rtol, atol = MATMUL_TOL[dtype]
        assert_close(got, expected, dtype=dtype, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- matmul and friends

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)),
    ((1, 2, 3), (6, 3, 4)),
    ((0, 2, 3), (3, 4)),
    ((2, 0), (0, 4)),
    ((2, 3), (3, 0)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [ft.int64, ft.int32, ft.uint8])
def test_matmul_broadcasting_matches_numpy(sa, sb, dtype, rng):
    a, na = make(sa, dtype, rng, low=-3, high=3)
    b, nb = make(sb, dtype, rng, low=-3, high=3)
    check_product(ft.matmul(a, b), reference_matmul(na, nb, dtype), dtype)
    check_product(a @ b, reference_matmul(na, nb, dtype), dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.int64])
def test_matmul_non_contiguous_inputs(layout, dtype, rng):
    a, na = make((4, 5, 6), dtype, rng, layout)
    b, nb = make((4, 6, 3), dtype, rng, layout)
    check_product(a @ b, reference_matmul(na, nb, dtype), dtype)
    check_product(a.mT @ a, reference_matmul(np.swapaxes(na, -1, -2), na, dtype), dtype)


def test_matmul_large_uses_threads_and_is_correct(rng):
    a, na = make((130, 257), ft.float64, rng)
    b, nb = make((257, 190), ft.float64, rng)
    assert_close(a @ b.t().contiguous().t(), na @ nb)
    batch, nbatch = make((9, 70, 80), ft.float32, rng)
    small = b.float().narrow(0, 0, 80).narrow(1, 0, 50)
    assert_close(batch @ small, reference_matmul(nbatch, nb[:80, :50], ft.float32), rtol=1e-4, atol=1e-3)


def test_rmatmul_and_not_implemented(rng):
    a, _ = make((2, 2), ft.float32, rng)
    with pytest.raises(TypeError):
        a @ 2


def test_mm_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match=r"expected m1 and m2 to have the same dtype, but got: float != double"):
        ft.ones(2, 3).mm(ft.ones(3, 2, dtype=ft.float64))


def test_mm_shape_mismatch_raises():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        ft.ones(2, 3).mm(ft.ones(4, 5))
    with pytest.raises(RuntimeError, match=r"self must be a matrix"):
        ft.ones(3).mm(ft.ones(3, 5))


def test_matmul_errors():
    with pytest.raises(RuntimeError, match="both arguments to matmul need to be at least 1D, but they are 0D and 2D"):
        ft.matmul(ft.tensor(1.0), ft.ones(2, 2))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        ft.ones(3) @ ft.ones(4)
    with pytest.raises(RuntimeError, match=r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"):
        ft.ones(2, 3) @ ft.ones(4)
    with pytest.raises(RuntimeError, match="The size of tensor a"):
        ft.ones(2, 2, 3) @ ft.ones(3, 3, 4)
    with pytest.raises(RuntimeError, match=r"Expected size for first two dimensions of batch2 tensor"):
        ft.ones(2, 2, 3) @ ft.ones(2, 4, 4)


def test_bool_matmul_not_implemented():
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        ft.ones(2, 2, dtype=ft.bool) @ ft.ones(2, 2, dtype=ft.bool)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.int64])
def test_bmm_matches_numpy(dtype, rng):
    a, na = make((3, 2, 4), dtype, rng, "transposed")
    b, nb = make((3, 4, 5), dtype, rng, "strided")
    check_product(a.bmm(b), reference_matmul(na, nb, dtype), dtype)


def test_bmm_errors():
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        ft.ones(2, 3).bmm(ft.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"Expected size for first two dimensions of batch2 tensor to be: \[2, 3\] but got: \[2, 4\]."):
        ft.ones(2, 2, 3).bmm(ft.ones(2, 4, 4))


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.int32])
def test_mv_dot_vdot_inner_outer(dtype, rng):
    m, nm = make((4, 3), dtype, rng, "transposed")
    v, nv = make((3,), dtype, rng)
    w, nw = make((4,), dtype, rng)
    check_product(m.mv(v), reference_matmul(nm, nv, dtype), dtype)
    check_product(v.dot(v), reference_matmul(nv, nv, dtype), dtype)
    check_product(ft.vdot(v, v), reference_matmul(nv, nv, dtype), dtype)
    check_product(ft.outer(w, v), np.outer(nw, nv).astype(NUMPY_DTYPE[dtype]), dtype)
    check_product(ft.ger(w, v), np.outer(nw, nv).astype(NUMPY_DTYPE[dtype]), dtype)
    check_product(ft.inner(m, v), np.inner(nm, nv).astype(np.float64 if dtype.is_floating_point else NUMPY_DTYPE[dtype]), dtype)


def test_inner_with_batches_and_scalars(rng):
    a, na = make((2, 3, 4), ft.float64, rng)
    b, nb = make((5, 4), ft.float64, rng)
    assert_close(ft.inner(a, b), np.inner(na, nb))
    assert_close(ft.inner(a, ft.tensor(2.0, dtype=ft.float64)), na * 2)


def test_dot_errors():
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        ft.ones(2, 2).dot(ft.ones(2))
    with pytest.raises(RuntimeError, match="dot : expected both vectors to have same dtype, but found Float and Double"):
        ft.ones(2).dot(ft.ones(2, dtype=ft.float64))


def test_outer_promotes_types():
    r = ft.outer(ft.tensor([1, 2]), ft.tensor([0.5, 1.5]))
    assert r.dtype == ft.float32
    assert_close(r, np.outer([1, 2], [0.5, 1.5]).astype(np.float32))


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.bfloat16])
def test_addmm_family(dtype, rng):
    inp, ni = make((3,), dtype, rng)
    m1, n1 = make((2, 4), dtype, rng, "transposed")
    m2, n2 = make((4, 3), dtype, rng)
    ref = 0.5 * ni + 2 * reference_matmul(n1, n2, dtype)
    check_product(ft.addmm(inp, m1, m2, beta=0.5, alpha=2), ref, dtype)
    v, nv = make((4,), dtype, rng)
    i2, ni2 = make((2,), dtype, rng)
    check_product(ft.addmv(i2, m1, v, beta=2, alpha=-1), 2 * ni2 - reference_matmul(n1, nv, dtype), dtype)
    b1, nb1 = make((5, 2, 4), dtype, rng)
    b2, nb2 = make((5, 4, 3), dtype, rng)
    base, nbase = make((2, 3), dtype, rng)
    check_product(ft.baddbmm(base, b1, b2, alpha=0.5), nbase + 0.5 * reference_matmul(nb1, nb2, dtype), dtype)
    check_product(ft.addbmm(base, b1, b2), nbase + reference_matmul(nb1, nb2, dtype).sum(0), dtype)
    x, nx = make((2,), dtype, rng)
    y, ny = make((3,), dtype, rng)
    check_product(ft.addr(base, x, y), nbase + np.outer(nx, ny), dtype)


def test_addmm_beta_zero_ignores_nan():
    inp = ft.full((2, 2), float("nan"))
    r = ft.addmm(inp, ft.eye(2), ft.eye(2), beta=0)
    assert_close(r, np.eye(2, dtype=np.float32))


def test_addmm_inplace_writes_self(rng):
    base = ft.zeros(2, 2)
    out = base.addmm_(ft.eye(2), ft.ones(2, 2), alpha=3)
    assert out is base
    assert_close(base, np.full((2, 2), 3.0, dtype=np.float32))


def test_addmm_bias_must_broadcast():
    with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
        ft.addmm(ft.ones(5), ft.ones(2, 3), ft.ones(3, 4))


# ---------------------------------------------------------------- einsum / tensordot / diag

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(3,), (3,)]),
    ("...ij,...jk->...ik", [(2, 5, 2, 3), (5, 3, 4)]),
    ("i...->...", [(3, 2, 4)]),
    ("ijk,ikl,ilm->ijm", [(2, 3, 4), (2, 4, 5), (2, 5, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ab,cd->", [(2, 3), (4, 5)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij,ij->i", [(0, 3), (0, 3)]),
    ("ij, jk -> ki", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.int64])
def test_einsum_matches_numpy(eq, shapes, dtype, rng):
    pairs = [make(s, dtype, rng, "transposed" if len(s) > 1 else "contiguous") for s in shapes]
    got = ft.einsum(eq, *[p[0] for p in pairs])
    expected = np.einsum(eq, *[p[1] for p in pairs])
    if dtype in INT_DTYPES:
        np.testing.assert_array_equal(to_numpy(got), expected)
    else:
        assert_close(got, expected, rtol=1e-5, atol=1e-4)
    assert got.dtype == dtype


def test_einsum_accepts_list_and_sublist_forms(rng):
    a, na = make((2, 3), ft.float64, rng)
    b, nb = make((3, 4), ft.float64, rng)
    assert_close(ft.einsum("ij,jk->ik", [a, b]), na @ nb)
    assert_close(ft.einsum(a, [0, 1], b, [1, 2], [0, 2]), na @ nb)


def test_einsum_broadcasts_size_one_dims(rng):
    a, na = make((1, 3), ft.float64, rng)
    b, nb = make((4, 3), ft.float64, rng)
    assert_close(ft.einsum("ij,ij->ij", a, b), na * nb)
    assert_close(ft.einsum("ij,ij->j", a, b), (na * nb).sum(0))


def test_einsum_errors():
    with pytest.raises(RuntimeError, match="does not match the number of dimensions"):
        ft.einsum("ij", ft.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="more operands were provided"):
        ft.einsum("ij", ft.ones(2, 3), ft.ones(2, 3))
    with pytest.raises(RuntimeError, match="subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3"):
        ft.einsum("ij,jk", ft.ones(2, 3), ft.ones(4, 5))
    with pytest.raises(RuntimeError, match="output subscript k does not appear"):
        ft.einsum("ij->k", ft.ones(2, 3))
    with pytest.raises(RuntimeError, match="subscripts must be in"):
        ft.einsum("i1", ft.ones(2, 3))


@pytest.mark.parametrize("dims", [2, 1, 0, ([1, 0], [0, 1]), ([2], [0]), [[0], [1]]])
def test_tensordot_matches_numpy(dims, rng):
    a, na = make((3, 4, 5), ft.float64, rng, "transposed")
    shapes = {2: (4, 5, 2), 1: (5, 2), 0: (2,), }
    if isinstance(dims, int):
        b, nb = make(shapes[dims], ft.float64, rng)
    elif dims == ([1, 0], [0, 1]):
        b, nb = make((4, 3, 2), ft.float64, rng)
    elif dims == ([2], [0]):
        b, nb = make((5, 2), ft.float64, rng)
    else:
        b, nb = make((2, 3), ft.float64, rng)
    assert_close(ft.tensordot(a, b, dims=dims), np.tensordot(na, nb, axes=dims))


def test_tensordot_size_mismatch_raises():
    with pytest.raises(RuntimeError, match="contracted dimensions need to match, but first has size 3 in dim 1 and second has size 4 in dim 0"):
        ft.tensordot(ft.ones(2, 3), ft.ones(4, 5), dims=([1], [0]))


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.int32, ft.uint8])
def test_trace(dtype, rng):
    a, na = make((4, 5), dtype, rng, "transposed")
    r = ft.trace(a)
    assert r.dtype == (dtype if dtype.is_floating_point else ft.int64)
    np.testing.assert_allclose(to_numpy(r), np.trace(na.astype(np.float64)), rtol=1e-6)
    with pytest.raises(RuntimeError, match="trace: expected a matrix, but got tensor with dim 3"):
        ft.ones(2, 2, 2).trace()


@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 3, 7])
def test_diagonal_is_a_view_matching_numpy(offset, rng):
    a, na = make((3, 4, 5), ft.float32, rng)
    d = a.diagonal(offset, 0, 2)
    assert_close(d, np.diagonal(na, offset, 0, 2))
    if d.numel():
        assert d.untyped_storage_ptr() == a.untyped_storage_ptr()
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical"):
        a.diagonal(0, 1, 1)


def test_kron_matches_numpy(rng):
    a, na = make((2, 3), ft.float64, rng)
    b, nb = make((4, 1, 2), ft.float64, rng)
    assert_close(ft.kron(a, b), np.kron(na, nb))


# ---------------------------------------------------------------- linalg

LINALG_DTYPES = [ft.float32, ft.float64]
LINALG_TOL = {ft.float32: (1e-4, 1e-4), ft.float64: (1e-10, 1e-10)}


def well_conditioned(shape, dtype, rng):
    n = shape[-1]
    arr = rng.uniform(-1, 1, size=shape) + n * np.eye(n)
    return ft.tensor(arr, dtype=dtype), arr


def spd(shape, dtype, rng):
    arr = rng.uniform(-1, 1, size=shape)
    arr = arr @ np.swapaxes(arr, -1, -2) + shape[-1] * np.eye(shape[-1])
    return ft.tensor(arr, dtype=dtype), arr


def close(got, expected, dtype):
    rtol, atol = LINALG_TOL[dtype]
    assert_close(got, expected, rtol=rtol, atol=atol, dtype=dtype)


@pytest.mark.parametrize("dtype", LINALG_DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (2, 1, 5, 5), (0, 3, 3), (0, 0)])
def test_inv_det_slogdet_match_numpy(shape, dtype, rng):
    a, na = well_conditioned(shape, dtype, rng)
    close(ft.linalg.inv(a), np.linalg.inv(na), dtype)
    close(ft.inverse(a), np.linalg.inv(na), dtype)
    close(ft.linalg.det(a), np.linalg.det(na), dtype)
    close(ft.det(a), np.linalg.det(na), dtype)
    sign, logabs = ft.linalg.slogdet(a)
    nsign, nlog = np.linalg.slogdet(na)
    close(sign, nsign, dtype)
    close(ft.linalg.slogdet(a).logabsdet, nlog, dtype)


def test_inv_of_transposed_input(rng):
    a, na = well_conditioned((4, 4), ft.float64, rng)
    close(ft.linalg.inv(a.t()), np.linalg.inv(na.T), ft.float64)


def test_inv_singular_raises_linalg_error():
    a = ft.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    with pytest.raises(ft.linalg.LinAlgError, match=r"linalg.inv: The diagonal element \d is zero, the inversion could not be completed because the input matrix is singular."):
        ft.linalg.inv(a)
    with pytest.raises(ft.linalg.LinAlgError, match=r"linalg.inv: \(Batch element 0\): The diagonal element"):
        ft.linalg.inv(a.expand(2, 3, 3))


def test_det_of_singular_is_zero():
    a = ft.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=ft.float64)
    assert ft.linalg.det(a).item() == 0.0
    sign, logabs = ft.linalg.slogdet(a)
    assert sign.item() == 0.0 and logabs.item() == float("-inf")


def test_linalg_rejects_non_float_and_non_square():
    with pytest.raises(RuntimeError, match="linalg.inv: Expected a floating point or complex tensor as input. Got Long"):
        ft.linalg.inv(ft.ones(2, 2, dtype=ft.int64))
    with pytest.raises(RuntimeError, match="linalg.inv: Low precision dtypes not supported. Got Half"):
        ft.linalg.inv(ft.ones(2, 2, dtype=ft.float16))
    with pytest.raises(RuntimeError, match="linalg.det: A must be batches of square matrices, but they are 2 by 3 matrices"):
        ft.linalg.det(ft.ones(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ft.linalg.det(ft.ones(3))


@pytest.mark.parametrize("dtype", LINALG_DTYPES)
@pytest.mark.parametrize("a_shape,b_shape", [((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3, 4)), ((1, 3, 3), (4, 3, 1))])
def test_solve_matches_numpy(a_shape, b_shape, dtype, rng):
    a, na = well_conditioned(a_shape, dtype, rng)
    b, nb = make(b_shape, dtype, rng)
    got = ft.linalg.solve(a, b)
    vector = len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and b_shape == a_shape[:-1])
    expected = np.linalg.solve(na, nb[..., None])[..., 0] if vector else np.linalg.solve(na, nb)
    close(got, expected, dtype)


def test_solve_left_false(rng):
    a, na = well_conditioned((3, 3), ft.float64, rng)
    b, nb = make((2, 3), ft.float64, rng)
    close(ft.linalg.solve(a, b, left=False), nb @ np.linalg.inv(na), ft.float64)


def test_solve_errors():
    with pytest.raises(ft.linalg.LinAlgError, match="The solver failed because the input matrix is singular."):
        ft.linalg.solve(ft.zeros(2, 2), ft.ones(2))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x2\)"):
        ft.linalg.solve(ft.eye(3), ft.ones(4, 2))


@pytest.mark.parametrize("dtype", LINALG_DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (3, 2, 2), (0, 0)])
def test_cholesky_matches_numpy(shape, dtype, rng):
    a, na = spd(shape, dtype, rng)
    L = ft.linalg.cholesky(a)
    close(L, np.linalg.cholesky(na), dtype)
    close(ft.linalg.cholesky(a, upper=True), np.swapaxes(np.linalg.cholesky(na), -1, -2), dtype)
    close(a.cholesky(), np.linalg.cholesky(na), dtype)


def test_cholesky_not_positive_definite_raises():
    a = ft.tensor([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ft.linalg.LinAlgError, match=r"the leading minor of order 2 is not positive-definite"):
        ft.linalg.cholesky(a)


@pytest.mark.parametrize("dtype", LINALG_DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 6, 3), (0, 3), (3, 0)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_reconstructs_and_is_orthonormal(shape, mode, dtype, rng):
    a, na = make(shape, dtype, rng, "transposed")
    q, r = ft.linalg.qr(a, mode=mode)
    m, n = shape[-2:]
    k = min(m, n)
    rows = {"reduced": k, "complete": m, "r": k}[mode]
    assert tuple(r.shape) == shape[:-2] + (rows, n)
    nr = to_numpy(r).astype(np.float64)
    assert np.allclose(np.tril(nr, -1), 0)
    if mode == "r":
        assert tuple(q.shape) == (0,)
        return
    nq = to_numpy(q).astype(np.float64)
    close(ft.tensor(nq @ nr, dtype=dtype), na, dtype)
    eye = np.eye(nq.shape[-1])
    assert np.allclose(np.swapaxes(nq, -1, -2) @ nq, eye, atol=1e-5)


@pytest.mark.parametrize("dtype", LINALG_DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 6, 3), (3, 0), (1, 1)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_reconstructs_and_matches_numpy_values(shape, full_matrices, dtype, rng):
    a, na = make(shape, dtype, rng, "strided" if all(shape) else "contiguous")
    u, s, vh = ft.linalg.svd(a, full_matrices=full_matrices)
    nu, ns, nvh = np.linalg.svd(na.astype(np.float64), full_matrices=full_matrices)
    assert tuple(u.shape) == nu.shape and tuple(vh.shape) == nvh.shape
    close(s, ns, dtype)
    close(ft.linalg.svdvals(a), ns, dtype)
    uu, vv = to_numpy(u).astype(np.float64), to_numpy(vh).astype(np.float64)
    k = min(shape[-2:])
    recon = uu[..., :, :k] * to_numpy(s).astype(np.float64)[..., None, :] @ vv[..., :k, :]
    close(ft.tensor(recon, dtype=dtype), na, dtype)
    assert np.allclose(np.swapaxes(uu, -1, -2) @ uu, np.eye(uu.shape[-1]), atol=1e-5)
    assert np.allclose(vv @ np.swapaxes(vv, -1, -2), np.eye(vv.shape[-2]), atol=1e-5)


def test_svd_of_rank_deficient_matrix_has_orthonormal_factors():
    a = ft.tensor([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]], dtype=ft.float64)
    u, s, vh = ft.linalg.svd(a)
    nu = to_numpy(u)
    assert np.allclose(nu.T @ nu, np.eye(3), atol=1e-12)
    assert np.allclose(to_numpy(s), np.linalg.svd(to_numpy(a), compute_uv=False), atol=1e-12)


def test_torch_svd_returns_v(rng):
    a, na = make((4, 3), ft.float64, rng)
    u, s, v = ft.svd(a)
    assert tuple(u.shape) == (4, 3) and tuple(v.shape) == (3, 3)
    close(ft.tensor((to_numpy(u) * to_numpy(s)) @ to_numpy(v).T), na, ft.float64)


@pytest.mark.parametrize("dtype", LINALG_DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (3, 3, 3), (1, 1), (0, 0)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_matches_numpy(shape, uplo, dtype, rng):
    arr = rng.uniform(-1, 1, size=shape)
    # Only the chosen triangle is read: garbage in the other one must not matter.
    a = ft.tensor(arr, dtype=dtype)
    w, v = ft.linalg.eigh(a, UPLO=uplo)
    nw = np.linalg.eigvalsh(arr, UPLO=uplo)
    close(w, nw, dtype)
    close(ft.linalg.eigvalsh(a, UPLO=uplo), nw, dtype)
    tri = np.tril(arr) if uplo == "L" else np.triu(arr)
    sym = tri + np.swapaxes(tri, -1, -2) - np.eye(shape[-1]) * np.diagonal(arr, 0, -2, -1)[..., None, :]
    nv = to_numpy(v).astype(np.float64)
    close(ft.tensor(nv * to_numpy(w).astype(np.float64)[..., None, :] @ np.swapaxes(nv, -1, -2), dtype=dtype), sym, dtype)


def test_eigh_result_is_named_tuple(rng):
    a, _ = spd((3, 3), ft.float64, rng)
    r = ft.linalg.eigh(a)
    assert r.eigenvalues.shape == (3,) and r.eigenvectors.shape == (3, 3)


@pytest.mark.parametrize("dtype", LINALG_DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_pinv_and_matrix_rank_match_numpy(shape, dtype, rng):
    a, na = make(shape, dtype, rng)
    close(ft.linalg.pinv(a), np.linalg.pinv(na.astype(np.float64)), dtype)
    np.testing.assert_array_equal(to_numpy(ft.linalg.matrix_rank(a)), np.linalg.matrix_rank(na.astype(np.float64)))
    low = ft.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=dtype)
    assert ft.linalg.matrix_rank(low).item() == 1


def test_lstsq_matches_numpy(rng):
    a, na = make((6, 3), ft.float64, rng)
    b, nb = make((6, 2), ft.float64, rng)
    x = ft.linalg.lstsq(a, b).solution
    close(x, np.linalg.lstsq(na, nb, rcond=None)[0], ft.float64)
    r = ft.linalg.lstsq(a, b, driver="gelsd")
    close(r.residuals, np.linalg.lstsq(na, nb, rcond=None)[1], ft.float64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", [2, 1, 0, 3.5, -1, float("inf"), float("-inf")])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_vector_norm_matches_numpy(ord, dim, keepdim, dtype, rng):
    a, na = make((3, 4, 5), dtype, rng, "transposed")
    got = ft.linalg.vector_norm(a, ord, dim=dim, keepdim=keepdim)
    x = na.astype(np.float64)
    axes = tuple(range(3)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    if ord == float("inf"):
        ref = np.abs(x).max(axis=axes, keepdims=keepdim)
    elif ord == float("-inf"):
        ref = np.abs(x).min(axis=axes, keepdims=keepdim)
    elif ord == 0:
        ref = (x != 0).sum(axis=axes, keepdims=keepdim).astype(np.float64)
    else:
        ref = (np.abs(x) ** ord).sum(axis=axes, keepdims=keepdim) ** (1 / ord)
    assert got.dtype == dtype
    assert_close(got, ref, dtype=dtype, rtol=max(1e-6, {ft.float16: 2e-3, ft.bfloat16: 1e-2}.get(dtype, 1e-6)))


def test_vector_norm_nan_and_empty():
    t = ft.tensor([1.0, float("nan"), 3.0])
    assert np.isnan(ft.linalg.vector_norm(t).item())
    assert np.isnan(ft.linalg.vector_norm(t, float("inf")).item())
    assert ft.linalg.vector_norm(ft.zeros(0)).item() == 0.0
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        ft.linalg.vector_norm(ft.zeros(0), float("inf"))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        ft.linalg.vector_norm(ft.ones(2, dtype=ft.int64))


@pytest.mark.parametrize("dtype", LINALG_DTYPES)
@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")])
def test_matrix_norm_matches_numpy(ord, dtype, rng):
    a, na = make((2, 4, 3), dtype, rng, "strided")
    expected = np.linalg.norm(na.astype(np.float64), ord=ord, axis=(-2, -1))
    close(ft.linalg.matrix_norm(a, ord), expected, dtype)
    kept = ft.linalg.matrix_norm(a, ord, dim=(0, 2), keepdim=True)
    close(kept, np.linalg.norm(na.astype(np.float64), ord=ord, axis=(0, 2), keepdims=True), dtype)


def test_matrix_norm_errors():
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: Order 3 not supported."):
        ft.linalg.matrix_norm(ft.ones(2, 2), 3)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ft.linalg.matrix_norm(ft.ones(2))


def test_linalg_norm_dispatch(rng):
    a, na = make((3, 4), ft.float64, rng)
    close(ft.linalg.norm(a), np.linalg.norm(na), ft.float64)
    close(ft.linalg.norm(a, 2), np.linalg.norm(na, 2), ft.float64)
    close(ft.linalg.norm(a, dim=1), np.linalg.norm(na, axis=1), ft.float64)
    close(ft.linalg.norm(a, "nuc"), np.linalg.norm(na, "nuc"), ft.float64)
    with pytest.raises(RuntimeError, match="the input must be 1D or 2D. Got 3D."):
        ft.linalg.norm(ft.ones(2, 2, 2), 2)


def test_torch_norm(rng):
    a, na = make((3, 4), ft.float32, rng)
    close(a.norm(), np.linalg.norm(na.astype(np.float64)), ft.float32)
    close(ft.norm(a, p=1, dim=0), np.abs(na.astype(np.float64)).sum(0), ft.float32)
    close(ft.norm(a, p="fro", dim=(0, 1)), np.linalg.norm(na.astype(np.float64)), ft.float32)


def test_matrix_power_multi_dot_vecdot(rng):
    a, na = well_conditioned((3, 3), ft.float64, rng)
    close(ft.linalg.matrix_power(a, 3), np.linalg.matrix_power(na, 3), ft.float64)
    close(ft.linalg.matrix_power(a, -2), np.linalg.matrix_power(na, -2), ft.float64)
    close(ft.linalg.matrix_power(a, 0), np.eye(3), ft.float64)
    b, nb = make((3, 5), ft.float64, rng)
    v, nv = make((5,), ft.float64, rng)
    close(ft.linalg.multi_dot([a, b, v]), np.linalg.multi_dot([na, nb, nv]), ft.float64)
    close(ft.linalg.vecdot(b, b), (nb * nb).sum(-1), ft.float64)


def test_linalg_is_a_submodule():
    import ferrotorch.linalg as la

    assert la.inv is ft.linalg.inv
    assert issubclass(ft.linalg.LinAlgError, RuntimeError)
