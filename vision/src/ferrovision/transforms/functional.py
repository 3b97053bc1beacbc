"""`ferrovision.transforms.functional`: as `torchvision.transforms.functional`.

Each function takes a PIL image or a ferrotorch tensor image (..., C, H, W) and dispatches to
`_functional_pil` (Pillow) or `_functional_tensor` (ferrotorch ops).
"""

import math
import numbers
import sys
import warnings
from enum import Enum

import numpy as np
from PIL import Image

import ferrotorch
from ferrotorch import Tensor

from . import _functional_pil as F_pil
from . import _functional_tensor as F_t


class InterpolationMode(Enum):
    """Interpolation modes; PIL supports all, tensors NEAREST, NEAREST_EXACT, BILINEAR, BICUBIC."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_INT_TO_MODE = {
    0: InterpolationMode.NEAREST,
    2: InterpolationMode.BILINEAR,
    3: InterpolationMode.BICUBIC,
    4: InterpolationMode.BOX,
    5: InterpolationMode.HAMMING,
    1: InterpolationMode.LANCZOS,
}

pil_modes_mapping = {
    InterpolationMode.NEAREST: 0,
    InterpolationMode.BILINEAR: 2,
    InterpolationMode.BICUBIC: 3,
    InterpolationMode.NEAREST_EXACT: 0,
    InterpolationMode.BOX: 4,
    InterpolationMode.HAMMING: 5,
    InterpolationMode.LANCZOS: 1,
}

_is_pil_image = F_pil._is_pil_image


def _interpolation_modes_from_int(i: int) -> InterpolationMode:
    return _PIL_INT_TO_MODE[i]


def _parse_interpolation(interpolation) -> InterpolationMode:
    if isinstance(interpolation, int):
        return _interpolation_modes_from_int(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError(
            "Argument interpolation should be a InterpolationMode or a corresponding Pillow integer constant"
        )
    return interpolation


def _kernels(img):
    """The kernel module for this kind of image."""
    return F_t if isinstance(img, Tensor) else F_pil


def get_dimensions(img) -> list[int]:
    """[channels, height, width]."""
    return _kernels(img).get_dimensions(img)


def get_image_size(img) -> list[int]:
    """[width, height]."""
    return _kernels(img).get_image_size(img)


def get_image_num_channels(img) -> int:
    """Number of channels."""
    return _kernels(img).get_image_num_channels(img)


def to_tensor(pic) -> Tensor:
    """PIL image or HWC ndarray -> CHW tensor; uint8 data is scaled to float in [0, 1]."""
    if not (F_pil._is_pil_image(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray) and pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if isinstance(pic, np.ndarray):
        if pic.ndim == 2:
            pic = pic[:, :, None]
        chw = pic.transpose((2, 0, 1))
    else:
        mode_to_nptype = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16, "F": np.float32}
        arr = np.array(pic, mode_to_nptype.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            arr = 255 * arr
        chw = arr.reshape(pic.size[1], pic.size[0], -1).transpose((2, 0, 1))
    if chw.dtype == np.uint8:
        return _scaled_to_float(chw, ferrotorch.get_default_dtype())
    return ferrotorch.from_numpy(np.ascontiguousarray(chw))


_NUMPY_FLOATS = {ferrotorch.float32: np.float32, ferrotorch.float64: np.float64}


def _scaled_to_float(chw: np.ndarray, dtype) -> Tensor:
    """`from_numpy(chw).contiguous().to(dtype).div(255)` for a uint8 CHW array (ToTensor's scaling).

    For float32 and float64 NumPy does it in one converting copy and one in-place division: the
    conversion is exact and the division correctly rounded, so the values are bit for bit those of
    the tensor ops, without two tensor-sized kernel calls and temporaries per image.
    """
    np_dtype = _NUMPY_FLOATS.get(dtype)
    if np_dtype is None:
        return ferrotorch.from_numpy(np.ascontiguousarray(chw)).to(dtype).div(255)
    out = chw.astype(np_dtype, order="C")
    out /= np_dtype(255)
    return ferrotorch.from_numpy(out)


def pil_to_tensor(pic) -> Tensor:
    """PIL image -> CHW tensor of the image's own dtype, unscaled."""
    if not F_pil._is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    arr = arr.reshape(pic.size[1], pic.size[0], F_pil.get_image_num_channels(pic))
    # torchvision returns a permuted (non-contiguous) view; ours is the same values and strides.
    return ferrotorch.from_numpy(arr).permute((2, 0, 1))


def convert_image_dtype(image: Tensor, dtype=ferrotorch.float32) -> Tensor:
    """Convert a tensor image to `dtype`, rescaling intensities."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    return F_t.convert_image_dtype(image, dtype)


def _pil_mode_for(npimg: np.ndarray, mode):
    """Check or infer the PIL mode of an HWC array, as torchvision does."""
    channels = npimg.shape[2]
    if channels == 1:
        expected = {
            np.dtype(np.uint8): "L",
            np.dtype(np.int16): "I;16" if sys.byteorder == "little" else "I;16B",
            np.dtype(np.int32): "I",
            np.dtype(np.float32): "F",
        }.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {np.dtype}. Should be {expected}")
        return expected
    permitted, default = {2: (["LA"], "LA"), 4: (["RGBA", "CMYK", "RGBX"], "RGBA")}.get(
        channels, (["RGB", "YCbCr", "HSV"], "RGB")
    )
    if mode is not None and mode not in permitted:
        kind = {2: "2D", 4: "4D"}.get(channels, "3D")
        raise ValueError(f"Only modes {permitted} are supported for {kind} inputs")
    if mode is None and npimg.dtype == np.uint8:
        mode = default
    return mode


def to_pil_image(pic, mode=None):
    """CHW tensor or HWC ndarray -> PIL image; float data is scaled by 255 (truncated)."""
    if isinstance(pic, Tensor):
        if pic.ndim == 3:
            pic = pic.permute((1, 2, 0))
        pic = pic.detach().numpy()
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = np.expand_dims(pic, 2)
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
    npimg = pic
    if np.issubdtype(npimg.dtype, np.floating) and mode != "F":
        npimg = (npimg * 255).astype(np.uint8)
    mode = _pil_mode_for(npimg, mode)
    if npimg.shape[2] == 1:
        npimg = npimg[:, :, 0]
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    return F_pil.image_fromarray(npimg, mode)


def normalize(tensor: Tensor, mean: list[float], std: list[float], inplace: bool = False) -> Tensor:
    """(tensor - mean) / std per channel of a float tensor image."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    return F_t.normalize(tensor, mean=mean, std=std, inplace=inplace)


def _compute_resized_output_size(image_size, size, max_size=None, allow_size_none=False) -> list[int]:
    """[new_h, new_w] for `size` (an edge length for the shorter side, or (h, w)) and `max_size`."""
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    if size is None:
        if not allow_size_none:
            raise ValueError("This should never happen!!")
        if not isinstance(max_size, int):
            raise ValueError(f"max_size must be an integer when size is None, but got {max_size} instead.")
        new_short, new_long = int(max_size * short / long), max_size
    elif len(size) == 1:
        requested_new_short = size if isinstance(size, int) else size[0]
        new_short, new_long = requested_new_short, int(requested_new_short * long / short)
        if max_size is not None:
            if max_size <= requested_new_short:
                raise ValueError(
                    f"max_size = {max_size} must be strictly greater than the requested "
                    f"size for the smaller edge size = {size}"
                )
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    else:
        return [size[0], size[1]]
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return [new_h, new_w]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to `size` ((h, w), or the shorter edge's length keeping the aspect ratio)."""
    interpolation = _parse_interpolation(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in [1, 2]:
            raise ValueError(
                f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element tuple/list"
            )
        if max_size is not None and len(size) != 1:
            raise ValueError(
                "max_size should only be passed if size specifies the length of the smaller edge, "
                "i.e. size should be an int or a sequence of length 1 in torchscript mode."
            )
    _, image_height, image_width = get_dimensions(img)
    if isinstance(size, int):
        size = [size]
    output_size = _compute_resized_output_size((image_height, image_width), size, max_size)
    if [image_height, image_width] == output_size:
        return img
    if not isinstance(img, Tensor):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.")
        return F_pil.resize(img, size=output_size, interpolation=pil_modes_mapping[interpolation])
    return F_t.resize(img, size=output_size, interpolation=interpolation.value, antialias=antialias)


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the borders (padding: int, (lr, tb) or (l, t, r, b))."""
    return _kernels(img).pad(img, padding=padding, fill=fill, padding_mode=padding_mode)


def crop(img, top: int, left: int, height: int, width: int):
    """Crop the box at (top, left) of size (height, width); outside parts are zero."""
    return _kernels(img).crop(img, top, left, height, width)


def _two_sizes(size):
    if isinstance(size, numbers.Number):
        return (int(size), int(size))
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return (size[0], size[0])
    return size


def center_crop(img, output_size):
    """Crop the centre (zero-padding first when the crop is larger than the image)."""
    output_size = _two_sizes(output_size)
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = output_size
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [
            (crop_width - image_width) // 2 if crop_width > image_width else 0,
            (crop_height - image_height) // 2 if crop_height > image_height else 0,
            (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
            (crop_height - image_height + 1) // 2 if crop_height > image_height else 0,
        ]
        img = pad(img, padding_ltrb, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """crop then resize."""
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def hflip(img):
    """Flip left to right."""
    return _kernels(img).hflip(img)


def vflip(img):
    """Flip upside down."""
    return _kernels(img).vflip(img)


def _get_perspective_coeffs(startpoints, endpoints) -> list[float]:
    """The 8 coefficients mapping output (end) points to input (start) points, least squares in float64."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(
            f"Please provide exactly four corners, got {len(startpoints)} startpoints and {len(endpoints)} endpoints."
        )
    a = np.zeros((8, 8), dtype=np.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints)):
        a[2 * i] = [p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]]
        a[2 * i + 1] = [0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]]
    b = np.array(startpoints, dtype=np.float64).reshape(8)
    res = np.linalg.lstsq(a, b, rcond=None)[0].astype(np.float32)
    return [float(x) for x in res]


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Warp so that `startpoints` (4 corners [x, y]) land on `endpoints`."""
    coeffs = _get_perspective_coeffs(startpoints, endpoints)
    interpolation = _parse_interpolation(interpolation)
    if not isinstance(img, Tensor):
        return F_pil.perspective(img, coeffs, interpolation=pil_modes_mapping[interpolation], fill=fill)
    return F_t.perspective(img, coeffs, interpolation=interpolation.value, fill=fill)


def five_crop(img, size):
    """The four corner crops and the centre crop."""
    size = _two_sizes(size)
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = size
    if crop_width > image_width or crop_height > image_height:
        raise ValueError(f"Requested crop size {size} is bigger than input size {(image_height, image_width)}")
    bottom, right = image_height - crop_height, image_width - crop_width
    tl = crop(img, 0, 0, crop_height, crop_width)
    tr = crop(img, 0, right, crop_height, crop_width)
    bl = crop(img, bottom, 0, crop_height, crop_width)
    br = crop(img, bottom, right, crop_height, crop_width)
    return tl, tr, bl, br, center_crop(img, [crop_height, crop_width])


def ten_crop(img, size, vertical_flip: bool = False):
    """five_crop of the image and of its (horizontal, or vertical) flip."""
    size = _two_sizes(size)
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    first_five = five_crop(img, size)
    flipped = vflip(img) if vertical_flip else hflip(img)
    return first_five + five_crop(flipped, size)


def adjust_brightness(img, brightness_factor: float):
    """0 gives black, 1 the original, 2 twice the brightness."""
    return _kernels(img).adjust_brightness(img, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """0 gives a solid gray image, 1 the original."""
    return _kernels(img).adjust_contrast(img, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """0 gives a gray image, 1 the original."""
    return _kernels(img).adjust_saturation(img, saturation_factor)


def adjust_hue(img, hue_factor: float):
    """Shift the hue by hue_factor in [-0.5, 0.5] turns."""
    return _kernels(img).adjust_hue(img, hue_factor)


def adjust_gamma(img, gamma: float, gain: float = 1):
    """gain * I ** gamma on intensities in [0, 1]."""
    return _kernels(img).adjust_gamma(img, gamma, gain)


def _get_inverse_affine_matrix(center, angle, translate, scale, shear, inverted: bool = True) -> list[float]:
    """The (inverse, when `inverted`) of T * C * RotateScaleShear * C^-1 as 6 floats.

    RotateScaleShear = Rotate(angle) * Shear(sx, sy) * Scale(scale), angles in degrees, following
    torchvision's convention (shear_x along x, shear_y along y, both about `center`).
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        matrix = [x / scale for x in [d, -b, 0.0, -c, a, 0.0]]
        matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
        matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
        matrix[2] += cx
        matrix[5] += cy
    else:
        matrix = [x * scale for x in [a, b, 0.0, c, d, 0.0]]
        matrix[2] += matrix[0] * -cx + matrix[1] * -cy
        matrix[5] += matrix[3] * -cx + matrix[4] * -cy
        matrix[2] += cx + tx
        matrix[5] += cy + ty
    return matrix


def _center_offset(img, center) -> list[float]:
    """The centre relative to the image centre, as the tensor kernels expect."""
    if center is None:
        return [0.0, 0.0]
    _, height, width = get_dimensions(img)
    return [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate counter-clockwise by `angle` degrees about `center` (default: the image centre)."""
    interpolation = _parse_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if not isinstance(img, Tensor):
        return F_pil.rotate(img, angle, pil_modes_mapping[interpolation], expand, center, fill)
    matrix = _get_inverse_affine_matrix(_center_offset(img, center), -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return F_t.rotate(img, matrix=matrix, interpolation=interpolation.value, expand=expand, fill=fill)


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate by `angle`, translate, scale and shear (degrees) about `center`, keeping the size."""
    interpolation = _parse_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    angle = float(angle)
    translate = list(translate)
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    shear = list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if not isinstance(img, Tensor):
        _, height, width = get_dimensions(img)
        pil_center = [width * 0.5, height * 0.5] if center is None else center
        matrix = _get_inverse_affine_matrix(pil_center, angle, translate, scale, shear)
        return F_pil.affine(img, matrix=matrix, interpolation=pil_modes_mapping[interpolation], fill=fill)
    translate_f = [1.0 * t for t in translate]
    matrix = _get_inverse_affine_matrix(_center_offset(img, center), angle, translate_f, scale, shear)
    return F_t.affine(img, matrix=matrix, interpolation=interpolation.value, fill=fill)


def to_grayscale(img, num_output_channels: int = 1):
    """PIL image to grayscale with 1 or 3 channels."""
    if isinstance(img, Image.Image):
        return F_pil.to_grayscale(img, num_output_channels)
    raise TypeError("Input should be PIL Image")


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """RGB (PIL or tensor) to grayscale with 1 or 3 channels."""
    if not isinstance(img, Tensor):
        return F_pil.to_grayscale(img, num_output_channels)
    return F_t.rgb_to_grayscale(img, num_output_channels)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Tensor, inplace: bool = False) -> Tensor:
    """Set the box (i, j, h, w) of a tensor image to `v`."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    return F_t.erase(img, i, j, h, w, v, inplace=inplace)


def _as_tensor_then_back(fn, img):
    """Run a tensor kernel on a PIL image too (through pil_to_tensor / to_pil_image)."""
    if isinstance(img, Tensor):
        return fn(img)
    if not F_pil._is_pil_image(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    return to_pil_image(fn(pil_to_tensor(img)), mode=img.mode)


def gaussian_blur(img, kernel_size, sigma=None):
    """Gaussian blur with reflect padding; kernel_size (odd) and sigma given as (x, y) or one value."""
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    return _as_tensor_then_back(lambda t: F_t.gaussian_blur(t, list(kernel_size), list(sigma)), img)


def invert(img):
    """Invert the colours."""
    return _kernels(img).invert(img)


def posterize(img, bits: int):
    """Keep the `bits` most significant bits of each channel."""
    if not 0 <= bits <= 8:
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    return _kernels(img).posterize(img, bits)


def solarize(img, threshold: float):
    """Invert the pixels at or above `threshold`."""
    return _kernels(img).solarize(img, threshold)


def adjust_sharpness(img, sharpness_factor: float):
    """0 gives a blurred image, 1 the original, 2 a sharpened one."""
    return _kernels(img).adjust_sharpness(img, sharpness_factor)


def autocontrast(img):
    """Stretch each channel to the full intensity range."""
    return _kernels(img).autocontrast(img)


def equalize(img):
    """Histogram equalisation (uint8 tensors or PIL images)."""
    return _kernels(img).equalize(img)


def elastic_transform(img, displacement: Tensor, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Displace every pixel by `displacement` (1, H, W, 2), in normalised [-1, 1] coordinates."""
    if isinstance(interpolation, int):
        warnings.warn(
            "Argument interpolation should be of type InterpolationMode instead of int. "
            "Please, use InterpolationMode enum."
        )
        interpolation = _interpolation_modes_from_int(interpolation)
    if not isinstance(displacement, Tensor):
        raise TypeError("Argument displacement should be a Tensor")
    shape = get_dimensions(img)
    expected = (1, shape[1], shape[2], 2)
    if tuple(displacement.shape) != expected:
        raise ValueError(f"Argument displacement shape should be {expected}, but given {displacement.shape}")
    return _as_tensor_then_back(
        lambda t: F_t.elastic_transform(t, displacement, interpolation=interpolation.value, fill=fill), img
    )
