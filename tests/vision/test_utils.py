"""ferrovision.utils: make_grid against a NumPy-built grid, drawing against pixel expectations and against
torchvision outputs stored by data/make_utils.py."""

import math
import os
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

import ferrotorch as ft
from ferrovision import utils

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
sys.path.insert(0, DATA)
from make_utils import inputs  # noqa: E402  (NumPy only: the shared inputs of the stored references)

REFERENCE = np.load(os.path.join(DATA, "utils_reference.npz"))


def numpy_grid(batch, nrow=8, padding=2, pad_value=0.0, normalize=False, value_range=None, scale_each=False):
    """make_grid written out in NumPy: optional [0, 1] normalization, then images tiled row by row."""
    batch = np.array(batch, dtype=np.float64)
    if batch.shape[1] == 1:
        batch = np.repeat(batch, 3, axis=1)
    if normalize:
        groups = [batch[i : i + 1] for i in range(len(batch))] if scale_each else [batch]
        for g in groups:
            low, high = value_range if value_range is not None else (g.min(), g.max())
            g[...] = (np.clip(g, low, high) - low) / max(high - low, 1e-5)
    b, c, h, w = batch.shape
    cols = min(nrow, b)
    rows = math.ceil(b / cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value)
    for k in range(b):
        y, x = divmod(k, cols)
        top, left = y * (h + padding) + padding, x * (w + padding) + padding
        grid[:, top : top + h, left : left + w] = batch[k]
    return grid


# ---------------------------------------------------------------------------------------------------------
# make_grid / save_image


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(nrow=2, padding=1, pad_value=0.25),
        dict(nrow=3, padding=0),
        dict(normalize=True),
        dict(normalize=True, scale_each=True),
        dict(normalize=True, value_range=(0.2, 0.7), nrow=4),
    ],
)
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_make_grid_matches_numpy(rng, kwargs, dtype):
    batch = rng.standard_normal((5, 3, 4, 6))
    out = utils.make_grid(ft.from_numpy(batch).to(dtype), **kwargs)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), numpy_grid(batch, **kwargs), rtol=1e-6, atol=1e-6)


def test_make_grid_on_a_non_contiguous_batch(rng):
    base = rng.standard_normal((3, 5, 4, 2))
    batch = ft.from_numpy(base).permute(1, 0, 3, 2)  # (5, 3, 2, 4), strided
    np.testing.assert_allclose(utils.make_grid(batch, nrow=2).numpy(), numpy_grid(base.transpose(1, 0, 3, 2), nrow=2))


def test_make_grid_list_gray_and_uint8(rng):
    images = [rng.integers(0, 256, (1, 3, 4), dtype=np.uint8) for _ in range(3)]
    out = utils.make_grid([ft.from_numpy(im) for im in images], nrow=2, pad_value=7)
    assert out.dtype == ft.uint8
    np.testing.assert_array_equal(out.numpy(), numpy_grid(np.stack(images), nrow=2, pad_value=7).astype(np.uint8))


def test_make_grid_single_images_are_returned_unpadded(rng):
    gray = rng.random((3, 4))
    np.testing.assert_array_equal(utils.make_grid(ft.from_numpy(gray)).numpy(), np.stack([gray] * 3))
    color = rng.random((1, 3, 4, 5))
    np.testing.assert_array_equal(utils.make_grid(ft.from_numpy(color), padding=5).numpy(), color[0])


def test_make_grid_normalize_leaves_the_input_alone(rng):
    batch = rng.standard_normal((2, 3, 2, 2))
    tensor = ft.from_numpy(batch.copy())
    utils.make_grid(tensor, normalize=True)
    np.testing.assert_array_equal(tensor.numpy(), batch)


def test_make_grid_rejects_bad_input():
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got <class 'numpy.ndarray'>"):
        utils.make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="got a list containing <class 'int'>"):
        utils.make_grid([ft.zeros(3, 2, 2), 1])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(ft.zeros(2, 3, 2, 2), normalize=True, value_range=[0, 1])


def test_save_image_rounds_to_uint8(tmp_path, rng):
    batch = rng.random((3, 3, 4, 5)).astype(np.float32)
    utils.save_image(ft.from_numpy(batch), str(tmp_path / "grid.png"), nrow=2, padding=1)
    expected = np.clip(numpy_grid(batch, nrow=2, padding=1).astype(np.float32) * 255 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(np.array(Image.open(tmp_path / "grid.png")), expected.transpose(1, 2, 0))
    with open(tmp_path / "one.jpg", "wb") as f:
        utils.save_image(ft.from_numpy(batch[0]), f, format="JPEG")
    assert Image.open(tmp_path / "one.jpg").size == (5, 4)


# ---------------------------------------------------------------------------------------------------------
# draw_bounding_boxes


def tensor(name):
    return ft.from_numpy(inputs()[name])


@pytest.mark.parametrize(
    "case, kwargs",
    [
        ("boxes_default", {}),
        ("boxes_colors_width", dict(colors=["red", (0, 200, 100), "#0000ff"], width=3)),
        ("boxes_fill", dict(colors="yellow", fill=True)),
    ],
)
def test_draw_bounding_boxes_matches_torchvision(case, kwargs):
    out = utils.draw_bounding_boxes(tensor("image"), tensor("boxes"), **kwargs)
    np.testing.assert_array_equal(out.numpy(), REFERENCE[case])


def test_draw_rotated_boxes_matches_torchvision():
    out = utils.draw_bounding_boxes(tensor("image"), tensor("oriented"), colors=["red", "cyan"], width=2, fill=True)
    np.testing.assert_array_equal(out.numpy(), REFERENCE["boxes_oriented"])


def test_draw_rotated_box_first_edge_is_dashed():
    image = ft.zeros(3, 12, 40, dtype=ft.uint8)
    out = utils.draw_bounding_boxes(image, ft.tensor([[2.0, 2.0, 37.0, 2.0, 37.0, 9.0, 2.0, 9.0]]), colors="white")
    top, bottom = out.numpy()[0, 2, 2:38] > 0, out.numpy()[0, 9, 2:38] > 0
    assert bottom.all() and 0.3 < top.mean() < 0.8  # dashes of 5 pixels with gaps of 5


def test_draw_bounding_boxes_on_gray_image_gives_rgb():
    out = utils.draw_bounding_boxes(tensor("image")[:1], tensor("boxes")[:2], colors=(250, 10, 10))
    assert tuple(out.shape) == (3, 24, 32)
    np.testing.assert_array_equal(out.numpy(), REFERENCE["boxes_gray"])


def box_outline(shape, box, width):
    """Pixels of a (x0, y0, x1, y1) rectangle outline `width` pixels thick, drawn inward."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    x0, y0, x1, y1 = box
    inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
    distance = np.minimum.reduce([xs - x0, x1 - xs, ys - y0, y1 - ys])
    return inside & (distance < width)


@pytest.mark.parametrize("width", [1, 2])
def test_draw_bounding_boxes_outline_pixels(width):
    image = np.full((3, 12, 16), 40, dtype=np.uint8)
    box = (2, 3, 12, 9)
    out = utils.draw_bounding_boxes(ft.from_numpy(image), ft.tensor([box], dtype=ft.float32), colors="red", width=width)
    outline = box_outline((12, 16), box, width)
    expected = image.copy()
    expected[:, outline] = np.array([255, 0, 0], dtype=np.uint8)[:, None]
    np.testing.assert_array_equal(out.numpy(), expected)


def test_draw_bounding_boxes_fill_blends_at_alpha_100():
    image = np.full((3, 10, 10), 200, dtype=np.uint8)
    out = utils.draw_bounding_boxes(ft.from_numpy(image), ft.tensor([[2.0, 2.0, 7.0, 7.0]]), colors=(0, 0, 255), fill=True)
    inner = out.numpy()[:, 4, 4].astype(int)
    blended = np.array([200, 200, 200]) * (155 / 255) + np.array([0, 0, 255]) * (100 / 255)
    assert np.abs(inner - blended).max() <= 1
    assert out.numpy()[:, 2, 4].tolist() == [0, 0, 255] and out.numpy()[:, 0, 0].tolist() == [200, 200, 200]


def test_draw_bounding_boxes_default_palette():
    image = ft.zeros(3, 8, 8, dtype=ft.uint8)
    boxes = ft.tensor([[0.0, 0.0, 3.0, 3.0], [4.0, 4.0, 7.0, 7.0], [1.0, 4.0, 2.0, 6.0]])
    out = utils.draw_bounding_boxes(image, boxes).numpy()
    palette = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
    for i, (x, y) in enumerate([(0, 0), (4, 4), (1, 4)]):
        np.testing.assert_array_equal(out[:, y, x], (i * palette) % 255)


def test_draw_bounding_boxes_labels_draw_inside_the_box():
    image = ft.zeros(3, 30, 60, dtype=ft.uint8)
    box = ft.tensor([[0.0, 0.0, 59.0, 29.0]])
    plain = utils.draw_bounding_boxes(image, box, colors="white").numpy()
    labelled = utils.draw_bounding_boxes(image, box, labels=["cat"], colors="white").numpy()
    changed = np.argwhere((plain != labelled).any(axis=0))
    assert len(changed) > 0  # the text; its glyphs depend on Pillow's default font, so only where it is
    assert changed[:, 0].min() >= 2 and changed[:, 1].min() >= 2 and changed[:, 0].max() < 29
    # With fill_labels the text is black on a background of the box color (white) around the glyphs.
    filled = utils.draw_bounding_boxes(image, box, labels=["cat"], colors="white", fill_labels=True).numpy()
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    block = (filled[:, top : bottom + 1, left : right + 1] == 255).all(axis=0)
    assert 0.3 < block.mean() < 1.0


def test_draw_bounding_boxes_float_image_stays_float():
    image = ft.full((3, 6, 6), 0.5)
    out = utils.draw_bounding_boxes(image, ft.tensor([[1.0, 1.0, 4.0, 4.0]]), colors="red")
    assert out.dtype == ft.float32
    np.testing.assert_allclose(out.numpy()[:, 1, 1], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(out.numpy()[:, 0, 0], [127 / 255] * 3, rtol=1e-6)  # 0.5 * (256 - 1e-3) truncated


def test_draw_bounding_boxes_rejects_bad_input():
    image = ft.zeros(3, 5, 5, dtype=ft.uint8)
    box = ft.tensor([[0.0, 0.0, 2.0, 2.0]])
    with pytest.raises(TypeError, match="Tensor expected, got <class 'numpy.ndarray'>"):
        utils.draw_bounding_boxes(np.zeros((3, 5, 5)), box)
    with pytest.raises(ValueError, match="The image dtype must be uint8 or float, got torch.int32"):
        utils.draw_bounding_boxes(image.to(ft.int32), box)
    with pytest.raises(ValueError, match="Pass individual images, not batches"):
        utils.draw_bounding_boxes(image[None], box)
    with pytest.raises(ValueError, match="Only grayscale and RGB images are supported"):
        utils.draw_bounding_boxes(ft.zeros(2, 5, 5, dtype=ft.uint8), box)
    with pytest.raises(ValueError, match=r"boxes must be of shape \(N, 4\) or \(N, 8\), got \(1, 5\)"):
        utils.draw_bounding_boxes(image, ft.zeros(1, 5))
    with pytest.raises(ValueError, match=r"Boxes need to be in \(xmin, ymin, xmax, ymax\) format"):
        utils.draw_bounding_boxes(image, ft.tensor([[3.0, 0.0, 2.0, 2.0]]))
    with pytest.raises(ValueError, match=r"Number of boxes \(1\) and labels \(2\) mismatch"):
        utils.draw_bounding_boxes(image, box, labels=["a", "b"])
    with pytest.raises(ValueError, match="Number of colors must be equal or larger than the number of objects"):
        utils.draw_bounding_boxes(image, ft.cat([box, box]), colors=["red"])
    with pytest.raises(ValueError, match="If passed as tuple, colors should be an RGB triplet"):
        utils.draw_bounding_boxes(image, box, colors=(1, 2))


def test_draw_bounding_boxes_without_boxes_warns():
    image = ft.zeros(3, 5, 5, dtype=ft.uint8)
    with pytest.warns(UserWarning, match="boxes doesn't contain any box. No box was drawn"):
        assert utils.draw_bounding_boxes(image, ft.zeros(0, 4)) is image


# ---------------------------------------------------------------------------------------------------------
# draw_segmentation_masks


@pytest.mark.parametrize(
    "case, kwargs",
    [("masks_default", {}), ("masks_alpha_colors", dict(alpha=0.35, colors=["red", "green", (9, 99, 199)]))],
)
def test_draw_segmentation_masks_matches_torchvision(case, kwargs):
    out = utils.draw_segmentation_masks(tensor("image"), tensor("masks"), **kwargs)
    np.testing.assert_array_equal(out.numpy(), REFERENCE[case])


@pytest.mark.parametrize("dtype", [ft.uint8, ft.float32])
def test_draw_segmentation_masks_blend_formula(rng, dtype):
    image = rng.integers(0, 256, (3, 6, 7), dtype=np.uint8)
    masks = rng.random((2, 6, 7)) > 0.5
    colors = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.float64)
    scale = 255.0 if dtype == ft.float32 else 1.0
    x = ft.from_numpy(image).to(dtype) / scale if dtype == ft.float32 else ft.from_numpy(image)
    out = utils.draw_segmentation_masks(x, ft.from_numpy(masks), alpha=0.6, colors=["red", (0, 0, 255)]).numpy()
    painted = image.astype(np.float64) / scale
    for mask, color in zip(masks, colors):
        painted[:, mask] = (color / scale)[:, None]
    painted[:, masks.sum(axis=0) > 1] = 0  # overlaps are black
    expected = image / scale * 0.4 + painted * 0.6
    if dtype == ft.uint8:
        assert out.dtype == np.uint8 and np.abs(out.astype(int) - np.floor(expected)).max() <= 1
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_draw_segmentation_masks_accepts_a_single_2d_mask():
    image = ft.zeros(3, 2, 2, dtype=ft.uint8)
    out = utils.draw_segmentation_masks(image, ft.tensor([[True, False], [False, False]]), alpha=1.0, colors="white")
    assert out.numpy()[:, 0, 0].tolist() == [255] * 3 and out.numpy()[:, 1, 1].tolist() == [0] * 3


def test_draw_segmentation_masks_rejects_bad_input():
    image = ft.zeros(3, 4, 4, dtype=ft.uint8)
    with pytest.raises(ValueError, match="Pass an RGB image. Other Image formats are not supported"):
        utils.draw_segmentation_masks(ft.zeros(1, 4, 4, dtype=ft.uint8), ft.zeros(4, 4, dtype=ft.bool))
    with pytest.raises(ValueError, match="The masks must be of dtype bool. Got torch.float32"):
        utils.draw_segmentation_masks(image, ft.zeros(4, 4))
    with pytest.raises(ValueError, match="The image and the masks must have the same height and width"):
        utils.draw_segmentation_masks(image, ft.zeros(1, 4, 5, dtype=ft.bool))
    with pytest.raises(ValueError, match=r"masks must be of shape \(H, W\) or \(batch_size, H, W\)"):
        utils.draw_segmentation_masks(image, ft.zeros(1, 1, 4, 4, dtype=ft.bool))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert utils.draw_segmentation_masks(image, ft.zeros(0, 4, 4, dtype=ft.bool)) is image
    assert "masks doesn't contain any mask" in str(caught[0].message)


# ---------------------------------------------------------------------------------------------------------
# draw_keypoints


def test_draw_keypoints_matches_torchvision():
    out = utils.draw_keypoints(tensor("image"), tensor("keypoints"), connectivity=[(0, 1), (1, 2)], colors="blue",
                               radius=2, width=2, visibility=tensor("visibility"))  # fmt: skip
    np.testing.assert_array_equal(out.numpy(), REFERENCE["keypoints"])


def test_draw_keypoints_points_lines_and_visibility():
    image = ft.zeros(3, 20, 20, dtype=ft.uint8)
    keypoints = ft.tensor([[[2.0, 10.0], [16.0, 10.0], [10.0, 2.0]]])
    visibility = ft.tensor([[True, True, False]])
    out = utils.draw_keypoints(image, keypoints, connectivity=[(0, 1), (1, 2)], colors="red", radius=1,
                               width=1, visibility=visibility).numpy()  # fmt: skip
    assert out[:, 9, 2].tolist() == [255, 0, 0] and out[:, 11, 16].tolist() == [255, 0, 0]
    # The line between the visible points is white, drawn after (over) the points.
    assert out[:, 10, 9].tolist() == [255, 255, 255] and out[:, 10, 2].tolist() == [255, 255, 255]
    assert not out[:, :6, 6:14].any()  # the hidden point and its line are not drawn


def test_draw_keypoints_float_image():
    out = utils.draw_keypoints(ft.zeros(3, 5, 5), ft.tensor([[[2.0, 2.0]]]), colors=(0, 255, 0), radius=1)
    assert out.dtype == ft.float32 and out.numpy()[:, 2, 2].tolist() == [0.0, 1.0, 0.0]


def test_draw_keypoints_rejects_bad_input():
    image = ft.zeros(3, 5, 5, dtype=ft.uint8)
    with pytest.raises(ValueError, match=r"keypoints must be of shape \(num_instances, K, 2\)"):
        utils.draw_keypoints(image, ft.zeros(3, 2))
    with pytest.raises(ValueError, match="visibility must be of shape \\(num_instances, K\\). Got ndim=1"):
        utils.draw_keypoints(image, ft.zeros(1, 3, 2), visibility=ft.ones(3, dtype=ft.bool))
    with pytest.raises(ValueError, match="keypoints and visibility must have the same dimensionality"):
        utils.draw_keypoints(image, ft.zeros(1, 3, 2), visibility=ft.ones(1, 2, dtype=ft.bool))


# ---------------------------------------------------------------------------------------------------------
# flow_to_image


def test_flow_to_image_matches_torchvision():
    flow = tensor("flow")
    out = utils.flow_to_image(flow)
    assert out.dtype == ft.uint8 and tuple(out.shape) == (2, 3, 5, 6)
    np.testing.assert_array_equal(out.numpy(), REFERENCE["flow"])
    np.testing.assert_array_equal(utils.flow_to_image(flow[1]).numpy(), REFERENCE["flow_single"])


def test_flow_to_image_zero_flow_is_white_and_colors_follow_the_wheel():
    assert (utils.flow_to_image(ft.zeros(2, 3, 3)).numpy() == 255).all()
    # Pointing right (+x) is the wheel's first color, pure red; left is half way round, in the
    # cyan-blue ramp: color 27 = (0, 255 - floor(255 * 2 / 11), 255).
    flow = ft.zeros(2, 1, 2)
    flow[0, 0, 0] = 1.0
    flow[0, 0, 1] = -1.0
    out = utils.flow_to_image(flow).numpy()
    assert out[:, 0, 0].tolist() == [255, 0, 0] and out[:, 0, 1].tolist() == [0, 209, 255]


def test_flow_to_image_rejects_bad_input():
    with pytest.raises(ValueError, match="Flow should be of dtype torch.float, got torch.float64"):
        utils.flow_to_image(ft.zeros(2, 3, 3, dtype=ft.float64))
    with pytest.raises(ValueError, match=r"Input flow should have shape \(2, H, W\) or \(N, 2, H, W\), got \(3, 3, 3\)"):
        utils.flow_to_image(ft.zeros(3, 3, 3))
