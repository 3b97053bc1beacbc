"""ferrovision.ops box utilities against NumPy float64 references (IoU variants, losses, NMS)."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from conftest import assert_close, leaf
from ferrovision import ops


def random_boxes(rng, n, size=10.0):
    """n valid xyxy boxes (x1 < x2, y1 < y2)."""
    xy = rng.uniform(0, size, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(0.5, size / 2, (n, 2))], axis=1)


# ---- NumPy references -------------------------------------------------------------------------

def np_area(b):
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def np_inter_union(b1, b2):
    lt = np.maximum(b1[:, None, :2], b2[None, :, :2])
    rb = np.minimum(b1[:, None, 2:], b2[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    return inter, np_area(b1)[:, None] + np_area(b2)[None, :] - inter


def np_enclosing(b1, b2):
    lt = np.minimum(b1[:, None, :2], b2[None, :, :2])
    rb = np.maximum(b1[:, None, 2:], b2[None, :, 2:])
    return np.clip(rb - lt, 0, None)


def np_iou(b1, b2):
    inter, union = np_inter_union(b1, b2)
    return inter / union


def np_giou(b1, b2):
    inter, union = np_inter_union(b1, b2)
    wh = np_enclosing(b1, b2)
    area = wh[..., 0] * wh[..., 1]
    return inter / union - (area - union) / area


def np_diou(b1, b2, eps=1e-7):
    wh = np_enclosing(b1, b2)
    diag = (wh ** 2).sum(-1) + eps
    c1 = (b1[:, :2] + b1[:, 2:]) / 2
    c2 = (b2[:, :2] + b2[:, 2:]) / 2
    dist = ((c1[:, None] - c2[None]) ** 2).sum(-1)
    return np_iou(b1, b2) - dist / diag


def np_aspect_term(b1, b2):
    """CIoU's v: 4 / pi^2 (atan(w1 / h1) - atan(w2 / h2))^2, pairwise."""
    a1 = np.arctan((b1[:, 2] - b1[:, 0]) / (b1[:, 3] - b1[:, 1]))
    a2 = np.arctan((b2[:, 2] - b2[:, 0]) / (b2[:, 3] - b2[:, 1]))
    return 4 / math.pi ** 2 * (a1[:, None] - a2[None]) ** 2


def np_ciou_alpha(b1, b2, eps=1e-7):
    """CIoU's trade-off weight alpha = v / (1 - IoU + v), pairwise."""
    v = np_aspect_term(b1, b2)
    return v / (1 - np_iou(b1, b2) + v + eps)


def np_ciou(b1, b2, eps=1e-7, alpha=None):
    """CIoU; ``alpha`` may be held fixed, as the gradient treats it."""
    if alpha is None:
        alpha = np_ciou_alpha(b1, b2, eps)
    return np_diou(b1, b2, eps) - alpha * np_aspect_term(b1, b2)


def numerical_grad(f, x, h=1e-6):
    """Central differences of sum(f(x)) w.r.t. every element of x."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = h
        grad[i] = (f(x + d).sum() - f(x - d).sum()) / (2 * h)
    return grad


def np_nms(boxes, scores, threshold):
    """Greedy NMS: take the best remaining box, drop those overlapping it by more than threshold."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep, alive = [], set(order)
    for i in order:
        if i not in alive:
            continue
        keep.append(i)
        for j in list(alive):
            if j != i and np_iou(boxes[i:i + 1], boxes[j:j + 1])[0, 0] > threshold:
                alive.discard(j)
        alive.discard(i)
    return np.array(keep, dtype=np.int64)


# ---- pairwise IoU family ---------------------------------------------------------------------

PAIRWISE = [(ops.box_iou, np_iou), (ops.generalized_box_iou, np_giou), (ops.distance_box_iou, np_diou),
            (ops.complete_box_iou, np_ciou)]


@pytest.mark.parametrize("fn,ref", PAIRWISE, ids=lambda f: getattr(f, "__name__", ""))
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_pairwise_iou_matches_numpy(fn, ref, dtype, rng):
    b1, b2 = random_boxes(rng, 5), random_boxes(rng, 7)
    out = fn(ft.tensor(b1, dtype=dtype), ft.tensor(b2, dtype=dtype))
    assert_close(out, ref(b1, b2), dtype=dtype, rtol=1e-5 if dtype == ft.float32 else 1e-12, atol=1e-6)


@pytest.mark.parametrize("fn,ref", PAIRWISE, ids=lambda f: getattr(f, "__name__", ""))
def test_pairwise_iou_on_transposed_and_batched_boxes(fn, ref, rng):
    b1, b2 = random_boxes(rng, 4), random_boxes(rng, 3)
    t1 = ft.tensor(np.ascontiguousarray(b1.T)).t()  # non-contiguous view
    assert not t1.is_contiguous()
    assert_close(fn(t1, ft.tensor(b2)), ref(b1, b2))
    batched = fn(ft.tensor(np.stack([b1, b1[::-1].copy()])), ft.tensor(np.stack([b2, b2])))
    assert_close(batched, np.stack([ref(b1, b2), ref(b1[::-1], b2)]))


def test_box_iou_of_identical_and_disjoint_boxes():
    b = ft.tensor([[0.0, 0, 2, 2], [10, 10, 11, 11]])
    assert_close(ops.box_iou(b, b), np.eye(2))


def test_box_iou_of_empty_sets_has_empty_shape():
    assert tuple(ops.box_iou(ft.zeros(0, 4), ft.zeros(3, 4)).shape) == (0, 3)
    assert tuple(ops.generalized_box_iou(ft.zeros(2, 4), ft.zeros(0, 4)).shape) == (2, 0)


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_box_iou_and_area_in_other_formats(fmt, rng):
    b1, b2 = random_boxes(rng, 4), random_boxes(rng, 5)
    c1 = ops.box_convert(ft.tensor(b1), "xyxy", fmt)
    c2 = ops.box_convert(ft.tensor(b2), "xyxy", fmt)
    assert_close(ops.box_iou(c1, c2, fmt=fmt), np_iou(b1, b2))
    assert_close(ops.box_area(c1, fmt=fmt), np_area(b1))


def test_box_iou_rejects_unknown_format():
    with pytest.raises(ValueError, match="Unsupported format 'abc'"):
        ops.box_iou(ft.zeros(1, 4), ft.zeros(1, 4), fmt="abc")


def test_box_area_upcasts_small_integers():
    area = ops.box_area(ft.tensor([[0, 0, 100, 200]], dtype=ft.int16))
    assert area.dtype == ft.int32 and area.tolist() == [20000]
    assert ops.box_area(ft.tensor([[0, 0, 2, 3]], dtype=ft.float16)).dtype == ft.float32


@pytest.mark.parametrize("fn", [ops.box_iou, ops.generalized_box_iou, ops.distance_box_iou])
def test_pairwise_iou_gradcheck(fn, rng):
    b1 = ft.tensor(random_boxes(rng, 2)).requires_grad_()
    b2 = ft.tensor(random_boxes(rng, 3)).requires_grad_()
    assert ft.autograd.gradcheck(fn, (b1, b2))


def test_complete_box_iou_gradient_holds_alpha_constant(rng):
    # As in the CIoU paper (and torchvision), alpha is not differentiated.
    b1, b2 = random_boxes(rng, 2), random_boxes(rng, 3)
    alpha = np_ciou_alpha(b1, b2)
    t1 = ft.tensor(b1).requires_grad_()
    ops.complete_box_iou(t1, ft.tensor(b2)).sum().backward()
    expected = numerical_grad(lambda x: np_ciou(x, b2, alpha=alpha), b1)
    np.testing.assert_allclose(t1.grad.numpy(), expected, rtol=1e-6, atol=1e-8)


# ---- conversions and filters -----------------------------------------------------------------

@pytest.mark.parametrize("in_fmt,out_fmt", [("xyxy", "xywh"), ("xyxy", "cxcywh"), ("xywh", "xyxy"),
                                            ("cxcywh", "xyxy"), ("xywh", "cxcywh"), ("cxcywh", "xywh"),
                                            ("xyxy", "xyxy")])
def test_box_convert_matches_formulas(in_fmt, out_fmt, rng):
    b = random_boxes(rng, 6)
    as_fmt = {
        "xyxy": b,
        "xywh": np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1),
        "cxcywh": np.concatenate([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]], 1),
    }
    assert_close(ops.box_convert(ft.tensor(as_fmt[in_fmt]), in_fmt, out_fmt), as_fmt[out_fmt])


def test_box_convert_keeps_leading_dims_and_rejects_unknown_formats(rng):
    b = ft.tensor(random_boxes(rng, 6).reshape(2, 3, 4))
    assert tuple(ops.box_convert(b, "xyxy", "cxcywh").shape) == (2, 3, 4)
    with pytest.raises(ValueError, match="Unsupported Bounding Box Conversions for given in_fmt xyxy and out_fmt foo"):
        ops.box_convert(b, "xyxy", "foo")


def test_clip_boxes_to_image():
    b = ft.tensor([[-1.0, -2, 5, 30], [3, 4, 50, 6]])
    assert_close(ops.clip_boxes_to_image(b, (20, 10)), np.array([[0.0, 0, 5, 20], [3, 4, 10, 6]]))


def test_remove_small_boxes_keeps_boxes_with_both_sides_large_enough():
    b = ft.tensor([[0.0, 0, 1, 5], [0, 0, 5, 5], [0, 0, 5, 0.5], [1, 1, 3, 3]])
    assert ops.remove_small_boxes(b, 2.0).tolist() == [1, 3]


def test_masks_to_boxes_finds_tight_boxes_and_zero_for_empty_masks():
    masks = np.zeros((3, 6, 7), dtype=np.uint8)
    masks[0, 1:4, 2:6] = 1
    masks[1, 5, 0] = 1
    out = ops.masks_to_boxes(ft.tensor(masks))
    assert out.dtype == ft.float32
    assert out.tolist() == [[2, 1, 5, 3], [0, 5, 0, 5], [0, 0, 0, 0]]
    assert tuple(ops.masks_to_boxes(ft.zeros(0, 4, 4)).shape) == (0, 4)


# ---- NMS -------------------------------------------------------------------------------------

@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.7])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_nms_matches_greedy_reference(threshold, dtype, rng):
    boxes = random_boxes(rng, 40, size=20.0)
    scores = rng.random(40)
    keep = ops.nms(ft.tensor(boxes, dtype=dtype), ft.tensor(scores, dtype=dtype), threshold)
    assert keep.dtype == ft.int64
    np.testing.assert_array_equal(keep.numpy(), np_nms(boxes, scores, threshold))


def test_nms_breaks_score_ties_by_index_and_puts_nan_scores_first():
    boxes = ft.tensor([[0.0, 0, 1, 1], [5, 5, 6, 6], [10, 10, 11, 11], [20, 20, 21, 21]])
    assert ops.nms(boxes, ft.tensor([0.5, 0.9, 0.5, float("nan")]), 0.5).tolist() == [3, 1, 0, 2]


def test_nms_keeps_degenerate_boxes_whose_iou_is_nan():
    boxes = ft.tensor([[1.0, 1, 1, 1], [1, 1, 1, 1]])
    assert ops.nms(boxes, ft.tensor([0.9, 0.8]), 0.5).tolist() == [0, 1]


def test_nms_of_no_boxes_is_empty_int64():
    keep = ops.nms(ft.zeros(0, 4), ft.zeros(0), 0.5)
    assert keep.dtype == ft.int64 and tuple(keep.shape) == (0,)


@pytest.mark.parametrize("boxes,scores,message", [
    ((3,), (3,), "boxes should be a 2d tensor, got 1D"),
    ((3, 5), (3,), "boxes should have 4 elements in dimension 1, got 5"),
    ((3, 4), (3, 1), "scores should be a 1d tensor, got 2D"),
    ((3, 4), (2,), "boxes and scores should have same number of elements in dimension 0, got 3 and 2"),
])
def test_nms_shape_errors(boxes, scores, message):
    with pytest.raises(RuntimeError, match=message):
        ops.nms(ft.zeros(*boxes), ft.zeros(*scores), 0.5)


def test_nms_dtype_errors():
    with pytest.raises(RuntimeError, match="dets should have the same type as scores"):
        ops.nms(ft.zeros(2, 4), ft.zeros(2, dtype=ft.float64), 0.5)
    with pytest.raises(RuntimeError, match='"nms_kernel" not implemented'):
        ops.nms(ft.zeros(2, 4, dtype=ft.int64), ft.zeros(2, dtype=ft.int64), 0.5)


@pytest.mark.parametrize("n", [30, 1100])  # 1100 boxes take torchvision's per-class branch
def test_batched_nms_is_nms_per_category(n, rng):
    boxes = random_boxes(rng, n, size=30.0)
    scores = rng.random(n)
    idxs = rng.integers(0, 3, n)
    keep = ops.batched_nms(ft.tensor(boxes), ft.tensor(scores), ft.tensor(idxs), 0.4).numpy()
    expected = np.concatenate([np.flatnonzero(idxs == c)[np_nms(boxes[idxs == c], scores[idxs == c], 0.4)]
                               for c in range(3)])
    expected = expected[np.argsort(-scores[expected], kind="stable")]
    np.testing.assert_array_equal(keep, expected)


def test_batched_nms_of_no_boxes_is_empty():
    assert tuple(ops.batched_nms(ft.zeros(0, 4), ft.zeros(0), ft.zeros(0, dtype=ft.int64), 0.5).shape) == (0,)


# ---- losses ----------------------------------------------------------------------------------

LOSSES = [(ops.generalized_box_iou_loss, np_giou), (ops.distance_box_iou_loss, np_diou),
          (ops.complete_box_iou_loss, np_ciou)]


@pytest.mark.parametrize("fn,ref", LOSSES, ids=lambda f: getattr(f, "__name__", ""))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_box_losses_are_one_minus_the_aligned_iou(fn, ref, reduction, rng):
    b1, b2 = random_boxes(rng, 6), random_boxes(rng, 6)
    b2[0] = b1[0] + 30  # one disjoint pair
    expected = 1 - np.diagonal(ref(b1, b2))
    expected = {"none": expected, "mean": expected.mean(), "sum": expected.sum()}[reduction]
    # The losses add eps to the unions: compare to 1e-6.
    assert_close(fn(ft.tensor(b1), ft.tensor(b2), reduction=reduction), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fn", [f for f, _ in LOSSES])
def test_box_losses_gradient_and_empty_mean(fn, rng):
    b1 = ft.tensor(random_boxes(rng, 3)).requires_grad_()
    b2 = ft.tensor(random_boxes(rng, 3)).requires_grad_()
    if fn is ops.complete_box_iou_loss:
        # alpha is held constant in the gradient, as in test_complete_box_iou_gradient_holds_alpha_constant.
        x1, x2 = b1.detach().numpy(), b2.detach().numpy()
        alpha = np_ciou_alpha(x1, x2)
        fn(b1, b2, reduction="sum").backward()
        expected = numerical_grad(lambda x: 1 - np.diagonal(np_ciou(x, x2, alpha=alpha)), x1)
        np.testing.assert_allclose(b1.grad.numpy(), expected, rtol=1e-5, atol=1e-7)
    else:
        assert ft.autograd.gradcheck(lambda a, b: fn(a, b, reduction="sum"), (b1, b2))
    assert fn(ft.zeros(0, 4), ft.zeros(0, 4), reduction="mean").item() == 0.0
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction': 'max"):
        fn(b1, b2, reduction="max")


def test_box_losses_accept_single_boxes():
    loss = ops.generalized_box_iou_loss(ft.tensor([0.0, 0, 2, 2]), ft.tensor([1.0, 1, 3, 3]))
    # IoU 1/7, enclosing area 9, union 7: GIoU = 1/7 - 2/9.
    assert abs(loss.item() - (1 - (1 / 7 - 2 / 9))) < 1e-6


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2), (-1, 0), (0.5, 1.5)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_sigmoid_focal_loss_matches_formula(alpha, gamma, reduction, rng):
    x = rng.standard_normal((3, 5))
    t = (rng.random((3, 5)) > 0.5).astype(np.float64)
    p = 1 / (1 + np.exp(-x))
    ce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    expected = {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    out = ops.sigmoid_focal_loss(ft.tensor(x), ft.tensor(t), alpha, gamma, reduction)
    assert_close(out, expected, rtol=1e-10, atol=1e-12)


def test_sigmoid_focal_loss_gradcheck_and_bad_alpha(rng):
    x = leaf((2, 3), rng)
    t = ft.tensor((rng.random((2, 3)) > 0.5).astype(np.float64))
    assert ft.autograd.gradcheck(lambda a: ops.sigmoid_focal_loss(a, t, reduction="sum"), (x,))
    with pytest.raises(ValueError, match="Invalid alpha value: 2"):
        ops.sigmoid_focal_loss(x, t, alpha=2)
