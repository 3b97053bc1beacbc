"""normalize, cosine_similarity, pairwise_distance, pdist and their modules, against NumPy."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.nn import functional as F

from conftest import LAYOUTS, assert_close, leaf, make


def numpy_norm(x, p, axis, keepdims=False):
    """The p-norm PyTorch's norm computes, p = 0 (count of non-zeros) and inf included."""
    if p == 0:
        return (x != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype)
    if np.isinf(p):
        return np.abs(x).max(axis=axis, keepdims=keepdims)
    return (np.abs(x) ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_numpy(layout, p, dim, rng):
    x, arr = make((3, 4, 2), ft.float64, rng, layout)
    expected = arr / np.maximum(numpy_norm(arr, p, dim, True), 1e-12)
    assert_close(F.normalize(x, p, dim), expected)


def test_normalize_zero_vectors_stay_zero_and_float32(rng):
    x, arr = make((3, 4), ft.float32, rng)
    x[1] = 0.0
    arr[1] = 0.0
    assert_close(F.normalize(x, dim=1), arr / np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12), ft.float32)


def test_normalize_writes_into_out(rng):
    x, arr = make((2, 3), ft.float64, rng)
    out = ft.empty(2, 3, dtype=ft.float64)
    assert F.normalize(x, out=out) is out
    assert_close(out, arr / np.linalg.norm(arr, axis=1, keepdims=True))


def numpy_cosine(a, b, dim, eps):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.linalg.norm(a, axis=dim, keepdims=True), eps)
    nb = np.maximum(np.linalg.norm(b, axis=dim, keepdims=True), eps)
    return ((a / na) * (b / nb)).sum(dim)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_cosine_similarity_broadcasts(layout, dtype, rng):
    x1, a = make((4, 1, 3), dtype, rng, layout)
    x2, b = make((5, 3), dtype, rng, layout)
    assert_close(F.cosine_similarity(x1, x2, dim=-1), numpy_cosine(a, b, -1, 1e-8), dtype)


def test_cosine_similarity_clamps_each_norm_with_eps(rng):
    a = np.array([[1e-3, 0.0], [0.0, 0.0]])
    b = np.array([[2.0, 0.0], [1.0, 1.0]])
    out = F.cosine_similarity(ft.tensor(a), ft.tensor(b), eps=0.1)
    assert_close(out, numpy_cosine(a, b, 1, 0.1))
    assert out[0].item() == pytest.approx(1e-3 / 0.1)


def test_cosine_similarity_needs_a_floating_type():
    with pytest.raises(RuntimeError, match="expected common dtype to be floating point, yet common dtype is Long"):
        F.cosine_similarity(ft.tensor([1, 2]), ft.tensor([3, 4]), dim=0)
    assert_close(F.cosine_similarity(ft.tensor([1, 2]), ft.tensor([3.0, 4.0]), dim=0), numpy_cosine(np.array([1.0, 2.0]), np.array([3.0, 4.0]), 0, 1e-8), ft.float32)


def test_cosine_similarity_shape_mismatch():
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        F.cosine_similarity(ft.zeros(2, 3), ft.zeros(4, 3))


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.5, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_matches_numpy(p, keepdim, rng):
    x1, a = make((4, 3), ft.float64, rng, "transposed")
    x2, b = make((3,), ft.float64, rng)
    expected = numpy_norm(a - b + 1e-6, p, -1, keepdim)
    assert_close(F.pairwise_distance(x1, x2, p, keepdim=keepdim), expected)


def test_pairwise_distance_of_vectors_and_empty_batch():
    assert_close(F.pairwise_distance(ft.tensor([1.0, 2.0]), ft.tensor([4.0, 6.0]), eps=0.0), np.float32(5.0))
    assert tuple(F.pairwise_distance(ft.zeros(0, 3), ft.zeros(0, 3)).shape) == (0,)


def numpy_pdist(x, p):
    n = x.shape[0]
    return np.array([numpy_norm(x[i] - x[j], p, 0) for i in range(n) for j in range(i + 1, n)]).reshape(-1)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_pdist_matches_numpy(p, dtype, rng):
    x, arr = make((5, 3), dtype, rng, "strided")
    assert_close(F.pdist(x, p), numpy_pdist(arr.astype(np.float64), p), dtype)


def test_pdist_with_fewer_than_two_rows_is_empty():
    assert tuple(F.pdist(ft.zeros(1, 3)).shape) == (0,) and tuple(F.pdist(ft.zeros(0, 3)).shape) == (0,)


@pytest.mark.parametrize("call, match", [
    (lambda: F.pdist(ft.zeros(3)), "pdist only supports 2D tensors, got: 1D"),
    (lambda: F.pdist(ft.zeros(3, 2), p=-1), "pdist only supports non-negative p values"),
    (lambda: F.pdist(ft.zeros(3, 2, dtype=ft.int64)), "pdist only supports floating-point dtypes"),
])
def test_pdist_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


@pytest.mark.parametrize("function, shapes", [
    (lambda x: F.normalize(x, 3.0, 0), [(3, 2)]),
    (lambda x, y: F.cosine_similarity(x, y, dim=-1), [(2, 1, 3), (2, 3)]),
    (lambda x, y: F.pairwise_distance(x, y, 3.0), [(2, 3), (2, 3)]),
    (lambda x: F.pdist(x, 2.0), [(4, 2)]),
    (lambda x: F.pdist(x, 1.5), [(3, 2)]),
])
def test_gradcheck(function, shapes, rng):
    inputs = [leaf(s, rng, "transposed") for s in shapes]
    assert ft.autograd.gradcheck(function, inputs)


def test_cosine_similarity_gradient_ignores_the_clamp():
    # As PyTorch: the clamped norm is divided by, but differentiated as the plain norm.
    x = ft.tensor([[0.01, 0.02]], dtype=ft.float64, requires_grad=True)
    y = ft.tensor([[1.0, 0.0]], dtype=ft.float64)
    F.cosine_similarity(x, y, eps=1.0).backward()
    a = np.array([0.01, 0.02])
    n = np.linalg.norm(a)
    # d/da of (a0 / c) with c = max(n, 1) treated as n in the derivative: 1/c - a0 * a / (c * c * n).
    expected = np.array([1.0, 0.0]) / 1.0 - a[0] * a / (1.0 * n) / 1.0
    assert_close(x.grad, expected[None])


def test_modules(rng):
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance()" and repr(nn.CosineSimilarity()) == "CosineSimilarity()"
    x1, a = make((4, 3), ft.float64, rng)
    x2, b = make((4, 3), ft.float64, rng)
    assert_close(nn.PairwiseDistance(p=1.0, eps=0.0, keepdim=True)(x1, x2), numpy_norm(a - b, 1.0, -1, True))
    assert_close(nn.CosineSimilarity(dim=0, eps=1e-8)(x1, x2), numpy_cosine(a, b, 0, 1e-8))
    module = nn.PairwiseDistance(3.0, 1e-3, True)
    assert (module.norm, module.eps, module.keepdim) == (3.0, 1e-3, True)
    assert len(nn.CosineSimilarity().state_dict()) == 0
