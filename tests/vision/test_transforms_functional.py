"""ferrovision.transforms.functional against independent NumPy / Pillow references, and its errors."""

import colorsys

import numpy as np
import pytest
from PIL import Image, ImageOps

import ferrotorch
import ferrovision.transforms.functional as F


@pytest.fixture
def img_u8(rng):
    return rng.integers(0, 256, size=(3, 9, 12), dtype=np.uint8)


@pytest.fixture
def img_f64(rng):
    return rng.random((3, 9, 12))


def t(a):
    return ferrotorch.from_numpy(np.ascontiguousarray(a))


def transposed(a):
    """The same CHW image as a non-contiguous tensor (a transposed view)."""
    return t(np.ascontiguousarray(np.swapaxes(a, -1, -2))).transpose(-1, -2)


def test_to_tensor_scales_uint8_pil_to_unit_floats(img_u8):
    pil = Image.fromarray(img_u8.transpose(1, 2, 0))
    out = F.to_tensor(pil)
    assert out.dtype == ferrotorch.float32
    np.testing.assert_allclose(out.numpy(), img_u8 / 255.0, rtol=1e-6)


def test_pil_to_tensor_keeps_values_and_dtype(img_u8):
    out = F.pil_to_tensor(Image.fromarray(img_u8.transpose(1, 2, 0)))
    assert out.dtype == ferrotorch.uint8
    np.testing.assert_array_equal(out.numpy(), img_u8)


def test_to_pil_image_round_trips_uint8(img_u8):
    pil = F.to_pil_image(t(img_u8))
    assert pil.mode == "RGB" and pil.size == (12, 9)
    np.testing.assert_array_equal(np.asarray(pil), img_u8.transpose(1, 2, 0))


def test_to_pil_image_truncates_floats_times_255():
    x = np.array([[[0.0, 0.5, 0.999, 1.0]]], dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(F.to_pil_image(t(x))), [[0, 127, 254, 255]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_on_non_contiguous_input(img_f64, dtype):
    x = img_f64.astype(dtype)
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    out = F.normalize(transposed(x), mean, std)
    expected = (x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_normalize_inplace_writes_into_the_input(img_f64):
    x = t(img_f64.copy())
    out = F.normalize(x, [0.5] * 3, [2.0] * 3, inplace=True)
    assert out is x
    np.testing.assert_allclose(x.numpy(), (img_f64 - 0.5) / 2.0)


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        F.normalize(ferrotorch.zeros(3, 2, 2, dtype=ferrotorch.uint8), [0.0], [1.0])
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(ferrotorch.zeros(3, 2, 2), [0.0], [0.0])
    with pytest.raises(ValueError, match=r"Got tensor.size\(\) = "):
        F.normalize(ferrotorch.zeros(2, 2), [0.0], [1.0])


def test_convert_image_dtype_formulas(img_u8):
    as_float = F.convert_image_dtype(t(img_u8), ferrotorch.float64)
    np.testing.assert_allclose(as_float.numpy(), img_u8 / 255.0)
    back = F.convert_image_dtype(as_float, ferrotorch.uint8)
    np.testing.assert_array_equal(back.numpy(), np.floor(img_u8 / 255.0 * (256 - 1e-3)).astype(np.uint8))
    np.testing.assert_array_equal(F.convert_image_dtype(t(img_u8), ferrotorch.int16).numpy(), img_u8.astype(np.int16) * 128)
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(ferrotorch.zeros(1, 1, 1), ferrotorch.int64)


def test_flips_and_crop_on_non_contiguous_input(img_u8):
    x = transposed(img_u8)
    np.testing.assert_array_equal(F.hflip(x).numpy(), img_u8[..., ::-1])
    np.testing.assert_array_equal(F.vflip(x).numpy(), img_u8[..., ::-1, :])
    np.testing.assert_array_equal(F.crop(x, 2, 3, 4, 5).numpy(), img_u8[:, 2:6, 3:8])


def test_crop_outside_the_image_zero_pads(img_u8):
    out = F.crop(t(img_u8), -2, 10, 4, 5).numpy()
    expected = np.zeros((3, 4, 5), dtype=np.uint8)
    expected[:, 2:, :2] = img_u8[:, :2, 10:]
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("mode,np_mode", [("edge", "edge"), ("reflect", "reflect"), ("symmetric", "symmetric")])
def test_pad_modes_match_numpy_pad(img_u8, mode, np_mode):
    out = F.pad(transposed(img_u8), [1, 2, 3, 4], padding_mode=mode)
    np.testing.assert_array_equal(out.numpy(), np.pad(img_u8, ((0, 0), (2, 4), (1, 3)), mode=np_mode))


def test_pad_constant_fill_on_batch(rng):
    x = rng.integers(0, 256, size=(2, 3, 4, 5), dtype=np.uint8)
    out = F.pad(t(x), 2, fill=9)
    np.testing.assert_array_equal(out.numpy(), np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=9))


def test_pad_errors(img_u8):
    with pytest.raises(ValueError, match="Padding mode should be either"):
        F.pad(t(img_u8), 1, padding_mode="wrap")
    with pytest.raises(ValueError, match="not a 3 element tuple"):
        F.pad(t(img_u8), (1, 2, 3))


def test_rotate_90_is_rot90_on_a_square_image(rng):
    x = rng.integers(0, 256, size=(3, 7, 7), dtype=np.uint8)
    expected = np.rot90(x, 1, axes=(1, 2))
    np.testing.assert_array_equal(F.rotate(t(x), 90.0).numpy(), expected)
    pil = Image.fromarray(x.transpose(1, 2, 0))
    np.testing.assert_array_equal(np.asarray(F.rotate(pil, 90.0)), expected.transpose(1, 2, 0))


def test_affine_integer_translation_shifts_pixels(img_u8):
    out = F.affine(t(img_u8), 0.0, [2, 1], 1.0, [0.0, 0.0]).numpy()
    np.testing.assert_array_equal(out[:, 1:, 2:], img_u8[:, :-1, :-2])
    assert (out[:, 0, :] == 0).all() and (out[:, :, :2] == 0).all()


def test_rgb_to_grayscale_matches_luma_formula(img_f64):
    out = F.rgb_to_grayscale(t(img_f64), num_output_channels=3)
    luma = 0.2989 * img_f64[0] + 0.587 * img_f64[1] + 0.114 * img_f64[2]
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(luma, (3, 9, 12)), rtol=1e-12)


def test_brightness_contrast_saturation_blend_formulas(img_f64):
    x = t(img_f64)
    np.testing.assert_allclose(F.adjust_brightness(x, 1.3).numpy(), np.clip(img_f64 * 1.3, 0, 1))
    gray = 0.2989 * img_f64[0] + 0.587 * img_f64[1] + 0.114 * img_f64[2]
    np.testing.assert_allclose(
        F.adjust_contrast(x, 0.6).numpy(), np.clip(0.6 * img_f64 + 0.4 * gray.mean(), 0, 1), rtol=1e-12
    )
    np.testing.assert_allclose(F.adjust_saturation(x, 1.5).numpy(), np.clip(1.5 * img_f64 - 0.5 * gray, 0, 1), rtol=1e-12)


def test_adjust_hue_matches_colorsys(img_f64):
    factor = 0.23
    out = F.adjust_hue(t(img_f64.astype(np.float32)), factor).numpy()
    expected = np.empty_like(img_f64)
    for i in range(img_f64.shape[1]):
        for j in range(img_f64.shape[2]):
            h, s, v = colorsys.rgb_to_hsv(*img_f64[:, i, j])
            expected[:, i, j] = colorsys.hsv_to_rgb((h + factor) % 1.0, s, v)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_adjust_gamma_formula(img_f64):
    np.testing.assert_allclose(F.adjust_gamma(t(img_f64), 2.2, 0.9).numpy(), np.clip(0.9 * img_f64**2.2, 0, 1))


def test_gaussian_blur_is_separable_reflect_convolution(img_f64):
    sx, sy, kx, ky = 1.1, 0.6, 5, 3
    out = F.gaussian_blur(t(img_f64), [kx, ky], [sx, sy]).numpy()

    def kernel(k, s):
        x = np.arange(k) - (k - 1) / 2
        w = np.exp(-0.5 * (x / s) ** 2)
        return w / w.sum()

    padded = np.pad(img_f64, ((0, 0), (ky // 2, ky // 2), (kx // 2, kx // 2)), mode="reflect")
    wx, wy = kernel(kx, sx), kernel(ky, sy)
    rows = sum(wx[k] * padded[:, :, k : k + img_f64.shape[2]] for k in range(kx))
    expected = sum(wy[k] * rows[:, k : k + img_f64.shape[1], :] for k in range(ky))
    np.testing.assert_allclose(out, expected, rtol=1e-10)


def test_invert_posterize_solarize_formulas(img_u8):
    x = t(img_u8)
    np.testing.assert_array_equal(F.invert(x).numpy(), 255 - img_u8)
    np.testing.assert_array_equal(F.posterize(x, 3).numpy(), img_u8 & 0b11100000)
    np.testing.assert_array_equal(F.solarize(x, 128).numpy(), np.where(img_u8 >= 128, 255 - img_u8, img_u8))


def test_autocontrast_stretches_each_channel(img_f64):
    x = img_f64 * 0.5 + 0.2
    lo, hi = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(F.autocontrast(t(x)).numpy(), (x - lo) / (hi - lo), rtol=1e-12)


def test_autocontrast_leaves_constant_channels():
    x = np.full((1, 3, 3), 0.4)
    np.testing.assert_array_equal(F.autocontrast(t(x)).numpy(), x)


def test_equalize_tensor_matches_pillow(rng):
    x = (rng.random((3, 16, 16)) ** 3 * 200).astype(np.uint8)
    expected = np.asarray(ImageOps.equalize(Image.fromarray(x.transpose(1, 2, 0)))).transpose(2, 0, 1)
    np.testing.assert_array_equal(F.equalize(t(x)).numpy(), expected)
    batch = np.stack([x, x[::-1].copy()])
    np.testing.assert_array_equal(F.equalize(t(batch)).numpy()[0], expected)


def test_adjust_sharpness_matches_pillow_on_the_interior(rng):
    x = rng.integers(0, 256, size=(3, 8, 10), dtype=np.uint8)
    pil = np.asarray(F.adjust_sharpness(Image.fromarray(x.transpose(1, 2, 0)), 0.0)).transpose(2, 0, 1)
    out = F.adjust_sharpness(t(x), 0.0).numpy()
    np.testing.assert_array_equal(out[:, 1:-1, 1:-1], pil[:, 1:-1, 1:-1])
    np.testing.assert_array_equal(out[:, 0], x[:, 0])


def test_five_crop_corners_and_centre(img_u8):
    tl, tr, bl, br, center = F.five_crop(t(img_u8), [4, 5])
    np.testing.assert_array_equal(tl.numpy(), img_u8[:, :4, :5])
    np.testing.assert_array_equal(tr.numpy(), img_u8[:, :4, -5:])
    np.testing.assert_array_equal(bl.numpy(), img_u8[:, -4:, :5])
    np.testing.assert_array_equal(br.numpy(), img_u8[:, -4:, -5:])
    np.testing.assert_array_equal(center.numpy(), img_u8[:, 2:6, 4:9])
    with pytest.raises(ValueError, match="is bigger than input size"):
        F.five_crop(t(img_u8), 10)


def test_resize_shorter_edge_and_max_size():
    x = ferrotorch.zeros(3, 10, 20)
    assert tuple(F.resize(x, 5).shape) == (3, 5, 10)
    assert tuple(F.resize(x, 5, max_size=8).shape) == (3, 4, 8)
    with pytest.raises(ValueError, match="must be strictly greater than the requested size"):
        F.resize(x, 8, max_size=8)
    with pytest.raises(ValueError, match="max_size should only be passed"):
        F.resize(x, [4, 5], max_size=8)


def test_nearest_resize_by_integer_factor_repeats_pixels(img_u8):
    out = F.resize(t(img_u8), [18, 24], F.InterpolationMode.NEAREST).numpy()
    np.testing.assert_array_equal(out, img_u8.repeat(2, axis=1).repeat(2, axis=2))


def test_antialiased_downscale_by_two_averages_pixel_pairs(img_f64):
    # Bilinear antialias at scale 2: the triangle filter spans 2 input pixels per side, with
    # weights 1/4, 3/4, 3/4, 1/4 normalised over the pixels present.
    x = img_f64[:, :, :12]
    out = F.resize(t(x), [9, 6]).numpy()
    padded = np.concatenate([x[..., :1] * 0, x, x[..., :1] * 0], axis=-1)
    w = np.array([0.25, 0.75, 0.75, 0.25])
    expected = np.stack([(padded[..., 2 * i : 2 * i + 4] * w).sum(-1) for i in range(6)], -1)
    norm = np.array([1.75] + [2.0] * 4 + [1.75])
    np.testing.assert_allclose(out, expected / norm, rtol=1e-12)


def test_erase_sets_the_box(img_f64):
    out = F.erase(t(img_f64), 1, 2, 3, 4, ferrotorch.tensor(7.0)).numpy()
    expected = img_f64.copy()
    expected[:, 1:4, 2:6] = 7.0
    np.testing.assert_array_equal(out, expected)


def test_get_dimensions_for_tensors_and_pil(img_u8):
    pil = Image.fromarray(img_u8.transpose(1, 2, 0))
    assert F.get_dimensions(t(img_u8)) == F.get_dimensions(pil) == [3, 9, 12]
    assert F.get_image_size(t(img_u8)) == F.get_image_size(pil) == [12, 9]
    assert F.get_image_num_channels(ferrotorch.zeros(4, 5)) == 1


def test_input_errors(img_u8):
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        F.to_tensor([1, 2])
    with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported"):
        F.posterize(ferrotorch.zeros(3, 2, 2), 2)
    with pytest.raises(ValueError, match="hue_factor"):
        F.adjust_hue(t(img_u8), 0.7)
    with pytest.raises(ValueError, match="kernel_size should have odd and positive integers"):
        F.gaussian_blur(t(img_u8), 4)
    with pytest.raises(TypeError, match="Input image tensor permitted channel values are"):
        F.adjust_brightness(ferrotorch.zeros(2, 3, 3), 1.0)
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported with Tensor input"):
        F.rotate(t(img_u8), 10.0, F.InterpolationMode.BICUBIC)
    with pytest.raises(ValueError, match="cannot broadcast to match the number of channels"):
        F.rotate(t(img_u8), 10.0, fill=[1.0, 2.0])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.resize(x, [5, 6]),
        lambda x: F.rotate(x, 10.0),
        lambda x: F.perspective(x, [[0, 0], [11, 0], [11, 9], [0, 9]], [[1, 1], [10, 0], [11, 9], [0, 8]]),
        lambda x: F.adjust_hue(x, 0.1),
        F.equalize,
        F.autocontrast,
        lambda x: F.gaussian_blur(x, 3),
        lambda x: F.pad(x, 2, padding_mode="symmetric"),
    ],
)
def test_empty_batch_keeps_its_shape(fn):
    out = fn(ferrotorch.zeros(0, 3, 10, 12, dtype=ferrotorch.uint8))
    assert out.shape[0] == 0 and out.dtype == ferrotorch.uint8
