"""Image file reading, decoding and encoding through Pillow, with `torchvision.io`'s API.

Decoded images are ``(C, H, W)`` uint8 tensors; encoded images and file contents are 1-D uint8 tensors of
bytes.
"""

import io
from enum import Enum
from typing import Union

import numpy as np
from PIL import Image, ImageOps

import ferrotorch

from ..transforms import functional as F


class ImageReadMode(Enum):
    """How to convert an image while decoding (strings such as ``"RGB"`` are accepted too).

    - UNCHANGED: as stored (a palette PNG gives its palette indices)
    - GRAY: one channel
    - GRAY_ALPHA: gray and transparency
    - RGB: three channels
    - RGB_ALPHA (alias RGBA): RGB and transparency
    """

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


# PIL mode each read mode converts to (UNCHANGED keeps the image's own mode).
_PIL_MODES = {
    ImageReadMode.GRAY: "L",
    ImageReadMode.GRAY_ALPHA: "LA",
    ImageReadMode.RGB: "RGB",
    ImageReadMode.RGB_ALPHA: "RGBA",
}
# Stored PIL modes that UNCHANGED hands back as they are (a palette image gives its indices).
_PASSTHROUGH_MODES = {"L", "LA", "RGB", "RGBA", "P"}
# 16-bit and float images would need uint16/float pixels, which torchvision only partly supports.
_UNSUPPORTED_MODES = {"I", "I;16", "I;16B", "I;16L", "F"}
_SIGNATURES = {"PNG": (b"\x89PNG\r\n\x1a\n",), "JPEG": (b"\xff\xd8\xff",), "GIF": (b"GIF87a", b"GIF89a")}


def _as_mode(mode: Union[ImageReadMode, str]) -> ImageReadMode:
    return ImageReadMode[mode.upper()] if isinstance(mode, str) else mode


def _to_bytes(data) -> bytes:
    """The bytes held by a 1-D uint8 tensor, with torchvision's checks."""
    if data.dtype != ferrotorch.uint8:
        raise RuntimeError(f"Input tensor must have uint8 data type, got {data.dtype}")
    if data.dim() != 1 or data.numel() == 0:
        raise RuntimeError(
            f"Input tensor must be 1-dimensional and non-empty, got {data.dim()} dims and {data.numel()} numels."
        )
    return data.contiguous().numpy().tobytes()


def _from_bytes(data: bytes):
    """A 1-D uint8 tensor owning a copy of `data`."""
    return ferrotorch.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def _detect_format(data: bytes) -> str:
    for name, signatures in _SIGNATURES.items():
        if data.startswith(signatures):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise RuntimeError(
        "Unsupported image file. Only jpeg, png, webp and gif are currently supported. "
        "For avif and heic format, please rely on `decode_avif` and `decode_heic` directly."
    )


def _decode(data: bytes, mode: ImageReadMode, apply_exif_orientation: bool, image_format: str):
    """Decode `data` with Pillow and convert it as `mode` asks; ``(C, H, W)`` uint8."""
    img = Image.open(io.BytesIO(data))
    if image_format == "JPEG" and mode in (ImageReadMode.GRAY, ImageReadMode.GRAY_ALPHA):
        # Let libjpeg emit its luma plane directly, as torchvision's decoder does (no RGB round trip).
        img.draft("L", img.size)
    img.load()
    if img.mode in _UNSUPPORTED_MODES:
        raise RuntimeError(f"Decoding images of PIL mode {img.mode} (16-bit or float pixels) is not supported")
    if apply_exif_orientation:
        img = ImageOps.exif_transpose(img)
    if mode == ImageReadMode.UNCHANGED:
        if img.mode not in _PASSTHROUGH_MODES:
            # 1-bit images become 0/255 gray, CMYK/YCbCr/... become RGB, as libpng/libjpeg expand them.
            img = img.convert("L" if img.mode == "1" else "RGB")
    else:
        img = img.convert(_PIL_MODES[mode])
    return _pil_to_tensor(img)


def _pil_to_tensor(img):
    """``(C, H, W)`` uint8, contiguous as torchvision's decoders return it (pil_to_tensor gives a view)."""
    return F.pil_to_tensor(img).contiguous()


def read_file(path) -> "ferrotorch.Tensor":
    """The bytes of the file at `path` as a 1-D uint8 tensor."""
    with open(str(path), "rb") as f:
        return _from_bytes(f.read())


def write_file(filename, data) -> "ferrotorch.Tensor":
    """Write the bytes of a 1-D uint8 tensor to `filename`; returns `data`."""
    with open(str(filename), "wb") as f:
        f.write(_to_bytes(data))
    return data


def decode_png(input, mode: ImageReadMode = ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False):
    """Decode the PNG bytes in a 1-D uint8 tensor into a ``(C, H, W)`` uint8 tensor.

    Args:
        input (Tensor): 1-D uint8 tensor of the file's bytes.
        mode (ImageReadMode or str): Conversion to apply. Default: UNCHANGED.
        apply_exif_orientation (bool): Apply the EXIF orientation. Default: False.
    """
    data = _to_bytes(input)
    if not data.startswith(_SIGNATURES["PNG"]):
        raise RuntimeError("Content is not png!")
    return _decode(data, _as_mode(mode), apply_exif_orientation, "PNG")


def decode_jpeg(
    input,
    mode: ImageReadMode = ImageReadMode.UNCHANGED,
    device: str = "cpu",
    apply_exif_orientation: bool = False,
):
    """Decode JPEG bytes (a 1-D uint8 tensor, or a list of them) into ``(C, H, W)`` uint8 tensor(s).

    Args:
        input (Tensor or list[Tensor]): 1-D uint8 tensor(s) of the files' bytes.
        mode (ImageReadMode or str): Conversion to apply. Default: UNCHANGED.
        device (str): Only ``"cpu"`` is supported.
        apply_exif_orientation (bool): Apply the EXIF orientation. Default: False.
    """
    if str(device) != "cpu":
        raise ValueError(f"decode_jpeg only decodes on the CPU here, got device={device}")
    if isinstance(input, list):
        if len(input) == 0:
            raise ValueError("Input list must contain at least one element")
        if not all(isinstance(t, ferrotorch.Tensor) for t in input):
            raise ValueError("All elements of the input list must be tensors.")
        return [decode_jpeg(t, mode, device, apply_exif_orientation) for t in input]
    data = _to_bytes(input)
    if not data.startswith(_SIGNATURES["JPEG"]):
        raise RuntimeError(f"Not a JPEG file: starts with 0x{data[0]:02x} 0x{data[1] if len(data) > 1 else 0:02x}")
    return _decode(data, _as_mode(mode), apply_exif_orientation, "JPEG")


def decode_image(input, mode: ImageReadMode = ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False):
    """Decode a JPEG, PNG, GIF or WebP image, given as bytes (1-D uint8 tensor) or a path.

    Returns a ``(C, H, W)`` uint8 tensor (``(N, C, H, W)`` for an animated GIF with several frames).
    """
    if not isinstance(input, ferrotorch.Tensor):
        input = read_file(str(input))
    data = _to_bytes(input)
    image_format = _detect_format(data)
    mode = _as_mode(mode)
    if image_format == "GIF":
        return decode_gif(input) if mode == ImageReadMode.UNCHANGED else _decode(data, mode, False, "GIF")
    return _decode(data, mode, apply_exif_orientation, image_format)


def decode_gif(input):
    """Decode GIF bytes into a ``(3, H, W)`` RGB tensor, or ``(N, 3, H, W)`` for several frames."""
    data = _to_bytes(input)
    img = Image.open(io.BytesIO(data))
    frames = []
    for index in range(getattr(img, "n_frames", 1)):
        img.seek(index)
        frames.append(_pil_to_tensor(img.convert("RGB")))
    return frames[0] if len(frames) == 1 else ferrotorch.stack(frames)


def read_image(path, mode: ImageReadMode = ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False):
    """Read and decode the image file at `path` (see `decode_image`)."""
    return decode_image(read_file(path), mode, apply_exif_orientation=apply_exif_orientation)


def _check_encodable(input) -> None:
    """torchvision's checks on an image to encode: uint8, (C, H, W), C = 1 or 3."""
    if input.dtype != ferrotorch.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if input.dim() != 3:
        raise RuntimeError("Input data should be a 3-dimensional tensor")
    if input.size(0) not in (1, 3):
        raise RuntimeError(f"The number of channels should be 1 or 3, got: {input.size(0)}")


def _encode(input, image_format: str, **options):
    buffer = io.BytesIO()
    F.to_pil_image(input).save(buffer, format=image_format, **options)
    return _from_bytes(buffer.getvalue())


def encode_png(input, compression_level: int = 6):
    """Encode a ``(C, H, W)`` uint8 image (C = 1 or 3) as PNG; a 1-D uint8 tensor of the file's bytes."""
    if not 0 <= compression_level <= 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    _check_encodable(input)
    return _encode(input, "PNG", compress_level=compression_level)


def write_png(input, filename, compression_level: int = 6):
    """Encode a ``(C, H, W)`` uint8 image as PNG into `filename`; returns the encoded bytes tensor."""
    return write_file(filename, encode_png(input, compression_level))


def encode_jpeg(input, quality: int = 75):
    """Encode a ``(C, H, W)`` uint8 image (C = 1 or 3), or a list of them, as JPEG at `quality` (1-100).

    Returns 1-D uint8 tensor(s) of the files' bytes.
    """
    if quality < 1 or quality > 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, list):
        if not input:
            raise ValueError("encode_jpeg requires at least one input tensor when a list is passed")
        return [encode_jpeg(image, quality) for image in input]
    _check_encodable(input)
    return _encode(input, "JPEG", quality=quality)


def write_jpeg(input, filename, quality: int = 75):
    """Encode a ``(C, H, W)`` uint8 image as JPEG into `filename`; returns the encoded bytes tensor."""
    return write_file(filename, encode_jpeg(input, quality))
