"""PIL kernels of `ferrovision.transforms.functional`: the same Pillow calls torchvision makes."""

import numbers

import numpy as np
from PIL import Image, ImageEnhance, ImageOps


def _is_pil_image(img) -> bool:
    return isinstance(img, Image.Image)


def _check_pil(img) -> None:
    if not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def image_fromarray(obj: np.ndarray, mode: str) -> Image.Image:
    """`Image.fromarray(obj, mode)` with the old meaning: read the buffer as `mode`.

    Pillow >= 11.3 deprecates the mode argument; `frombuffer` still reads raw data as the mode.
    """
    obj = np.ascontiguousarray(obj)
    size = (obj.shape[1], obj.shape[0])
    return Image.frombuffer(mode, size, obj.tobytes(), "raw", mode, 0, 1)


def get_dimensions(img) -> list[int]:
    """[channels, height, width] of a PIL image."""
    if _is_pil_image(img):
        width, height = img.size
        return [len(img.getbands()), height, width]
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_size(img) -> list[int]:
    """[width, height] of a PIL image."""
    if _is_pil_image(img):
        return list(img.size)
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_num_channels(img) -> int:
    """Number of bands of a PIL image."""
    return get_dimensions(img)[0]


def hflip(img):
    """Flip left to right."""
    _check_pil(img)
    return img.transpose(Image.FLIP_LEFT_RIGHT)


def vflip(img):
    """Flip upside down."""
    _check_pil(img)
    return img.transpose(Image.FLIP_TOP_BOTTOM)


def _enhance(enhancer, img, factor: float):
    _check_pil(img)
    return enhancer(img).enhance(factor)


def adjust_brightness(img, brightness_factor: float):
    """ImageEnhance.Brightness."""
    return _enhance(ImageEnhance.Brightness, img, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """ImageEnhance.Contrast."""
    return _enhance(ImageEnhance.Contrast, img, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """ImageEnhance.Color."""
    return _enhance(ImageEnhance.Color, img, saturation_factor)


def adjust_sharpness(img, sharpness_factor: float):
    """ImageEnhance.Sharpness."""
    return _enhance(ImageEnhance.Sharpness, img, sharpness_factor)


def adjust_hue(img, hue_factor: float):
    """Shift the H band of the HSV image by hue_factor * 255 (uint8 wrap-around)."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check_pil(img)
    input_mode = img.mode
    if input_mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    np_h += np.int32(hue_factor * 255).astype(np.uint8)
    h = image_fromarray(np_h, "L")
    return Image.merge("HSV", (h, s, v)).convert(input_mode)


def adjust_gamma(img, gamma: float, gain: float = 1.0):
    """Lookup table of gain * 255 * (x / 255) ** gamma."""
    _check_pil(img)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    input_mode = img.mode
    img = img.convert("RGB")
    gamma_map = [int((255 + 1 - 0.001) * gain * pow(ele / 255.0, gamma)) for ele in range(256)] * 3
    return img.point(gamma_map).convert(input_mode)


def _parse_fill(fill, img, name: str = "fillcolor") -> dict:
    """Pillow's fill keyword: a tuple per band (ints unless the image is 'F')."""
    num_channels = get_image_num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * num_channels
        elif len(fill) != num_channels:
            raise ValueError(
                "The number of elements in 'fill' does not match the number of channels of the image "
                f"({len(fill)} != {num_channels})"
            )
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """ImageOps.expand for constant padding, numpy.pad for edge/reflect/symmetric."""
    _check_pil(img)
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, list):
        padding = tuple(padding)
    if isinstance(padding, tuple) and len(padding) not in [1, 2, 4]:
        raise ValueError(
            f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple"
        )
    if isinstance(padding, tuple) and len(padding) == 1:
        padding = padding[0]
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")

    if padding_mode == "constant":
        opts = _parse_fill(fill, img, name="fill")
        if img.mode == "P":
            palette = img.getpalette()
            image = ImageOps.expand(img, border=padding, **opts)
            image.putpalette(palette)
            return image
        return ImageOps.expand(img, border=padding, **opts)

    if isinstance(padding, int):
        p = [padding] * 4
    elif len(padding) == 2:
        p = [padding[0], padding[1], padding[0], padding[1]]
    else:
        p = list(padding)  # left, top, right, bottom
    cropping = -np.minimum(p, 0)
    if cropping.any():
        crop_left, crop_top, crop_right, crop_bottom = cropping
        img = img.crop((crop_left, crop_top, img.width - crop_right, img.height - crop_bottom))
    pad_left, pad_top, pad_right, pad_bottom = np.maximum(p, 0)
    palette = img.getpalette() if img.mode == "P" else None
    arr = np.asarray(img)
    widths = ((pad_top, pad_bottom), (pad_left, pad_right)) + (((0, 0),) if arr.ndim == 3 else ())
    out = Image.fromarray(np.pad(arr, widths, mode=padding_mode))
    if palette is not None:
        out.putpalette(palette)
    return out


def crop(img, top: int, left: int, height: int, width: int):
    """Image.crop (outside pixels are zero)."""
    _check_pil(img)
    return img.crop((left, top, left + width, top + height))


def resize(img, size: list[int], interpolation: int = Image.BILINEAR):
    """Image.resize to `size` = [h, w]."""
    _check_pil(img)
    if not (isinstance(size, list) and len(size) == 2):
        raise TypeError(f"Got inappropriate size arg: {size}")
    return img.resize(tuple(size[::-1]), interpolation)


def affine(img, matrix: list[float], interpolation: int = Image.NEAREST, fill=None):
    """Image.transform with AFFINE and the inverse matrix."""
    _check_pil(img)
    return img.transform(img.size, Image.AFFINE, matrix, interpolation, **_parse_fill(fill, img))


def rotate(img, angle: float, interpolation: int = Image.NEAREST, expand: bool = False, center=None, fill=None):
    """Image.rotate (counter-clockwise degrees)."""
    _check_pil(img)
    return img.rotate(angle, interpolation, expand, center, **_parse_fill(fill, img))


def perspective(img, perspective_coeffs: list[float], interpolation: int = Image.BICUBIC, fill=None):
    """Image.transform with PERSPECTIVE."""
    _check_pil(img)
    opts = _parse_fill(fill, img)
    return img.transform(img.size, Image.PERSPECTIVE, perspective_coeffs, interpolation, **opts)


def to_grayscale(img, num_output_channels: int):
    """Convert to 'L', replicated to 'RGB' for 3 output channels."""
    _check_pil(img)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    img = img.convert("L")
    if num_output_channels == 3:
        np_img = np.array(img, dtype=np.uint8)
        img = image_fromarray(np.dstack([np_img, np_img, np_img]), "RGB")
    return img


def invert(img):
    """ImageOps.invert."""
    _check_pil(img)
    return ImageOps.invert(img)


def posterize(img, bits: int):
    """ImageOps.posterize."""
    _check_pil(img)
    return ImageOps.posterize(img, bits)


def solarize(img, threshold: int):
    """ImageOps.solarize."""
    _check_pil(img)
    return ImageOps.solarize(img, threshold)


def autocontrast(img):
    """ImageOps.autocontrast."""
    _check_pil(img)
    return ImageOps.autocontrast(img)


def equalize(img):
    """ImageOps.equalize."""
    _check_pil(img)
    return ImageOps.equalize(img)
