"""Top-level composite functions (``diff``, ``cross``, ``cdist``, ``cov``, ...) against NumPy
references, on non-contiguous, broadcast and empty inputs, with gradcheck."""

import itertools
import warnings

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import LAYOUTS, assert_close, leaf, make


# --- diff ------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("n,dim", [(1, -1), (2, 0), (3, 1)])
def test_diff_matches_numpy(layout, n, dim, rng):
    x, a = make((4, 5), ft.float32, rng, layout)
    assert_close(ft.diff(x, n=n, dim=dim), np.diff(a, n=n, axis=dim))


def test_diff_prepend_append_promote_and_broadcast_free(rng):
    x, a = make((3, 4), ft.float64, rng, "transposed")
    p, b = make((3, 1), ft.float64, rng)
    q, c = make((3, 2), ft.int64, rng)
    assert_close(ft.diff(x, dim=1, prepend=p, append=q), np.diff(a, axis=1, prepend=b, append=c))


def test_diff_integer_bool_and_order_beyond_length():
    assert ft.diff(ft.tensor([1, 4, 9, 16])).tolist() == [3, 5, 7]
    assert ft.diff(ft.tensor([True, False, False])).tolist() == [True, False]
    assert tuple(ft.diff(ft.arange(5.0), n=7).shape) == (0,)
    assert ft.diff(ft.arange(3.0), n=0).tolist() == [0.0, 1.0, 2.0]
    assert tuple(ft.diff(ft.zeros(0, 3), dim=0).shape) == (0, 3)


@pytest.mark.parametrize("call,error,match", [
    (lambda: ft.diff(ft.tensor(1.0)), RuntimeError, "at least one-dimensional"),
    (lambda: ft.diff(ft.arange(3.0), n=-1), RuntimeError, "order must be non-negative but got -1"),
    (lambda: ft.diff(ft.arange(3.0), prepend=ft.zeros(2, 2)), RuntimeError, "same dimension as input"),
    (lambda: ft.diff(ft.arange(3.0), prepend=1.0), TypeError, "argument 'prepend' must be Tensor, not float"),
    (lambda: ft.diff(ft.arange(3.0), dim=3), IndexError, r"expected to be in range of \[-1, 0\], but got 3"),
])
def test_diff_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_diff_gradcheck(rng):
    x = leaf((3, 4), rng, "transposed")
    p = leaf((3, 1), rng)
    assert gradcheck(lambda x, p: ft.diff(x, n=2, dim=1, prepend=p), (x, p))


# --- cross -----------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_linalg_cross_matches_numpy(layout, rng):
    x, a = make((4, 3), ft.float64, rng, layout)
    y, b = make((1, 3), ft.float64, rng)
    assert_close(ft.linalg.cross(x, y), np.cross(a, b))
    assert_close(ft.cross(x, y, dim=1), np.cross(a, b))


def test_cross_along_a_leading_dim_and_integers(rng):
    x, a = make((3, 2, 2), ft.int64, rng, "strided")
    y, b = make((3, 2, 2), ft.int64, rng)
    assert_close(ft.linalg.cross(x, y, dim=0), np.cross(a, b, axis=0))


def test_cross_without_dim_uses_first_size_3_dim_and_warns(rng):
    x, a = make((2, 3, 3), ft.float32, rng)
    y, b = make((2, 3, 3), ft.float32, rng)
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        got = ft.cross(x, y)
    assert_close(got, np.cross(a, b, axis=1))


def test_cross_empty_batch():
    assert tuple(ft.linalg.cross(ft.zeros(0, 3), ft.zeros(0, 3)).shape) == (0, 3)


@pytest.mark.parametrize("call,match", [
    (lambda: ft.linalg.cross(ft.zeros(3, 2), ft.zeros(3, 2)), "inputs dimension -1 must have length 3. Got 2 and 2"),
    (lambda: ft.linalg.cross(ft.zeros(2, 3), ft.zeros(3)), "must have the same number of dimensions"),
    (lambda: ft.linalg.cross(ft.zeros(3), ft.zeros(3, dtype=ft.float64)), "expected scalar type Float but found Double"),
    (lambda: ft.cross(ft.zeros(2, 2), ft.zeros(2, 2), dim=None), "no dimension of size 3 in input"),
])
def test_cross_errors(call, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match=match):
            call()


def test_cross_gradcheck(rng):
    assert gradcheck(lambda a, b: ft.linalg.cross(a, b, dim=0), (leaf((3, 2), rng), leaf((3, 1), rng)))


# --- cdist and friends -----------------------------------------------------------------------

def cdist_ref(a, b, p):
    d = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        return (d != 0).sum(-1).astype(a.dtype)
    if p == np.inf:
        return d.max(-1)
    return (d ** p).sum(-1) ** (1 / p)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, np.inf])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_cdist_matches_numpy(p, layout, rng):
    x, a = make((2, 4, 3), ft.float64, rng, layout)
    y, b = make((5, 3), ft.float64, rng)
    assert_close(ft.cdist(x, y, p=p), cdist_ref(a, b, p))


def test_cdist_float32_modes_and_empty(rng):
    x, a = make((4, 3), ft.float32, rng)
    y, b = make((2, 3), ft.float32, rng)
    for mode in ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"]:
        assert_close(ft.cdist(x, y, compute_mode=mode), cdist_ref(a, b, 2.0), rtol=1e-5, atol=1e-5)
    assert tuple(ft.cdist(ft.zeros(0, 3), y).shape) == (0, 2)


@pytest.mark.parametrize("call,error,match", [
    (lambda: ft.cdist(ft.zeros(3), ft.zeros(2, 3)), RuntimeError, "at least 2D tensors, X1 got: 1D"),
    (lambda: ft.cdist(ft.zeros(2, 3), ft.zeros(2, 4)), RuntimeError, "same number of columns. X1: 3 X2: 4"),
    (lambda: ft.cdist(ft.zeros(2, 3), ft.zeros(2, 3), p=-1), RuntimeError, "non-negative p values"),
    (lambda: ft.cdist(ft.zeros(2, 3, dtype=ft.int64), ft.zeros(2, 3)), RuntimeError, "floating-point dtypes, X1 got: Long"),
    (lambda: ft.cdist(ft.zeros(2, 3), ft.zeros(2, 3), compute_mode="x"), ValueError, "x is not a valid value"),
])
def test_cdist_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_cdist_gradcheck_and_zero_distance(p, rng):
    x, y = leaf((3, 2), rng), leaf((2, 2), rng)
    assert gradcheck(lambda x, y: ft.cdist(x, y, p=p), (x, y))
    same = leaf((2, 2), rng)
    (grad,) = ft.autograd.grad(ft.cdist(same, same.detach(), p=p).sum(), same)
    assert np.isfinite(grad.numpy()).all()


def test_cdist_gradgradcheck(rng):
    assert gradgradcheck(lambda x, y: ft.cdist(x, y), (leaf((2, 2), rng), leaf((2, 2), rng)))


def test_cosine_similarity_pairwise_distance_pdist(rng):
    x, a = make((3, 4), ft.float64, rng, "transposed")
    y, b = make((3, 4), ft.float64, rng)
    cos = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-8)
    assert_close(ft.cosine_similarity(x, y), cos)
    assert_close(ft.pairwise_distance(x, y), np.linalg.norm(a - b + 1e-6, axis=1))
    expected = [np.linalg.norm(a[i] - a[j]) for i, j in itertools.combinations(range(3), 2)]
    assert_close(ft.pdist(x), expected)


# --- dist and renorm -------------------------------------------------------------------------

def p_norm(d, p):
    d = np.abs(d)
    if p == 0:
        return float((d != 0).sum())
    if p == np.inf:
        return d.max() if d.size else 0.0
    return (d ** p).sum() ** (1 / p)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.5, np.inf])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_dist_matches_numpy(p, layout, rng):
    x, a = make((3, 4), ft.float64, rng, layout)
    y, b = make((4,), ft.float64, rng)  # broadcast against x
    got = ft.dist(x, y, p)
    assert got.dim() == 0
    assert_close(got, np.asarray(p_norm(a - b, p)))
    assert_close(x.dist(y, p), np.asarray(p_norm(a - b, p)))


def test_dist_empty_zero_dim_and_nan():
    assert ft.dist(ft.zeros(0, 3), ft.zeros(3)).item() == 0.0
    assert ft.dist(ft.tensor(3.0), ft.tensor(-1.0)).item() == 4.0
    assert np.isnan(ft.dist(ft.tensor([1.0, float("nan")]), ft.zeros(2)).item())
    assert ft.dist(ft.tensor([1.0, float("inf")]), ft.zeros(2)).item() == float("inf")


def renorm_ref(a, p, dim, maxnorm):
    moved = np.moveaxis(a, dim, 0)
    norms = np.array([p_norm(s, p) for s in moved]).reshape((-1,) + (1,) * (a.ndim - 1))
    factor = np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return np.moveaxis(moved * factor, 0, dim)


@pytest.mark.parametrize("p,dim,maxnorm", [(2.0, 0, 3.0), (1.0, 1, 5.0), (np.inf, -1, 2.0), (3.0, 2, 100.0)])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_renorm_matches_numpy(p, dim, maxnorm, layout, rng):
    x, a = make((3, 4, 2), ft.float64, rng, layout)
    assert_close(ft.renorm(x, p, dim, maxnorm), renorm_ref(a, p, dim, maxnorm))
    y = x.clone()
    assert y.renorm_(p, dim, maxnorm) is y
    assert_close(y, renorm_ref(a, p, dim, maxnorm))


@pytest.mark.parametrize("dtype", [ft.float32, ft.bfloat16, ft.float16])
def test_renorm_low_precision_and_empty(dtype, rng):
    x, a = make((4, 3), dtype, rng)
    assert_close(x.renorm(2, 0, 1.0), renorm_ref(a.astype(np.float64), 2, 0, 1.0), dtype=dtype)
    assert tuple(ft.renorm(ft.zeros(0, 3), 2, 0, 1.0).shape) == (0, 3)


@pytest.mark.parametrize("call,match", [
    (lambda: ft.renorm(ft.ones(3, 2), 0, 0, 1.0), "non-positive-norm not supported"),
    (lambda: ft.renorm(ft.ones(3, 2), 2, 0, -1.0), "expected maxnorm to be >= 0 but got -1.0"),
    (lambda: ft.renorm(ft.ones(3), 2, 0, 1.0), "needs at least 2 dimensions, got 1 dimensions"),
    (lambda: ft.renorm(ft.ones(3, 2, dtype=ft.int64), 2, 0, 1.0), "expected a floating point dtype"),
])
def test_renorm_errors_are_pytorchs(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()
    with pytest.raises(IndexError, match="Dimension out of range"):
        ft.renorm(ft.ones(3, 2), 2, 2, 1.0)


def test_dist_and_renorm_gradcheck(rng):
    x, y = leaf((3, 4), rng), leaf((4,), rng)
    assert gradcheck(lambda a, b: ft.dist(a, b, 3.0), (x, y))
    assert gradgradcheck(lambda a, b: ft.dist(a, b), (x, y))
    z = leaf((3, 4), rng, "transposed")
    assert gradcheck(lambda a: ft.renorm(a, 2, 0, 1.5), (z,))
    assert gradcheck(lambda a: ft.renorm(a, 1, 1, 2.0), (z,))


# --- cov / corrcoef --------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_matches_numpy(layout, correction, rng):
    x, a = make((3, 6), ft.float64, rng, layout)
    assert_close(ft.cov(x, correction=correction), np.cov(a, ddof=correction))


def test_cov_weights_match_numpy(rng):
    x, a = make((2, 5), ft.float32, rng, "strided")
    fw = ft.tensor([1, 2, 0, 3, 1])
    aw, w = make((5,), ft.float32, rng, low=0.1, high=2)
    assert_close(ft.cov(x, fweights=fw, aweights=aw), np.cov(a, fweights=fw.numpy(), aweights=w), rtol=1e-5, atol=1e-5)
    assert_close(ft.cov(x, correction=0, aweights=aw), np.cov(a, ddof=0, aweights=w), rtol=1e-5, atol=1e-5)


def test_cov_1d_and_integer_inputs():
    got = ft.cov(ft.tensor([1, 2, 4, 7]))
    assert got.dim() == 0 and got.dtype == ft.float32
    assert got.item() == pytest.approx(np.cov([1, 2, 4, 7]))


def test_cov_too_few_observations_warns_and_gives_inf_or_nan():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        got = ft.cov(ft.tensor([[1.0], [2.0]]))
    assert np.isnan(got.numpy()).all()


@pytest.mark.parametrize("kwargs,match", [
    ({"fweights": ft.tensor([1.0, 2.0, 3.0])}, "fweights to have integral dtype but got fweights with Float dtype"),
    ({"fweights": ft.tensor([1, 2])}, "same numel as there are observations in the input but got 2 != 3"),
    ({"fweights": ft.tensor([1, -2, 1])}, "fweights cannot be negative"),
    ({"aweights": ft.tensor([1, 2, 3])}, "aweights to have floating point dtype but got aweights with Long dtype"),
    ({"aweights": ft.zeros(3)}, "weights sum to zero, can't be normalized"),
    ({"fweights": ft.ones(1, 3, dtype=ft.int64)}, "fweights to have one or fewer dimensions"),
])
def test_cov_weight_errors(kwargs, match):
    with pytest.raises(RuntimeError, match=match):
        ft.cov(ft.zeros(2, 3), **kwargs)


def test_cov_rejects_3d():
    with pytest.raises(RuntimeError, match="two or fewer dimensions but got an input with 3 dimensions"):
        ft.cov(ft.zeros(2, 2, 2))


def test_cov_gradcheck(rng):
    x = leaf((2, 4), rng)
    aw = ft.tensor([0.5, 1.0, 2.0, 1.5], dtype=ft.float64, requires_grad=True)
    assert gradcheck(lambda x, w: ft.cov(x, aweights=w), (x, aw))


@pytest.mark.parametrize("layout", LAYOUTS[:3])
def test_corrcoef_matches_numpy(layout, rng):
    x, a = make((3, 5), ft.float64, rng, layout)
    assert_close(ft.corrcoef(x), np.corrcoef(a))
    assert ft.corrcoef(ft.tensor([1.0, 2.0, 4.0])).item() == 1.0


def test_corrcoef_gradcheck(rng):
    # Off-diagonal entries only: the diagonal is exactly 1, where clip's derivative is a convention.
    def off_diagonal(x):
        c = ft.corrcoef(x)
        return c[0, 1:]

    assert gradcheck(off_diagonal, (leaf((3, 4), rng),))


# --- vander / combinations / chain_matmul ----------------------------------------------------

@pytest.mark.parametrize("n,increasing", [(None, False), (4, True), (1, False), (0, False)])
def test_vander_matches_numpy(n, increasing, rng):
    x, a = make((3,), ft.float64, rng, "strided")
    assert_close(ft.vander(x, N=n, increasing=increasing), np.vander(a, N=n, increasing=increasing))


def test_vander_dtypes_and_empty():
    got = ft.vander(ft.tensor([1, 2, 3], dtype=ft.int32))
    assert got.dtype == ft.int64 and got.tolist() == np.vander([1, 2, 3]).tolist()
    assert ft.vander(ft.tensor([True, False]), 2).dtype == ft.int64
    assert ft.vander(ft.zeros(3, dtype=ft.float32)).dtype == ft.float32
    assert tuple(ft.vander(ft.zeros(0)).shape) == (0, 0)


def test_vander_errors_and_gradcheck(rng):
    with pytest.raises(RuntimeError, match="x must be a one-dimensional tensor"):
        ft.vander(ft.zeros(2, 2))
    with pytest.raises(RuntimeError, match="N must be non-negative"):
        ft.vander(ft.zeros(2), -1)
    x = ft.tensor([0.0, 1.5, -2.0], dtype=ft.float64, requires_grad=True)
    assert gradcheck(lambda x: ft.vander(x, 4), (x,))


@pytest.mark.parametrize("r,replace", [(2, False), (3, False), (2, True), (1, False), (4, False)])
def test_combinations_match_itertools(r, replace, rng):
    x, a = make((3,), ft.float32, rng, "strided")
    choose = itertools.combinations_with_replacement if replace else itertools.combinations
    expected = np.array([list(c) for c in choose(a, r)], dtype=np.float32).reshape(-1, r)
    assert_close(ft.combinations(x, r, with_replacement=replace), expected)


def test_combinations_edges_and_errors():
    assert tuple(ft.combinations(ft.tensor([1, 2]), r=0).shape) == (0,)
    assert tuple(ft.combinations(ft.tensor([], dtype=ft.int64)).shape) == (0, 2)
    with pytest.raises(RuntimeError, match=r"Expect a 1D vector, but got shape \[2, 2\]"):
        ft.combinations(ft.zeros(2, 2))
    with pytest.raises(RuntimeError, match="Expect a non-negative number, but got -1"):
        ft.combinations(ft.zeros(2), r=-1)


def test_combinations_gradcheck(rng):
    assert gradcheck(lambda x: ft.combinations(x, 2), (leaf((4,), rng),))


def test_chain_matmul(rng):
    mats = [make(s, ft.float64, rng, "transposed") for s in [(2, 3), (3, 4), (4, 2)]]
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        got = ft.chain_matmul(*[m for m, _ in mats])
    assert_close(got, mats[0][1] @ mats[1][1] @ mats[2][1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = ft.chain_matmul(mats[0][0])
        assert_close(single, mats[0][1])
        with pytest.raises(RuntimeError, match="Tensor dimension is 1, expected 2 instead"):
            ft.chain_matmul(ft.zeros(2, 2), ft.zeros(2))


# --- predicates ------------------------------------------------------------------------------

def test_is_nonzero():
    assert ft.is_nonzero(ft.tensor([1.5])) is True
    assert ft.is_nonzero(ft.tensor(0)) is False and ft.is_nonzero(ft.tensor([[False]])) is False
    with pytest.raises(RuntimeError, match="with no values is ambiguous"):
        ft.is_nonzero(ft.zeros(0))
    with pytest.raises(RuntimeError, match="with more than one value is ambiguous"):
        ft.is_nonzero(ft.zeros(2))


def test_is_same_size():
    assert ft.is_same_size(ft.zeros(2, 3), ft.ones(2, 3, dtype=ft.int64))
    assert not ft.is_same_size(ft.zeros(2, 3), ft.zeros(3, 2))


# --- dropout ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"])
def test_dropout_off_or_zero_probability_is_identity(name):
    x = ft.ones(2, 3, 4)
    assert getattr(ft, name)(x, 0.5, False) is x
    assert getattr(ft, name)(x, 0.0, True) is x


def test_dropout_scales_survivors_and_keeps_mean():
    ft.manual_seed(0)
    out = ft.dropout(ft.ones(20000), 0.25, True).numpy()
    assert set(np.unique(out).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    assert abs((out == 0).mean() - 0.25) < 0.02


def test_feature_dropout_drops_whole_channels():
    ft.manual_seed(0)
    out = ft.feature_dropout(ft.ones(8, 16, 3, 3), 0.5, True).numpy()
    per_channel = out.reshape(8, 16, 9)
    assert (per_channel == per_channel[..., :1]).all()
    assert set(np.unique(out).tolist()) == {0.0, 2.0}
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ft.feature_dropout(ft.ones(4), 0.5, True)


def test_alpha_dropout_keeps_zero_mean_unit_variance():
    ft.manual_seed(0)
    out = ft.alpha_dropout(ft.randn(50000), 0.3, True).numpy()
    assert abs(out.mean()) < 0.03 and abs(out.var() - 1) < 0.05
    alpha, p = 1.7580993408473766, 0.3
    a = 1 / np.sqrt((alpha ** 2 * p + 1) * (1 - p))
    dropped = alpha * a * (p - 1)  # where the dropped units land
    assert abs(np.isclose(out, dropped).mean() - p) < 0.02


def test_dropout_in_place_variants_and_p_one():
    x = ft.ones(5)
    assert ft.dropout_(x, 1.0, True) is x and x.tolist() == [0.0] * 5
    y = ft.ones(2, 3)
    assert ft.feature_alpha_dropout_(y, 0.5, True) is y
    assert tuple(ft.dropout(ft.zeros(0, 3), 0.5, True).shape) == (0, 3)


def test_dropout_rejects_bad_probability():
    with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        ft.dropout(ft.ones(2), 1.5, True)


def test_dropout_gradient_is_the_mask():
    ft.manual_seed(1)
    x = ft.ones(100, dtype=ft.float64, requires_grad=True)
    out = ft.dropout(x, 0.5, True)
    (grad,) = ft.autograd.grad(out.sum(), x)
    np.testing.assert_array_equal(grad.numpy(), out.detach().numpy())


# --- embedding and the normalizations --------------------------------------------------------

def test_embedding_takes_weight_first(rng):
    w, a = make((5, 3), ft.float64, rng, "transposed")
    idx = ft.tensor([[0, 4], [2, 2]])
    assert_close(ft.embedding(w, idx), a[idx.numpy()])


def test_embedding_padding_idx_gets_no_gradient(rng):
    w = leaf((4, 2), rng)
    out = ft.embedding(w, ft.tensor([0, 1, 1, 3]), padding_idx=1)
    (grad,) = ft.autograd.grad(out.sum(), w)
    assert grad.numpy().tolist() == [[1, 1], [0, 0], [0, 0], [1, 1]]
    (grad,) = ft.autograd.grad(ft.embedding(w, ft.tensor([1, 1]), padding_idx=-1).sum(), w)
    assert grad.numpy()[1].tolist() == [2, 2]


def test_batch_norm_aten_argument_order(rng):
    x, a = make((4, 3, 2), ft.float64, rng, "transposed")
    w, b = ft.tensor([1.0, 2.0, 0.5], dtype=ft.float64), ft.tensor([0.0, 1.0, -1.0], dtype=ft.float64)
    mean, var = ft.zeros(3, dtype=ft.float64), ft.ones(3, dtype=ft.float64)
    got = ft.batch_norm(x, w, b, mean, var, True, 0.1, 1e-5, False)
    m, v = a.mean((0, 2), keepdims=True), a.var((0, 2), keepdims=True)
    assert_close(got, (a - m) / np.sqrt(v + 1e-5) * w.numpy()[:, None] + b.numpy()[:, None])
    assert_close(mean, 0.1 * a.mean((0, 2)))
    eval_out = ft.batch_norm(x, None, None, ft.zeros(3, dtype=ft.float64), ft.ones(3, dtype=ft.float64), False, 0.1, 0.0, False)
    assert_close(eval_out, a)


def test_instance_norm_aten_argument_order(rng):
    x, a = make((2, 3, 5), ft.float64, rng, "strided")
    got = ft.instance_norm(x, None, None, None, None, True, 0.1, 1e-5, False)
    m, v = a.mean(2, keepdims=True), a.var(2, keepdims=True)
    assert_close(got, (a - m) / np.sqrt(v + 1e-5))


def test_group_norm_top_level(rng):
    x, a = make((2, 4, 3), ft.float64, rng, "transposed")
    got = ft.group_norm(x, 2)
    g = a.reshape(2, 2, 6)
    expected = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + 1e-5)).reshape(2, 4, 3)
    assert_close(got, expected)
    assert gradcheck(lambda t: ft.group_norm(t, 2), (leaf((2, 4, 3), rng),))
