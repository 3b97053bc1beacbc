"""normalize, gaussian_blur, gaussian_noise, jpeg, to_dtype, erase, sanitize_bounding_boxes and the type
conversions."""

import numpy as np
from PIL import Image as PILImage

import ferrotorch
from ferrotorch import Tensor

from .... import tv_tensors
from ....transforms import _functional_tensor as F_t
from ....transforms import functional as F1
from ....tv_tensors import BoundingBoxFormat
from ....tv_tensors._tv_tensor import _as_tensor
from ._geometry import _register_image
from ._meta import _convert_bounding_box_format, _is_rotated, _parse_format
from ._utils import _dispatch, _register_kernel_internal, is_pure_tensor


def normalize(inpt, mean, std, inplace=False):
    """(image - mean) / std per channel of a float image ``[..., C, H, W]``."""
    return _dispatch(normalize, inpt, mean=mean, std=std, inplace=inplace)


def normalize_image(image, mean, std, inplace=False):
    if not image.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {image.dtype}.")
    if image.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got {image.shape}.")
    return F1.normalize(image, mean, std, inplace=inplace)


_register_image(normalize, normalize_image)
normalize_video = normalize_image


def gaussian_blur(inpt, kernel_size, sigma=None):
    """Gaussian blur with reflect padding (odd kernel_size; sigma from the size when None)."""
    return _dispatch(gaussian_blur, inpt, kernel_size=kernel_size, sigma=sigma)


def gaussian_blur_image(image, kernel_size, sigma=None):
    return F1.gaussian_blur(image, kernel_size, sigma)


_register_image(gaussian_blur, gaussian_blur_image)
_register_kernel_internal(gaussian_blur, PILImage.Image)(gaussian_blur_image)
gaussian_blur_video = gaussian_blur_image


def to_dtype(inpt, dtype=ferrotorch.float32, scale=False):
    """Convert to `dtype`; with `scale`, images and videos are rescaled to the new dtype's value range
    (boxes, masks and keypoints are only cast)."""
    return _dispatch(to_dtype, inpt, dtype=dtype, scale=scale)


_NUM_VALUE_BITS = {
    ferrotorch.uint8: 8, ferrotorch.int8: 7, ferrotorch.int16: 15, ferrotorch.int32: 31, ferrotorch.int64: 63,
}  # fmt: skip  (ferrotorch has no uint16)


def _num_value_bits(dtype) -> int:
    if dtype not in _NUM_VALUE_BITS:
        raise TypeError(f"Number of value bits is only defined for integer dtypes, but got {dtype}.")
    return _NUM_VALUE_BITS[dtype]


def to_dtype_image(image, dtype=ferrotorch.float32, scale=False):
    if image.dtype == dtype:
        return image
    if not scale:
        return image.to(dtype)
    float_input, float_output = image.is_floating_point(), dtype.is_floating_point
    if float_input:
        if float_output:
            return image.to(dtype)
        if (image.dtype == ferrotorch.float32 and dtype in (ferrotorch.int32, ferrotorch.int64)) or (
            image.dtype == ferrotorch.float64 and dtype == ferrotorch.int64
        ):
            raise RuntimeError(f"The conversion from {image.dtype} to {dtype} cannot be performed safely.")
        # Multiplying by max + 1 - eps (not max) maps [0, 1] onto the integers evenly (torchvision's choice).
        eps = 1e-3
        return image.mul(float(F_t._max_value(dtype)) + 1.0 - eps).to(dtype)
    if float_output:
        return image.to(dtype).mul_(1.0 / F_t._max_value(image.dtype))
    shift = abs(_num_value_bits(image.dtype) - _num_value_bits(dtype))
    if _num_value_bits(image.dtype) > _num_value_bits(dtype):
        return image.bitwise_right_shift(shift).to(dtype)
    return image.to(dtype).bitwise_left_shift_(shift)


_register_image(to_dtype, to_dtype_image)
to_dtype_video = to_dtype_image


def _to_dtype_tensor_dispatch(inpt, dtype, scale=False):
    return inpt.to(dtype)  # TVTensor.to keeps the type and metadata


for _cls in (tv_tensors.BoundingBoxes, tv_tensors.Mask, tv_tensors.KeyPoints):
    _register_kernel_internal(to_dtype, _cls, tv_tensor_wrapper=False)(_to_dtype_tensor_dispatch)


def convert_image_dtype(image, dtype=ferrotorch.float32):
    """`to_dtype(image, dtype, scale=True)` (kept for compatibility)."""
    return to_dtype_image(image, dtype=dtype, scale=True)


def erase(inpt, i, j, h, w, v, inplace=False):
    """Set the box (i, j, h, w) of an image to `v`."""
    return _dispatch(erase, inpt, i=i, j=j, h=h, w=w, v=v, inplace=inplace)


def erase_image(image, i, j, h, w, v, inplace=False):
    if not inplace:
        image = image.clone()
    image[..., i : i + h, j : j + w] = v
    return image


@_register_kernel_internal(erase, PILImage.Image)
def _erase_image_pil(image, i, j, h, w, v, inplace=False):
    output = erase_image(F1.pil_to_tensor(image), i=i, j=j, h=h, w=w, v=v, inplace=inplace)
    return F1.to_pil_image(output, mode=image.mode)


_register_image(erase, erase_image)
erase_video = erase_image


def _get_sanitize_bounding_boxes_mask(bounding_boxes, format, canvas_size, min_size=1.0, min_area=1.0):
    rotated = _is_rotated(format)
    boxes = _convert_bounding_box_format(
        bounding_boxes, format, BoundingBoxFormat.XYXYXYXY if rotated else BoundingBoxFormat.XYXY
    )
    if rotated:  # side lengths (torchvision's indices: the second side from x2 - x3 and y3 - y4)
        ws = ((boxes[..., 0] - boxes[..., 2]).pow(2) + (boxes[..., 1] - boxes[..., 3]).pow(2)).sqrt()
        hs = ((boxes[..., 3] - boxes[..., 5]).pow(2) + (boxes[..., 4] - boxes[..., 6]).pow(2)).sqrt()
    else:
        ws, hs = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    valid = (ws >= min_size) & (hs >= min_size) & (boxes >= 0).all(dim=-1) & (ws * hs >= min_area)
    image_h, image_w = canvas_size
    valid &= (boxes[:, 0] <= image_w) & (boxes[:, 2] <= image_w)
    valid &= (boxes[:, 1] <= image_h) & (boxes[:, 3] <= image_h)
    if rotated:
        valid &= (boxes[..., 4] <= image_w) & (boxes[..., 5] <= image_h)
        valid &= (boxes[..., 6] <= image_w) & (boxes[..., 7] <= image_h)
    return valid


def sanitize_bounding_boxes(bounding_boxes, format=None, canvas_size=None, min_size=1.0, min_area=1.0):
    """Drop boxes smaller than `min_size` / `min_area` or outside the canvas; returns (boxes, valid mask)."""
    if is_pure_tensor(bounding_boxes):
        if format is None or canvas_size is None:
            raise ValueError(
                "format and canvas_size cannot be None if bounding_boxes is a pure tensor. "
                f"Got format={format} and canvas_size={canvas_size}."
                "Set those to appropriate values or pass bounding_boxes as a tv_tensors.BoundingBoxes object."
            )
        format = _parse_format(format)
        valid = _get_sanitize_bounding_boxes_mask(bounding_boxes, format, canvas_size, min_size, min_area)
        return bounding_boxes[valid], valid
    if not isinstance(bounding_boxes, tv_tensors.BoundingBoxes):
        raise ValueError("bounding_boxes must be a tv_tensors.BoundingBoxes instance or a pure tensor.")
    if format is not None or canvas_size is not None:
        raise ValueError(
            "format and canvas_size must be None when bounding_boxes is a tv_tensors.BoundingBoxes instance. "
            f"Got format={format} and canvas_size={canvas_size}. "
            "Leave those to None or pass bounding_boxes as a pure tensor."
        )
    boxes = _as_tensor(bounding_boxes)
    valid = _get_sanitize_bounding_boxes_mask(
        boxes, bounding_boxes.format, bounding_boxes.canvas_size, min_size, min_area
    )
    return tv_tensors.wrap(boxes[valid], like=bounding_boxes), valid


def to_image(inpt):
    """A `tv_tensors.Image` from a pure tensor, an HWC/HW NumPy array or a PIL image."""
    if isinstance(inpt, np.ndarray):
        output = ferrotorch.from_numpy(np.atleast_3d(inpt)).permute((2, 0, 1)).contiguous()
    elif isinstance(inpt, PILImage.Image):
        output = F1.pil_to_tensor(inpt)
    elif isinstance(inpt, Tensor):
        output = inpt
    else:
        raise TypeError(
            f"Input can either be a pure Tensor, a numpy array, or a PIL image, but got {type(inpt)} instead."
        )
    return tv_tensors.Image(output)


pil_to_tensor = F1.pil_to_tensor
to_pil_image = F1.to_pil_image


def gaussian_noise(inpt, mean=0.0, sigma=0.1, clip=True):
    """Add Gaussian noise N(mean, sigma) (in [0, 1] units; scaled by 255 for uint8), clipped to the
    value range when `clip`."""
    return _dispatch(gaussian_noise, inpt, mean=mean, sigma=sigma, clip=clip)


def gaussian_noise_image(image, mean=0.0, sigma=0.1, clip=True):
    if sigma < 0:
        raise ValueError(f"sigma shouldn't be negative. Got {sigma}")
    if image.is_floating_point():
        out = image + (mean + ferrotorch.randn_like(image) * sigma)
        return out.clamp(0, 1) if clip else out
    if image.dtype == ferrotorch.uint8:
        # Through int16, as torchvision: the noise is truncated to integers before it is added.
        noise = ((mean * 255) + ferrotorch.randn_like(image, dtype=ferrotorch.float32) * (sigma * 255))
        out = image.to(ferrotorch.int16) + noise.to(ferrotorch.int16)
        if clip:
            out = out.clamp(0, 255)
        return out.to(ferrotorch.uint8)
    raise ValueError(f"Input tensor is expected to be in uint8 or float dtype, got dtype={image.dtype}")


_register_image(gaussian_noise, gaussian_noise_image)
gaussian_noise_video = gaussian_noise_image


@_register_kernel_internal(gaussian_noise, PILImage.Image)
def _gaussian_noise_pil(image, mean=0.0, sigma=0.1, clip=True):
    raise ValueError("Gaussian Noise is not implemented for PIL images.")


def jpeg(image, quality):
    """Encode as JPEG at `quality` (1-100) and decode back (Pillow's codec), simulating compression
    artefacts; tensors must be uint8 ``[..., C, H, W]`` with 1 or 3 channels."""
    return _dispatch(jpeg, image, quality=quality)


def jpeg_image(image, quality):
    from ....io import decode_jpeg, encode_jpeg

    original_shape = image.shape
    batch = image.reshape((-1,) + tuple(image.shape[-3:]))
    if batch.shape[0] == 0:
        return batch.reshape(original_shape).clone()
    images = [decode_jpeg(encode_jpeg(batch[i], quality=quality)) for i in range(batch.shape[0])]
    return ferrotorch.stack(images, dim=0).view(original_shape)


_register_image(jpeg, jpeg_image)
jpeg_video = jpeg_image


@_register_kernel_internal(jpeg, PILImage.Image)
def _jpeg_image_pil(image, quality):
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return PILImage.open(buffer).copy()  # a plain Image, not a JpegImageFile


def _get_sanitize_keypoints_mask(keypoints, canvas_size):
    height, width = canvas_size
    x, y = keypoints[..., 0], keypoints[..., 1]
    valid = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    # Groups of points ([N, K, 2] and more): a group is kept only when all its points are.
    return valid.flatten(start_dim=1).all(dim=1) if valid.ndim > 1 else valid


def sanitize_keypoints(key_points, canvas_size=None):
    """Drop the keypoints (or groups of keypoints, for ``[N, ..., 2]``) outside the canvas; returns
    (keypoints, valid mask)."""
    if is_pure_tensor(key_points):
        if canvas_size is None:
            raise ValueError(
                "canvas_size cannot be None if key_points is a pure tensor. "
                "Set it to an appropriate value or pass key_points as a tv_tensors.KeyPoints object."
            )
        valid = _get_sanitize_keypoints_mask(key_points, canvas_size)
        return key_points[valid], valid
    if not isinstance(key_points, tv_tensors.KeyPoints):
        raise ValueError("key_points must be a tv_tensors.KeyPoints instance or a pure tensor.")
    if canvas_size is not None:
        raise ValueError(
            "canvas_size must be None when key_points is a tv_tensors.KeyPoints instance. "
            f"Got canvas_size={canvas_size}. "
            "Leave it to None or pass key_points as a pure tensor."
        )
    points = _as_tensor(key_points)
    valid = _get_sanitize_keypoints_mask(points, key_points.canvas_size)
    return tv_tensors.wrap(points[valid], like=key_points), valid
