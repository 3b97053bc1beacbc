"""transforms.v2.functional kernels: boxes against NumPy formulas, masks exact against NumPy,
images against the v1 functional kernels they reuse."""

import math

import numpy as np
import pytest

import ferrotorch
import ferrovision.transforms.functional as F1
import ferrovision.transforms.v2.functional as F
from ferrovision import tv_tensors
from ferrovision.tv_tensors import BoundingBoxes, Mask

H, W = 16, 20
XYXY = np.array([[1.5, 2.0, 9.0, 7.5], [0.0, 3.0, 20.0, 16.0], [12.0, 0.5, 19.5, 4.0]])


def to_format(xyxy, format):
    """Reference conversions written out in NumPy."""
    x1, y1, x2, y2 = xyxy.T
    if format == "XYWH":
        return np.stack([x1, y1, x2 - x1, y2 - y1], 1)
    if format == "CXCYWH":
        return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], 1)
    return xyxy


def boxes(format="XYXY", dtype=ferrotorch.float64, xyxy=XYXY, canvas_size=(H, W), **kwargs):
    data = ferrotorch.from_numpy(to_format(xyxy, format).copy()).to(dtype)
    return BoundingBoxes(data, format=format, canvas_size=canvas_size, **kwargs)


def assert_boxes(got, expected_xyxy, format, canvas_size):
    assert type(got) is BoundingBoxes and got.format.name == format and tuple(got.canvas_size) == tuple(canvas_size)
    expected = to_format(np.asarray(expected_xyxy, dtype=np.float64), format)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-6)


FORMATS = ["XYXY", "XYWH", "CXCYWH"]


@pytest.mark.parametrize("format", FORMATS)
def test_format_conversions(format):
    for target in FORMATS:
        got = F.convert_bounding_box_format(boxes(format), new_format=target)
        assert_boxes(got, XYXY, target, (H, W))
    plain = F.convert_bounding_box_format(ferrotorch.from_numpy(XYXY.copy()), old_format="XYXY", new_format=format)
    np.testing.assert_allclose(plain.numpy(), to_format(XYXY, format))


def test_integer_conversions_floor_the_centre_and_truncate_the_corners():
    xyxy = np.array([[1, 2, 4, 7]])
    got = F.convert_bounding_box_format(boxes("XYXY", ferrotorch.int64, xyxy), new_format="CXCYWH")
    np.testing.assert_array_equal(got.numpy(), [[2, 4, 3, 5]])  # (1 + 4) // 2, (2 + 7) // 2
    back = F.convert_bounding_box_format(got, new_format="XYXY")
    np.testing.assert_array_equal(back.numpy(), [[0, 1, 3, 6]])  # int(2 - 1.5), int(4 - 2.5), ...


def test_format_errors():
    with pytest.raises(ValueError, match="For pure tensor inputs, `old_format` has to be passed."):
        F.convert_bounding_box_format(ferrotorch.zeros(1, 4), new_format="XYXY")
    with pytest.raises(ValueError, match="For bounding box tv_tensor inputs, `old_format` must not be passed."):
        F.convert_bounding_box_format(boxes(), old_format="XYXY", new_format="XYWH")
    with pytest.raises(TypeError, match="missing 1 required argument: 'new_format'"):
        F.convert_bounding_box_format(boxes())


@pytest.mark.parametrize("format", FORMATS)
def test_flips_mirror_the_boxes(format):
    x1, y1, x2, y2 = XYXY.T
    assert_boxes(F.horizontal_flip(boxes(format)), np.stack([W - x2, y1, W - x1, y2], 1), format, (H, W))
    assert_boxes(F.vertical_flip(boxes(format)), np.stack([x1, H - y2, x2, H - y1], 1), format, (H, W))


@pytest.mark.parametrize("format", FORMATS)
def test_resize_scales_boxes_and_canvas(format):
    assert_boxes(F.resize(boxes(format), [8, 50]), XYXY * [50 / W, 8 / H, 50 / W, 8 / H], format, (8, 50))
    # One size: the shorter edge (H) becomes 12, the other keeps the aspect ratio (int(12 * 20 / 16) = 15).
    assert_boxes(F.resize(boxes(format), 12), XYXY * [15 / W, 12 / H, 15 / W, 12 / H], format, (12, 15))


@pytest.mark.parametrize("format", FORMATS)
def test_crop_and_pad_move_and_clamp_boxes(format):
    top, left, height, width = 2, -3, 10, 12
    expected = np.clip(XYXY - [left, top, left, top], 0, [width, height, width, height])
    assert_boxes(F.crop(boxes(format), top, left, height, width), expected, format, (height, width))
    expected = XYXY + [1, 2, 1, 2]  # padding left=1, top=2, right=3, bottom=4
    assert_boxes(F.pad(boxes(format), [1, 2, 3, 4]), expected, format, (H + 6, W + 4))
    with pytest.raises(ValueError, match="Padding mode 'reflect' is not supported with bounding boxes"):
        F.pad(boxes(format), 1, padding_mode="reflect")


def test_unclamped_boxes_keep_coordinates_outside_the_canvas():
    got = F.crop(boxes(clamping_mode=None), 4, 5, 6, 7)
    np.testing.assert_allclose(got.numpy(), XYXY - [5, 4, 5, 4])
    clamped = F.clamp_bounding_boxes(got, clamping_mode="hard")
    np.testing.assert_allclose(clamped.numpy(), np.clip(XYXY - [5, 4, 5, 4], 0, [7, 6, 7, 6]))


def test_center_crop_and_resized_crop_of_boxes():
    top, left = round((H - 10) / 2), round((W - 7) / 2)
    expected = np.clip(XYXY - [left, top, left, top], 0, [7, 10, 7, 10])
    assert_boxes(F.center_crop(boxes(), [10, 7]), expected, "XYXY", (10, 7))
    cropped = np.clip(XYXY - [2, 1, 2, 1], 0, [14, 9, 14, 9])
    expected = cropped * [7 / 14, 18 / 9, 7 / 14, 18 / 9]
    assert_boxes(F.resized_crop(boxes(), 1, 2, 9, 14, [18, 7]), expected, "XYXY", (18, 7))


def _hull(corners):
    """The axis-aligned box around each box's transformed corners (N, 4, 2)."""
    return np.concatenate([corners.min(1), corners.max(1)], 1)


def _corners(xyxy):
    x1, y1, x2, y2 = xyxy.T
    return np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x2, y2], 1), np.stack([x1, y2], 1)], 1)


@pytest.mark.parametrize("format", FORMATS)
def test_affine_maps_box_corners(format):
    angle, (tx, ty), scale, shear_x = 17.0, (2.0, -1.0), 1.1, 6.0
    cx, cy = W / 2, H / 2
    a, sx = math.radians(angle), math.radians(shear_x)
    # torchvision's forward map: translate(centre + t) . rotate(angle, clockwise on screen) . scale . shear_x
    rss = scale * np.array([[math.cos(a), -math.cos(a) * math.tan(sx) - math.sin(a)],
                            [math.sin(a), -math.sin(a) * math.tan(sx) + math.cos(a)]])  # fmt: skip
    moved = (_corners(XYXY) - [cx, cy]) @ rss.T + [cx + tx, cy + ty]
    expected = np.clip(_hull(moved), 0, [W, H, W, H])
    got = F.affine(boxes(format), angle=angle, translate=[tx, ty], scale=scale, shear=[shear_x, 0.0])
    assert_boxes(got, expected, format, (H, W))


def test_rotate_quarter_turn_with_expand_swaps_the_canvas():
    x1, y1, x2, y2 = XYXY.T
    # 90 degrees counter-clockwise on screen: (x, y) -> (y, W - x).
    got = F.rotate(boxes(), 90.0, expand=True)
    assert_boxes(got, np.stack([y1, W - x2, y2, W - x1], 1), "XYXY", (W, H))
    image = F.rotate(tv_tensors.Image(ferrotorch.arange(6.0).reshape(1, 2, 3)), 90.0, expand=True)
    np.testing.assert_array_equal(image.numpy()[0], np.rot90(np.arange(6.0).reshape(2, 3)))


def test_perspective_moves_the_start_corners_to_the_end_corners():
    start = [[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]]
    end = [[2, 1], [W - 2, 0], [W - 3, H - 2], [1, H - 1]]
    whole = boxes(xyxy=np.array([[0.0, 0.0, W - 1, H - 1]]))
    got = F.perspective(whole, start, end)
    end = np.array(end, dtype=np.float64)
    np.testing.assert_allclose(got.numpy(), [[*end.min(0), *end.max(0)]], atol=1e-6)
    # Any box: its corners through the homography solved in NumPy.
    a = []
    for (x, y), (u, v) in zip(start, end):
        a += [[x, y, 1, 0, 0, 0, -u * x, -u * y, u], [0, 0, 0, x, y, 1, -v * x, -v * y, v]]
    a = np.array(a, dtype=np.float64)
    h = np.append(np.linalg.solve(a[:, :8], a[:, 8]), 1.0).reshape(3, 3)
    pts = np.concatenate([_corners(XYXY), np.ones((3, 4, 1))], 2) @ h.T
    expected = np.clip(_hull(pts[..., :2] / pts[..., 2:]), 0, [W, H, W, H])
    np.testing.assert_allclose(F.perspective(boxes(), start, end.tolist()).numpy(), expected, atol=1e-6)


def test_empty_boxes_pass_every_kernel():
    empty = boxes(xyxy=np.zeros((0, 4)))
    for out in (F.affine(empty, 10.0, [0, 0], 1.0, [0.0, 0.0]), F.rotate(empty, 30.0), F.resize(empty, [5, 5]),
                F.perspective(empty, None, None, coefficients=[1, 0, 0, 0, 1, 0, 0, 0])):  # fmt: skip
        assert tuple(out.shape) == (0, 4) and type(out) is BoundingBoxes


@pytest.fixture
def labels(rng):
    return rng.integers(0, 5, size=(2, H, W)).astype(np.uint8)


def test_mask_kernels_are_exact(labels):
    mask = Mask(ferrotorch.from_numpy(labels.copy()))
    np.testing.assert_array_equal(F.horizontal_flip(mask).numpy(), labels[..., ::-1])
    np.testing.assert_array_equal(F.vertical_flip(mask).numpy(), labels[..., ::-1, :])
    np.testing.assert_array_equal(F.crop(mask, 3, 4, 5, 6).numpy(), labels[:, 3:8, 4:10])
    padded = np.pad(labels, ((0, 0), (2, 4), (1, 3)), constant_values=9)
    np.testing.assert_array_equal(F.pad(mask, [1, 2, 3, 4], fill=9).numpy(), padded)
    np.testing.assert_array_equal(F.rotate(mask, 180.0).numpy(), labels[:, ::-1, ::-1])
    # Resizing is always nearest: output pixel i reads input pixel floor(i * in / out).
    rows, cols = (np.arange(7) * H / 7).astype(int), (np.arange(33) * W / 33).astype(int)
    for interpolation in ("bilinear", F.InterpolationMode.BICUBIC, F.InterpolationMode.NEAREST):
        got = F.resize(mask, [7, 33], interpolation=interpolation)
        assert type(got) is Mask
        np.testing.assert_array_equal(got.numpy(), labels[:, rows][:, :, cols])
    # A 2-D mask is handled as one channel.
    single = F.resize(Mask(ferrotorch.from_numpy(labels[0].copy())), [7, 33])
    np.testing.assert_array_equal(single.numpy(), labels[0][rows][:, cols])


def test_mask_affine_keeps_label_values(labels):
    mask = Mask(ferrotorch.from_numpy(labels.copy()))
    out = F.affine(mask, angle=23.0, translate=[1, 2], scale=0.9, shear=[5.0, 0.0], fill=7).numpy()
    assert set(np.unique(out)) <= set(np.unique(labels)) | {7}


@pytest.mark.parametrize(
    "v2_call,v1_call",
    [
        (lambda i: F.resize(i, [9, 31]), lambda i: F1.resize(i, [9, 31])),
        (lambda i: F.resized_crop(i, 1, 2, 9, 14, [5, 7], "bicubic"),
         lambda i: F1.resized_crop(i, 1, 2, 9, 14, [5, 7], F1.InterpolationMode.BICUBIC)),
        (lambda i: F.affine(i, 17.0, [2, -1], 1.1, [4.0, -3.0], "bilinear", fill=3),
         lambda i: F1.affine(i, 17.0, [2, -1], 1.1, [4.0, -3.0], F1.InterpolationMode.BILINEAR, fill=3)),
        (lambda i: F.rotate(i, 33.0, expand=True), lambda i: F1.rotate(i, 33.0, expand=True)),
        (lambda i: F.center_crop(i, [20, 25]), lambda i: F1.center_crop(i, [20, 25])),
        (lambda i: F.adjust_hue(i, 0.2), lambda i: F1.adjust_hue(i, 0.2)),
        (lambda i: F.gaussian_blur(i, [5, 3], [1.2, 0.7]), lambda i: F1.gaussian_blur(i, [5, 3], [1.2, 0.7])),
    ],
)
def test_image_kernels_are_the_v1_kernels(v2_call, v1_call, rng):
    data = rng.integers(0, 256, size=(3, H, W), dtype=np.uint8)
    got = v2_call(tv_tensors.Image(ferrotorch.from_numpy(data.copy())))
    assert type(got) is tv_tensors.Image
    np.testing.assert_array_equal(got.numpy(), v1_call(ferrotorch.from_numpy(data.copy())).numpy())
    plain = v2_call(ferrotorch.from_numpy(data.copy()))
    assert type(plain) is ferrotorch.Tensor


def test_pad_with_one_fill_per_channel(rng):
    data = rng.integers(0, 256, size=(3, 4, 5), dtype=np.uint8)
    got = F.pad(tv_tensors.Image(ferrotorch.from_numpy(data.copy())), [1, 2], fill=[10, 20, 30]).numpy()
    expected = np.stack([np.pad(c, ((2, 2), (1, 1)), constant_values=v) for c, v in zip(data, [10, 20, 30])])
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("src,dst", [("uint8", "float32"), ("float64", "uint8"), ("uint8", "int16"), ("int32", "uint8")])
def test_to_dtype_scale(src, dst, rng):
    data = rng.random((2, 3)) if src.startswith("float") else rng.integers(0, 100, (2, 3))
    image = ferrotorch.from_numpy(data).to(getattr(ferrotorch, src))
    got = F.to_dtype(image, getattr(ferrotorch, dst), scale=True).numpy()
    x = image.numpy().astype(np.float64)
    expected = {
        ("uint8", "float32"): x * np.float32(1 / 255),
        ("float64", "uint8"): np.floor(x * (255 + 1 - 1e-3)),
        ("uint8", "int16"): x * 2**7,  # left shift by 15 - 8 value bits
        ("int32", "uint8"): np.floor(x / 2**23),  # right shift by 31 - 8
    }[(src, dst)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert F.to_dtype(image, getattr(ferrotorch, dst), scale=False).numpy().dtype == got.dtype
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.to_dtype(ferrotorch.zeros(1), ferrotorch.int64, scale=True)


def test_sanitize_bounding_boxes():
    xyxy = np.array([[0, 0, 5, 5], [2, 2, 2.5, 9], [3, 3, 30, 4], [-1, 0, 4, 4], [1, 1, 3, 3]], dtype=np.float64)
    kept, valid = F.sanitize_bounding_boxes(boxes(xyxy=xyxy), min_size=1.5)
    np.testing.assert_array_equal(valid.numpy(), [True, False, False, False, True])
    np.testing.assert_array_equal(kept.numpy(), xyxy[[0, 4]])
    with pytest.raises(ValueError, match="format and canvas_size cannot be None"):
        F.sanitize_bounding_boxes(ferrotorch.zeros(1, 4))


def test_sizes_of_every_input_type():
    from PIL import Image as PILImage

    assert F.get_size(boxes()) == [H, W] and F.get_size(Mask(ferrotorch.zeros(3, 4))) == [3, 4]
    assert F.get_size(PILImage.new("RGB", (7, 5))) == [5, 7] and F.get_dimensions(ferrotorch.zeros(4, 5)) == [1, 4, 5]
    assert F.get_num_frames(tv_tensors.Video(ferrotorch.zeros(6, 3, 2, 2))) == 6


def test_kernel_dispatch_errors_and_registration():
    with pytest.raises(TypeError, match="Functional F.resize supports inputs of type"):
        F.resize("not an image", [2, 2])

    class Heatmap(tv_tensors.TVTensor):
        pass

    heatmap = Heatmap.wrap(ferrotorch.ones(4, 4), like=None)
    with pytest.raises(TypeError, match="supports inputs of type"):
        F.horizontal_flip(heatmap)  # a TVTensor subclass does not fall back to the pure-tensor kernel

    @F.register_kernel(F.horizontal_flip, Heatmap)
    def _flip_heatmap(inpt):
        return Heatmap.wrap(inpt.flip(-1) * 2, like=inpt)

    assert type(F.horizontal_flip(heatmap)) is Heatmap and F.horizontal_flip(heatmap)[0, 0].item() == 2.0
    with pytest.raises(ValueError, match="Kernels cannot be registered for the builtin tv_tensor classes"):
        F.register_kernel("horizontal_flip", Mask)
    with pytest.raises(ValueError, match="Could not find functional with name 'nope'"):
        F.register_kernel("nope", Heatmap)
