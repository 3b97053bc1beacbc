"""Further transforms.v2 kernels and classes against NumPy/PIL: keypoint kernels, elastic, five/ten crop,
gaussian noise, JPEG, temporal subsampling, MixUp/CutMix label mixing, LinearTransformation, the
AutoAugment family's sample handling, and argument errors."""

import io
import math

import numpy as np
import pytest
from PIL import Image as PILImage

import ferrotorch
import ferrovision.transforms.v2 as T
import ferrovision.transforms.v2.functional as F
from ferrovision.tv_tensors import BoundingBoxes, Image, KeyPoints, Mask, Video

H, W = 16, 20
POINTS = np.array([[1.5, 2.0], [0.0, 3.0], [12.0, 15.0], [19.0, 0.5]])


def keypoints(dtype=ferrotorch.float64, points=POINTS, canvas_size=(H, W)):
    return KeyPoints(ferrotorch.from_numpy(points.copy()).to(dtype), canvas_size=canvas_size)


def assert_keypoints(got, expected, canvas_size, atol=1e-6):
    assert type(got) is KeyPoints and tuple(got.canvas_size) == tuple(canvas_size)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=atol)


# -- keypoints


def test_keypoint_flips_stay_on_pixels():
    assert_keypoints(F.horizontal_flip(keypoints()), np.stack([W - 1 - POINTS[:, 0], POINTS[:, 1]], 1), (H, W))
    assert_keypoints(F.vertical_flip(keypoints()), np.stack([POINTS[:, 0], H - 1 - POINTS[:, 1]], 1), (H, W))
    twice = F.horizontal_flip(F.horizontal_flip(keypoints(ferrotorch.int64, POINTS.astype(np.int64))))
    assert twice.dtype == ferrotorch.int64 and np.array_equal(twice.numpy(), POINTS.astype(np.int64))


def test_keypoint_resize_crop_pad():
    assert_keypoints(F.resize(keypoints(), [11, 31]), POINTS * [31 / W, 11 / H], (11, 31))
    assert_keypoints(F.resize(keypoints(), 8), POINTS * [10 / W, 8 / H], (8, 10))  # shorter edge to 8
    assert_keypoints(F.crop(keypoints(), 2, -3, 10, 12), POINTS - [-3, 2], (10, 12))  # not clamped
    assert_keypoints(F.pad(keypoints(), [1, 2, 3, 4]), POINTS + [1, 2], (H + 6, W + 4))
    top, left = round((H - 10) / 2), round((W - 7) / 2)
    assert_keypoints(F.center_crop(keypoints(), [10, 7]), POINTS - [left, top], (10, 7))
    expected = (POINTS - [2, 1]) * [7 / 14, 18 / 9]
    assert_keypoints(F.resized_crop(keypoints(), 1, 2, 9, 14, [18, 7]), expected, (18, 7))
    with pytest.raises(ValueError, match="Padding mode 'edge' is not supported with KeyPoints"):
        F.pad(keypoints(), 1, padding_mode="edge")


def test_keypoint_affine_and_rotate():
    angle, (tx, ty), scale, shear_x = 17.0, (2.0, -1.0), 1.1, 6.0
    cx, cy = W / 2, H / 2
    a, sx = math.radians(angle), math.radians(shear_x)
    rss = scale * np.array([[math.cos(a), -math.cos(a) * math.tan(sx) - math.sin(a)],
                            [math.sin(a), -math.sin(a) * math.tan(sx) + math.cos(a)]])  # fmt: skip
    expected = (POINTS - [cx, cy]) @ rss.T + [cx + tx, cy + ty]
    got = F.affine(keypoints(), angle=angle, translate=[tx, ty], scale=scale, shear=[shear_x, 0.0])
    assert_keypoints(got, expected, (H, W))  # points may leave the canvas: not clamped
    # A quarter turn counter-clockwise with expand: (x, y) -> (y, W - x) on a (W, H) canvas.
    rotated = F.rotate(keypoints(), 90.0, expand=True)
    assert_keypoints(rotated, np.stack([POINTS[:, 1], W - POINTS[:, 0]], 1), (W, H), atol=1e-5)
    # About a given centre, without expand.
    c = np.array([3.0, 4.0])
    r = np.array([[0.0, 1.0], [-1.0, 0.0]])  # screen rotation by 90 degrees counter-clockwise
    assert_keypoints(F.rotate(keypoints(), 90.0, center=list(c)), (POINTS - c) @ r.T + c, (H, W), atol=1e-5)


def test_keypoint_perspective_is_the_homography():
    start = [[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]]
    end = [[2, 1], [W - 2, 0], [W - 3, H - 2], [1, H - 1]]
    rows = []
    for (x, y), (u, v) in zip(start, end):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y, u], [0, 0, 0, x, y, 1, -v * x, -v * y, v]]
    rows = np.array(rows, dtype=np.float64)
    h = np.append(np.linalg.solve(rows[:, :8], rows[:, 8]), 1.0).reshape(3, 3)
    moved = np.concatenate([POINTS, np.ones((4, 1))], 1) @ h.T
    assert_keypoints(F.perspective(keypoints(), start, end), moved[:, :2] / moved[:, 2:], (H, W))
    with pytest.raises(RuntimeError, match="can not be inverted to transform keypoints"):
        F.perspective(keypoints(), None, None, coefficients=[0, 0, 0, 0, 0, 0, 0, 0])


def test_keypoint_kernels_keep_shape_and_empty_inputs():
    nested = keypoints(points=np.arange(12.0).reshape(2, 3, 2))
    assert tuple(F.rotate(nested, 30.0).shape) == (2, 3, 2)
    empty = keypoints(points=np.zeros((0, 2)))
    for out in (F.affine(empty, 10.0, [0, 0], 1.0, [0.0, 0.0]), F.perspective(empty, None, None, coefficients=[1, 0, 0, 0, 1, 0, 0, 0])):  # fmt: skip
        assert tuple(out.shape) == (0, 2) and type(out) is KeyPoints


# -- elastic


def test_elastic_with_zero_displacement_is_the_identity(rng):
    image = rng.integers(0, 256, (3, H, W), dtype=np.uint8)
    zero = ferrotorch.zeros(1, H, W, 2)
    np.testing.assert_array_equal(F.elastic(Image(ferrotorch.from_numpy(image)), zero).numpy(), image)
    np.testing.assert_array_equal(F.elastic(Mask(ferrotorch.from_numpy(image[0].copy())), zero).numpy(), image[0])
    # Keypoints sit on pixel centres of the identity grid: unchanged.
    pts = np.array([[0.0, 0.0], [5.0, 7.0], [19.0, 15.0]])
    assert_keypoints(F.elastic(keypoints(points=pts), zero.double()), pts, (H, W), atol=1e-6)


def test_elastic_shift_moves_points_against_the_field():
    # A constant field d samples the image at x + d (normalised): points move by -d * size / 2.
    field = ferrotorch.zeros(1, H, W, 2, dtype=ferrotorch.float64)
    field[..., 0] = 0.2
    field[..., 1] = -0.25
    pts = np.array([[2.0, 3.0], [10.0, 12.0]])
    assert_keypoints(F.elastic(keypoints(points=pts), field), pts - [0.2 * W / 2, -0.25 * H / 2], (H, W))
    boxes = BoundingBoxes([[2.0, 3.0, 10.0, 12.0]], format="XYXY", canvas_size=(H, W), dtype=ferrotorch.float64)
    moved = F.elastic(boxes, field)
    np.testing.assert_allclose(moved.numpy(), [[0.0, 5.0, 8.0, 14.0]], atol=1e-6)
    with pytest.raises(ValueError, match=r"Argument displacement shape should be \(1, 16, 20, 2\)"):
        F.elastic(boxes, ferrotorch.zeros(1, 4, 4, 2))


# -- five/ten crop, temporal subsampling


def test_five_and_ten_crop_are_slices(rng):
    image = rng.integers(0, 256, (3, H, W), dtype=np.uint8)
    crops = F.ten_crop(Image(ferrotorch.from_numpy(image)), [5, 7])
    top, left = round((H - 5) / 2), round((W - 7) / 2)
    expected = [image[:, :5, :7], image[:, :5, -7:], image[:, -5:, :7], image[:, -5:, -7:],
                image[:, top:top + 5, left:left + 7]]  # fmt: skip
    flipped = image[..., ::-1]
    expected += [flipped[:, :5, :7], flipped[:, :5, -7:], flipped[:, -5:, :7], flipped[:, -5:, -7:],
                 flipped[:, top:top + 5, left:left + 7]]  # fmt: skip
    assert len(crops) == 10 and all(type(c) is Image for c in crops)
    for got, want in zip(crops, expected):
        np.testing.assert_array_equal(got.numpy(), want)
    with pytest.raises(ValueError, match="is bigger than input size"):
        F.five_crop(ferrotorch.zeros(3, 4, 4), [5, 5])


def test_five_crop_transform_refuses_boxes_and_warns_on_keypoints():
    image = Image(ferrotorch.zeros(3, 8, 8))
    with pytest.raises(TypeError, match="BoundingBoxes'es and Mask's are not supported by FiveCrop"):
        T.FiveCrop(4)(image, BoundingBoxes([0, 0, 1, 1], format="XYXY", canvas_size=(8, 8)))
    with pytest.warns(UserWarning, match="passing through inputs of type tv_tensors.KeyPoints"):
        crops, points = T.TenCrop(4)(image, keypoints(canvas_size=(8, 8)))
    assert len(crops) == 10 and type(points) is KeyPoints


def test_uniform_temporal_subsample_picks_evenly_spaced_frames():
    video = Video(ferrotorch.arange(2 * 9 * 1 * 2 * 2).reshape(2, 9, 1, 2, 2))
    got = T.UniformTemporalSubsample(4)(video)
    indices = np.linspace(0, 8, 4).astype(np.int64)  # [0, 2, 5, 8]
    assert type(got) is Video
    np.testing.assert_array_equal(got.numpy(), video.numpy()[:, indices])


# -- noise, JPEG


def test_gaussian_noise_statistics_and_clipping():
    flat = ferrotorch.full((1, 64, 64), 0.5)
    ferrotorch.manual_seed(0)
    noisy = F.gaussian_noise(flat, mean=0.1, sigma=0.05).numpy()
    assert abs(noisy.mean() - 0.6) < 0.005 and abs(noisy.std() - 0.05) < 0.005
    clipped = F.gaussian_noise(ferrotorch.ones(1, 8, 8), sigma=0.5).numpy()
    assert clipped.max() <= 1.0 and clipped.min() >= 0.0
    uint8 = F.gaussian_noise(ferrotorch.full((1, 64, 64), 250, dtype=ferrotorch.uint8), sigma=0.1)
    assert uint8.dtype == ferrotorch.uint8 and uint8.numpy().max() == 255
    with pytest.raises(ValueError, match="sigma shouldn't be negative"):
        F.gaussian_noise(flat, sigma=-1.0)
    with pytest.raises(ValueError, match="not implemented for PIL images"):
        T.GaussianNoise()(PILImage.new("RGB", (4, 4)))


def test_jpeg_is_a_pillow_round_trip(rng):
    image = rng.integers(0, 256, (3, H, W), dtype=np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(image.transpose(1, 2, 0)).save(buffer, format="JPEG", quality=30)
    expected = np.asarray(PILImage.open(buffer)).transpose(2, 0, 1)
    batch = ferrotorch.from_numpy(np.stack([image, image]))
    got = F.jpeg(batch, quality=30)
    assert tuple(got.shape) == (2, 3, H, W)
    np.testing.assert_array_equal(got.numpy()[1], expected)
    pil = T.JPEG(30)(PILImage.fromarray(image.transpose(1, 2, 0)))
    assert type(pil) is PILImage.Image
    np.testing.assert_array_equal(np.asarray(pil).transpose(2, 0, 1), expected)
    with pytest.raises(ValueError, match="quality must be an integer from 1 to 100"):
        T.JPEG((0, 50))
    with pytest.raises(TypeError, match="quality can't be bool"):
        T.JPEG(True)


# -- MixUp, CutMix


def _batch():
    images = ferrotorch.from_numpy(np.arange(4 * 3 * 4 * 5, dtype=np.float32).reshape(4, 3, 4, 5) / 240)
    return images, ferrotorch.tensor([0, 2, 1, 2])


def test_mixup_mixes_with_the_rolled_batch():
    images, labels = _batch()
    mixup = T.MixUp(num_classes=3)
    ferrotorch.manual_seed(3)
    lam = float(mixup._dist.sample(()))
    ferrotorch.manual_seed(3)
    out_images, out_labels = mixup(images, labels)
    x = images.numpy()
    np.testing.assert_allclose(out_images.numpy(), lam * x + (1 - lam) * np.roll(x, 1, 0), rtol=1e-5, atol=1e-6)
    one_hot = np.eye(3)[labels.numpy()]
    np.testing.assert_allclose(out_labels.numpy(), lam * one_hot + (1 - lam) * np.roll(one_hot, 1, 0), atol=1e-6)


def test_cutmix_labels_follow_the_pasted_area():
    images, labels = _batch()
    ferrotorch.manual_seed(5)
    out_images, out_labels = T.CutMix(num_classes=3)(images, labels)
    x, got = images.numpy(), out_images.numpy()
    pasted = np.any(got != x, axis=(0, 1))  # the box, where every image took its predecessor's pixels
    rows, cols = np.nonzero(pasted)
    if rows.size:
        box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        np.testing.assert_array_equal(got[..., box[0], box[1]], np.roll(x, 1, 0)[..., box[0], box[1]])
    lam = 1.0 - pasted.sum() / pasted.size
    one_hot = np.eye(3)[labels.numpy()]
    np.testing.assert_allclose(out_labels.numpy(), lam * one_hot + (1 - lam) * np.roll(one_hot, 1, 0), atol=1e-6)


def test_mixup_cutmix_argument_errors():
    images, labels = _batch()
    with pytest.raises(ValueError, match="num_classes must be passed if the labels are index-based"):
        T.MixUp()(images, labels)
    with pytest.raises(ValueError, match="does not support PIL images, bounding boxes, keypoints and masks"):
        T.CutMix(num_classes=3)(images, {"labels": labels, "boxes": BoundingBoxes([0, 0, 1, 1], format="XYXY", canvas_size=(4, 5))})  # fmt: skip
    with pytest.raises(ValueError, match="Expected a batched input with 4 dims, but got 3 dimensions"):
        T.MixUp(num_classes=3)(images[0], labels)
    with pytest.raises(ValueError, match=r"must match num_classes: 3 != 4"):
        T.MixUp(num_classes=4)(images, ferrotorch.ones(4, 3))


# -- LinearTransformation, the AutoAugment family


def test_linear_transformation_against_numpy(rng):
    matrix = rng.standard_normal((12, 12))
    mean = rng.standard_normal(12)
    image = rng.standard_normal((2, 3, 2, 2))
    transform = T.LinearTransformation(ferrotorch.from_numpy(matrix), ferrotorch.from_numpy(mean))
    got = transform(Image(ferrotorch.from_numpy(image)))
    assert type(got) is Image
    np.testing.assert_allclose(got.numpy(), ((image.reshape(2, 12) - mean) @ matrix).reshape(2, 3, 2, 2), atol=1e-12)
    with pytest.raises(TypeError, match="does not support PIL images"):
        transform(PILImage.new("RGB", (2, 2)))
    with pytest.raises(ValueError, match="transformation_matrix should be square"):
        T.LinearTransformation(ferrotorch.zeros(2, 3), ferrotorch.zeros(2))


@pytest.mark.parametrize("transform", [T.AutoAugment(), T.RandAugment(), T.TrivialAugmentWide(), T.AugMix()])
def test_auto_augment_family_transforms_the_one_image(transform, rng):
    image = Image(ferrotorch.from_numpy(rng.integers(0, 256, (3, 8, 8), dtype=np.uint8)))
    labels = ferrotorch.tensor([1, 2])
    out_image, out_labels = transform(image, labels)
    assert type(out_image) is Image and out_image.dtype == ferrotorch.uint8 and out_labels is labels
    name = type(transform).__name__
    with pytest.raises(TypeError, match=f"Inputs of type BoundingBoxes are not supported by {name}"):
        transform(image, BoundingBoxes([0, 0, 1, 1], format="XYXY", canvas_size=(8, 8)))
    with pytest.raises(TypeError, match="only properly defined for a single image or video, but found 2"):
        transform(image, image)


def test_random_colour_transforms_at_probability_one(rng):
    image = rng.integers(0, 256, (3, 6, 7), dtype=np.uint8)
    tensor = ferrotorch.from_numpy(image)
    np.testing.assert_array_equal(T.RandomInvert(1.0)(tensor).numpy(), 255 - image)
    np.testing.assert_array_equal(T.RandomPosterize(3, 1.0)(tensor).numpy(), image & 0b11100000)
    solarized = np.where(image >= 100, 255 - image, image)
    np.testing.assert_array_equal(T.RandomSolarize(100, 1.0)(tensor).numpy(), solarized)
    gray = ferrotorch.from_numpy(image[:1].copy())
    np.testing.assert_array_equal(T.RGB()(gray).numpy(), np.repeat(image[:1], 3, 0))
    ferrotorch.manual_seed(0)
    permuted = T.RandomChannelPermutation()(tensor).numpy()
    assert sorted(map(bytes, permuted)) == sorted(map(bytes, image))


def test_random_resizes_sizes():
    image = Image(ferrotorch.zeros(3, 20, 40))
    for _ in range(3):
        out = T.RandomResize(10, 15)(image)
        assert 10 <= out.shape[-2] < 15 and out.shape[-1] == 2 * out.shape[-2]
    assert tuple(T.RandomShortestSize([10], max_size=15)(image).shape[-2:]) == (7, 15)
    h, w = T.ScaleJitter((100, 100), scale_range=(1.0, 1.0))(image).shape[-2:]
    assert (h, w) == (50, 100)


def test_sanitize_keypoints_drops_points_and_groups_outside():
    flat = keypoints(points=np.array([[1.0, 2.0], [20.0, 3.0], [-0.5, 1.0], [19.5, 15.5]]))
    kept, valid = F.sanitize_keypoints(flat)
    assert valid.tolist() == [True, False, False, True] and type(kept) is KeyPoints
    np.testing.assert_array_equal(kept.numpy(), [[1.0, 2.0], [19.5, 15.5]])
    groups = np.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 5.0], [25.0, 1.0]]])
    labels = ferrotorch.tensor([7, 8])
    out_points, target = T.SanitizeKeyPoints(labels_getter=lambda s: s[1]["labels"])(
        keypoints(points=groups), {"labels": labels, "other": "x"}
    )
    assert out_points.shape[0] == 1 and target["labels"].tolist() == [7] and target["other"] == "x"
    with pytest.raises(ValueError, match="canvas_size cannot be None if key_points is a pure tensor"):
        F.sanitize_keypoints(ferrotorch.zeros(2, 2))
    with pytest.raises(ValueError, match="No keypoints were found in the sample"):
        T.SanitizeKeyPoints()(Image(ferrotorch.zeros(3, 2, 2)))
