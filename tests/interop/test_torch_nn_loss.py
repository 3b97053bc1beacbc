"""PyTorch as the reference for every loss (skipped where PyTorch is not installed): the same
inputs give the same values and gradients, and the loss modules have PyTorch's reprs and
state_dict keys."""

import warnings

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")

rng = np.random.default_rng(1234)


def probs(*shape):
    return rng.uniform(0.05, 0.95, size=shape)


def normal(*shape):
    return rng.standard_normal(shape)


def labels(high, *shape, low=0):
    return rng.integers(low, high, size=shape)


def signs(*shape):
    return rng.choice([-1.0, 1.0], size=shape)


def soft_labels(*shape):
    x = rng.uniform(size=shape)
    return x / x.sum(1, keepdims=True)


# name -> (call(F, *tensors), arrays, indices of the arrays that require grad)
CASES = {
    "l1": (lambda F, x, y: F.l1_loss(x, y, reduction="none"), [normal(3, 4), normal(3, 4)], [0, 1]),
    "l1_weight": (lambda F, x, y, w: F.l1_loss(x, y, weight=w), [normal(3, 4), normal(3, 4), probs(3, 4)], [0]),
    "mse_sum": (lambda F, x, y: F.mse_loss(x, y, reduction="sum"), [normal(3, 4), normal(3, 4)], [0, 1]),
    "mse_weight": (lambda F, x, y, w: F.mse_loss(x, y, weight=w), [normal(3, 4), normal(3, 4), probs(3, 4)], [0]),
    "smooth_l1": (lambda F, x, y: F.smooth_l1_loss(x, y, beta=0.7, reduction="none"),
                  [2 * normal(5, 3), normal(5, 3)], [0]),
    "smooth_l1_beta0": (lambda F, x, y: F.smooth_l1_loss(x, y, beta=0.0), [normal(5, 3), normal(5, 3)], [0]),
    "huber": (lambda F, x, y: F.huber_loss(x, y, delta=0.6, reduction="none"), [2 * normal(5, 3), normal(5, 3)], [0]),
    "huber_weight": (lambda F, x, y, w: F.huber_loss(x, y, weight=w), [2 * normal(5, 3), normal(5, 3), probs(5, 3)], [0]),
    "bce": (lambda F, x, y, w: F.binary_cross_entropy(x, y, weight=w, reduction="none"),
            [probs(4, 3), probs(4, 3), probs(3)], [0]),
    "bce_mean": (lambda F, x, y: F.binary_cross_entropy(x, y), [probs(4, 3), probs(4, 3)], [0]),
    "bce_logits": (lambda F, x, y, w, pw: F.binary_cross_entropy_with_logits(x, y, w, pos_weight=pw),
                   [3 * normal(4, 3), probs(4, 3), probs(4, 3), 2 * probs(3)], [0]),
    "bce_logits_none": (lambda F, x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
                        [3 * normal(4, 3), probs(4, 3)], [0, 1]),
    "kl_div": (lambda F, x, y: F.kl_div(x, y, reduction="batchmean"),
               [np.log(soft_labels(3, 4)), soft_labels(3, 4)], [0, 1]),
    "kl_div_log_target": (lambda F, x, y: F.kl_div(x, y, reduction="none", log_target=True),
                          [np.log(soft_labels(3, 4)), np.log(soft_labels(3, 4))], [0, 1]),
    "poisson": (lambda F, x, y: F.poisson_nll_loss(x, y, reduction="none"), [normal(6), 3 * probs(6)], [0]),
    "poisson_full": (lambda F, x, y: F.poisson_nll_loss(x, y, log_input=False, full=True),
                     [probs(6) + 0.5, np.array([0.0, 0.5, 1.0, 1.5, 3.0, 7.0])], [0]),
    "gaussian_nll": (lambda F, x, y, v: F.gaussian_nll_loss(x, y, v, full=True, reduction="none"),
                     [normal(4, 3), normal(4, 3), probs(4, 1)], [0, 2]),
    "gaussian_nll_clamped": (lambda F, x, y, v: F.gaussian_nll_loss(x, y, v, eps=0.3),
                             [normal(4, 3), normal(4, 3), probs(4)], [0, 2]),
    "nll": (lambda F, x, t, w: F.nll_loss(x, t, w, ignore_index=1),
            [normal(5, 4), np.array([0, 1, 3, 2, 1]), probs(4)], [0]),
    "nll_spatial": (lambda F, x, t: F.nll_loss(x, t, reduction="none"), [normal(2, 3, 2, 2), labels(3, 2, 2, 2)], [0]),
    "cross_entropy": (lambda F, x, t: F.cross_entropy(x, t), [normal(5, 4), labels(4, 5)], [0]),
    "cross_entropy_weight_smoothing": (
        lambda F, x, t, w: F.cross_entropy(x, t, w, ignore_index=2, label_smoothing=0.3),
        [normal(6, 4), np.array([0, 2, 3, 1, 2, 3]), probs(4)], [0]),
    "cross_entropy_smoothing_none": (
        lambda F, x, t, w: F.cross_entropy(x, t, w, reduction="none", label_smoothing=0.2),
        [normal(2, 4, 3), labels(4, 2, 3), probs(4)], [0]),
    "cross_entropy_5d_sum": (lambda F, x, t: F.cross_entropy(x, t, reduction="sum", label_smoothing=0.1),
                             [normal(2, 3, 2, 1, 2), labels(3, 2, 2, 1, 2)], [0]),
    "cross_entropy_unbatched": (lambda F, x, t: F.cross_entropy(x, t, label_smoothing=0.1), [normal(5), np.array(3)], [0]),
    "cross_entropy_probabilities": (
        lambda F, x, y, w: F.cross_entropy(x, y, w, label_smoothing=0.25),
        [normal(3, 4, 2), soft_labels(3, 4, 2), probs(4)], [0, 1]),
    "margin_ranking": (lambda F, a, b, y: F.margin_ranking_loss(a, b, y, margin=0.3, reduction="none"),
                       [normal(6), normal(6), signs(6)], [0, 1]),
    "hinge_embedding": (lambda F, x, y: F.hinge_embedding_loss(x, y, margin=0.8, reduction="none"),
                        [normal(3, 4), signs(3, 4)], [0]),
    "multilabel_margin": (lambda F, x, t: F.multilabel_margin_loss(x, t, reduction="none"),
                          [normal(3, 4), np.array([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0]])], [0]),
    "multilabel_soft_margin": (lambda F, x, y, w: F.multilabel_soft_margin_loss(x, y, w),
                               [normal(3, 4), rng.integers(0, 2, (3, 4)).astype(np.float64), probs(4)], [0]),
    "multi_margin_p1": (lambda F, x, t: F.multi_margin_loss(x, t, reduction="none"), [normal(4, 5), labels(5, 4)], [0]),
    "multi_margin_p2": (lambda F, x, t, w: F.multi_margin_loss(x, t, p=2, margin=0.7, weight=w),
                        [normal(4, 5), labels(5, 4), probs(5)], [0]),
    "soft_margin": (lambda F, x, y: F.soft_margin_loss(x, y, reduction="none"), [3 * normal(3, 4), signs(3, 4)], [0]),
    "cosine_embedding": (lambda F, a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.2, reduction="none"),
                         [normal(5, 3), normal(5, 3), signs(5)], [0, 1]),
    "triplet": (lambda F, a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, reduction="none"),
                [normal(4, 3), normal(4, 3), normal(4, 3)], [0, 1, 2]),
    "triplet_p1_swap": (lambda F, a, p, n: F.triplet_margin_loss(a, p, n, p=1, swap=True, margin=1.5),
                        [normal(4, 3), normal(4, 3), normal(4, 3)], [0, 1, 2]),
    "triplet_distance": (
        lambda F, a, p, n: F.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: (u - v).abs().sum(-1), margin=2.0, swap=True, reduction="sum"),
        [normal(4, 3), normal(4, 3), normal(4, 3)], [0, 1, 2]),
    "triplet_distance_default": (lambda F, a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=2.5),
                                 [normal(4, 3), normal(4, 3), normal(4, 3)], [0, 1, 2]),
}


def _ctc_case(reduction, zero_infinity=False, concatenated=False):
    """CTC on log_softmax(logits): PyTorch's CTC backward assumes log_probs came from a
    log_softmax, so gradients agree with respect to the logits (not the log_probs)."""
    target_lengths = np.array([3, 0, 2])
    padded = np.array([[1, 2, 2], [0, 0, 0], [3, 1, 0]])
    targets = np.array([1, 2, 2, 3, 1]) if concatenated else padded
    input_lengths = np.array([6, 4, 1 if zero_infinity else 5])

    def call(F, logits, tg, il, tl):
        return F.ctc_loss(logits.log_softmax(2), tg, il, tl, reduction=reduction, zero_infinity=zero_infinity)

    return call, [normal(6, 3, 4), targets, input_lengths, target_lengths], [0]


CASES.update({
    "ctc_none": _ctc_case("none"),
    "ctc_mean": _ctc_case("mean"),
    "ctc_sum_concatenated": _ctc_case("sum", concatenated=True),
    "ctc_zero_infinity": _ctc_case("none", zero_infinity=True),
})


def evaluate(lib, call, arrays, grad_indices):
    """Values of ``call`` and gradients of a fixed weighting of them, in either library."""
    tensors = [lib.tensor(a) for a in arrays]
    for i in grad_indices:
        tensors[i].requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = call(lib.nn.functional, *tensors)
    weights = np.random.default_rng(0).uniform(0.5, 1.5, size=tuple(out.shape))
    (out * lib.tensor(weights)).sum().backward()
    return out.detach().numpy(), [tensors[i].grad.numpy() for i in grad_indices]


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradient_match_torch(name):
    call, arrays, grad_indices = CASES[name]
    got, got_grads = evaluate(ft, call, arrays, grad_indices)
    want, want_grads = evaluate(torch, call, arrays, grad_indices)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for g, w in zip(got_grads, want_grads):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)


def test_float32_cross_entropy_matches_torch():
    x, t = normal(8, 5).astype(np.float32), labels(5, 8)
    got = ft.nn.functional.cross_entropy(ft.tensor(x), ft.tensor(t), label_smoothing=0.1)
    want = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t), label_smoothing=0.1)
    assert got.dtype == ft.float32
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)


def build_modules(L):
    """Every loss module, with non-default arguments where they change the repr or state."""
    nn = L.nn
    w = L.ones(4)
    return [
        nn.L1Loss(), nn.MSELoss(reduction="sum"), nn.CrossEntropyLoss(weight=w, label_smoothing=0.1),
        nn.NLLLoss(w, ignore_index=3), nn.BCELoss(w), nn.BCEWithLogitsLoss(w, pos_weight=L.ones(4)),
        nn.BCEWithLogitsLoss(pos_weight=L.ones(4)), nn.KLDivLoss(reduction="batchmean", log_target=True),
        nn.PoissonNLLLoss(log_input=False, full=True), nn.GaussianNLLLoss(full=True, eps=1e-3),
        nn.SmoothL1Loss(beta=0.5), nn.HuberLoss(delta=2.0), nn.MarginRankingLoss(margin=0.5),
        nn.HingeEmbeddingLoss(margin=2.0), nn.MultiLabelMarginLoss(), nn.MultiLabelSoftMarginLoss(w),
        nn.MultiMarginLoss(p=2, margin=0.5, weight=w), nn.SoftMarginLoss(), nn.CosineEmbeddingLoss(0.1),
        nn.TripletMarginLoss(margin=2.0, p=1, swap=True), nn.CTCLoss(blank=1, zero_infinity=True),
        nn.TripletMarginWithDistanceLoss(distance_function=L.nn.functional.l1_loss, margin=0.5),
    ]


def test_module_reprs_match_torch():
    assert [repr(m) for m in build_modules(ft)] == [repr(m) for m in build_modules(torch)]


def test_module_state_dicts_match_torch():
    for ours, theirs in zip(build_modules(ft), build_modules(torch)):
        assert list(ours.state_dict()) == list(theirs.state_dict()), type(ours).__name__
        for key in theirs.state_dict():
            assert tuple(ours.state_dict()[key].shape) == tuple(theirs.state_dict()[key].shape)


def test_module_attributes_match_torch():
    for ours, theirs in zip(build_modules(ft), build_modules(torch)):
        public = lambda m: {k: v for k, v in vars(m).items() if not k.startswith("_") and k != "training"}  # noqa: E731
        mine, reference = public(ours), public(theirs)
        assert sorted(mine) == sorted(reference), type(ours).__name__
        for key, value in reference.items():
            if not callable(value):
                assert mine[key] == value, (type(ours).__name__, key)


def test_default_distance_module_repr_matches_torch():
    if not hasattr(ft.nn, "PairwiseDistance"):
        pytest.skip("nn.PairwiseDistance is not in this build")
    assert repr(ft.nn.TripletMarginWithDistanceLoss()) == repr(torch.nn.TripletMarginWithDistanceLoss())


@pytest.mark.parametrize("size_average,reduce", [(None, False), (False, None), (True, True), (False, True)])
def test_legacy_arguments_map_like_torch(size_average, reduce):
    x, y = normal(3, 2), normal(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ft.nn.functional.mse_loss(ft.tensor(x), ft.tensor(y), size_average, reduce)
        want = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y), size_average, reduce)
        assert ft.nn.MSELoss(size_average, reduce).reduction == torch.nn.MSELoss(size_average, reduce).reduction
    np.testing.assert_allclose(got.numpy(), want.numpy())
