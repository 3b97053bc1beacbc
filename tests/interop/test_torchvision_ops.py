"""ferrovision.ops against torchvision.ops itself: outputs and gradients on random inputs."""

from collections import OrderedDict

import numpy as np
import pytest

torchvision = pytest.importorskip("torchvision")
import torch  # noqa: E402

import ferrotorch as ft  # noqa: E402
from ferrovision import ops  # noqa: E402

tv = torchvision.ops


def random_rois(rng, k, n, high=12.0):
    xy = rng.uniform(-2, high, (k, 2))
    return np.concatenate([rng.integers(0, n, (k, 1)).astype(np.float64), xy, xy + rng.uniform(-1, high / 2, (k, 2))], 1)


def random_boxes(rng, n, size=20.0):
    xy = rng.uniform(0, size, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(0.5, size / 2, (n, 2))], 1)


def run_both(ours, theirs, arrays, grad_argnums):
    """Outputs of both libraries and the gradients of sum(out * g) for a random g."""
    ft_in = [ft.tensor(a).requires_grad_(i in grad_argnums) for i, a in enumerate(arrays)]
    th_in = [torch.tensor(a).requires_grad_(i in grad_argnums) for i, a in enumerate(arrays)]
    ft_out, th_out = ours(*ft_in), theirs(*th_in)
    g = np.random.default_rng(5).standard_normal(tuple(th_out.shape))
    (ft_out * ft.tensor(g)).sum().backward()
    (th_out * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ft_out.detach().numpy(), th_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for i in grad_argnums:
        np.testing.assert_allclose(ft_in[i].grad.numpy(), th_in[i].grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 2])
def test_roi_align_and_gradient(aligned, sampling_ratio, rng):
    args = (rng.standard_normal((2, 3, 9, 11)), random_rois(rng, 12, 2))
    run_both(lambda x, r: ops.roi_align(x, r, (3, 2), 0.7, sampling_ratio, aligned),
             lambda x, r: tv.roi_align(x, r, (3, 2), 0.7, sampling_ratio, aligned), args, [0])


def test_roi_pool_and_gradient(rng):
    run_both(lambda x, r: ops.roi_pool(x, r, (3, 2), 0.7), lambda x, r: tv.roi_pool(x, r, (3, 2), 0.7),
             (rng.standard_normal((2, 3, 9, 11)), random_rois(rng, 12, 2)), [0])


def test_ps_roi_align_and_gradient(rng):
    rois = random_rois(rng, 10, 2)
    rois[:, 3:] = rois[:, 1:3] + np.abs(rois[:, 3:] - rois[:, 1:3]) + 0.5
    run_both(lambda x, r: ops.ps_roi_align(x, r, 2, 0.7, -1), lambda x, r: tv.ps_roi_align(x, r, 2, 0.7, -1),
             (rng.standard_normal((2, 8, 9, 11)), rois), [0])


def test_ps_roi_pool_and_gradient_inside_the_image(rng):
    # torchvision's backward clips bins to the image while its forward clips to size - 1, so the
    # gradients agree only for RoIs that stay clear of the last row and column.
    rois = random_rois(rng, 10, 2, high=5.0)
    run_both(lambda x, r: ops.ps_roi_pool(x, r, 2, 1.0), lambda x, r: tv.ps_roi_pool(x, r, 2, 1.0),
             (rng.standard_normal((2, 8, 12, 12)), rois), [0])
    border = random_rois(rng, 10, 2, high=12.0)
    x = rng.standard_normal((2, 8, 9, 11))
    np.testing.assert_allclose(ops.ps_roi_pool(ft.tensor(x), ft.tensor(border), 2).numpy(),
                               tv.ps_roi_pool(torch.tensor(x), torch.tensor(border), 2).numpy(), rtol=1e-12)


@pytest.mark.parametrize("use_mask", [False, True])
def test_deform_conv2d_and_gradients(use_mask, rng):
    x, w, b = rng.standard_normal((2, 4, 6, 7)), rng.standard_normal((6, 2, 3, 3)), rng.standard_normal(6)
    off = rng.uniform(-2.5, 2.5, (2, 2 * 2 * 9, 6, 3))
    mask = rng.uniform(0, 1, (2, 18, 6, 3))
    kw = dict(stride=(1, 2), padding=1, dilation=(1, 2))
    if use_mask:
        run_both(lambda *a: ops.deform_conv2d(a[0], a[1], a[2], a[3], mask=a[4], **kw),
                 lambda *a: tv.deform_conv2d(a[0], a[1], a[2], a[3], mask=a[4], **kw), (x, off, w, b, mask), [0, 1, 2, 3, 4])
    else:
        run_both(lambda *a: ops.deform_conv2d(*a, **kw), lambda *a: tv.deform_conv2d(*a, **kw), (x, off, w, b), [0, 1, 2, 3])


@pytest.mark.parametrize("name", ["box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou"])
def test_pairwise_ious_and_gradients(name, rng):
    run_both(getattr(ops, name), getattr(tv, name), (random_boxes(rng, 5), random_boxes(rng, 6)), [0, 1])


@pytest.mark.parametrize("name", ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_box_losses_and_gradients(name, reduction, rng):
    b1, b2 = random_boxes(rng, 7), random_boxes(rng, 7)
    b2[:2] += 40
    run_both(lambda a, b: getattr(ops, name)(a, b, reduction), lambda a, b: getattr(tv, name)(a, b, reduction),
             (b1, b2), [0, 1])


def test_sigmoid_focal_loss_and_gradient(rng):
    t = (rng.random((4, 5)) > 0.5).astype(np.float64)
    run_both(lambda x, y: ops.sigmoid_focal_loss(x, y, 0.3, 1.5), lambda x, y: tv.sigmoid_focal_loss(x, y, 0.3, 1.5),
             (rng.standard_normal((4, 5)), t), [0])


@pytest.mark.parametrize("n", [200, 1500])
def test_nms_and_batched_nms(n, rng):
    boxes = random_boxes(rng, n, size=60.0).astype(np.float32)
    scores = rng.random(n).astype(np.float32)
    idxs = rng.integers(0, 4, n)
    for thr in (0.2, 0.6):
        np.testing.assert_array_equal(ops.nms(ft.tensor(boxes), ft.tensor(scores), thr).numpy(),
                                      tv.nms(torch.tensor(boxes), torch.tensor(scores), thr).numpy())
        np.testing.assert_array_equal(
            ops.batched_nms(ft.tensor(boxes), ft.tensor(scores), ft.tensor(idxs), thr).numpy(),
            tv.batched_nms(torch.tensor(boxes), torch.tensor(scores), torch.tensor(idxs), thr).numpy())


def test_box_helpers(rng):
    b = random_boxes(rng, 8)
    for fmt in ("xywh", "cxcywh"):
        np.testing.assert_allclose(ops.box_convert(ft.tensor(b), "xyxy", fmt).numpy(),
                                   tv.box_convert(torch.tensor(b), "xyxy", fmt).numpy())
    np.testing.assert_allclose(ops.clip_boxes_to_image(ft.tensor(b), (9, 12)).numpy(),
                               tv.clip_boxes_to_image(torch.tensor(b), (9, 12)).numpy())
    np.testing.assert_array_equal(ops.remove_small_boxes(ft.tensor(b), 4.0).numpy(),
                                  tv.remove_small_boxes(torch.tensor(b), 4.0).numpy())
    masks = rng.random((4, 7, 9)) > 0.9
    masks[0] = False
    np.testing.assert_array_equal(ops.masks_to_boxes(ft.tensor(masks)).numpy(), tv.masks_to_boxes(torch.tensor(masks)).numpy())


def test_fpn_and_multiscale_roi_align(rng):
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool as TvPool

    from ferrovision.ops.feature_pyramid_network import LastLevelMaxPool
    ours = ops.FeaturePyramidNetwork([3, 5, 6], 4, LastLevelMaxPool()).double()
    theirs = tv.FeaturePyramidNetwork([3, 5, 6], 4, TvPool()).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: ft.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    feats = OrderedDict((f"c{i}", rng.standard_normal((2, c, s, s))) for i, (c, s) in enumerate([(3, 16), (5, 8), (6, 4)]))
    out = ours(OrderedDict((k, ft.tensor(v)) for k, v in feats.items()))
    ref = theirs(OrderedDict((k, torch.tensor(v)) for k, v in feats.items()))
    assert list(out) == list(ref)
    for k in ref:
        np.testing.assert_allclose(out[k].detach().numpy(), ref[k].detach().numpy(), rtol=1e-10, atol=1e-12)
    boxes = [random_boxes(rng, 6, 50.0), random_boxes(rng, 4, 50.0)]
    m_ours, m_theirs = ops.MultiScaleRoIAlign(["c0", "c1", "c2"], 3, 2), tv.MultiScaleRoIAlign(["c0", "c1", "c2"], 3, 2)
    assert repr(m_ours) == repr(m_theirs)
    pooled = m_ours(out, [ft.tensor(b) for b in boxes], [(64, 64), (60, 60)])
    expected = m_theirs(ref, [torch.tensor(b) for b in boxes], [(64, 64), (60, 60)])
    np.testing.assert_allclose(pooled.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("norm", [False, True])
def test_fpn_repr_and_keys_match_torchvision(norm):
    from torchvision.ops.feature_pyramid_network import LastLevelP6P7 as TvP6P7

    from ferrovision.ops.feature_pyramid_network import LastLevelP6P7
    ours = ops.FeaturePyramidNetwork([3, 5], 4, LastLevelP6P7(5, 4), norm_layer=ft.nn.BatchNorm2d if norm else None)
    theirs = tv.FeaturePyramidNetwork([3, 5], 4, TvP6P7(5, 4), norm_layer=torch.nn.BatchNorm2d if norm else None)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_module_reprs():
    for args in [(7, 0.5, 2), ((3, 3), 0.25, -1, True)]:
        assert repr(ops.RoIAlign(*args)) == repr(tv.RoIAlign(*args))
    assert repr(ops.RoIPool(3, 0.5)) == repr(tv.RoIPool(3, 0.5))
    assert repr(ops.PSRoIAlign(3, 0.5, 2)) == repr(tv.PSRoIAlign(3, 0.5, 2))
    assert repr(ops.PSRoIPool(3, 0.5)) == repr(tv.PSRoIPool(3, 0.5))
    for args, kw in [((4, 6, 3), {}), ((4, 6, 3, 2, 1, 2, 2), {"bias": False})]:
        assert repr(ops.DeformConv2d(*args, **kw)) == repr(tv.DeformConv2d(*args, **kw))
