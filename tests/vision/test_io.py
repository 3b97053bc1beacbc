"""ferrovision.io: reading, decoding and encoding images, checked against PIL + NumPy."""

import io

import numpy as np
import pytest
from PIL import Image

import ferrotorch as ft
from ferrovision.io import (
    ImageReadMode,
    decode_gif,
    decode_image,
    decode_jpeg,
    decode_png,
    encode_jpeg,
    encode_png,
    read_file,
    read_image,
    write_file,
    write_jpeg,
    write_png,
)


def encoded(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def as_tensor(data: bytes):
    return ft.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def chw(array: np.ndarray) -> np.ndarray:
    """PIL's HW / HWC array as CHW."""
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


@pytest.fixture
def rgb(rng):
    return Image.fromarray(rng.integers(0, 256, (9, 13, 3), dtype=np.uint8))


@pytest.fixture
def smooth(rng):
    """A smooth RGB image: JPEG keeps it close to the original."""
    y, x = np.mgrid[0:32, 0:40]
    return np.stack([x * 6, y * 7, (x + y) * 3], axis=0).astype(np.uint8)


def stored(rgb: Image.Image, mode: str) -> Image.Image:
    return rgb.convert("L").convert("LA") if mode == "LA" else rgb.convert(mode)


# PIL conversion each read mode stands for.
CONVERSION = {"GRAY": "L", "GRAY_ALPHA": "LA", "RGB": "RGB", "RGB_ALPHA": "RGBA"}


def test_read_and_write_file_round_trip(tmp_path):
    payload = bytes(range(256)) * 3
    (tmp_path / "in.bin").write_bytes(payload)
    data = read_file(str(tmp_path / "in.bin"))
    assert data.dtype == ft.uint8 and tuple(data.shape) == (len(payload),)
    assert data.numpy().tobytes() == payload
    assert write_file(str(tmp_path / "out.bin"), data) is data
    assert (tmp_path / "out.bin").read_bytes() == payload


@pytest.mark.parametrize("stored_mode, channels", [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)])
def test_decode_png_unchanged_keeps_the_stored_channels(rgb, stored_mode, channels):
    img = stored(rgb, stored_mode)
    out = decode_png(as_tensor(encoded(img, "PNG")))
    assert out.dtype == ft.uint8 and tuple(out.shape) == (channels, 9, 13) and out.is_contiguous()
    np.testing.assert_array_equal(out.numpy(), chw(np.array(img)))


@pytest.mark.parametrize("stored_mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("mode", ["GRAY", "GRAY_ALPHA", "RGB", "RGB_ALPHA"])
def test_decode_png_converts_to_the_read_mode(rgb, stored_mode, mode):
    img = stored(rgb, stored_mode)
    out = decode_png(as_tensor(encoded(img, "PNG")), mode=ImageReadMode[mode])
    np.testing.assert_array_equal(out.numpy(), chw(np.array(img.convert(CONVERSION[mode]))))


def test_decode_png_palette_and_bilevel(rgb):
    palette = rgb.convert("P")
    data = as_tensor(encoded(palette, "PNG"))
    np.testing.assert_array_equal(decode_png(data).numpy(), chw(np.array(palette)))  # the indices
    np.testing.assert_array_equal(decode_png(data, mode="rgb").numpy(), chw(np.array(palette.convert("RGB"))))
    bilevel = rgb.convert("1")
    out = decode_png(as_tensor(encoded(bilevel, "PNG")))
    np.testing.assert_array_equal(out.numpy(), chw(np.array(bilevel).astype(np.uint8) * 255))


def test_decode_jpeg_matches_pil(rgb):
    data = as_tensor(encoded(rgb, "JPEG", quality=90))
    reference = np.array(Image.open(io.BytesIO(encoded(rgb, "JPEG", quality=90))))
    for mode in ("UNCHANGED", "RGB"):
        np.testing.assert_array_equal(decode_jpeg(data, mode=mode).numpy(), chw(reference))
    # Gray comes from the decoder's luma plane: close to the BT.601 luma of the decoded RGB.
    gray = decode_jpeg(data, mode=ImageReadMode.GRAY).numpy()[0].astype(np.float64)
    luma = reference.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    assert gray.shape == (9, 13) and np.abs(gray - luma).max() <= 12
    assert np.abs(gray - luma).mean() <= 2


def test_decode_jpeg_of_a_gray_image(rgb):
    gray = rgb.convert("L")
    data = as_tensor(encoded(gray, "JPEG", quality=95))
    reference = np.array(Image.open(io.BytesIO(encoded(gray, "JPEG", quality=95))))
    for mode in ("UNCHANGED", "GRAY"):
        np.testing.assert_array_equal(decode_jpeg(data, mode=mode).numpy(), chw(reference))
    np.testing.assert_array_equal(decode_jpeg(data, mode="RGB").numpy(), chw(np.stack([reference] * 3, axis=-1)))


def test_decode_jpeg_list(rgb):
    data = as_tensor(encoded(rgb, "JPEG"))
    outs = decode_jpeg([data, data])
    assert len(outs) == 2 and np.array_equal(outs[0].numpy(), outs[1].numpy())
    with pytest.raises(ValueError, match="Input list must contain at least one element"):
        decode_jpeg([])


def test_decode_applies_exif_orientation_on_request(rgb):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = as_tensor(encoded(rgb, "JPEG", quality=95, exif=exif))
    assert tuple(decode_jpeg(data).shape) == (3, 9, 13)
    turned = decode_jpeg(data, apply_exif_orientation=True)
    np.testing.assert_array_equal(turned.numpy(), np.rot90(decode_jpeg(data).numpy(), k=-1, axes=(1, 2)))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_decode_image_detects_the_format(rgb, fmt):
    options = {"lossless": True} if fmt == "WEBP" else {}
    data = encoded(rgb, fmt, **options)
    out = decode_image(as_tensor(data), mode="RGB")
    np.testing.assert_array_equal(out.numpy(), chw(np.array(Image.open(io.BytesIO(data)).convert("RGB"))))


def test_decode_gif_single_and_animated(rng):
    frames = [Image.fromarray(rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)).convert("P") for _ in range(2)]
    single = encoded(frames[0], "GIF")
    np.testing.assert_array_equal(decode_image(as_tensor(single)).numpy(), chw(np.array(frames[0].convert("RGB"))))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    both = decode_gif(as_tensor(buffer.getvalue()))
    assert tuple(both.shape) == (2, 3, 4, 5)
    np.testing.assert_array_equal(both.numpy()[1], chw(np.array(frames[1].convert("RGB"))))


def test_read_image_from_a_path(tmp_path, rgb):
    rgb.save(tmp_path / "x.png")
    np.testing.assert_array_equal(read_image(str(tmp_path / "x.png"), ImageReadMode.GRAY).numpy(),
                                  chw(np.array(rgb.convert("L"))))  # fmt: skip
    np.testing.assert_array_equal(decode_image(tmp_path / "x.png").numpy(), chw(np.array(rgb)))


@pytest.mark.parametrize("channels", [1, 3])
def test_encode_png_is_lossless(rng, channels):
    image = rng.integers(0, 256, (channels, 7, 11), dtype=np.uint8)
    data = encode_png(ft.from_numpy(image))
    assert data.dtype == ft.uint8 and data.dim() == 1
    decoded = np.array(Image.open(io.BytesIO(data.numpy().tobytes())))
    np.testing.assert_array_equal(chw(decoded), image)


def test_encode_png_compression_level(smooth):
    image = ft.from_numpy(smooth)
    assert encode_png(image, compression_level=0).numel() > encode_png(image, compression_level=9).numel()


def test_encode_accepts_non_contiguous_images(rng):
    hwc = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    image = ft.from_numpy(hwc).permute(2, 0, 1)
    decoded = np.array(Image.open(io.BytesIO(encode_png(image).numpy().tobytes())))
    np.testing.assert_array_equal(decoded, hwc)


def test_encode_jpeg_round_trip_and_quality(smooth):
    image = ft.from_numpy(smooth)
    data = encode_jpeg(image, quality=95)
    decoded = chw(np.array(Image.open(io.BytesIO(data.numpy().tobytes()))))
    assert decoded.shape == smooth.shape
    assert np.abs(decoded.astype(int) - smooth).mean() < 2
    assert encode_jpeg(image, quality=10).numel() < data.numel()
    assert [t.numel() for t in encode_jpeg([image, image], quality=95)] == [data.numel()] * 2


def test_write_png_and_jpeg_write_the_encoded_bytes(tmp_path, smooth):
    image = ft.from_numpy(smooth)
    written = write_png(image, str(tmp_path / "a.png"))
    assert (tmp_path / "a.png").read_bytes() == written.numpy().tobytes()
    written = write_jpeg(image, str(tmp_path / "a.jpg"), quality=80)
    assert (tmp_path / "a.jpg").read_bytes() == encode_jpeg(image, quality=80).numpy().tobytes()
    np.testing.assert_array_equal(read_image(str(tmp_path / "a.png")).numpy(), smooth)


def test_decode_rejects_bad_input(rgb):
    with pytest.raises(RuntimeError, match="Input tensor must have uint8 data type"):
        decode_png(ft.zeros(3))
    with pytest.raises(RuntimeError, match="Input tensor must be 1-dimensional and non-empty, got 2 dims"):
        decode_png(ft.zeros(2, 2, dtype=ft.uint8))
    with pytest.raises(RuntimeError, match="Content is not png!"):
        decode_png(as_tensor(encoded(rgb, "JPEG")))
    with pytest.raises(RuntimeError, match="Not a JPEG file: starts with 0x89 0x50"):
        decode_jpeg(as_tensor(encoded(rgb, "PNG")))
    with pytest.raises(RuntimeError, match="Unsupported image file. Only jpeg, png, webp and gif"):
        decode_image(ft.zeros(10, dtype=ft.uint8))


def test_encode_rejects_bad_input():
    with pytest.raises(RuntimeError, match="The number of channels should be 1 or 3, got: 2"):
        encode_png(ft.zeros(2, 3, 3, dtype=ft.uint8))
    with pytest.raises(RuntimeError, match="Input tensor dtype should be uint8"):
        encode_jpeg(ft.zeros(3, 3, 3))
    with pytest.raises(RuntimeError, match="Input data should be a 3-dimensional tensor"):
        encode_png(ft.zeros(3, 3, dtype=ft.uint8))
    with pytest.raises(RuntimeError, match="Compression level should be between 0 and 9"):
        encode_png(ft.zeros(3, 3, 3, dtype=ft.uint8), compression_level=10)
    with pytest.raises(ValueError, match="Image quality should be a positive number between 1 and 100"):
        encode_jpeg(ft.zeros(3, 3, 3, dtype=ft.uint8), quality=0)


def test_image_read_mode_alias_and_strings():
    assert ImageReadMode.RGBA is ImageReadMode.RGB_ALPHA
    assert [m.value for m in ImageReadMode] == [0, 1, 2, 3, 4]
