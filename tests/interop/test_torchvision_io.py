"""ferrovision.io against torchvision.io on the same bytes (skipped without torchvision)."""

import io

import numpy as np
import pytest
from PIL import Image

torchvision = pytest.importorskip("torchvision")
import torch  # noqa: E402
import torchvision.io as tvio  # noqa: E402

import ferrotorch as ft  # noqa: E402
import ferrovision.io as fvio  # noqa: E402

# torchvision 0.29 deprecates its image codecs in favour of TorchCodec; they still are the reference here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
MODES = ["UNCHANGED", "GRAY", "GRAY_ALPHA", "RGB", "RGB_ALPHA"]


def encoded(img, fmt, **options):
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def both(data: bytes):
    array = np.frombuffer(data, dtype=np.uint8).copy()
    return ft.from_numpy(array), torch.from_numpy(array.copy())


@pytest.fixture
def rgb(rng):
    return Image.fromarray(rng.integers(0, 256, (10, 14, 3), dtype=np.uint8))


@pytest.mark.parametrize("stored", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("mode", MODES)
def test_decode_png_same_as_torchvision(rgb, stored, mode):
    img = rgb.convert("L").convert("LA") if stored == "LA" else rgb.convert(stored)
    ours, theirs = both(encoded(img, "PNG"))
    a, b = fvio.decode_png(ours, mode=mode).numpy(), tvio.decode_png(theirs, mode=mode).numpy()
    assert a.shape == b.shape
    if stored in ("RGB", "RGBA") and mode.startswith("GRAY"):
        # libpng's RGB -> gray weights differ slightly from Pillow's (ITU-R 601-2).
        assert np.abs(a.astype(int) - b).max() <= 1
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", ["UNCHANGED", "GRAY", "RGB"])
def test_palette_and_bilevel_png_same_as_torchvision(rgb, mode):
    for img in (rgb.convert("P"), rgb.convert("1")):
        ours, theirs = both(encoded(img, "PNG"))
        a, b = fvio.decode_png(ours, mode=mode).numpy(), tvio.decode_png(theirs, mode=mode).numpy()
        assert np.abs(a.astype(int) - b).max() <= 1


@pytest.mark.parametrize("stored", ["L", "RGB"])
@pytest.mark.parametrize("mode", ["UNCHANGED", "GRAY", "RGB"])
def test_decode_jpeg_same_as_torchvision(rgb, stored, mode):
    ours, theirs = both(encoded(rgb.convert(stored), "JPEG", quality=85))
    np.testing.assert_array_equal(fvio.decode_jpeg(ours, mode=mode).numpy(), tvio.decode_jpeg(theirs, mode=mode).numpy())
    np.testing.assert_array_equal(fvio.decode_image(ours, mode=mode).numpy(), tvio.decode_image(theirs, mode=mode).numpy())


def test_exif_orientation_same_as_torchvision(rgb):
    exif = Image.Exif()
    exif[0x0112] = 8
    ours, theirs = both(encoded(rgb, "JPEG", exif=exif))
    np.testing.assert_array_equal(fvio.decode_jpeg(ours, apply_exif_orientation=True).numpy(),
                                  tvio.decode_jpeg(theirs, apply_exif_orientation=True).numpy())  # fmt: skip


def test_decode_webp_and_gif_same_as_torchvision(rgb):
    for data in (encoded(rgb, "WEBP", lossless=True), encoded(rgb.convert("P"), "GIF")):
        ours, theirs = both(data)
        np.testing.assert_array_equal(fvio.decode_image(ours).numpy(), tvio.decode_image(theirs).numpy())


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("quality", [20, 75, 100])
def test_encode_jpeg_gives_torchvision_bytes(rng, channels, quality):
    image = rng.integers(0, 256, (channels, 16, 24), dtype=np.uint8)
    ours = fvio.encode_jpeg(ft.from_numpy(image), quality=quality).numpy()
    theirs = tvio.encode_jpeg(torch.from_numpy(image), quality=quality).numpy()
    assert ours.tobytes() == theirs.tobytes()


@pytest.mark.parametrize("channels", [1, 3])
def test_encode_png_decodes_to_the_same_image(rng, channels):
    image = rng.integers(0, 256, (channels, 9, 5), dtype=np.uint8)
    ours = fvio.encode_png(ft.from_numpy(image))
    theirs = tvio.encode_png(torch.from_numpy(image))
    np.testing.assert_array_equal(tvio.decode_png(torch.from_numpy(ours.numpy().copy())).numpy(),
                                  fvio.decode_png(ft.from_numpy(theirs.numpy().copy())).numpy())  # fmt: skip


def test_read_file_same_as_torchvision(tmp_path):
    (tmp_path / "f").write_bytes(b"\x00\x01ferro\xff")
    np.testing.assert_array_equal(fvio.read_file(str(tmp_path / "f")).numpy(), tvio.read_file(str(tmp_path / "f")).numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda io_, lib: io_.decode_png(lib.zeros(3, dtype=lib.float32)),
        lambda io_, lib: io_.decode_png(lib.zeros(10, dtype=lib.uint8)),
        lambda io_, lib: io_.decode_image(lib.zeros(10, dtype=lib.uint8)),
        lambda io_, lib: io_.encode_png(lib.zeros(2, 3, 3, dtype=lib.uint8)),
        lambda io_, lib: io_.encode_jpeg(lib.zeros(3, 3, 3, dtype=lib.uint8), quality=101),
    ],
)
def test_errors_have_torchvision_types(call):
    with pytest.raises(Exception) as theirs:
        call(tvio, torch)
    with pytest.raises(type(theirs.value)):
        call(fvio, ft)
