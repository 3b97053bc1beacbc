"""ferrovision.utils against torchvision.utils on the same inputs (skipped without torchvision)."""

import warnings

import numpy as np
import pytest

torchvision = pytest.importorskip("torchvision")
import torch  # noqa: E402
import torchvision.utils as tvu  # noqa: E402

import ferrotorch as ft  # noqa: E402
import ferrovision.utils as fvu  # noqa: E402


def pair(array):
    return ft.from_numpy(array.copy()), torch.from_numpy(array.copy())


def same(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize(
    "kwargs",
    [{}, dict(nrow=3, padding=0, pad_value=1.0), dict(normalize=True), dict(normalize=True, scale_each=True),
     dict(normalize=True, value_range=(-0.5, 0.5), nrow=2)],
)  # fmt: skip
@pytest.mark.parametrize("shape", [(7, 3, 5, 4), (4, 1, 3, 3), (1, 3, 2, 2)])
def test_make_grid_same_as_torchvision(rng, kwargs, shape):
    ours, theirs = pair(rng.standard_normal(shape).astype(np.float32))
    same(fvu.make_grid(ours, **kwargs), tvu.make_grid(theirs, **kwargs))


def test_save_image_writes_the_same_file(tmp_path, rng):
    ours, theirs = pair(rng.random((5, 3, 6, 6)).astype(np.float32))
    fvu.save_image(ours, str(tmp_path / "a.png"), nrow=3)
    tvu.save_image(theirs, str(tmp_path / "b.png"), nrow=3)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(colors="red", width=2, labels=["one", "two", "three"]),
        dict(fill=True, labels=["a", "b", "c"], fill_labels=True, label_colors="white"),
        dict(colors=[(10, 20, 30), "#00ff00", "blue"], labels=["x", "y", "z"], label_background_colors="yellow",
             fill_labels=True),
    ],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_draw_bounding_boxes_same_as_torchvision(rng, kwargs, dtype):
    image = rng.integers(0, 256, (3, 40, 50), dtype=np.uint8)
    image = image if dtype == np.uint8 else (image / 255).astype(np.float32)
    boxes = np.array([[2, 3, 30, 25], [10, 12, 49, 39], [0, 0, 5, 5]], dtype=np.float32)
    (a, b), (ba, bb) = pair(image), pair(boxes)
    ours, theirs = fvu.draw_bounding_boxes(a, ba, **kwargs), tvu.draw_bounding_boxes(b, bb, **kwargs)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=1e-6)


def test_draw_rotated_boxes_same_as_torchvision(rng):
    image = rng.integers(0, 256, (3, 30, 40), dtype=np.uint8)
    boxes = np.array([[3, 3, 30, 6, 27, 25, 1, 22], [35, 1, 38, 28, 5, 20, 9, 4]], dtype=np.float32)
    (a, b), (ba, bb) = pair(image), pair(boxes)
    for kwargs in ({}, dict(fill=True, width=3, labels=["p", "q"], colors="orange")):
        same(fvu.draw_bounding_boxes(a, ba, **kwargs), tvu.draw_bounding_boxes(b, bb, **kwargs))


@pytest.mark.parametrize("alpha, colors", [(0.8, None), (0.5, "red"), (0.2, ["red", (1, 2, 3), "#123456"])])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_draw_segmentation_masks_same_as_torchvision(rng, alpha, colors, dtype):
    image = rng.integers(0, 256, (3, 9, 11), dtype=np.uint8)
    image = image if dtype == np.uint8 else (image / 255).astype(dtype)
    masks = rng.random((3, 9, 11)) > 0.5
    (a, b), (ma, mb) = pair(image), pair(masks)
    same(fvu.draw_segmentation_masks(a, ma, alpha=alpha, colors=colors), tvu.draw_segmentation_masks(b, mb, alpha=alpha, colors=colors))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_draw_keypoints_same_as_torchvision(rng, dtype):
    image = rng.integers(0, 256, (3, 30, 30), dtype=np.uint8)
    image = image if dtype == np.uint8 else (image / 255).astype(np.float32)
    keypoints = rng.uniform(0, 29, (2, 4, 2)).astype(np.float32)
    visibility = np.array([[True, True, False, True], [True, True, True, True]])
    (a, b), (ka, kb), (va, vb) = pair(image), pair(keypoints), pair(visibility)
    kwargs = dict(connectivity=[(0, 1), (1, 2), (2, 3)], colors="#ff00ff", radius=3, width=2)
    ours = fvu.draw_keypoints(a, ka, visibility=va, **kwargs)
    theirs = tvu.draw_keypoints(b, kb, visibility=vb, **kwargs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 7, 9), (3, 2, 4, 5)])
def test_flow_to_image_same_as_torchvision(rng, shape):
    ours, theirs = pair((rng.standard_normal(shape) * 3).astype(np.float32))
    same(fvu.flow_to_image(ours), tvu.flow_to_image(theirs))


def test_empty_inputs_warn_like_torchvision():
    image = np.zeros((3, 4, 4), dtype=np.uint8)
    (a, b) = pair(image)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fvu.draw_bounding_boxes(a, ft.zeros(0, 4))
        tvu.draw_bounding_boxes(b, torch.zeros(0, 4))
    assert str(caught[0].message) == str(caught[1].message)
