"""Normalization: F.batch_norm/instance_norm/group_norm/layer_norm/rms_norm/local_response_norm and
the BatchNorm, InstanceNorm, GroupNorm, LayerNorm, RMSNorm, LocalResponseNorm, CrossMapLRN2d modules,
against float64 NumPy references written here."""

import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.nn import functional as F

from conftest import assert_close, leaf, make


# ----- NumPy references ---------------------------------------------------------------------

def np_channel_view(v, ndim):
    return np.asarray(v, dtype=np.float64).reshape((1, -1) + (1,) * (ndim - 2))


def np_batch_norm(x, rm, rv, w, b, training, momentum, eps):
    """(output, new running mean, new running var), all float64."""
    x = x.astype(np.float64)
    dims = (0,) + tuple(range(2, x.ndim))
    if training:
        mean, var = x.mean(dims), x.var(dims)
        n = x.size // x.shape[1]
        rm = None if rm is None else (1 - momentum) * rm + momentum * mean
        rv = None if rv is None else (1 - momentum) * rv + momentum * var * n / (n - 1)
    else:
        mean, var = rm, rv
    out = (x - np_channel_view(mean, x.ndim)) / np.sqrt(np_channel_view(var, x.ndim) + eps)
    if w is not None:
        out = out * np_channel_view(w, x.ndim)
    if b is not None:
        out = out + np_channel_view(b, x.ndim)
    return out, rm, rv


def np_group_norm(x, groups, w, b, eps):
    n, c = x.shape[:2]
    g = x.astype(np.float64).reshape(n, groups, -1)
    out = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)).reshape(x.shape)
    if w is not None:
        out = out * np_channel_view(w, x.ndim)
    if b is not None:
        out = out + np_channel_view(b, x.ndim)
    return out


def np_layer_norm(x, k, w, b, eps):
    dims = tuple(range(-k, 0))
    x = x.astype(np.float64)
    out = (x - x.mean(dims, keepdims=True)) / np.sqrt(x.var(dims, keepdims=True) + eps)
    return out * (1 if w is None else w) + (0 if b is None else b)


def np_rms_norm(x, k, w, eps):
    x = x.astype(np.float64)
    out = x / np.sqrt((x * x).mean(tuple(range(-k, 0)), keepdims=True) + eps)
    return out if w is None else out * w


def np_local_response_norm(x, size, alpha, beta, k):
    x = x.astype(np.float64)
    sq = x * x
    c = x.shape[1]
    div = np.zeros_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c - 1, ch + (size - 1) // 2)
        div[:, ch] = sq[:, lo:hi + 1].sum(1)
    return x / (k + alpha / size * div) ** beta


def np_cross_map_lrn2d(x, size, alpha, beta, k):
    """Lua Torch's running-sum loop, as PyTorch's CrossMapLRN2d writes it."""
    x = x.astype(np.float64)
    sq = x * x
    c = x.shape[1]
    pre_pad = (size - 1) // 2 + 1
    scale = np.zeros_like(x)
    scale[:, 0] = sq[:, :min(pre_pad, c)].sum(1)
    for ch in range(1, c):
        scale[:, ch] = scale[:, ch - 1]
        if ch < c - pre_pad + 1:
            scale[:, ch] += sq[:, ch + pre_pad - 1]
        if ch > pre_pad:
            scale[:, ch] -= sq[:, ch - pre_pad]
    return x * (scale * alpha / size + k) ** -beta


def tensors(rng, dtype, *shapes):
    return [make(s, dtype, rng)[0] for s in shapes]


# ----- F.batch_norm ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_batch_norm_training_matches_numpy_and_updates_running_stats(rng, dtype, layout):
    x, xa = make((4, 3, 5), dtype, rng, layout)
    w, b = (ft.tensor(rng.uniform(0.5, 2, 3), dtype=dtype), ft.tensor(rng.standard_normal(3), dtype=dtype))
    rm, rv = ft.tensor(rng.standard_normal(3), dtype=dtype), ft.tensor(rng.uniform(0.5, 2, 3), dtype=dtype)
    out, erm, erv = np_batch_norm(xa, rm.numpy().astype(np.float64), rv.numpy().astype(np.float64),
                                  w.numpy(), b.numpy(), True, 0.3, 1e-5)
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3)
    assert_close(y, out, dtype, rtol=1e-4 if dtype == ft.float32 else None, atol=1e-5 if dtype == ft.float32 else None)
    assert_close(rm, erm, dtype)
    assert_close(rv, erv, dtype)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_batch_norm_eval_uses_running_stats(rng, dtype):
    x, xa = make((2, 3, 2, 2), dtype, rng, "transposed")
    rm, rma = make((3,), dtype, rng)
    rv = ft.tensor(rng.uniform(0.5, 2, 3), dtype=dtype)
    w, wa = make((3,), dtype, rng)
    expected, _, _ = np_batch_norm(xa, rma, rv.numpy(), wa, None, False, 0.1, 1e-3)
    before = rm.clone()
    assert_close(F.batch_norm(x, rm, rv, w, None, eps=1e-3), expected, dtype)
    assert ft.equal(rm, before)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
@pytest.mark.parametrize("stats_dtype", ["same", "float32"])
def test_batch_norm_eval_of_half_inputs_computes_in_float(rng, dtype, stats_dtype):
    """Half inputs keep their dtype whatever the statistics' dtype (autocast feeds bfloat16
    activations to float32 running stats), and normalize in float: a channel whose mean is
    far from zero against its spread still lands near the float64 result."""
    sdt = dtype if stats_dtype == "same" else ft.float32
    xa = rng.standard_normal((4, 3, 5)) * 0.5 + np.array([30.0, -4.0, 1.0])[:, None]
    x = ft.tensor(xa).to(dtype)
    xa = x.double().numpy()
    rm = ft.tensor(xa.mean((0, 2))).to(sdt)
    rv = ft.tensor(xa.var((0, 2))).to(sdt)
    w, b = ft.tensor([1.5, 0.5, 2.0]).to(sdt), ft.tensor([0.1, -0.2, 0.3]).to(sdt)
    y = F.batch_norm(x, rm, rv, w, b, eps=1e-5)
    assert y.dtype == dtype
    expected, _, _ = np_batch_norm(xa, rm.double().numpy(), rv.double().numpy(), w.double().numpy(), b.double().numpy(), False, 0.1, 1e-5)
    tol = {ft.float16: 2e-3, ft.bfloat16: 1.6e-2}[dtype]
    np.testing.assert_allclose(y.double().numpy(), expected, rtol=tol, atol=tol * np.abs(expected).max())


def test_batch_norm_training_without_running_stats(rng):
    x, xa = make((5, 2), ft.float64, rng)
    assert_close(F.batch_norm(x, None, None, training=True), np_batch_norm(xa, None, None, None, None, True, 0.1, 1e-5)[0])


def test_batch_norm_broadcast_input(rng):
    x, xa = make((3, 2, 4), ft.float64, rng, "broadcast")
    assert_close(F.batch_norm(x, None, None, training=True), np_batch_norm(xa, None, None, None, None, True, 0.1, 1e-5)[0])


def test_batch_norm_empty_batch_leaves_running_stats(rng):
    rm, rv = ft.zeros(3), ft.ones(3)
    y = F.batch_norm(ft.empty(0, 3), rm, rv, training=True)
    assert y.shape == (0, 3)
    assert ft.equal(rm, ft.zeros(3)) and ft.equal(rv, ft.ones(3))


def test_batch_norm_propagates_nan_to_its_channel():
    x = ft.tensor([[1.0, 2.0], [float("nan"), 3.0], [0.0, 5.0]])
    y = F.batch_norm(x, None, None, training=True).numpy()
    assert np.isnan(y[:, 0]).all() and np.isfinite(y[:, 1]).all()


def test_batch_norm_rejects_one_value_per_channel():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size torch.Size\(\[1, 3\]\)"):
        F.batch_norm(ft.randn(1, 3), None, None, training=True)


@pytest.mark.parametrize("name", ["running_mean", "running_var", "weight", "bias"])
def test_batch_norm_rejects_wrong_channel_count(name):
    args = dict(running_mean=ft.zeros(3), running_var=ft.ones(3))
    args[name] = ft.ones(4)
    with pytest.raises(RuntimeError, match=f"{name} should contain 3 elements not 4"):
        F.batch_norm(ft.randn(2, 3, 4), **args)


def test_batch_norm_eval_needs_running_stats():
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(ft.randn(2, 3), None, None)


def test_batch_norm_rejects_bad_eps():
    with pytest.raises(ValueError, match="batch_norm eps must be positive during training, but got 0"):
        F.batch_norm(ft.randn(2, 3), None, None, training=True, eps=0)
    with pytest.raises(ValueError, match="batch_norm eps must be non-negative, but got -1"):
        F.batch_norm(ft.randn(2, 3), ft.zeros(3), ft.ones(3), eps=-1)


def test_batch_norm_rejects_1d_input():
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.batch_norm(ft.randn(3), ft.zeros(3), ft.ones(3))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_passes_gradcheck(rng, training):
    x, w, b = leaf((3, 2, 2), rng, "transposed"), leaf((2,), rng), leaf((2,), rng)
    rm, rv = ft.zeros(2, dtype=ft.float64), ft.ones(2, dtype=ft.float64)
    assert ft.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=training), (x, w, b))


def test_batch_norm_passes_gradgradcheck(rng):
    x, w = leaf((3, 2), rng), leaf((2,), rng)
    assert ft.autograd.gradgradcheck(lambda x, w: F.batch_norm(x, None, None, w, training=True), (x, w))


def np_batch_norm_backward(x, dy, w, eps):
    """(dx, dw, db) of training-mode batch norm, float64, from the closed form."""
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    dims = (0,) + tuple(range(2, x.ndim))
    mean, invstd = x.mean(dims, keepdims=True), 1 / np.sqrt(x.var(dims, keepdims=True) + eps)
    xhat = (x - mean) * invstd
    g = dy * (1 if w is None else np_channel_view(w, x.ndim))
    dx = invstd * (g - g.mean(dims, keepdims=True) - xhat * (g * xhat).mean(dims, keepdims=True))
    return dx, (dy * xhat).sum(dims), dy.sum(dims)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
@pytest.mark.parametrize("shape", [(4, 3, 5), (16, 8, 16, 16), (6, 2)])  # the second runs channels in parallel
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_batch_norm_training_backward_is_one_fused_node_matching_numpy(rng, dtype, shape, layout):
    x, xa = make(shape, dtype, rng, layout)
    w, b = ft.tensor(rng.uniform(0.5, 2, shape[1]), dtype=dtype), ft.tensor(rng.standard_normal(shape[1]), dtype=dtype)
    for t in (x, w, b):
        t.requires_grad_()
    y = F.batch_norm(x, None, None, w, b, training=True)
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    dy = rng.standard_normal(shape)
    y.backward(ft.tensor(dy, dtype=dtype))
    dx, dw, db = np_batch_norm_backward(xa, dy, w.detach().numpy(), 1e-5)
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == ft.float32 else {}
    assert_close(x.grad, dx, dtype, **tol)
    assert_close(w.grad, dw, dtype, **tol)
    assert_close(b.grad, db, dtype, **tol)


def test_batch_norm_bias_without_weight_gets_its_gradient(rng):
    x, xa = make((5, 3, 4), ft.float64, rng)
    b = ft.zeros(3, dtype=ft.float64, requires_grad=True)
    dy = rng.standard_normal((5, 3, 4))
    F.batch_norm(x.requires_grad_(), None, None, None, b, training=True).backward(ft.tensor(dy))
    dx, _, db = np_batch_norm_backward(xa, dy, None, 1e-5)
    assert_close(x.grad, dx)
    assert_close(b.grad, db)


def test_batch_norm_4d_passes_gradcheck_and_gradgradcheck(rng):
    x, w, b = leaf((3, 2, 2, 3), rng, "transposed"), leaf((2,), rng), leaf((2,), rng)
    fn = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert ft.autograd.gradcheck(fn, (x, w, b))
    assert ft.autograd.gradgradcheck(fn, (x, w, b))


# ----- F.instance_norm ------------------------------------------------------------------------

def np_instance_norm(x, w, b, eps):
    n, c = x.shape[:2]
    flat = x.astype(np.float64).reshape(n, c, -1)
    out = ((flat - flat.mean(-1, keepdims=True)) / np.sqrt(flat.var(-1, keepdims=True) + eps)).reshape(x.shape)
    return out * (1 if w is None else np_channel_view(w, x.ndim)) + (0 if b is None else np_channel_view(b, x.ndim))


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_instance_norm_matches_numpy(rng, dtype, layout):
    x, xa = make((2, 3, 4, 3), dtype, rng, layout)
    w, wa = make((3,), dtype, rng)
    b, ba = make((3,), dtype, rng)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == ft.float32 else {}
    assert_close(F.instance_norm(x, weight=w, bias=b), np_instance_norm(xa, wa, ba, 1e-5), dtype, **tol)


def test_instance_norm_running_stats_average_the_batch(rng):
    x, xa = make((3, 2, 5), ft.float64, rng)
    rm, rv = ft.zeros(2, dtype=ft.float64), ft.ones(2, dtype=ft.float64)
    F.instance_norm(x, rm, rv, momentum=0.25)
    mean, var = xa.mean(-1), xa.var(-1, ddof=1)
    assert_close(rm, (0.75 * 0 + 0.25 * mean).mean(0))
    assert_close(rv, (0.75 * 1 + 0.25 * var).mean(0))


def test_instance_norm_without_input_stats_uses_running_stats(rng):
    x, xa = make((2, 2, 3), ft.float64, rng)
    rm, rv = ft.tensor([0.5, -1.0], dtype=ft.float64), ft.tensor([2.0, 0.5], dtype=ft.float64)
    expected = (xa - np_channel_view([0.5, -1.0], 3)) / np.sqrt(np_channel_view([2.0, 0.5], 3) + 1e-5)
    assert_close(F.instance_norm(x, rm, rv, use_input_stats=False), expected)


def test_instance_norm_errors():
    with pytest.raises(ValueError, match=r"Expected more than 1 spatial element when training, got input size torch.Size\(\[2, 3, 1\]\)"):
        F.instance_norm(ft.randn(2, 3, 1))
    with pytest.raises(RuntimeError, match="weight should contain 6 elements not 8"):
        F.instance_norm(ft.randn(2, 3, 4), weight=ft.ones(4))


def test_instance_norm_passes_gradcheck(rng):
    x, w, b = leaf((2, 2, 3), rng, "strided"), leaf((2,), rng), leaf((2,), rng)
    assert ft.autograd.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))


# ----- F.group_norm ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_group_norm_matches_numpy(rng, dtype, layout):
    x, xa = make((2, 6, 3, 2), dtype, rng, layout)
    w, wa = make((6,), dtype, rng)
    b, ba = make((6,), dtype, rng)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == ft.float32 else {}
    assert_close(F.group_norm(x, 3, w, b, eps=1e-3), np_group_norm(xa, 3, wa, ba, 1e-3), dtype, **tol)


def test_group_norm_without_affine_and_empty_batch(rng):
    x, xa = make((3, 4, 5), ft.float64, rng)
    assert_close(F.group_norm(x, 2), np_group_norm(xa, 2, None, None, 1e-5))
    assert F.group_norm(ft.empty(0, 4, 5), 2).shape == (0, 4, 5)


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, but got input of shape \[4, 3, 5\] and num_groups=2"):
        F.group_norm(ft.randn(4, 3, 5), 2)
    with pytest.raises(RuntimeError, match=r"but got weight of shape \[4\] and input of shape \[2, 6, 3\]"):
        F.group_norm(ft.randn(2, 6, 3), 2, weight=ft.ones(4))
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions for input tensor but received 1"):
        F.group_norm(ft.randn(3), 3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size \[1, 3\]"):
        F.group_norm(ft.randn(1, 3), 3)


def test_group_norm_passes_gradcheck_and_gradgradcheck(rng):
    x, w, b = leaf((2, 4, 3), rng, "transposed"), leaf((4,), rng), leaf((4,), rng)
    assert ft.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert ft.autograd.gradgradcheck(lambda x, w: F.group_norm(x, 2, w), (leaf((2, 2, 2), rng), leaf((2,), rng)))


# ----- F.layer_norm and F.rms_norm -------------------------------------------------------------

@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_layer_norm_matches_numpy(rng, dtype):
    x, xa = make((3, 4, 5), dtype, rng, "transposed")
    w, wa = make((4, 5), dtype, rng)
    b, ba = make((4, 5), dtype, rng)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == ft.float32 else {}
    assert_close(F.layer_norm(x, (4, 5), w, b), np_layer_norm(xa, 2, wa, ba, 1e-5), dtype, **tol)
    assert_close(F.layer_norm(x, (5,)), np_layer_norm(xa, 1, None, None, 1e-5), dtype, **tol)


def test_layer_norm_errors():
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 4, 5\], but got input of size\[4, 3, 5\]"):
        F.layer_norm(ft.randn(4, 3, 5), (4, 5))
    with pytest.raises(RuntimeError, match=r"Expected bias to be of same shape as normalized_shape, but got bias of shape \[4\] and normalized_shape = \[5\]"):
        F.layer_norm(ft.randn(2, 5), (5,), bias=ft.ones(4))


def test_layer_norm_passes_gradcheck_and_gradgradcheck(rng):
    x, w, b = leaf((2, 3), rng, "strided"), leaf((3,), rng), leaf((3,), rng)
    assert ft.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (3,), w, b), (x, w, b))
    assert ft.autograd.gradgradcheck(lambda x, w, b: F.layer_norm(x, (3,), w, b), (x, w, b))


@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
def test_layer_norm_fused_backward_for_every_affine_combination(rng, affine):
    x = leaf((3, 2, 4), rng, "transposed")
    w = leaf((2, 4), rng) if affine in ("weight", "both") else None
    b = leaf((2, 4), rng) if affine in ("bias", "both") else None
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def f(*args):
        it = iter(args[1:])
        return F.layer_norm(args[0], (2, 4), next(it) if w is not None else None, next(it) if b is not None else None)

    assert ft.autograd.gradcheck(f, inputs)
    assert ft.autograd.gradgradcheck(f, inputs)


def test_layer_norm_is_one_native_node_and_a_torch_function(rng):
    x = leaf((2, 3), rng)
    y = ft.layer_norm(x, [3], ft.ones(3), ft.zeros(3), 1e-5)
    assert y.grad_fn.name() == "NativeLayerNormBackward0"


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.bfloat16])
def test_layer_norm_large_rows_empty_and_nan(rng, dtype):
    x, xa = make((70, 300), dtype, rng, "strided")  # past the parallel threshold
    tol = dict(rtol=2e-2, atol=2e-2) if dtype == ft.bfloat16 else dict(rtol=1e-4, atol=1e-5)
    assert_close(F.layer_norm(x, (300,)), np_layer_norm(xa, 1, None, None, 1e-5), dtype, **tol)
    assert tuple(F.layer_norm(ft.zeros(0, 4, dtype=dtype), (4,)).shape) == (0, 4)
    row = ft.tensor([[1.0, float("nan"), 2.0], [1.0, 2.0, 3.0]], dtype=dtype)
    out = F.layer_norm(row, (3,)).float().numpy()
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()


@pytest.mark.parametrize("dtype, eps", [(ft.float32, 1.1920928955078125e-07), (ft.float64, 2.220446049250313e-16)])
def test_rms_norm_default_eps_is_the_dtype_epsilon(rng, dtype, eps):
    x, xa = make((3, 4), dtype, rng, "transposed", low=-1e-4, high=1e-4)
    w, wa = make((4,), dtype, rng)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == ft.float32 else {}
    assert_close(F.rms_norm(x, (4,), w), np_rms_norm(xa, 1, wa, eps), dtype, **tol)


def test_rms_norm_explicit_eps_and_errors(rng):
    x, xa = make((2, 3, 4), ft.float64, rng)
    assert_close(F.rms_norm(x, (3, 4), eps=0.5), np_rms_norm(xa, 2, None, 0.5))
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as normalized_shape, but got weight of shape \[4\] and normalized_shape = \[5\]"):
        F.rms_norm(ft.randn(2, 5), (5,), weight=ft.ones(4))


def test_rms_norm_passes_gradcheck(rng):
    x, w = leaf((2, 3), rng, "transposed"), leaf((3,), rng)
    assert ft.autograd.gradcheck(lambda x, w: F.rms_norm(x, (3,), w, eps=1e-3), (x, w))
    # The backward pass recorded (create_graph) gives second derivatives.
    assert ft.autograd.gradgradcheck(lambda x, w: F.rms_norm(x, (3,), w, eps=1e-3), (x, w))
    assert ft.autograd.gradcheck(lambda x: F.rms_norm(x, (2, 3)), (leaf((4, 2, 3), rng),))


def test_rms_norm_is_one_fused_node(rng):
    y = F.rms_norm(leaf((2, 3), rng), (3,), ft.ones(3, dtype=ft.float64))
    assert y.grad_fn.name() == "FusedRmsNormBackward0"
    assert ft.rms_norm(ft.ones(2, 3), (3,)).shape == (2, 3)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.bfloat16, ft.float16])
def test_rms_norm_large_rows_empty_nan_and_broadcast_weight_grads(rng, dtype):
    x, xa = make((70, 300), dtype, rng, "strided")  # past the parallel threshold
    w, wa = make((300,), dtype, rng)
    tol = dict(rtol=2e-2, atol=2e-2) if dtype in (ft.bfloat16, ft.float16) else dict(rtol=1e-4, atol=1e-5)
    assert_close(F.rms_norm(x, (300,), w, eps=1e-5), np_rms_norm(xa, 1, wa, 1e-5), dtype, **tol)
    assert tuple(F.rms_norm(ft.zeros(0, 4, dtype=dtype), (4,)).shape) == (0, 4)
    row = ft.tensor([[1.0, float("nan"), 2.0], [1.0, float("inf"), 3.0], [1.0, 2.0, 3.0]], dtype=dtype)
    out = F.rms_norm(row, (3,)).float().numpy()
    assert np.isnan(out[0]).all() and np.isfinite(out[2]).all()
    # The weight's gradient sums dy * xhat over every row (float64 reference).
    xd = ft.tensor(xa, dtype=ft.float64)
    wd = ft.tensor(wa, dtype=ft.float64, requires_grad=True)
    F.rms_norm(xd, (300,), wd, eps=1e-5).sum().backward()
    xhat = xa / np.sqrt((xa.astype(np.float64) ** 2).mean(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(wd.grad.numpy(), xhat.sum(0), rtol=1e-10, atol=1e-10)


# ----- F.local_response_norm and CrossMapLRN2d -------------------------------------------------

@pytest.mark.parametrize("shape, size", [((2, 5, 3), 3), ((2, 4, 2, 3), 2), ((1, 6, 2, 1, 2), 4)])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_local_response_norm_matches_numpy(rng, shape, size, dtype):
    x, xa = make(shape, dtype, rng, "strided")
    assert_close(F.local_response_norm(x, size, alpha=0.5, beta=0.6, k=2.0),
                 np_local_response_norm(xa, size, 0.5, 0.6, 2.0), dtype)


def test_local_response_norm_errors_and_empty():
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality input \(got 2 dimensions\)"):
        F.local_response_norm(ft.randn(3, 4), 2)
    assert F.local_response_norm(ft.empty(0, 3, 4), 2).shape == (0, 3, 4)


def test_local_response_norm_passes_gradcheck(rng):
    x = leaf((2, 4, 3), rng, "transposed")
    assert ft.autograd.gradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5, k=1.5), (x,))


@pytest.mark.parametrize("size", [1, 3, 4])
def test_cross_map_lrn2d_matches_the_legacy_loop(rng, size):
    x, xa = make((2, 6, 2, 3), ft.float64, rng, "transposed")
    assert_close(nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=1.5)(x), np_cross_map_lrn2d(xa, size, 0.5, 0.75, 1.5))


def test_cross_map_lrn2d_wants_4d_input_and_passes_gradcheck(rng):
    with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D, got 3D instead."):
        nn.CrossMapLRN2d(3)(ft.randn(3, 4, 5))
    x = leaf((1, 4, 2, 2), rng)
    assert ft.autograd.gradcheck(nn.CrossMapLRN2d(3, alpha=0.5), (x,))


# ----- BatchNorm modules ----------------------------------------------------------------------

@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (4, 3)), (nn.BatchNorm1d, (4, 3, 2)),
                                        (nn.BatchNorm2d, (2, 3, 2, 2)), (nn.BatchNorm3d, (2, 3, 2, 1, 2))])
def test_batchnorm_module_trains_then_evaluates_with_running_stats(rng, cls, shape):
    bn = cls(3, momentum=0.2, dtype=ft.float64)
    rm, rv = np.zeros(3), np.ones(3)
    for _ in range(3):
        x, xa = make(shape, ft.float64, rng)
        out, rm, rv = np_batch_norm(xa, rm, rv, None, None, True, 0.2, 1e-5)
        assert_close(bn(x), out)
    assert_close(bn.running_mean, rm)
    assert_close(bn.running_var, rv)
    assert bn.num_batches_tracked.item() == 3 and bn.num_batches_tracked.dtype == ft.int64
    bn.eval()
    x, xa = make(shape, ft.float64, rng)
    assert_close(bn(x), np_batch_norm(xa, rm, rv, None, None, False, 0, 1e-5)[0])


def test_batchnorm_momentum_none_is_a_cumulative_average(rng):
    bn = nn.BatchNorm1d(2, momentum=None, dtype=ft.float64)
    batches = [make((5, 2), ft.float64, rng)[1] for _ in range(4)]
    for xa in batches:
        bn(ft.tensor(xa))
    assert_close(bn.running_mean, np.mean([xa.mean(0) for xa in batches], 0))
    # The initial running_var (ones) is replaced at the first step (factor 1).
    assert_close(bn.running_var, np.mean([xa.var(0, ddof=1) for xa in batches], 0))


def test_batchnorm_without_tracking_always_uses_batch_stats(rng):
    bn = nn.BatchNorm2d(3, affine=False, track_running_stats=False, dtype=ft.float64).eval()
    x, xa = make((2, 3, 2, 2), ft.float64, rng)
    assert_close(bn(x), np_batch_norm(xa, None, None, None, None, True, 0, 1e-5)[0])
    assert bn.running_mean is None and list(bn.state_dict()) == []


def test_batchnorm_training_without_tracking_leaves_no_state(rng):
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    bn(ft.randn(4, 3))
    assert bn.num_batches_tracked is None and bn.weight.shape == (3,)


def test_batchnorm_state_dict_keys_dtypes_and_reset():
    bn = nn.BatchNorm2d(4)
    sd = bn.state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert sd["num_batches_tracked"].dtype == ft.int64 and sd["num_batches_tracked"].shape == ()
    bn(ft.randn(2, 4, 3, 3))
    bn.reset_running_stats()
    assert ft.equal(bn.running_mean, ft.zeros(4)) and ft.equal(bn.running_var, ft.ones(4))
    assert bn.num_batches_tracked.item() == 0
    assert ft.equal(bn.weight, ft.ones(4)) and ft.equal(bn.bias, ft.zeros(4))


def test_batchnorm_loads_a_checkpoint_without_num_batches_tracked():
    bn = nn.BatchNorm1d(2)
    old = OrderedDict(weight=ft.ones(2), bias=ft.zeros(2), running_mean=ft.tensor([1.0, 2.0]), running_var=ft.ones(2))
    old._metadata = OrderedDict({"": {"version": 1}})
    assert not bn.load_state_dict(old).missing_keys
    assert ft.equal(bn.running_mean, ft.tensor([1.0, 2.0]))


@pytest.mark.parametrize("cls, bad, message", [
    (nn.BatchNorm1d, (3,), r"expected 2D or 3D input \(got 1D input\)"),
    (nn.BatchNorm2d, (3, 3), r"expected 4D input \(got 2D input\)"),
    (nn.BatchNorm3d, (3, 3), r"expected 5D input \(got 2D input\)"),
])
def test_batchnorm_checks_input_dim(cls, bad, message):
    with pytest.raises(ValueError, match=message):
        cls(3)(ft.randn(*bad))


def test_batchnorm_reprs_and_bias_flag():
    assert repr(nn.BatchNorm1d(3)) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert repr(nn.BatchNorm2d(3, momentum=None, affine=False, track_running_stats=False)) == (
        "BatchNorm2d(3, eps=1e-05, momentum=None, affine=False, bias=False, track_running_stats=False)")
    bn = nn.BatchNorm3d(2, bias=False)
    assert bn.bias is None and list(bn.state_dict())[:2] == ["weight", "running_mean"]


def test_batchnorm_module_backward_reaches_parameters(rng):
    bn = nn.BatchNorm1d(2, dtype=ft.float64)
    x = leaf((4, 2), rng)
    bn(x).pow(3).sum().backward()
    assert bn.weight.grad.shape == (2,) and bn.bias.grad.shape == (2,) and x.grad.shape == (4, 2)


# ----- InstanceNorm modules -------------------------------------------------------------------

@pytest.mark.parametrize("cls, shape", [(nn.InstanceNorm1d, (2, 3, 4)), (nn.InstanceNorm2d, (2, 3, 2, 3)),
                                        (nn.InstanceNorm3d, (1, 3, 2, 2, 2))])
def test_instancenorm_module_batched_and_unbatched(rng, cls, shape):
    m = cls(3, affine=True, dtype=ft.float64)
    x, xa = make(shape, ft.float64, rng)
    assert_close(m(x), np_instance_norm(xa, None, None, 1e-5))
    assert_close(m(x[0]), np_instance_norm(xa[:1], None, None, 1e-5)[0])


def test_instancenorm_tracks_running_stats_and_uses_them_in_eval(rng):
    m = nn.InstanceNorm1d(2, track_running_stats=True, dtype=ft.float64)
    x, xa = make((3, 2, 4), ft.float64, rng)
    m(x)
    assert_close(m.running_mean, 0.1 * xa.mean(-1).mean(0))
    m.eval()
    y, ya = make((1, 2, 4), ft.float64, rng)
    rm, rv = m.running_mean.numpy(), m.running_var.numpy()
    assert_close(m(y), (ya - rm[:, None]) / np.sqrt(rv[:, None] + 1e-5))


def test_instancenorm_defaults_repr_and_state_dict():
    m = nn.InstanceNorm2d(3)
    assert repr(m) == "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    assert list(m.state_dict()) == []
    assert list(nn.InstanceNorm1d(3, affine=True, track_running_stats=True).state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def test_instancenorm_channel_mismatch():
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features \(3\), but got: 4."):
        nn.InstanceNorm2d(3, affine=True)(ft.randn(2, 4, 5, 5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.InstanceNorm2d(3)(ft.randn(2, 4, 5, 5))
    assert "input's size at dim=1 does not match num_features" in str(caught[0].message)
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(ft.randn(3, 4))


# ----- GroupNorm, LayerNorm, RMSNorm, LocalResponseNorm modules -------------------------------

def test_groupnorm_module(rng):
    m = nn.GroupNorm(2, 4, dtype=ft.float64)
    x, xa = make((3, 4, 5), ft.float64, rng)
    assert_close(m(x), np_group_norm(xa, 2, None, None, 1e-5))
    assert repr(m) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert list(m.state_dict()) == ["weight", "bias"]
    assert list(nn.GroupNorm(2, 4, bias=False).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups \(2\)"):
        nn.GroupNorm(2, 5)


def test_layernorm_and_rmsnorm_modules(rng):
    x, xa = make((2, 3, 4), ft.float64, rng)
    assert_close(nn.LayerNorm([3, 4], dtype=ft.float64)(x), np_layer_norm(xa, 2, None, None, 1e-5))
    assert_close(nn.RMSNorm(4, eps=1e-3, dtype=ft.float64)(x), np_rms_norm(xa, 1, None, 1e-3))
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.LayerNorm(4, bias=False)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=False)"
    assert repr(nn.RMSNorm([4, 5], eps=1e-3, elementwise_affine=False)) == "RMSNorm((4, 5), eps=0.001, elementwise_affine=False)"
    assert list(nn.RMSNorm(4).state_dict()) == ["weight"] and list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]


def test_local_response_norm_modules_repr():
    assert repr(nn.LocalResponseNorm(3)) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"
    assert repr(nn.CrossMapLRN2d(3)) == "CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)"


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_norms_in_reduced_precision(rng, dtype):
    x, xa = make((4, 3, 5), dtype, rng)
    assert_close(F.batch_norm(x, None, None, training=True), np_batch_norm(xa, None, None, None, None, True, 0, 1e-5)[0],
                 dtype, rtol=5e-2, atol=5e-2)
    assert_close(F.layer_norm(x, (5,)), np_layer_norm(xa, 1, None, None, 1e-5), dtype, rtol=5e-2, atol=5e-2)
    assert_close(F.group_norm(x, 3), np_group_norm(xa, 3, None, None, 1e-5), dtype, rtol=5e-2, atol=5e-2)
