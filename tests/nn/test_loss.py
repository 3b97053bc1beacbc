"""Losses against float64 NumPy references written here (values, every reduction, weights,
ignore_index, label smoothing, spatial dims, non-contiguous layouts, float32/float64), their
gradients through gradcheck, PyTorch's errors, and the loss modules."""

import math
import warnings

import numpy as np
import pytest
from conftest import assert_close, leaf, make

import ferrotorch as ft
import ferrotorch.nn.functional as F
from ferrotorch import nn
from ferrotorch.autograd import gradcheck, gradgradcheck

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [ft.float32, ft.float64]
LAYOUTS = ["contiguous", "transposed", "strided"]


# ----- NumPy references ------------------------------------------------------------------------
def reduce_np(loss, reduction):
    return {"none": loss, "mean": np.mean(loss) if loss.size else np.nan, "sum": np.sum(loss)}[reduction]


def log_softmax_np(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_sigmoid_np(x):
    return -np.logaddexp(0, -x)


def huber_np(d, delta):
    z = np.abs(d)
    return np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))


def nll_np(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    """Class dim 1 (or 0 for an unbatched (C) input); one Python step per target element."""
    out_shape = np.shape(target)
    if logp.ndim == 1:
        logp, target = logp[None], np.asarray(target).reshape(1)
    classes_last = np.moveaxis(logp, 1, -1).reshape(-1, logp.shape[1])
    flat_target = target.reshape(-1)
    losses, weights = np.zeros(flat_target.size), np.zeros(flat_target.size)
    for i, t in enumerate(flat_target):
        if t != ignore_index:
            weights[i] = 1.0 if weight is None else weight[t]
            losses[i] = -classes_last[i, t] * weights[i]
    if reduction == "mean":
        return losses.sum() / weights.sum() if weights.sum() else np.nan
    if reduction == "sum":
        return losses.sum()
    return losses.reshape(out_shape)


def cross_entropy_np(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's definition with class-index targets: (1 - eps) nll + eps/C * smoothing term."""
    axis = 0 if x.ndim == 1 else 1
    logp = log_softmax_np(x, axis)
    nll = nll_np(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    w = np.ones(x.shape[axis]) if weight is None else weight
    shape = [1] * x.ndim
    shape[axis] = -1
    smooth = -(logp * w.reshape(shape)).sum(axis)
    kept = target != ignore_index
    smooth = np.where(kept, smooth, 0.0)
    if reduction == "mean":
        safe = np.where(kept, target, 0)
        smooth = smooth.sum() / np.where(kept, w[safe], 0.0).sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * label_smoothing / x.shape[axis]


def ctc_np(log_probs, targets, input_lengths, target_lengths, blank=0):
    """Per-sample -log p(target | input) by the textbook CTC forward recursion in log space."""
    losses = []
    for n in range(log_probs.shape[1]):
        label = list(targets[n][: target_lengths[n]])
        ext = [blank]
        for c in label:
            ext += [c, blank]
        alpha = np.full(len(ext), -np.inf)
        if input_lengths[n] == 0:
            alpha[0] = 0.0
        else:
            alpha[0] = log_probs[0, n, blank]
            if len(ext) > 1:
                alpha[1] = log_probs[0, n, ext[1]]
        for t in range(1, input_lengths[n]):
            new = np.full(len(ext), -np.inf)
            for s in range(len(ext)):
                terms = [alpha[s]] + ([alpha[s - 1]] if s >= 1 else [])
                if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                    terms.append(alpha[s - 2])
                new[s] = np.logaddexp.reduce(terms) + log_probs[t, n, ext[s]]
            alpha = new
        ends = [alpha[-1]] + ([alpha[-2]] if len(ext) > 1 else [])
        losses.append(-np.logaddexp.reduce(ends))
    return np.array(losses)


def as64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


# ----- element-wise losses ---------------------------------------------------------------------
# name -> (call(input, target, reduction), reference(input, target, reduction), input range, target range)
POINTWISE = {
    "l1": (lambda x, y, r: F.l1_loss(x, y, reduction=r), lambda x, y, r: reduce_np(np.abs(x - y), r), None, None),
    "mse": (lambda x, y, r: F.mse_loss(x, y, reduction=r), lambda x, y, r: reduce_np((x - y) ** 2, r), None, None),
    "smooth_l1": (lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=2.0),
                  lambda x, y, r: reduce_np(huber_np(x - y, 2.0) / 2.0, r), None, None),
    "smooth_l1_beta0": (lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.0),
                        lambda x, y, r: reduce_np(np.abs(x - y), r), None, None),
    "huber": (lambda x, y, r: F.huber_loss(x, y, reduction=r, delta=1.5),
              lambda x, y, r: reduce_np(huber_np(x - y, 1.5), r), None, None),
    "soft_margin": (lambda x, y, r: F.soft_margin_loss(x, y.sign(), reduction=r),
                    lambda x, y, r: reduce_np(np.logaddexp(0, -x * np.sign(y)), r), None, None),
    "bce": (lambda x, y, r: F.binary_cross_entropy(x, y, reduction=r),
            lambda x, y, r: reduce_np(-(y * np.log(x) + (1 - y) * np.log1p(-x)), r), (0.01, 0.99), (0, 1)),
    "bce_logits": (lambda x, y, r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
                   lambda x, y, r: reduce_np(-(y * log_sigmoid_np(x) + (1 - y) * log_sigmoid_np(-x)), r),
                   (-30, 30), (0, 1)),
    "kl_div": (lambda x, y, r: F.kl_div(x, y, reduction=r),
               lambda x, y, r: reduce_np(y * (np.log(y) - x), r), (-3, 0), (0.01, 1)),
    "kl_div_log_target": (lambda x, y, r: F.kl_div(x, y, reduction=r, log_target=True),
                          lambda x, y, r: reduce_np(np.exp(y) * (y - x), r), (-3, 0), (-3, 0)),
    "poisson": (lambda x, y, r: F.poisson_nll_loss(x, y, reduction=r),
                lambda x, y, r: reduce_np(np.exp(x) - y * x, r), (-2, 2), (0, 5)),
    "poisson_full": (lambda x, y, r: F.poisson_nll_loss(x, y, log_input=False, full=True, reduction=r),
                     lambda x, y, r: reduce_np(
                         x - y * np.log(x + 1e-8) + np.where(
                             y > 1, y * np.log(np.maximum(y, 1)) - y + 0.5 * np.log(2 * np.pi * np.maximum(y, 1)), 0),
                         r), (0.1, 3), (0, 5)),
    "hinge_embedding": (lambda x, y, r: F.hinge_embedding_loss(x, y.sign(), margin=0.7, reduction=r),
                        lambda x, y, r: reduce_np(np.where(np.sign(y) == 1, x, np.maximum(0, 0.7 - x)), r), None, None),
}


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_loss_matches_numpy(name, layout, dtype, rng):
    call, reference, x_range, y_range = POINTWISE[name]
    x, xa = make((3, 4), dtype, rng, layout, *(x_range or (-3, 3)))
    y, ya = make((3, 4), dtype, rng, layout, *(y_range or (-3, 3)))
    for reduction in REDUCTIONS:
        assert_close(call(x, y, reduction), reference(*as64(xa, ya), reduction), dtype, rtol=1e-5 if dtype == ft.float32 else 1e-10)


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_loss_gradcheck(name, rng):
    call, _, x_range, y_range = POINTWISE[name]
    x = leaf((2, 3), rng, low=x_range[0] if x_range else -2, high=x_range[1] if x_range else 2)
    y = leaf((2, 3), rng, low=y_range[0] if y_range else -2, high=y_range[1] if y_range else 2)
    if name in ("soft_margin", "hinge_embedding"):
        y.requires_grad_(False)  # the target is a sign
    assert gradcheck(lambda a, b: call(a, b, "none"), (x, y))


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_half_precision_losses_match_numpy_loosely(dtype, rng):
    x, xa = make((4, 5), dtype, rng, low=-2, high=2)
    y, ya = make((4, 5), dtype, rng, low=0, high=1)
    t = np.array([0, 4, 2, 1])
    xa, ya = as64(xa, ya)
    loose = dict(rtol=2e-2, atol=2e-2)
    assert_close(F.cross_entropy(x, ft.tensor(t), label_smoothing=0.1), cross_entropy_np(xa, t, label_smoothing=0.1),
                 dtype, **loose)
    assert_close(F.mse_loss(x, y), ((xa - ya) ** 2).mean(), dtype, **loose)
    assert_close(F.binary_cross_entropy_with_logits(x, y),
                 (-(ya * log_sigmoid_np(xa) + (1 - ya) * log_sigmoid_np(-xa))).mean(), dtype, **loose)


def test_pointwise_loss_broadcasts_target_with_warning(rng):
    x, xa = make((3, 4), ft.float64, rng)
    y, ya = make((4,), ft.float64, rng)
    with pytest.warns(UserWarning, match="different to the input size"):
        out = F.mse_loss(x, y, reduction="none")
    assert_close(out, (xa - ya) ** 2)


@pytest.mark.parametrize("fn", [F.l1_loss, F.mse_loss])
def test_weighted_regression_mean_divides_by_weight_sum(fn, rng):
    x, xa = make((3, 4), ft.float64, rng)
    y, ya = make((3, 4), ft.float64, rng)
    w, wa = make((3, 4), ft.float64, rng, low=0.1, high=2)
    base = np.abs(xa - ya) if fn is F.l1_loss else (xa - ya) ** 2
    assert_close(fn(x, y, weight=w), (base * wa).sum() / wa.sum())
    assert_close(fn(x, y, weight=w, reduction="sum"), (base * wa).sum())


def test_weighted_huber_mean_divides_by_count(rng):
    x, xa = make((3, 4), ft.float64, rng)
    y, ya = make((3, 4), ft.float64, rng)
    w, wa = make((3, 4), ft.float64, rng, low=0.1, high=2)
    assert_close(F.huber_loss(x, y, weight=w), (huber_np(xa - ya, 1.0) * wa).mean())
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.huber_loss(x, y, weight=w[0])


def test_empty_pointwise_mean_is_nan_and_sum_zero():
    x = ft.zeros((0, 3))
    assert math.isnan(F.mse_loss(x, x).item())
    assert F.l1_loss(x, x, reduction="sum").item() == 0
    assert tuple(F.smooth_l1_loss(x, x, reduction="none").shape) == (0, 3)


def test_invalid_reduction_raises():
    x = ft.zeros(3)
    for fn in (F.l1_loss, F.mse_loss, F.soft_margin_loss, F.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
            fn(x, x, reduction="bad")
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.ctc_loss(ft.zeros(2, 1, 3), ft.tensor([[1]]), [2], [1], reduction="bad")


@pytest.mark.parametrize("size_average,reduce,expected", [
    (None, False, "none"), (False, None, "sum"), (True, None, "mean"), (False, False, "none"), (True, True, "mean"),
])
def test_legacy_size_average_reduce_map_to_reduction(size_average, reduce, expected, rng):
    x, xa = make((2, 3), ft.float64, rng)
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        out = F.l1_loss(x, ft.zeros(2, 3, dtype=ft.float64), size_average, reduce)
    assert_close(out, reduce_np(np.abs(xa), expected))


def test_smooth_l1_and_huber_reject_bad_parameters():
    x = ft.zeros(3)
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, x, delta=0.0)


# ----- binary cross entropy --------------------------------------------------------------------
def test_bce_weight_broadcasts_and_log_is_clamped(rng):
    x = ft.tensor([[0.0, 1.0, 0.5], [1e-50, 0.3, 1.0]], dtype=ft.float64)
    y = ft.tensor([[1.0, 0.0, 1.0], [1.0, 0.5, 1.0]], dtype=ft.float64)
    w = ft.tensor([1.0, 2.0, 3.0], dtype=ft.float64)
    xa, ya, wa = x.numpy(), y.numpy(), w.numpy()
    with np.errstate(divide="ignore"):
        expected = -wa * (ya * np.maximum(np.log(xa), -100) + (1 - ya) * np.maximum(np.log1p(-xa), -100))
    assert_close(F.binary_cross_entropy(x, y, w, reduction="none"), expected)


def test_bce_gradient_is_finite_at_saturated_probabilities():
    x = ft.tensor([0.0, 1.0, 0.5], dtype=ft.float64, requires_grad=True)
    F.binary_cross_entropy(x, ft.tensor([0.0, 1.0, 1.0], dtype=ft.float64)).backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_bce_rejects_inputs_outside_unit_interval_and_size_mismatch():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(ft.tensor([1.5]), ft.tensor([1.0]))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(ft.tensor([float("nan")]), ft.tensor([1.0]))
    with pytest.raises(ValueError, match=r"Using a target size \(.*\[4\]\)\) that is different to the input size"):
        F.binary_cross_entropy(ft.rand(3), ft.rand(4))
    with pytest.raises(ValueError, match=r"Target size \(.*\[4\]\)\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(ft.rand(3), ft.rand(4))


def test_bce_with_logits_weight_and_pos_weight(rng):
    x, xa = make((4, 3), ft.float64, rng, "transposed", -40, 40)
    y, ya = make((4, 3), ft.float64, rng, low=0, high=1)
    w, wa = make((4, 3), ft.float64, rng, low=0, high=2)
    pw, pwa = make((3,), ft.float64, rng, low=0, high=3)
    expected = -wa * (pwa * ya * log_sigmoid_np(xa) + (1 - ya) * log_sigmoid_np(-xa))
    for reduction in REDUCTIONS:
        out = F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=pw)
        assert_close(out, reduce_np(expected, reduction))


def test_bce_with_logits_gradcheck_with_pos_weight(rng):
    x, y = leaf((2, 3), rng), leaf((2, 3), rng, low=0, high=1)
    pw = leaf((3,), rng, low=0.5, high=2)
    assert gradcheck(lambda a, b, c: F.binary_cross_entropy_with_logits(a, b, pos_weight=c), (x, y, pw))
    assert gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, y.detach()), (x,))


def test_bce_gradcheck_with_weight(rng):
    x, y = leaf((2, 3), rng, low=0.1, high=0.9), leaf((2, 3), rng, low=0, high=1)
    w = ft.rand(3, dtype=ft.float64)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, w), (x, y))


# ----- KL divergence, Poisson, Gaussian ------------------------------------------------------
def test_kl_div_batchmean_divides_by_batch_and_mean_warns(rng):
    x, xa = make((3, 4), ft.float64, rng, low=-3, high=0)
    y, ya = make((3, 4), ft.float64, rng, low=0, high=1)
    y = y.masked_fill(y < 0.2, 0.0)
    ya = np.where(ya < 0.2, 0.0, ya)
    pointwise = np.where(ya > 0, ya * np.log(np.where(ya > 0, ya, 1)), 0) - ya * xa
    assert_close(F.kl_div(x, y, reduction="batchmean"), pointwise.sum() / 3)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, y)
    assert_close(F.kl_div(x[0, 0], y[0, 0], reduction="batchmean"), pointwise[0, 0])


def test_poisson_eps_keeps_log_finite():
    out = F.poisson_nll_loss(ft.tensor([0.0], dtype=ft.float64), ft.tensor([2.0], dtype=ft.float64),
                             log_input=False, eps=1e-3, reduction="none")
    assert_close(out, np.array([-2 * np.log(1e-3)]))


@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_matches_numpy_for_each_var_shape(var_shape, full, rng):
    x, xa = make((4, 3), ft.float64, rng, "strided")
    y, ya = make((4, 3), ft.float64, rng)
    v, va = make(var_shape, ft.float64, rng, low=0, high=2)
    va_full = va.reshape(4, 1) if var_shape == (4,) else va
    loss = 0.5 * (np.log(np.maximum(va_full, 1e-2)) + (xa - ya) ** 2 / np.maximum(va_full, 1e-2))
    if full:
        loss = loss + 0.5 * np.log(2 * np.pi)
    for reduction in REDUCTIONS:
        assert_close(F.gaussian_nll_loss(x, y, v, full=full, eps=1e-2, reduction=reduction), reduce_np(loss, reduction))


def test_gaussian_nll_float_var_and_gradcheck(rng):
    x, y = leaf((3, 2), rng), leaf((3, 2), rng)
    assert_close(F.gaussian_nll_loss(x, y, 2.0, reduction="sum"),
                 (0.5 * (np.log(2.0) + (x.detach().numpy() - y.detach().numpy()) ** 2 / 2.0)).sum())
    v = leaf((3, 1), rng, low=0.5, high=2)
    assert gradcheck(lambda a, b, c: F.gaussian_nll_loss(a, b, c), (x, y, v))


def test_gaussian_nll_errors():
    x = ft.zeros(3, 2)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, ft.ones(3, 3))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -ft.ones(3, 2))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match="bad is not valid"):
        F.gaussian_nll_loss(x, x, 1.0, reduction="bad")


# ----- nll_loss and cross_entropy --------------------------------------------------------------
CLASSIFICATION_SHAPES = [((5,), ()), ((4, 5), (4,)), ((2, 5, 3), (2, 3)), ((2, 5, 2, 3), (2, 2, 3)),
                         ((2, 5, 2, 1, 2), (2, 2, 1, 2))]


def random_targets(shape, n_classes, rng, ignore_index=None):
    target = rng.integers(0, n_classes, size=shape)
    if ignore_index is not None and target.size > 1:
        target.reshape(-1)[:: 3] = ignore_index
    return target


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", CLASSIFICATION_SHAPES, ids=str)
def test_nll_loss_matches_numpy(shapes, dtype, rng):
    input_shape, target_shape = shapes
    x, xa = make(input_shape, dtype, rng, "transposed")
    t = random_targets(target_shape, 5, rng, ignore_index=2)
    w, wa = make((5,), dtype, rng, low=0.5, high=2)
    tol = 1e-5 if dtype == ft.float32 else 1e-10
    for reduction in REDUCTIONS:
        for weight, weight_np in ((None, None), (w, wa.astype(np.float64))):
            out = F.nll_loss(x, ft.tensor(t), weight, ignore_index=2, reduction=reduction)
            assert_close(out, nll_np(xa.astype(np.float64), t, weight_np, 2, reduction), dtype, rtol=tol, atol=tol)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("shapes", CLASSIFICATION_SHAPES, ids=str)
def test_cross_entropy_class_indices_match_numpy(shapes, label_smoothing, rng):
    input_shape, target_shape = shapes
    x, xa = make(input_shape, ft.float64, rng, "strided")
    t = random_targets(target_shape, 5, rng, ignore_index=4)
    w, wa = make((5,), ft.float64, rng, low=0.5, high=2)
    for reduction in REDUCTIONS:
        for weight, weight_np in ((None, None), (w, wa)):
            out = F.cross_entropy(x, ft.tensor(t), weight, ignore_index=4, reduction=reduction,
                                  label_smoothing=label_smoothing)
            assert_close(out, cross_entropy_np(xa, t, weight_np, 4, reduction, label_smoothing))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_class_probabilities_match_numpy(label_smoothing, rng):
    x, xa = make((3, 4, 2), ft.float32, rng, "transposed")
    p = rng.uniform(size=(3, 4, 2))
    p /= p.sum(1, keepdims=True)
    w, wa = make((4,), ft.float32, rng, low=0.5, high=2)
    target = p * (1 - label_smoothing) + label_smoothing / 4
    per_sample = -(log_softmax_np(xa.astype(np.float64), 1) * target * wa.reshape(1, 4, 1)).sum(1)
    expected = {"none": per_sample, "sum": per_sample.sum(), "mean": per_sample.sum() / 6}
    for reduction in REDUCTIONS:
        out = F.cross_entropy(x, ft.tensor(p, dtype=ft.float32), w, reduction=reduction, label_smoothing=label_smoothing)
        assert_close(out, expected[reduction], ft.float32, rtol=1e-5)


def test_cross_entropy_gradchecks(rng):
    x = leaf((3, 4), rng)
    t = ft.tensor([0, 3, 1])
    w = ft.tensor([0.5, 1.0, 2.0, 1.5], dtype=ft.float64)
    assert gradcheck(lambda a: F.cross_entropy(a, t, w, ignore_index=1, label_smoothing=0.2), (x,))
    p = leaf((3, 4), rng, low=0, high=1)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1), (x, p))
    xs = leaf((2, 3, 2), rng)
    assert gradcheck(lambda a: F.cross_entropy(a, ft.tensor([[0, 2], [1, 1]]), reduction="none"), (xs,))
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, w), (x,))


def test_nll_loss_gradcheck(rng):
    x = leaf((2, 3, 2), rng)
    w = ft.tensor([0.5, 1.0, 2.0], dtype=ft.float64)
    assert gradcheck(lambda a: F.nll_loss(a, ft.tensor([[0, 2], [1, -100]]), w), (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_second_order_gradients(reduction, rng):
    # The native backward is itself differentiable (its adjoint is nll_loss), so gradgradcheck
    # exercises both kernels, with weights and an ignored target.
    x = leaf((3, 4, 2), rng)
    w = ft.tensor([0.5, 1.0, 2.0, 1.5], dtype=ft.float64)
    t = ft.tensor([[0, 3], [1, 2], [3, 3]])
    assert gradgradcheck(lambda a: F.nll_loss(a, t, w, ignore_index=2, reduction=reduction), (x,))
    assert gradgradcheck(lambda a: F.nll_loss(a, ft.tensor(1), reduction=reduction), (leaf((4,), rng),))


def test_nll_loss_records_one_native_node(rng):
    x = leaf((3, 4), rng)
    out = F.cross_entropy(x, ft.tensor([0, 3, 1]))
    assert out.grad_fn.name() == "NllLossBackward0"
    assert out.grad_fn.next_functions[0][0].name() == "LogSoftmaxBackward0"


def test_all_ignored_mean_is_nan_and_empty_batch():
    x = ft.randn(3, 4)
    assert math.isnan(F.nll_loss(x, ft.full((3,), -100, dtype=ft.int64)).item())
    assert math.isnan(F.cross_entropy(x, ft.full((3,), 1, dtype=ft.int64), ignore_index=1, label_smoothing=0.1).item())
    empty, empty_t = ft.zeros(0, 4), ft.zeros(0, dtype=ft.int64)
    assert math.isnan(F.cross_entropy(empty, empty_t).item())
    assert F.cross_entropy(empty, empty_t, reduction="sum").item() == 0
    assert tuple(F.cross_entropy(empty, empty_t, reduction="none").shape) == (0,)
    assert math.isnan(F.cross_entropy(empty, ft.zeros(0, 4)).item())


def test_ignored_neg_inf_log_probability_stays_out_of_the_loss():
    logp = ft.tensor([[0.0, float("-inf")], [-0.5, -1.0]], dtype=ft.float64, requires_grad=True)
    out = F.nll_loss(logp, ft.tensor([1, 0]), ignore_index=1)
    out.backward()
    assert out.item() == 0.5
    np.testing.assert_array_equal(logp.grad.numpy(), [[0, 0], [-1, 0]])


def test_uint8_targets_are_accepted(rng):
    x, xa = make((3, 4), ft.float64, rng)
    t = np.array([0, 3, 1])
    assert_close(F.nll_loss(x, ft.tensor(t, dtype=ft.uint8)), nll_np(xa, t))


def test_classification_errors():
    x = ft.randn(3, 5)
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        F.nll_loss(x, ft.tensor([0, 5, 1]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds."):
        F.cross_entropy(x, ft.tensor([0, -1, 1]))
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        F.cross_entropy(ft.randn(2, 5, 2), ft.tensor([[0, 7], [1, 1]]), label_smoothing=0.1)
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)"):
        F.nll_loss(x, ft.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        F.nll_loss(x, ft.tensor([0, 1, 1], dtype=ft.int32))
    with pytest.raises(RuntimeError, match=r"for all 5 classes or no classes but got weight tensor of shape: \[3\]"):
        F.cross_entropy(x, ft.tensor([0, 1, 1]), weight=ft.ones(3))
    with pytest.raises(RuntimeError, match=r"Expected target size \[3, 4\], got \[3, 2\]"):
        F.nll_loss(ft.randn(3, 5, 4), ft.zeros(3, 2, dtype=ft.int64))
    with pytest.raises(RuntimeError, match="only batches of spatial targets supported"):
        F.nll_loss(ft.randn(3, 5, 4, 2), ft.zeros(3, 4, dtype=ft.int64))
    with pytest.raises(ValueError, match=r"Expected 1 or more dimensions \(got 0\)"):
        F.nll_loss(ft.randn(()), ft.tensor(0))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, ft.tensor([0, 1, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="Expected floating point type for target with class probabilities, got Long"):
        F.cross_entropy(x, ft.zeros(3, 5, dtype=ft.int64))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, ft.rand(3, 5), ignore_index=1)


# ----- margin and embedding losses -------------------------------------------------------------
def multilabel_margin_np(x, y):
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    out = np.zeros(len(x))
    for n in range(len(x)):
        listed = []
        for c in y[n]:
            if c == -1:
                break
            listed.append(c)
        for j in listed:
            for i in range(x.shape[1]):
                if i not in listed:
                    out[n] += max(0.0, 1 - (x[n, j] - x[n, i]))
    return out / x.shape[1]


def multi_margin_np(x, y, p, margin, w):
    x, y = np.atleast_2d(x), np.atleast_1d(y)
    out = np.zeros(len(x))
    for n in range(len(x)):
        for i in range(x.shape[1]):
            if i != y[n]:
                out[n] += max(0.0, margin - x[n, y[n]] + x[n, i]) ** p * (1 if w is None else w[y[n]])
    return out / x.shape[1]


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_multilabel_margin_matches_numpy(layout, rng):
    x, xa = make((3, 4), ft.float64, rng, layout)
    t = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 2, 0, 0]])
    for reduction in REDUCTIONS:
        assert_close(F.multilabel_margin_loss(x, ft.tensor(t), reduction=reduction),
                     reduce_np(multilabel_margin_np(xa, t), reduction))
    assert_close(F.multilabel_margin_loss(x[0], ft.tensor(t[0]), reduction="none"), multilabel_margin_np(xa[0], t[0])[0])
    assert gradcheck(lambda a: F.multilabel_margin_loss(a, ft.tensor(t)), (leaf((3, 4), rng),))


@pytest.mark.parametrize("p,margin", [(1, 1.0), (2, 0.6)])
def test_multi_margin_matches_numpy(p, margin, rng):
    x, xa = make((4, 5), ft.float32, rng, "strided")
    t = rng.integers(0, 5, size=4)
    w, wa = make((5,), ft.float32, rng, low=0.5, high=2)
    for reduction in REDUCTIONS:
        for weight, weight_np in ((None, None), (w, wa)):
            out = F.multi_margin_loss(x, ft.tensor(t), p=p, margin=margin, weight=weight, reduction=reduction)
            assert_close(out, reduce_np(multi_margin_np(xa.astype(np.float64), t, p, margin, weight_np), reduction),
                         ft.float32, rtol=1e-5)
    assert gradcheck(lambda a: F.multi_margin_loss(a, ft.tensor(t), p=p, margin=margin), (leaf((4, 5), rng),))


def test_multi_margin_unbatched_takes_target_shape(rng):
    x, xa = make((5,), ft.float64, rng)
    expected = multi_margin_np(xa, np.array([2]), 1, 1.0, None)
    assert_close(F.multi_margin_loss(x, ft.tensor(2), reduction="none"), expected[0])
    assert_close(F.multi_margin_loss(x, ft.tensor([2]), reduction="none"), expected)


def test_multilabel_soft_margin_matches_numpy(rng):
    x, xa = make((3, 4), ft.float64, rng, "transposed")
    y = rng.integers(0, 2, size=(3, 4)).astype(np.float64)
    w, wa = make((4,), ft.float64, rng, low=0.5, high=2)
    per = -(y * log_sigmoid_np(xa) + (1 - y) * log_sigmoid_np(-xa)) * wa
    for reduction in REDUCTIONS:
        out = F.multilabel_soft_margin_loss(x, ft.tensor(y), w, reduction=reduction)
        assert_close(out, reduce_np(per.mean(1), reduction))
    assert gradcheck(lambda a: F.multilabel_soft_margin_loss(a, ft.tensor(y), w), (leaf((3, 4), rng),))


def test_margin_ranking_matches_numpy_and_gradcheck(rng):
    a, aa = make((5,), ft.float64, rng, "strided")
    b, ba = make((5,), ft.float64, rng)
    y = np.array([1.0, -1, 1, -1, 1])
    for reduction in REDUCTIONS:
        out = F.margin_ranking_loss(a, b, ft.tensor(y), margin=0.5, reduction=reduction)
        assert_close(out, reduce_np(np.maximum(0, -y * (aa - ba) + 0.5), reduction))
    assert gradcheck(lambda u, v: F.margin_ranking_loss(u, v, ft.tensor(y), 0.5), (leaf((5,), rng), leaf((5,), rng)))
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(a, b, ft.tensor(y).unsqueeze(1))


def cosine_np(a, b, y, margin):
    cos = (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))
    return np.where(y == 1, 1 - cos, 0) + np.where(y == -1, np.maximum(0, cos - margin), 0)


def test_cosine_embedding_matches_numpy_and_gradcheck(rng):
    a, aa = make((4, 3), ft.float64, rng, "transposed")
    b, ba = make((4, 3), ft.float64, rng)
    y = np.array([1.0, -1, -1, 1])
    for reduction in REDUCTIONS:
        out = F.cosine_embedding_loss(a, b, ft.tensor(y), margin=-0.2, reduction=reduction)
        assert_close(out, reduce_np(cosine_np(aa, ba, y, -0.2), reduction))
    assert_close(F.cosine_embedding_loss(a[0], b[0], ft.tensor(-1.0), reduction="none"), cosine_np(aa[0], ba[0], -1, 0))
    assert gradcheck(lambda u, v: F.cosine_embedding_loss(u, v, ft.tensor(y)), (leaf((4, 3), rng), leaf((4, 3), rng)))


def test_cosine_embedding_errors():
    with pytest.raises(RuntimeError, match=r"1D target tensor expects 2D input tensors, but found inputs with sizes \[4\] and \[4\]"):
        F.cosine_embedding_loss(ft.randn(4), ft.randn(4), ft.ones(3))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        F.cosine_embedding_loss(ft.randn(3, 4, 2), ft.randn(3, 4, 2), ft.ones(3, 4))


def triplet_np(a, p, n, margin, norm, eps, swap):
    d = lambda u, v: (np.abs(u - v + eps) ** norm).sum(-1) ** (1 / norm)  # noqa: E731
    neg = np.minimum(d(a, n), d(p, n)) if swap else d(a, n)
    return np.maximum(0, margin + d(a, p) - neg)


@pytest.mark.parametrize("norm,swap", [(2, False), (1, True), (3, False)])
def test_triplet_margin_matches_numpy(norm, swap, rng):
    (a, aa), (p, pa), (n, na) = (make((4, 3), ft.float64, rng, layout) for layout in LAYOUTS)
    for reduction in REDUCTIONS:
        out = F.triplet_margin_loss(a, p, n, margin=2.0, p=norm, swap=swap, reduction=reduction)
        assert_close(out, reduce_np(triplet_np(aa, pa, na, 2.0, norm, 1e-6, swap), reduction))
    leaves = tuple(leaf((3, 2), rng) for _ in range(3))
    assert gradcheck(lambda u, v, w: F.triplet_margin_loss(u, v, w, margin=2.0, p=norm, swap=swap), leaves)


def test_triplet_with_distance_function(rng):
    (a, aa), (p, pa), (n, na) = (make((4, 3), ft.float64, rng) for _ in range(3))
    l1 = lambda u, v: (u - v).abs().sum(-1)  # noqa: E731
    out = F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1, margin=3.0, swap=True, reduction="none")
    d = lambda u, v: np.abs(u - v).sum(-1)  # noqa: E731
    assert_close(out, np.maximum(0, 3.0 + d(aa, pa) - np.minimum(d(aa, na), d(pa, na))))
    assert_close(F.triplet_margin_with_distance_loss(a, p, n), triplet_np(aa, pa, na, 1.0, 2, 1e-6, False).mean())


def test_triplet_errors():
    a = ft.randn(3, 4)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D inputs"):
        F.triplet_margin_loss(a, a, ft.randn(4))
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        F.triplet_margin_with_distance_loss(a, a, a, margin=0)
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.triplet_margin_with_distance_loss(a, a, a, reduction="bad")


def test_margin_loss_errors():
    x = ft.randn(3, 5)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, ft.tensor([0, 5, 1]))
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, ft.tensor([0, 1, 1]), p=3)
    with pytest.raises(RuntimeError, match=r"Expected target size \[3\], but got \[2\]. Input has shape \[3, 5\]"):
        F.multi_margin_loss(x, ft.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"inconsistent weight size, expected 5 but got \[2\]"):
        F.multi_margin_loss(x, ft.tensor([0, 1, 1]), weight=ft.ones(2))
    with pytest.raises(RuntimeError, match=r"Expected non-empty vector or matrix .* but got: \[3, 5, 2\]"):
        F.multi_margin_loss(ft.randn(3, 5, 2), ft.tensor([0, 1, 1]))
    with pytest.raises(RuntimeError, match="argument #2 'target' is out of range"):
        F.multilabel_margin_loss(x, ft.tensor([[0, 5, -1, 0, 0]] * 3))
    with pytest.raises(RuntimeError, match=r"inconsistent target size: \[3, 4\] for input of size: \[3, 5\]"):
        F.multilabel_margin_loss(x, ft.zeros(3, 4, dtype=ft.int64))


# ----- CTC ---------------------------------------------------------------------------------------
def ctc_inputs(rng, T=6, N=3, C=4):
    logits = rng.standard_normal((T, N, C))
    log_probs = log_softmax_np(logits, 2)
    targets = np.array([[1, 2, 2], [3, 0, 0], [2, 1, 3]])
    return log_probs, targets, np.array([6, 4, 5]), np.array([3, 1, 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_ctc_padded_targets_match_numpy(dtype, rng):
    lp, tg, il, tl = ctc_inputs(rng)
    expected = ctc_np(lp, tg, il, tl)
    log_probs = ft.tensor(lp, dtype=dtype)
    tol = 1e-5 if dtype == ft.float32 else 1e-10
    assert_close(F.ctc_loss(log_probs, ft.tensor(tg), ft.tensor(il), ft.tensor(tl), reduction="none"), expected, dtype,
                 rtol=tol)
    assert_close(F.ctc_loss(log_probs, ft.tensor(tg), il.tolist(), tl.tolist()), (expected / tl).mean(), dtype, rtol=tol)
    assert_close(F.ctc_loss(log_probs, ft.tensor(tg), tuple(il), tuple(tl), reduction="sum"), expected.sum(), dtype,
                 rtol=tol)


def test_ctc_concatenated_targets_blank_and_non_contiguous_input(rng):
    lp, tg, il, tl = ctc_inputs(rng)
    # Classes permuted so blank=2; a transposed view of (N, T, C) data.
    lp = lp[:, :, [1, 2, 0, 3]]
    concatenated = np.concatenate([tg[n, : tl[n]] for n in range(3)])
    remap = np.array([2, 0, 1, 3])  # old class -> new index
    expected = ctc_np(lp, remap[tg], il, tl, blank=2)
    log_probs = ft.tensor(np.ascontiguousarray(lp.transpose(1, 0, 2))).transpose(0, 1)
    out = F.ctc_loss(log_probs, ft.tensor(remap[concatenated]), ft.tensor(il), ft.tensor(tl), blank=2, reduction="none")
    assert_close(out, expected)


def test_ctc_repeated_labels_and_empty_target(rng):
    lp, _, _, _ = ctc_inputs(rng)
    tg = np.array([[2, 2, 2], [1, 1, 0], [0, 0, 0]])
    il, tl = np.array([6, 6, 3]), np.array([3, 2, 0])
    out = F.ctc_loss(ft.tensor(lp), ft.tensor(tg), ft.tensor(il), ft.tensor(tl), reduction="none")
    assert_close(out, ctc_np(lp, tg, il, tl))


def test_ctc_impossible_alignment_is_inf_and_zero_infinity_zeroes_it(rng):
    lp, tg, _, tl = ctc_inputs(rng)
    il = np.array([6, 4, 1])  # one frame cannot emit two labels
    out = F.ctc_loss(ft.tensor(lp), ft.tensor(tg), ft.tensor(il), ft.tensor(tl), reduction="none")
    assert math.isinf(out[2].item())
    x = ft.tensor(lp).requires_grad_()
    zeroed = F.ctc_loss(x, ft.tensor(tg), ft.tensor(il), ft.tensor(tl), reduction="none", zero_infinity=True)
    assert_close(zeroed, np.concatenate([ctc_np(lp, tg, il, tl)[:2], [0.0]]))
    zeroed.sum().backward()
    grad = x.grad.numpy()
    assert np.isfinite(grad).all() and (grad[:, 2] == 0).all()


def test_ctc_empty_input_and_target_has_zero_loss(rng):
    lp, tg, _, _ = ctc_inputs(rng)
    out = F.ctc_loss(ft.tensor(lp), ft.tensor(tg), ft.tensor([0, 6, 6]), ft.tensor([0, 1, 1]), reduction="none")
    assert out[0].item() == 0


def test_ctc_unbatched(rng):
    lp, tg, il, tl = ctc_inputs(rng)
    out = F.ctc_loss(ft.tensor(lp[:, 0]), ft.tensor(tg[0]), ft.tensor(6), ft.tensor(3), reduction="none")
    assert out.dim() == 0
    assert_close(out, ctc_np(lp[:, :1], tg[:1], [6], [3])[0])


def test_ctc_gradcheck(rng):
    lp, _, _, _ = ctc_inputs(rng, T=4, N=2, C=3)
    x = ft.tensor(lp).requires_grad_()
    tg, il, tl = ft.tensor([[1, 1], [2, 0]]), ft.tensor([4, 3]), ft.tensor([2, 1])
    assert gradcheck(lambda a: F.ctc_loss(a, tg, il, tl, reduction="none"), (x,))
    assert gradgradcheck(lambda a: F.ctc_loss(a, tg, il, tl), (x,))


def test_ctc_errors(rng):
    lp = ft.tensor(ctc_inputs(rng)[0])
    tg = ft.tensor([[1, 2, 2], [3, 0, 0], [2, 1, 3]])
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 6, but got value 7"):
        F.ctc_loss(lp, tg, [7, 4, 4], [3, 1, 2])
    with pytest.raises(RuntimeError, match="Expected tensor to have size at least 4 at dimension 1, but got size 3"):
        F.ctc_loss(lp, tg, [6, 4, 4], [4, 1, 2])
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp, tg, [6, 4], [3, 1, 2])
    with pytest.raises(RuntimeError, match="target_lengths must be of size batch_size"):
        F.ctc_loss(lp, tg, [6, 4, 4], [3, 1])
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, tg, [6, 4, 4], [3, 1, 2], blank=4)
    with pytest.raises(RuntimeError, match="Expected tensor to have size 6 at dimension 0, but got size 5"):
        F.ctc_loss(lp, ft.tensor([1, 2, 2, 3, 1]), [6, 4, 4], [3, 1, 2])
    with pytest.raises(RuntimeError, match="Expected target_lengths to have value at least 0, but got value -1"):
        F.ctc_loss(lp, tg, [6, 4, 4], [3, -1, 2])
    with pytest.raises(RuntimeError, match="input_lengths must be integral"):
        F.ctc_loss(lp, tg, ft.tensor([6.0, 4, 4]), [3, 1, 2])
    with pytest.raises(RuntimeError, match="log_probs tensor must not be empty"):
        F.ctc_loss(lp[:, :0], tg[:0], [], [])


# ----- gradchecks of the remaining losses ------------------------------------------------------
def test_kl_div_and_poisson_gradcheck(rng):
    x, y = leaf((2, 3), rng, low=-2, high=0), leaf((2, 3), rng, low=0.1, high=1)
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), (x, y))
    assert gradcheck(lambda a, b: F.poisson_nll_loss(a, b, full=True, reduction="sum"), (x, y * 3))


# ----- modules ---------------------------------------------------------------------------------
MODULE_CASES = [
    (nn.L1Loss, {}, F.l1_loss, "float"),
    (nn.MSELoss, {"reduction": "sum"}, F.mse_loss, "float"),
    (nn.SmoothL1Loss, {"beta": 0.5}, F.smooth_l1_loss, "float"),
    (nn.HuberLoss, {"delta": 0.5}, F.huber_loss, "float"),
    (nn.SoftMarginLoss, {}, F.soft_margin_loss, "float"),
    (nn.KLDivLoss, {"reduction": "batchmean", "log_target": True}, F.kl_div, "float"),
    (nn.PoissonNLLLoss, {"full": True}, F.poisson_nll_loss, "positive"),
    (nn.BCELoss, {"weight": ft.rand(4, dtype=ft.float64)}, F.binary_cross_entropy, "probability"),
    (nn.BCEWithLogitsLoss, {"pos_weight": ft.rand(4, dtype=ft.float64)}, F.binary_cross_entropy_with_logits,
     "probability"),
    (nn.MultiLabelSoftMarginLoss, {"weight": ft.rand(4, dtype=ft.float64)}, F.multilabel_soft_margin_loss, "probability"),
    (nn.CrossEntropyLoss, {"weight": ft.rand(4, dtype=ft.float64), "label_smoothing": 0.1, "ignore_index": 1},
     F.cross_entropy, "index"),
    (nn.NLLLoss, {"ignore_index": 2}, F.nll_loss, "index"),
    (nn.MultiMarginLoss, {"p": 2, "margin": 0.5}, F.multi_margin_loss, "index"),
]


@pytest.mark.parametrize("cls,kwargs,fn,target_kind", MODULE_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_module_forward_equals_functional(cls, kwargs, fn, target_kind, rng):
    x = ft.tensor(rng.uniform(0.1, 0.9, size=(3, 4)))
    target = {
        "float": ft.tensor(rng.standard_normal((3, 4))), "positive": ft.tensor(rng.uniform(0, 3, (3, 4))),
        "probability": ft.tensor(rng.uniform(0, 1, (3, 4))), "index": ft.tensor([0, 3, 1]),
    }[target_kind]
    module = cls(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = fn(x, target, **kwargs)
    assert_close(module(x, target), expected.detach().numpy())


def test_three_input_modules_equal_functional(rng):
    a, b, c = (ft.tensor(rng.standard_normal((3, 4))) for _ in range(3))
    y = ft.tensor([1.0, -1.0, 1.0])
    assert_close(nn.MarginRankingLoss(0.2)(a[0], b[0], y.repeat(2)[:4]),
                 F.margin_ranking_loss(a[0], b[0], y.repeat(2)[:4], 0.2).numpy())
    assert_close(nn.CosineEmbeddingLoss(0.1)(a, b, y), F.cosine_embedding_loss(a, b, y, 0.1).numpy())
    assert_close(nn.TripletMarginLoss(p=1)(a, b, c), F.triplet_margin_loss(a, b, c, p=1).numpy())
    assert_close(nn.TripletMarginWithDistanceLoss(swap=True)(a, b, c),
                 F.triplet_margin_with_distance_loss(a, b, c, swap=True).numpy())
    assert_close(nn.GaussianNLLLoss(full=True)(a, b, c.abs()), F.gaussian_nll_loss(a, b, c.abs(), full=True).numpy())
    assert_close(nn.HingeEmbeddingLoss(2.0)(a, y.sign().repeat(4).reshape(3, 4)),
                 F.hinge_embedding_loss(a, y.sign().repeat(4).reshape(3, 4), 2.0).numpy())


def test_ctc_and_multilabel_margin_modules_equal_functional(rng):
    lp, tg, il, tl = ctc_inputs(rng)
    args = (ft.tensor(lp), ft.tensor(tg), ft.tensor(il), ft.tensor(tl))
    assert_close(nn.CTCLoss(reduction="sum")(*args), F.ctc_loss(*args, reduction="sum").numpy())
    x, t = ft.tensor(rng.standard_normal((2, 3))), ft.tensor([[2, -1, 0], [0, 1, -1]])
    assert_close(nn.MultiLabelMarginLoss()(x, t), F.multilabel_margin_loss(x, t).numpy())


def test_weights_are_buffers_in_state_dict():
    w = ft.ones(3)
    assert list(nn.CrossEntropyLoss(w).state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(w, pos_weight=w).state_dict()) == ["weight", "pos_weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
    module = nn.NLLLoss(w).double()
    assert module.weight.dtype == ft.float64 and list(dict(module.named_buffers())) == ["weight"]


def test_module_reprs_and_reduction_attribute():
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == "CrossEntropyLoss()"
    assert repr(nn.CTCLoss()) == "CTCLoss()"
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.L1Loss(size_average=False).reduction == "sum"
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"


def test_module_constructor_errors():
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected weight to be None or 1D tensor, got 2D instead"):
        nn.MultiMarginLoss(weight=ft.ones(2, 2))
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got -1"):
        nn.TripletMarginWithDistanceLoss(margin=-1)
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="1")
