"""Tensor kernels of `ferrovision.transforms.functional` (images are (..., C, H, W) ferrotorch tensors).

Same maths as torchvision's `_functional_tensor`: integer images go through float32 where the op
needs it and are rounded back, so uint8 outputs match torchvision's pixel for pixel.
"""

import warnings

import numpy as np

import ferrotorch
import ferrotorch.nn.functional as NF
from ferrotorch import Tensor

from ._antialias import resize_antialias

_INT_DTYPES = (ferrotorch.uint8, ferrotorch.int8, ferrotorch.int16, ferrotorch.int32, ferrotorch.int64)
_MAX_VALUES = {
    ferrotorch.uint8: 255,
    ferrotorch.int8: 127,
    ferrotorch.int16: 32767,
    ferrotorch.int32: 2147483647,
    ferrotorch.int64: 9223372036854775807,
}


def linspace(start: float, end: float, steps: int) -> Tensor:
    """float32 `torch.linspace` with ATen's rounding (ferrotorch.linspace can differ in the last bit).

    ATen computes step = (end - start) / (steps - 1) in float32, then start + step * i for the first
    half and end - step * (steps - 1 - i) for the second, each as one fused multiply-add.
    """
    f32 = np.float32
    if steps == 1:
        return ferrotorch.tensor([float(start)])
    s, e = f32(start), f32(end)
    step = np.float64(f32((e - s) / f32(steps - 1)))
    i = np.arange(steps, dtype=np.float64)
    # float32 * float32 is exact in float64, so one rounding of (product + addend) is the fused result.
    first = step * i + np.float64(s)
    second = np.float64(e) - step * (steps - 1 - i)
    values = np.where(np.arange(steps) < steps // 2, first, second).astype(f32)
    return ferrotorch.from_numpy(values)


def _assert_image_tensor(img: Tensor) -> None:
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def _is_float_dtype(dtype) -> bool:
    return dtype in (ferrotorch.float16, ferrotorch.bfloat16, ferrotorch.float32, ferrotorch.float64)


def _max_value(dtype) -> int:
    """The value of full intensity: 1 for floats, the type's maximum for integers."""
    return _MAX_VALUES.get(dtype, 1)


def _work_dtype(img: Tensor):
    """The float dtype an op computes in: the image's own if float, else float32."""
    return img.dtype if img.is_floating_point() else ferrotorch.float32


def get_dimensions(img: Tensor) -> list[int]:
    """[channels, height, width] of an image tensor."""
    _assert_image_tensor(img)
    channels = 1 if img.ndim == 2 else img.shape[-3]
    return [channels, img.shape[-2], img.shape[-1]]


def get_image_size(img: Tensor) -> list[int]:
    """[width, height] of an image tensor."""
    _assert_image_tensor(img)
    return [img.shape[-1], img.shape[-2]]


def get_image_num_channels(img: Tensor) -> int:
    """Number of channels of an image tensor (1 for a 2-d tensor)."""
    return get_dimensions(img)[0]


def _assert_channels(img: Tensor, permitted: list[int]) -> None:
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {c}")


def _assert_min_3d(img: Tensor) -> None:
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")


def convert_image_dtype(image: Tensor, dtype=ferrotorch.float32) -> Tensor:
    """Convert and rescale intensities: float in [0, 1] <-> integers in [0, max of the type]."""
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if _is_float_dtype(dtype):
            return image.to(dtype)
        if (image.dtype == ferrotorch.float32 and dtype in (ferrotorch.int32, ferrotorch.int64)) or (
            image.dtype == ferrotorch.float64 and dtype == ferrotorch.int64
        ):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        # Scale by max + 1 - eps so that 1.0 maps to max while [0, 1) splits into equal bins.
        eps = 1e-3
        return image.mul(float(_max_value(dtype)) + 1.0 - eps).to(dtype)
    input_max = float(_max_value(image.dtype))
    if _is_float_dtype(dtype):
        return image.to(dtype) / input_max
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return ferrotorch.div(image, factor, rounding_mode="floor").to(dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return image.to(dtype) * factor


def vflip(img: Tensor) -> Tensor:
    """Flip upside down."""
    _assert_image_tensor(img)
    return img.flip(-2)


def hflip(img: Tensor) -> Tensor:
    """Flip left to right."""
    _assert_image_tensor(img)
    return img.flip(-1)


def crop(img: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    """Crop; the parts of the box outside the image are zero-padded."""
    _assert_image_tensor(img)
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        padding_ltrb = [
            max(-left + min(0, right), 0),
            max(-top + min(0, bottom), 0),
            max(right - max(w, left), 0),
            max(bottom - max(h, top), 0),
        ]
        return pad(img[..., max(top, 0) : bottom, max(left, 0) : right], padding_ltrb, fill=0)
    return img[..., top:bottom, left:right]


def rgb_to_grayscale(img: Tensor, num_output_channels: int = 1) -> Tensor:
    """ITU-R 601-2 luma (0.2989 R + 0.587 G + 0.114 B), truncated back to the image dtype."""
    _assert_min_3d(img)
    _assert_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = img.unbind(dim=-3)
        luma = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
    else:
        luma = img.clone()
    if num_output_channels == 3:
        return luma.expand(*img.shape)
    return luma


def _blend(img1: Tensor, img2: Tensor, ratio: float) -> Tensor:
    ratio = float(ratio)
    bound = _max_value(img1.dtype)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def _check_factor(value: float, name: str) -> None:
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img: Tensor, brightness_factor: float) -> Tensor:
    """Blend with black."""
    _check_factor(brightness_factor, "brightness_factor")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    return _blend(img, ferrotorch.zeros_like(img), brightness_factor)


def adjust_contrast(img: Tensor, contrast_factor: float) -> Tensor:
    """Blend with the mean gray level of each image."""
    _check_factor(contrast_factor, "contrast_factor")
    _assert_image_tensor(img)
    _assert_channels(img, [3, 1])
    dtype = _work_dtype(img)
    gray = rgb_to_grayscale(img) if get_dimensions(img)[0] == 3 else img
    mean = ferrotorch.mean(gray.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img: Tensor, saturation_factor: float) -> Tensor:
    """Blend with the grayscale image."""
    _check_factor(saturation_factor, "saturation_factor")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:  # as PIL: nothing to desaturate
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb2hsv(img: Tensor) -> Tensor:
    r, g, b = img.unbind(dim=-3)
    maxc = ferrotorch.max(img, dim=-3).values
    minc = ferrotorch.min(img, dim=-3).values
    # Where max == min, hue and saturation are 0: divide by 1 there instead of by 0.
    eqc = maxc == minc
    cr = maxc - minc
    ones = ferrotorch.ones_like(maxc)
    s = cr / ferrotorch.where(eqc, ones, maxc)
    cr_divisor = ferrotorch.where(eqc, ones, cr)
    rc = (maxc - r) / cr_divisor
    gc = (maxc - g) / cr_divisor
    bc = (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = ferrotorch.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return ferrotorch.stack((h, s, maxc), dim=-3)


def _hsv2rgb(img: Tensor) -> Tensor:
    h, s, v = img.unbind(dim=-3)
    i = ferrotorch.floor(h * 6.0)
    f = (h * 6.0) - i
    i = i.to(ferrotorch.int32) % 6
    p = ferrotorch.clamp(v * (1.0 - s), 0.0, 1.0)
    q = ferrotorch.clamp(v * (1.0 - s * f), 0.0, 1.0)
    t = ferrotorch.clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    # One-hot of the hue sector selects each channel's formula.
    mask = i.unsqueeze(dim=-3) == ferrotorch.arange(6).view(-1, 1, 1)
    a1 = ferrotorch.stack((v, q, p, p, t, v), dim=-3)
    a2 = ferrotorch.stack((t, v, v, q, p, p), dim=-3)
    a3 = ferrotorch.stack((p, p, t, v, v, q), dim=-3)
    a4 = ferrotorch.stack((a1, a2, a3), dim=-4)
    return ferrotorch.einsum("...ijk, ...xijk -> ...xjk", mask.to(img.dtype), a4)


def adjust_hue(img: Tensor, hue_factor: float) -> Tensor:
    """Rotate the hue by `hue_factor` turns (in [-0.5, 0.5]) through HSV."""
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be Tensor image")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    orig_dtype = img.dtype
    hsv = _rgb2hsv(convert_image_dtype(img, ferrotorch.float32))
    h, s, v = hsv.unbind(dim=-3)
    h = (h + hue_factor) % 1.0
    return convert_image_dtype(_hsv2rgb(ferrotorch.stack((h, s, v), dim=-3)), orig_dtype)


def adjust_gamma(img: Tensor, gamma: float, gain: float = 1) -> Tensor:
    """gain * img ** gamma on intensities in [0, 1]."""
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be a Tensor.")
    _assert_channels(img, [1, 3])
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    dtype = img.dtype
    result = img if img.is_floating_point() else convert_image_dtype(img, ferrotorch.float32)
    result = (gain * result.pow(gamma)).clamp(0, 1)
    return convert_image_dtype(result, dtype)


def _cast_squeeze_in(img: Tensor, req_dtypes: list) -> tuple[Tensor, bool, bool, object]:
    """Make the image (N, C, H, W) in one of `req_dtypes`, remembering how to undo it."""
    need_squeeze = img.ndim < 4
    if need_squeeze:
        img = img.unsqueeze(dim=0)
    out_dtype = img.dtype
    need_cast = out_dtype not in req_dtypes
    if need_cast:
        img = img.to(req_dtypes[0])
    return img, need_cast, need_squeeze, out_dtype


def _cast_squeeze_out(img: Tensor, need_cast: bool, need_squeeze: bool, out_dtype) -> Tensor:
    if need_squeeze:
        img = img.squeeze(dim=0)
    if need_cast:
        if out_dtype in _INT_DTYPES:
            img = ferrotorch.round(img)  # round, not truncate, back to integers
        img = img.to(out_dtype)
    return img


def _parse_pad_padding(padding) -> list[int]:
    """[left, right, top, bottom] from an int or a 1, 2 (lr, tb) or 4 (l, t, r, b) sequence."""
    if isinstance(padding, int):
        return [padding] * 4
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[0], padding[1], padding[1]]
    return [padding[0], padding[2], padding[1], padding[3]]


def _pad_symmetric(img: Tensor, padding: list[int]) -> Tensor:
    # Negative padding crops first.
    if min(padding) < 0:
        crop_left, crop_right, crop_top, crop_bottom = [-min(x, 0) for x in padding]
        img = img[..., crop_top : img.shape[-2] - crop_bottom, crop_left : img.shape[-1] - crop_right]
        padding = [max(x, 0) for x in padding]
    if img.ndim not in (3, 4):
        raise RuntimeError("Symmetric padding of N-D tensors are not supported yet")

    def indices(size, before, after):
        return ferrotorch.tensor(
            list(range(before - 1, -1, -1)) + list(range(size)) + [size - 1 - i for i in range(after)]
        )

    x_idx = indices(img.shape[-1], padding[0], padding[1])
    y_idx = indices(img.shape[-2], padding[2], padding[3])
    return img[..., y_idx[:, None], x_idx[None, :]]


def pad(img: Tensor, padding, fill=0, padding_mode: str = "constant") -> Tensor:
    """Pad the borders: constant `fill`, `edge`, `reflect` (no edge repeat) or `symmetric`."""
    _assert_image_tensor(img)
    if fill is None:
        fill = 0
    if not isinstance(padding, (int, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in [1, 2, 4]:
        raise ValueError(
            f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple"
        )
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    p = _parse_pad_padding(list(padding) if isinstance(padding, tuple) else padding)
    if padding_mode == "symmetric":
        return _pad_symmetric(img, p)
    if padding_mode == "constant":
        squeeze = img.ndim < 4
        out = NF.pad(img.unsqueeze(0) if squeeze else img, p, mode="constant", value=float(fill))
        return out.squeeze(0) if squeeze else out
    mode = "replicate" if padding_mode == "edge" else "reflect"
    x, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [ferrotorch.float32, ferrotorch.float64])
    x = NF.pad(x, p, mode=mode)
    if need_squeeze:
        x = x.squeeze(dim=0)
    return x.to(out_dtype) if need_cast else x


def resize(img: Tensor, size: list[int], interpolation: str = "bilinear", antialias=True) -> Tensor:
    """Resize to `size` = [h, w]; `antialias` applies to bilinear and bicubic only."""
    _assert_image_tensor(img)
    size = list(size)
    antialias = bool(antialias) and interpolation in ("bilinear", "bicubic")
    img, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [ferrotorch.float32, ferrotorch.float64])
    if antialias:
        img = resize_antialias(img, size, interpolation)
    else:
        align_corners = False if interpolation in ("bilinear", "bicubic") else None
        img = NF.interpolate(img, size=size, mode=interpolation, align_corners=align_corners)
    if interpolation == "bicubic" and out_dtype == ferrotorch.uint8:
        img = img.clamp(min=0, max=255)
    return _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype)


def _assert_grid_transform_inputs(img, matrix, interpolation, fill, supported, coeffs=None) -> None:
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be Tensor")
    _assert_image_tensor(img)
    if matrix is not None and not isinstance(matrix, list):
        raise TypeError("Argument matrix should be a list")
    if matrix is not None and len(matrix) != 6:
        raise ValueError("Argument matrix should have 6 float values")
    if coeffs is not None and len(coeffs) != 8:
        raise ValueError("Argument coeffs should have 8 float values")
    if fill is not None and not isinstance(fill, (int, float, tuple, list)):
        warnings.warn("Argument fill should be either int, float, tuple or list")
    num_channels = get_dimensions(img)[0]
    if fill is not None and isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != num_channels:
        raise ValueError(
            "The number of elements in 'fill' cannot broadcast to match the number of "
            f"channels of the image ({len(fill)} != {num_channels})"
        )
    if interpolation not in supported:
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")


def _apply_grid_transform(img: Tensor, grid: Tensor, mode: str, fill) -> Tensor:
    """grid_sample `img` at `grid` (1, H, W, 2); outside pixels take `fill` (zeros when None)."""
    img, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [grid.dtype])
    if img.shape[0] != 1:  # one grid for the whole batch (an empty batch included)
        grid = grid.expand(img.shape[0], grid.shape[1], grid.shape[2], grid.shape[3])
    if fill is not None:
        # A channel of ones, sampled with the image, tells how much of each output pixel was inside.
        ones = ferrotorch.ones((img.shape[0], 1, img.shape[2], img.shape[3]), dtype=img.dtype)
        img = ferrotorch.cat((img, ones), dim=1)
    img = NF.grid_sample(img, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask = img[:, -1:, :, :].expand_as(img[:, :-1, :, :])
        img = img[:, :-1, :, :]
        fill_list = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = ferrotorch.tensor(fill_list, dtype=img.dtype).view(1, len(fill_list), 1, 1).expand_as(img)
        if mode == "nearest":
            img = ferrotorch.where(mask < 0.5, fill_img, img)
        else:
            img = img * mask + (1.0 - mask) * fill_img
    return _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype)


def _base_grid(ow: int, oh: int, x0: float, y0: float, dtype) -> Tensor:
    """(1, oh*ow, 3) rows of output pixel centres (x, y, 1), starting at (x0, y0)."""
    x = linspace(x0, x0 + ow - 1.0, ow).to(dtype)
    y = linspace(y0, y0 + oh - 1.0, oh).to(dtype)
    xs = x.view(1, ow).expand(oh, ow)
    ys = y.view(oh, 1).expand(oh, ow)
    return ferrotorch.stack((xs, ys, ferrotorch.ones((oh, ow), dtype=dtype)), dim=-1).reshape(1, oh * ow, 3)


def _gen_affine_grid(theta: Tensor, w: int, h: int, ow: int, oh: int) -> Tensor:
    # Output pixel centres relative to the output centre, mapped by theta and normalised by the input.
    base = _base_grid(ow, oh, -ow * 0.5 + 0.5, -oh * 0.5 + 0.5, theta.dtype)
    rescaled = theta.transpose(1, 2) / ferrotorch.tensor([0.5 * w, 0.5 * h], dtype=theta.dtype)
    return base.bmm(rescaled).view(1, oh, ow, 2)


def affine(img: Tensor, matrix: list[float], interpolation: str = "nearest", fill=None) -> Tensor:
    """Warp with the inverse affine `matrix` (6 floats, about the image centre)."""
    _assert_grid_transform_inputs(img, matrix, interpolation, fill, ["nearest", "bilinear"])
    theta = ferrotorch.tensor(matrix, dtype=_work_dtype(img)).reshape(1, 2, 3)
    w, h = img.shape[-1], img.shape[-2]
    return _apply_grid_transform(img, _gen_affine_grid(theta, w, h, w, h), interpolation, fill)


def _compute_affine_output_size(matrix: list[float], w: int, h: int) -> tuple[int, int]:
    """(w, h) of the box that holds the whole image after `matrix` (as torchvision, in float32)."""
    pts = np.array(
        [[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]],
        dtype=np.float32,
    )
    theta = np.array(matrix, dtype=np.float32).reshape(2, 3)
    new_pts = pts @ theta.T
    offset = np.array([w * 0.5, h * 0.5], dtype=np.float32)
    min_vals = new_pts.min(axis=0) + offset
    max_vals = new_pts.max(axis=0) + offset
    # Truncate to 1e-4 first so that float noise does not add a whole pixel.
    tol = np.float32(1e-4)
    cmax = np.ceil(np.trunc(max_vals / tol) * tol)
    cmin = np.floor(np.trunc(min_vals / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotate(img: Tensor, matrix: list[float], interpolation: str = "nearest", expand: bool = False, fill=None):
    """Rotate with the inverse affine `matrix`; `expand` grows the output to hold the whole image."""
    _assert_grid_transform_inputs(img, matrix, interpolation, fill, ["nearest", "bilinear"])
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = _compute_affine_output_size(matrix, w, h) if expand else (w, h)
    theta = ferrotorch.tensor(matrix, dtype=_work_dtype(img)).reshape(1, 2, 3)
    return _apply_grid_transform(img, _gen_affine_grid(theta, w, h, ow, oh), interpolation, fill)


def _perspective_grid(coeffs: list[float], ow: int, oh: int, dtype) -> Tensor:
    theta1 = ferrotorch.tensor([[coeffs[0:3], coeffs[3:6]]], dtype=dtype)
    theta2 = ferrotorch.tensor([[[coeffs[6], coeffs[7], 1.0], [coeffs[6], coeffs[7], 1.0]]], dtype=dtype)
    base = _base_grid(ow, oh, 0.5, 0.5, dtype)
    rescaled_theta1 = theta1.transpose(1, 2) / ferrotorch.tensor([0.5 * ow, 0.5 * oh], dtype=dtype)
    grid = base.bmm(rescaled_theta1) / base.bmm(theta2.transpose(1, 2)) - 1.0
    return grid.view(1, oh, ow, 2)


def perspective(img: Tensor, perspective_coeffs: list[float], interpolation: str = "bilinear", fill=None):
    """Warp with the 8 perspective coefficients (output -> input, as PIL's PERSPECTIVE)."""
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be Tensor.")
    _assert_image_tensor(img)
    _assert_grid_transform_inputs(img, None, interpolation, fill, ["nearest", "bilinear"], perspective_coeffs)
    grid = _perspective_grid(perspective_coeffs, img.shape[-1], img.shape[-2], _work_dtype(img))
    return _apply_grid_transform(img, grid, interpolation, fill)


def _gaussian_kernel1d(kernel_size: int, sigma: float, dtype) -> Tensor:
    half = (kernel_size - 1) * 0.5
    x = linspace(-half, half, kernel_size).to(dtype)
    pdf = ferrotorch.exp(-0.5 * (x / sigma).pow(2))
    return pdf / pdf.sum()


def _depthwise_conv(img: Tensor, kernel: Tensor, padding=None) -> Tensor:
    """Convolve every channel with the same 2-d `kernel`, optionally reflect-padding first."""
    kernel = kernel.expand(img.shape[-3], 1, kernel.shape[0], kernel.shape[1])
    x, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [kernel.dtype])
    if padding is not None:
        x = NF.pad(x, padding, mode="reflect")
    x = NF.conv2d(x, kernel, groups=x.shape[-3])
    return _cast_squeeze_out(x, need_cast, need_squeeze, out_dtype)


def gaussian_blur(img: Tensor, kernel_size: list[int], sigma: list[float]) -> Tensor:
    """Separable Gaussian blur with reflect padding; kernel_size and sigma are (x, y)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor. Got {type(img)}")
    _assert_image_tensor(img)
    dtype = _work_dtype(img)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], dtype)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], dtype)
    kernel = ferrotorch.mm(ky[:, None], kx[None, :])
    padding = [kernel_size[0] // 2, kernel_size[0] // 2, kernel_size[1] // 2, kernel_size[1] // 2]
    return _depthwise_conv(img, kernel, padding)


def invert(img: Tensor) -> Tensor:
    """max - img."""
    _assert_image_tensor(img)
    _assert_min_3d(img)
    _assert_channels(img, [1, 3])
    return _max_value(img.dtype) - img


def posterize(img: Tensor, bits: int) -> Tensor:
    """Keep the `bits` high bits of each uint8 channel."""
    _assert_image_tensor(img)
    _assert_min_3d(img)
    if img.dtype != ferrotorch.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    _assert_channels(img, [1, 3])
    return img & -int(2 ** (8 - bits))  # == ~(2 ** (8 - bits) - 1) in uint8


def solarize(img: Tensor, threshold: float) -> Tensor:
    """Invert the pixels at or above `threshold`."""
    _assert_image_tensor(img)
    _assert_min_3d(img)
    _assert_channels(img, [1, 3])
    if threshold > _max_value(img.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    return ferrotorch.where(img >= threshold, invert(img), img)


def _blurred_degenerate_image(img: Tensor) -> Tensor:
    # PIL's SMOOTH filter (1 1 1 / 1 5 1 / 1 1 1) / 13 on the interior; the border stays as is.
    kernel = ferrotorch.ones((3, 3), dtype=_work_dtype(img))
    kernel[1, 1] = 5.0
    kernel = kernel / kernel.sum()
    result = img.clone()
    result[..., 1:-1, 1:-1] = _depthwise_conv(img, kernel)
    return result


def adjust_sharpness(img: Tensor, sharpness_factor: float) -> Tensor:
    """Blend with a smoothed image (factor 0 = smooth, 1 = original, 2 = sharpened)."""
    _check_factor(sharpness_factor, "sharpness_factor")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        return img
    return _blend(img, _blurred_degenerate_image(img), sharpness_factor)


def autocontrast(img: Tensor) -> Tensor:
    """Stretch each channel so that its min maps to 0 and its max to full intensity."""
    _assert_image_tensor(img)
    _assert_min_3d(img)
    _assert_channels(img, [1, 3])
    bound = _max_value(img.dtype)
    dtype = _work_dtype(img)
    minimum = img.amin(dim=(-2, -1), keepdim=True).to(dtype)
    maximum = img.amax(dim=(-2, -1), keepdim=True).to(dtype)
    # torch evaluates `bound / t` as `t.reciprocal() * bound`; the rounding differs from a division.
    scale = (maximum - minimum).reciprocal() * bound
    flat = ferrotorch.isfinite(scale).logical_not()  # constant channels stay unchanged
    minimum = ferrotorch.where(flat, ferrotorch.zeros_like(minimum), minimum)
    scale = ferrotorch.where(flat, ferrotorch.ones_like(scale), scale)
    return ((img - minimum) * scale).clamp(0, bound).to(img.dtype)


def _equalize_channels(img: Tensor) -> Tensor:
    """PIL's equalize on every (H, W) plane of a uint8 (M, H, W) tensor, with one lookup table each."""
    m = img.shape[0]
    flat = img.reshape(m, -1).long()
    offsets = ferrotorch.arange(m).view(m, 1) * 256
    hist = ferrotorch.bincount((flat + offsets).reshape(-1), minlength=256 * m).view(m, 256)
    # step = (number of pixels not in the last used bin) // 255
    last_used = 255 - ferrotorch.argmax((hist.flip(-1) != 0).long(), dim=-1)
    last_count = hist.gather(1, last_used.view(m, 1)).view(m)
    step = ferrotorch.div(hist.sum(-1) - last_count, 255, rounding_mode="floor")
    safe_step = ferrotorch.where(step == 0, ferrotorch.ones_like(step), step).view(m, 1)
    lut = ferrotorch.div(
        ferrotorch.cumsum(hist, 1) + ferrotorch.div(safe_step, 2, rounding_mode="floor"),
        safe_step,
        rounding_mode="floor",
    )
    lut = NF.pad(lut, [1, 0])[:, :-1].clamp(0, 255)
    equalized = lut.gather(1, flat).to(ferrotorch.uint8).view(*img.shape)
    # A plane with step 0 (at most one used level, or too few pixels) is returned unchanged.
    return ferrotorch.where((step == 0).view(m, 1, 1), img, equalized)


def equalize(img: Tensor) -> Tensor:
    """Histogram equalisation of each channel of a uint8 image (or batch)."""
    _assert_image_tensor(img)
    if not (3 <= img.ndim <= 4):
        raise TypeError(f"Input image tensor should have 3 or 4 dimensions, but found {img.ndim}")
    if img.dtype != ferrotorch.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    _assert_channels(img, [1, 3])
    shape = img.shape
    if img.numel() == 0:
        return img.clone()
    return _equalize_channels(img.reshape(-1, shape[-2], shape[-1])).reshape(*shape)


def normalize(tensor: Tensor, mean: list[float], std: list[float], inplace: bool = False) -> Tensor:
    """(tensor - mean) / std per channel."""
    _assert_image_tensor(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(
            f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tensor.size()}"
        )
    if not inplace:
        tensor = tensor.clone()
    dtype = tensor.dtype
    mean = ferrotorch.as_tensor(mean, dtype=dtype)
    std = ferrotorch.as_tensor(std, dtype=dtype)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Tensor, inplace: bool = False) -> Tensor:
    """Set the box (i, j, h, w) to `v`."""
    _assert_image_tensor(img)
    if not inplace:
        img = img.clone()
    img[..., i : i + h, j : j + w] = v
    return img


def _create_identity_grid(size: list[int]) -> Tensor:
    hw_space = [linspace((-s + 1) / s, (s - 1) / s, s) for s in size]
    grid_y, grid_x = ferrotorch.meshgrid(hw_space, indexing="ij")
    return ferrotorch.stack([grid_x, grid_y], -1).unsqueeze(0)


def elastic_transform(img: Tensor, displacement: Tensor, interpolation: str = "bilinear", fill=None) -> Tensor:
    """Sample at the identity grid plus `displacement` (1, H, W, 2) in normalised coordinates."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor. Got {type(img)}")
    grid = _create_identity_grid(list(img.shape[-2:])) + displacement
    return _apply_grid_transform(img, grid, interpolation, fill)
