"""Rotated bounding boxes (XYWHR, CXCYWHR, XYXYXYXY) against NumPy geometry: the conversions, flips,
quarter turns, resizes, crops and pads move the corners as the image moves, and clamping keeps the angle
("soft": the box around the visible part; "hard": a box inside the canvas)."""

import math

import numpy as np
import pytest

import ferrotorch
import ferrovision.transforms.v2.functional as F
from ferrovision.tv_tensors import BoundingBoxes

H, W = 16, 20
XYWHR = np.array([[3.0, 4.0, 6.0, 3.0, 30.0], [10.0, 2.0, 5.0, 8.0, -60.0], [12.0, 9.0, 4.0, 4.0, 0.0]])
FORMATS = ["XYWHR", "CXCYWHR", "XYXYXYXY"]


def corners(xywhr):
    """(N, 4, 2) corners: the width along (cos r, -sin r), the height along (sin r, cos r) (y down)."""
    x, y, w, h, r = np.asarray(xywhr, dtype=np.float64).T
    r = np.radians(r)
    u = np.stack([np.cos(r), -np.sin(r)], 1) * w[:, None]
    v = np.stack([np.sin(r), np.cos(r)], 1) * h[:, None]
    p1 = np.stack([x, y], 1)
    return np.stack([p1, p1 + u, p1 + u + v, p1 + v], 1)


def in_format(xywhr, format):
    c = corners(xywhr)
    if format == "XYXYXYXY":
        return c.reshape(-1, 8)
    if format == "CXCYWHR":
        centre = (c[:, 0] + c[:, 2]) / 2
        return np.concatenate([centre, np.asarray(xywhr)[:, 2:]], 1)
    return np.asarray(xywhr, dtype=np.float64)


def boxes(format="XYWHR", xywhr=XYWHR, clamping_mode=None, canvas_size=(H, W)):
    data = ferrotorch.from_numpy(in_format(xywhr, format).copy())
    return BoundingBoxes(data, format=format, canvas_size=canvas_size, clamping_mode=clamping_mode)


def corner_set(got, format):
    """The corners of boxes in `format` as (N, 4, 2), through the XYXYXYXY conversion."""
    xyxyxyxy = F.convert_bounding_box_format(got, new_format="XYXYXYXY").numpy()
    return xyxyxyxy.reshape(-1, 4, 2)


def assert_same_rectangles(got_corners, expected_corners):
    """Equal as sets of corners (the corner order of a box may start elsewhere)."""
    for g, e in zip(got_corners, expected_corners):
        g, e = sorted(map(tuple, g.round(6))), sorted(map(tuple, e.round(6)))
        np.testing.assert_allclose(np.array(g), np.array(e), atol=1e-5)


@pytest.mark.parametrize("format", FORMATS)
def test_conversions_follow_the_corner_formulas(format):
    got = F.convert_bounding_box_format(boxes(), new_format=format)
    np.testing.assert_allclose(got.numpy(), in_format(XYWHR, format), atol=1e-9)
    back = F.convert_bounding_box_format(got, new_format="XYWHR")
    np.testing.assert_allclose(back.numpy(), XYWHR, atol=1e-9)
    with pytest.raises(ValueError, match="Cannot convert between rotated and unrotated"):
        F.convert_bounding_box_format(got, new_format="CXCYWH")


@pytest.mark.parametrize("format", FORMATS)
def test_flips_mirror_the_corners(format):
    c = corners(XYWHR)
    mirrored_x, mirrored_y = np.stack([W - c[..., 0], c[..., 1]], -1), np.stack([c[..., 0], H - c[..., 1]], -1)
    assert_same_rectangles(corner_set(F.horizontal_flip(boxes(format)), format), mirrored_x)
    assert_same_rectangles(corner_set(F.vertical_flip(boxes(format)), format), mirrored_y)


@pytest.mark.parametrize("format", FORMATS)
def test_quarter_turn_pad_and_crop_move_the_corners(format):
    c = corners(XYWHR)
    turned = F.rotate(boxes(format), 90.0, expand=True)  # (x, y) -> (y, W - x) on a (W, H) canvas
    assert tuple(turned.canvas_size) == (W, H)
    assert_same_rectangles(corner_set(turned, format), np.stack([c[..., 1], W - c[..., 0]], -1))
    padded = F.pad(boxes(format), [1, 2, 3, 4])
    assert tuple(padded.canvas_size) == (H + 6, W + 4)
    assert_same_rectangles(corner_set(padded, format), c + [1, 2])
    cropped = F.crop(boxes(format), -2, -3, H + 4, W + 5)  # a crop larger than the canvas: nothing clamped
    assert_same_rectangles(corner_set(cropped, format), c + [3, 2])


def test_resize_of_an_angle_preserving_scale_and_of_an_axis_aligned_box():
    c = corners(XYWHR)
    assert_same_rectangles(corner_set(F.resize(boxes(), [2 * H, 2 * W]), "XYWHR"), 2 * c)
    square = boxes(xywhr=np.array([[2.0, 3.0, 4.0, 5.0, 0.0]]))
    got = F.resize(square, [H, 3 * W])
    np.testing.assert_allclose(got.numpy(), [[6.0, 3.0, 12.0, 5.0, 0.0]], atol=1e-6)


def _inside(c, canvas_size, tol=1e-5):
    return (c[..., 0] >= -tol).all() and (c[..., 1] >= -tol).all() and (c[..., 0] <= canvas_size[1] + tol).all() and (
        c[..., 1] <= canvas_size[0] + tol
    ).all()


@pytest.mark.parametrize("format", FORMATS)
def test_clamping_keeps_the_angle(format):
    leaving = np.array([[-3.0, 2.0, 8.0, 4.0, 20.0], [15.0, 10.0, 9.0, 9.0, -10.0]])
    inside = boxes(format, XYWHR, "soft")
    np.testing.assert_allclose(F.clamp_bounding_boxes(inside).numpy(), inside.numpy(), atol=1e-5)  # unchanged
    hard = F.clamp_bounding_boxes(boxes(format, leaving, "hard"))
    assert _inside(corner_set(hard, format), (H, W))
    angles = F.convert_bounding_box_format(hard, new_format="XYWHR").numpy()[:, 4]
    np.testing.assert_allclose(np.cos(np.radians(angles - leaving[:, 4])) ** 2, 1.0, atol=1e-6)  # same direction
    soft = F.clamp_bounding_boxes(boxes(format, leaving, "soft"))
    # The soft box is no smaller than the hard one, and no larger than the original.
    area = lambda b: np.prod(F.convert_bounding_box_format(b, new_format="XYWHR").numpy()[:, 2:4], axis=1)  # noqa: E731
    assert (area(soft) >= area(hard) - 1e-6).all() and (area(soft) <= leaving[:, 2] * leaving[:, 3] + 1e-6).all()


def test_sanitize_drops_small_rotated_boxes():
    small = np.array([[3.0, 4.0, 6.0, 3.0, 30.0], [10.0, 9.0, 0.5, 8.0, 45.0]])
    kept, valid = F.sanitize_bounding_boxes(boxes("XYWHR", small))
    assert valid.tolist() == [True, False] and tuple(kept.shape) == (1, 5)


def test_affine_rotation_about_the_centre_turns_the_corners():
    angle = 25.0
    c = corners(XYWHR)
    a = math.radians(angle)
    # torchvision's rotate turns counter-clockwise on screen: (dx, dy) -> (cos dx + sin dy, -sin dx + cos dy).
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    expected = (c - [W / 2, H / 2]) @ rot.T + [W / 2, H / 2]
    assert_same_rectangles(corner_set(F.rotate(boxes(), angle), "XYWHR"), expected)
