"""Flips, resize, crops and pad of images, videos, masks and bounding boxes.

Images reuse the v1 kernels of `ferrovision.transforms.functional` (tensors and PIL); masks are images
of one channel resampled with nearest interpolation; boxes are moved by the formulas below.
"""

import numbers

from PIL import Image as PILImage

import ferrotorch
from ferrotorch import Tensor

from .... import tv_tensors
from ....transforms import _functional_tensor as F_t
from ....transforms import functional as F1
from ....transforms.functional import InterpolationMode, _compute_resized_output_size as _v1_output_size
from ....tv_tensors import BoundingBoxFormat
from ....tv_tensors._tv_tensor import _as_tensor
from ._meta import _is_rotated, clamp_bounding_boxes, convert_bounding_box_format
from ._rotated import _parallelogram_to_bounding_boxes, _radians
from ._utils import _dispatch, _register_kernel_internal

_INTERPOLATION_STRING_TO_MODE = {mode.value: mode for mode in InterpolationMode}


def _check_interpolation(interpolation) -> InterpolationMode:
    """An InterpolationMode from a mode, its name ("bilinear") or a Pillow integer constant."""
    if isinstance(interpolation, str):
        if interpolation not in _INTERPOLATION_STRING_TO_MODE:
            raise ValueError(
                f"Invalid interpolation mode: '{interpolation}'. "
                f"Supported string values are: {list(_INTERPOLATION_STRING_TO_MODE.keys())}."
            )
        return _INTERPOLATION_STRING_TO_MODE[interpolation]
    if isinstance(interpolation, int):
        return F1._interpolation_modes_from_int(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise ValueError(
            "Argument interpolation should be an `InterpolationMode` or a corresponding Pillow integer constant, "
            f"but got {interpolation}."
        )
    return interpolation


def _register_image(functional, kernel, *, video=True):
    """Register `kernel` for pure tensors, Images (and Videos): the image kernels of every functional."""
    for input_type in (Tensor, tv_tensors.Image) + ((tv_tensors.Video,) if video else ()):
        _register_kernel_internal(functional, input_type)(kernel)
    return kernel


def _as_mask_kernel(image_kernel):
    """A mask kernel from an image kernel: 2-D masks get a channel dimension for the call."""

    def mask_kernel(mask, *args, **kwargs):
        needs_squeeze = mask.ndim < 3
        output = image_kernel(mask.unsqueeze(0) if needs_squeeze else mask, *args, **kwargs)
        return output.squeeze(0) if needs_squeeze else output

    mask_kernel.__name__ = image_kernel.__name__.replace("image", "mask")
    mask_kernel.__doc__ = f"As `{image_kernel.__name__}`, for masks ``[..., H, W]`` (nearest interpolation)."
    return mask_kernel


def _flip_boxes_dispatch(box_kernel):
    """Run a flip's box kernel on BoundingBoxes' tensor and metadata, and wrap the result back."""

    def dispatch(inpt):
        return tv_tensors.wrap(box_kernel(_as_tensor(inpt), inpt.format, inpt.canvas_size), like=inpt)

    return dispatch


def _box_offsets(format, left, top):
    """What to add to each coordinate to move boxes by (left, top)."""
    if format == BoundingBoxFormat.XYXYXYXY:
        return [left, top] * 4
    if _is_rotated(format):  # XYWHR, CXCYWHR
        return [left, top, 0, 0, 0]
    return [left, top, left, top] if format == BoundingBoxFormat.XYXY else [left, top, 0, 0]


def _box_width(format) -> int:
    """Coordinates per box: 8 for XYXYXYXY, 5 for XYWHR and CXCYWHR, 4 for the unrotated formats."""
    if format == BoundingBoxFormat.XYXYXYXY:
        return 8
    return 5 if _is_rotated(format) else 4


def _reshaped_like(boxes, format, fn):
    """Apply `fn` to boxes viewed as (N, coordinates), keeping their shape."""
    shape = boxes.shape
    return fn(boxes.clone().reshape(-1, _box_width(format))).reshape(shape)


# The four corners of XYXYXYXY boxes after a flip, in the order that keeps them counter-clockwise.
_FLIPPED_CORNERS = [2, 3, 0, 1, 6, 7, 4, 5]


def _flip_rotated(b, format, axis, size):
    """Rotated boxes mirrored across x = size / 2 (axis 0) or y = size / 2 (axis 1), as torchvision."""
    if format == BoundingBoxFormat.XYXYXYXY:
        columns = list(b.unbind(-1))
        for k in range(axis, 8, 2):
            columns[k] = size - columns[k]
        return ferrotorch.stack(columns, dim=-1)[:, _FLIPPED_CORNERS]
    c0, c1, w, h, r = b.unbind(-1)
    if format == BoundingBoxFormat.XYWHR:
        r_rad = _radians(r)
        if axis == 0:  # the first corner becomes the top-right one
            c0, c1 = -(c0 + w * r_rad.cos() - size), c1 - w * r_rad.sin()
        else:
            c0, c1 = c0 + w * r_rad.cos(), -(c1 - w * r_rad.sin() - size)
    elif axis == 0:  # CXCYWHR
        c0 = -(c0 - size)
    else:
        c1 = -(c1 - size)
    return ferrotorch.stack([c0, c1, w, h, -r if axis == 0 else 180 - r], dim=-1)


# -- flips


def horizontal_flip(inpt):
    """Flip left to right (images, videos, masks, boxes, keypoints)."""
    return _dispatch(horizontal_flip, inpt)


def horizontal_flip_image(image):
    return F1.hflip(image)


_register_image(horizontal_flip, horizontal_flip_image)
_register_kernel_internal(horizontal_flip, PILImage.Image)(F1.hflip)
horizontal_flip_mask = _as_mask_kernel(horizontal_flip_image)
_register_kernel_internal(horizontal_flip, tv_tensors.Mask)(horizontal_flip_mask)
horizontal_flip_video = horizontal_flip_image


def horizontal_flip_bounding_boxes(bounding_boxes, format, canvas_size):
    """Mirror boxes about the vertical centre line of a canvas (height, width)."""
    width = canvas_size[1]

    def flip(b):
        if _is_rotated(format):
            return _flip_rotated(b, format, 0, width)
        x1, y1, c2, c3 = b.unbind(-1)
        if format == BoundingBoxFormat.XYXY:
            return ferrotorch.stack([width - c2, y1, width - x1, c3], dim=-1)
        if format == BoundingBoxFormat.XYWH:
            return ferrotorch.stack([width - (x1 + c2), y1, c2, c3], dim=-1)
        return ferrotorch.stack([width - x1, y1, c2, c3], dim=-1)  # CXCYWH

    return _reshaped_like(bounding_boxes, format, flip)


_register_kernel_internal(horizontal_flip, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)(
    _flip_boxes_dispatch(horizontal_flip_bounding_boxes)
)


def vertical_flip(inpt):
    """Flip upside down (images, videos, masks, boxes, keypoints)."""
    return _dispatch(vertical_flip, inpt)


def vertical_flip_image(image):
    return F1.vflip(image)


_register_image(vertical_flip, vertical_flip_image)
_register_kernel_internal(vertical_flip, PILImage.Image)(F1.vflip)
vertical_flip_mask = _as_mask_kernel(vertical_flip_image)
_register_kernel_internal(vertical_flip, tv_tensors.Mask)(vertical_flip_mask)
vertical_flip_video = vertical_flip_image


def vertical_flip_bounding_boxes(bounding_boxes, format, canvas_size):
    """Mirror boxes about the horizontal centre line of a canvas (height, width)."""
    height = canvas_size[0]

    def flip(b):
        if _is_rotated(format):
            return _flip_rotated(b, format, 1, height)
        x1, y1, c2, c3 = b.unbind(-1)
        if format == BoundingBoxFormat.XYXY:
            return ferrotorch.stack([x1, height - c3, c2, height - y1], dim=-1)
        if format == BoundingBoxFormat.XYWH:
            return ferrotorch.stack([x1, height - (y1 + c3), c2, c3], dim=-1)
        return ferrotorch.stack([x1, height - y1, c2, c3], dim=-1)  # CXCYWH

    return _reshaped_like(bounding_boxes, format, flip)


_register_kernel_internal(vertical_flip, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)(
    _flip_boxes_dispatch(vertical_flip_bounding_boxes)
)
hflip, vflip = horizontal_flip, vertical_flip


# -- resize


def _compute_resized_output_size(canvas_size, size, max_size=None) -> list[int]:
    if isinstance(size, int):
        size = [size]
    elif max_size is not None and size is not None and len(size) != 1:
        raise ValueError(
            "max_size should only be passed if size is None or specifies the length of the smaller edge, "
            "i.e. size should be an int or a sequence of length 1 in torchscript mode."
        )
    return _v1_output_size(canvas_size, size=size, max_size=max_size, allow_size_none=True)


def resize(inpt, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to `size` ((h, w), or the shorter edge's length, or None with `max_size` for the longer)."""
    return _dispatch(resize, inpt, size=size, interpolation=interpolation, max_size=max_size, antialias=antialias)


def resize_image(image, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    interpolation = _check_interpolation(interpolation)
    new_size = _compute_resized_output_size(F1.get_dimensions(image)[1:], size=size, max_size=max_size)
    if isinstance(image, Tensor):
        if list(image.shape[-2:]) == new_size:
            return image
        if image.numel() == 0:
            return image.reshape(*image.shape[:-2], *new_size)
        return F1.resize(image, new_size, interpolation, antialias=bool(antialias))
    return F1.resize(image, new_size, interpolation)  # PIL always antialiases


_register_image(resize, resize_image)
_register_kernel_internal(resize, PILImage.Image)(resize_image)
resize_video = resize_image


def resize_mask(mask, size, interpolation=InterpolationMode.NEAREST, max_size=None, antialias=True):
    """Resize a mask; any interpolation other than the two nearest modes becomes NEAREST."""
    interpolation = _check_interpolation(interpolation)
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        interpolation = InterpolationMode.NEAREST
    return _as_mask_kernel(resize_image)(mask, size, interpolation=interpolation, max_size=max_size)


_register_kernel_internal(resize, tv_tensors.Mask)(resize_mask)


def resize_bounding_boxes(
    bounding_boxes, canvas_size, size, max_size=None, format=BoundingBoxFormat.XYXY, clamping_mode="soft"
):
    """Scale boxes from `canvas_size` to the resized canvas; returns (boxes, new canvas_size). Rotated
    boxes become the rectangle on the longer diagonal of their scaled corners."""
    old_height, old_width = canvas_size
    new_height, new_width = _compute_resized_output_size(canvas_size, size=size, max_size=max_size)
    if (new_height, new_width) == (old_height, old_width):
        return bounding_boxes, canvas_size
    w_ratio, h_ratio = new_width / old_width, new_height / old_height
    if _is_rotated(format):
        corners = convert_bounding_box_format(bounding_boxes, format, BoundingBoxFormat.XYXYXYXY).reshape(-1, 8)
        out = _parallelogram_to_bounding_boxes(corners.mul(ferrotorch.tensor([w_ratio, h_ratio] * 4)))
        out = clamp_bounding_boxes(out, BoundingBoxFormat.XYXYXYXY, (new_height, new_width), clamping_mode)
        out = convert_bounding_box_format(out, BoundingBoxFormat.XYXYXYXY, format)
        return out.to(bounding_boxes.dtype).reshape(bounding_boxes.shape), (new_height, new_width)
    # The ratios are a default-dtype tensor, as in torchvision (integer boxes are truncated back).
    ratios = ferrotorch.tensor([w_ratio, h_ratio, w_ratio, h_ratio])
    return bounding_boxes.mul(ratios).to(bounding_boxes.dtype), (new_height, new_width)


@_register_kernel_internal(resize, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
def _resize_bounding_boxes_dispatch(inpt, size, max_size=None, **kwargs):
    output, canvas_size = resize_bounding_boxes(
        _as_tensor(inpt), format=inpt.format, canvas_size=inpt.canvas_size, size=size, max_size=max_size,
        clamping_mode=inpt.clamping_mode,
    )  # fmt: skip
    return tv_tensors.wrap(output, like=inpt, canvas_size=canvas_size)


# -- pad


def _parse_pad_padding(padding) -> list[int]:
    """[left, right, top, bottom] from an int or a 1-, 2- or 4-element sequence (l, t, r, b)."""
    if isinstance(padding, int):
        return [padding] * 4
    if isinstance(padding, (tuple, list)):
        if len(padding) == 1:
            return [padding[0]] * 4
        if len(padding) == 2:
            return [padding[0], padding[0], padding[1], padding[1]]
        if len(padding) == 4:
            return [padding[0], padding[2], padding[1], padding[3]]
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple or list. Found {len(padding)}")
    raise TypeError(f"`padding` should be an integer or tuple or list of integers, but got {padding}")


def pad(inpt, padding, fill=None, padding_mode="constant"):
    """Pad the borders; padding is an int, (lr, tb) or (left, top, right, bottom)."""
    return _dispatch(pad, inpt, padding=padding, fill=fill, padding_mode=padding_mode)


def pad_image(image, padding, fill=None, padding_mode="constant"):
    left, right, top, bottom = _parse_pad_padding(padding)
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(
            "`padding_mode` should be either `'constant'`, `'edge'`, `'reflect'` or `'symmetric'`, "
            f"but got `'{padding_mode}'`."
        )
    fill = 0 if fill is None else fill
    if isinstance(fill, (list, tuple)) and len(fill) == 1:
        fill = fill[0]
    ltrb = [left, top, right, bottom]
    if not isinstance(image, Tensor) or isinstance(fill, numbers.Number):
        return F1.pad(image, ltrb, fill=fill, padding_mode=padding_mode)
    if padding_mode != "constant":
        raise ValueError(f"Padding mode '{padding_mode}' is not supported if fill is not scalar")
    # One fill value per channel: pad with zeros, then paint the borders.
    output = F1.pad(image, ltrb, fill=0, padding_mode="constant")
    value = ferrotorch.tensor(fill).to(image.dtype).reshape(-1, 1, 1)
    if top > 0:
        output[..., :top, :] = value
    if left > 0:
        output[..., :, :left] = value
    if bottom > 0:
        output[..., -bottom:, :] = value
    if right > 0:
        output[..., :, -right:] = value
    return output


_register_image(pad, pad_image)
_register_kernel_internal(pad, PILImage.Image)(pad_image)
pad_video = pad_image


@_register_kernel_internal(pad, tv_tensors.Mask)
def pad_mask(mask, padding, fill=None, padding_mode="constant"):
    """Pad a mask with one scalar fill value."""
    if isinstance(fill, (tuple, list)):
        raise ValueError("Non-scalar fill value is not supported")
    return _as_mask_kernel(pad_image)(mask, padding, fill=0 if fill is None else fill, padding_mode=padding_mode)


def pad_bounding_boxes(bounding_boxes, format, canvas_size, padding, padding_mode="constant", clamping_mode="soft"):
    """Move boxes by the left/top padding; returns (boxes, padded canvas_size)."""
    if padding_mode not in ["constant"]:
        raise ValueError(f"Padding mode '{padding_mode}' is not supported with bounding boxes")
    left, right, top, bottom = _parse_pad_padding(padding)
    bounding_boxes = bounding_boxes + ferrotorch.tensor(_box_offsets(format, left, top), dtype=bounding_boxes.dtype)
    canvas_size = (canvas_size[0] + top + bottom, canvas_size[1] + left + right)
    return clamp_bounding_boxes(bounding_boxes, format, canvas_size, clamping_mode), canvas_size


@_register_kernel_internal(pad, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
def _pad_bounding_boxes_dispatch(inpt, padding, padding_mode="constant", **kwargs):
    output, canvas_size = pad_bounding_boxes(
        _as_tensor(inpt), inpt.format, inpt.canvas_size, padding, padding_mode, clamping_mode=inpt.clamping_mode
    )
    return tv_tensors.wrap(output, like=inpt, canvas_size=canvas_size)


# -- crops


def crop(inpt, top, left, height, width):
    """Crop the box at (top, left) of size (height, width); parts outside the input are zero."""
    return _dispatch(crop, inpt, top=top, left=left, height=height, width=width)


def crop_image(image, top, left, height, width):
    return F1.crop(image, top, left, height, width)


_register_image(crop, crop_image)
_register_kernel_internal(crop, PILImage.Image)(crop_image)
crop_video = crop_image
crop_mask = _register_kernel_internal(crop, tv_tensors.Mask)(_as_mask_kernel(crop_image))


def crop_bounding_boxes(bounding_boxes, format, top, left, height, width, clamping_mode="soft"):
    """Move boxes into the crop's frame and clamp them; returns (boxes, (height, width))."""
    offsets = ferrotorch.tensor(_box_offsets(format, left, top), dtype=bounding_boxes.dtype)
    canvas_size = (height, width)
    bounding_boxes = bounding_boxes - offsets
    if format == BoundingBoxFormat.XYXYXYXY:  # as torchvision: squared up to a rectangle
        bounding_boxes = _parallelogram_to_bounding_boxes(bounding_boxes)
    return clamp_bounding_boxes(bounding_boxes, format, canvas_size, clamping_mode), canvas_size


@_register_kernel_internal(crop, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
def _crop_bounding_boxes_dispatch(inpt, top, left, height, width):
    output, canvas_size = crop_bounding_boxes(
        _as_tensor(inpt), inpt.format, top, left, height, width, clamping_mode=inpt.clamping_mode
    )
    return tv_tensors.wrap(output, like=inpt, canvas_size=canvas_size)


def _center_crop_parse_output_size(output_size) -> list[int]:
    if isinstance(output_size, numbers.Number):
        return [int(output_size)] * 2
    if isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        return [output_size[0]] * 2
    return list(output_size)


def _center_crop_compute_crop_anchor(crop_height, crop_width, image_height, image_width):
    return int(round((image_height - crop_height) / 2.0)), int(round((image_width - crop_width) / 2.0))


def center_crop(inpt, output_size):
    """Crop the centre (zero-padding first when the crop is larger than the input)."""
    return _dispatch(center_crop, inpt, output_size=output_size)


def center_crop_image(image, output_size):
    crop_height, crop_width = _center_crop_parse_output_size(output_size)
    if isinstance(image, Tensor) and image.numel() == 0:
        return image.reshape(*image.shape[:-2], crop_height, crop_width)
    return F1.center_crop(image, [crop_height, crop_width])


_register_image(center_crop, center_crop_image)
_register_kernel_internal(center_crop, PILImage.Image)(center_crop_image)
center_crop_video = center_crop_image
center_crop_mask = _register_kernel_internal(center_crop, tv_tensors.Mask)(_as_mask_kernel(center_crop_image))


def center_crop_bounding_boxes(bounding_boxes, format, canvas_size, output_size, clamping_mode="soft"):
    """Boxes after `center_crop` of their canvas; returns (boxes, output size)."""
    crop_height, crop_width = _center_crop_parse_output_size(output_size)
    top, left = _center_crop_compute_crop_anchor(crop_height, crop_width, *canvas_size)
    return crop_bounding_boxes(bounding_boxes, format, top, left, crop_height, crop_width, clamping_mode)


@_register_kernel_internal(center_crop, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
def _center_crop_bounding_boxes_dispatch(inpt, output_size):
    output, canvas_size = center_crop_bounding_boxes(
        _as_tensor(inpt), inpt.format, inpt.canvas_size, output_size, clamping_mode=inpt.clamping_mode
    )
    return tv_tensors.wrap(output, like=inpt, canvas_size=canvas_size)


def resized_crop(inpt, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """`crop` then `resize`."""
    return _dispatch(
        resized_crop, inpt, top=top, left=left, height=height, width=width, size=size,
        interpolation=interpolation, antialias=antialias,
    )  # fmt: skip


def resized_crop_image(image, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    image = crop_image(image, top, left, height, width)
    return resize_image(image, size, interpolation=interpolation, antialias=antialias)


_register_image(resized_crop, resized_crop_image)
_register_kernel_internal(resized_crop, PILImage.Image)(resized_crop_image)
resized_crop_video = resized_crop_image


@_register_kernel_internal(resized_crop, tv_tensors.Mask)
def resized_crop_mask(mask, top, left, height, width, size, **kwargs):
    """`crop_mask` then `resize_mask` (nearest)."""
    return resize_mask(crop_mask(mask, top, left, height, width), size)


def resized_crop_bounding_boxes(bounding_boxes, format, top, left, height, width, size, clamping_mode="soft"):
    """Boxes after `resized_crop`; returns (boxes, size)."""
    bounding_boxes, canvas_size = crop_bounding_boxes(bounding_boxes, format, top, left, height, width, clamping_mode)
    return resize_bounding_boxes(bounding_boxes, canvas_size, size, format=format, clamping_mode=clamping_mode)


@_register_kernel_internal(resized_crop, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
def _resized_crop_bounding_boxes_dispatch(inpt, top, left, height, width, size, **kwargs):
    output, canvas_size = resized_crop_bounding_boxes(
        _as_tensor(inpt), inpt.format, top, left, height, width, size, clamping_mode=inpt.clamping_mode
    )
    return tv_tensors.wrap(output, like=inpt, canvas_size=canvas_size)
