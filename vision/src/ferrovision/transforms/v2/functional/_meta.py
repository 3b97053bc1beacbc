"""Sizes of every input type, and the bounding-box format conversions and clamping."""

from PIL import Image as PILImage

import ferrotorch

from .... import tv_tensors
from ....transforms import _functional_pil as F_pil
from ....tv_tensors import BoundingBoxFormat
from ....tv_tensors._tv_tensor import _as_tensor
from ._rotated import (
    _clamp_xyxyxyxy, _cxcywhr_to_xywhr, _xywhr_to_cxcywhr, _xywhr_to_xyxyxyxy, _xyxyxyxy_to_xywhr,
)  # fmt: skip
from ._utils import _dispatch, _register_kernel_internal, is_pure_tensor


def get_dimensions(inpt) -> list[int]:
    """[channels, height, width] of an image or video (pure tensor, Image, Video or PIL image)."""
    return _dispatch(get_dimensions, inpt)


@_register_kernel_internal(get_dimensions, ferrotorch.Tensor)
@_register_kernel_internal(get_dimensions, tv_tensors.Image, tv_tensor_wrapper=False)
@_register_kernel_internal(get_dimensions, tv_tensors.Video, tv_tensor_wrapper=False)
def get_dimensions_image(image) -> list[int]:
    chw = list(image.shape[-3:])
    if len(chw) == 3:
        return chw
    if len(chw) == 2:
        return [1] + chw
    raise TypeError(f"Input tensor should have at least two dimensions, but got {len(chw)}")


get_dimensions_video = get_dimensions_image
_register_kernel_internal(get_dimensions, PILImage.Image)(F_pil.get_dimensions)


def get_num_channels(inpt) -> int:
    """Number of channels of an image or video."""
    return _dispatch(get_num_channels, inpt)


@_register_kernel_internal(get_num_channels, ferrotorch.Tensor)
@_register_kernel_internal(get_num_channels, tv_tensors.Image, tv_tensor_wrapper=False)
@_register_kernel_internal(get_num_channels, tv_tensors.Video, tv_tensor_wrapper=False)
def get_num_channels_image(image) -> int:
    return get_dimensions_image(image)[0]


get_num_channels_video = get_num_channels_image
get_image_num_channels = get_num_channels
_register_kernel_internal(get_num_channels, PILImage.Image)(F_pil.get_image_num_channels)


def get_size(inpt) -> list[int]:
    """[height, width] of an image, video or mask, or the canvas of bounding boxes / keypoints."""
    return _dispatch(get_size, inpt)


@_register_kernel_internal(get_size, ferrotorch.Tensor)
@_register_kernel_internal(get_size, tv_tensors.Image, tv_tensor_wrapper=False)
@_register_kernel_internal(get_size, tv_tensors.Video, tv_tensor_wrapper=False)
@_register_kernel_internal(get_size, tv_tensors.Mask, tv_tensor_wrapper=False)
def get_size_image(image) -> list[int]:
    hw = list(image.shape[-2:])
    if len(hw) != 2:
        raise TypeError(f"Input tensor should have at least two dimensions, but got {len(hw)}")
    return hw


get_size_video = get_size_mask = get_size_image


@_register_kernel_internal(get_size, PILImage.Image)
def _get_size_image_pil(image) -> list[int]:
    width, height = F_pil.get_image_size(image)
    return [height, width]


@_register_kernel_internal(get_size, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
@_register_kernel_internal(get_size, tv_tensors.KeyPoints, tv_tensor_wrapper=False)
def get_size_bounding_boxes(boxes) -> list[int]:
    return list(boxes.canvas_size)


get_size_keypoints = get_size_bounding_boxes


def get_num_frames(inpt) -> int:
    """Number of frames of a video ``[..., T, C, H, W]``."""
    return _dispatch(get_num_frames, inpt)


@_register_kernel_internal(get_num_frames, ferrotorch.Tensor)
@_register_kernel_internal(get_num_frames, tv_tensors.Video, tv_tensor_wrapper=False)
def get_num_frames_video(video) -> int:
    return video.shape[-4]


# Box format conversions, each as torchvision computes it (same operation order, so the same rounding;
# integer boxes go through float where torchvision does, and truncate back).


def _xywh_to_xyxy(xywh):
    return ferrotorch.cat([xywh[..., :2], xywh[..., :2] + xywh[..., 2:]], dim=-1)


def _xyxy_to_xywh(xyxy):
    return ferrotorch.cat([xyxy[..., :2], xyxy[..., 2:] - xyxy[..., :2]], dim=-1)


def _half(wh):
    return wh.div(2, rounding_mode=None if wh.is_floating_point() else "floor")


def _xywh_to_cxcywh(xywh):
    return ferrotorch.cat([xywh[..., :2] + _half(xywh[..., 2:]), xywh[..., 2:]], dim=-1)


def _xyxy_to_cxcywh(xyxy):
    wh = xyxy[..., 2:] - xyxy[..., :2]
    return ferrotorch.cat([_half(xyxy[..., :2] * 2 + wh), wh], dim=-1)


def _cxcywh_to_xyxy(cxcywh):
    dtype = cxcywh.dtype
    boxes = cxcywh if cxcywh.is_floating_point() else cxcywh.float()
    xy1 = boxes[..., :2] - boxes[..., 2:] / 2
    return ferrotorch.cat([xy1, xy1 + boxes[..., 2:]], dim=-1).to(dtype)


def _cxcywh_to_xywh(cxcywh):
    if cxcywh.is_floating_point():
        return ferrotorch.cat([cxcywh[..., :2] - cxcywh[..., 2:] / 2, cxcywh[..., 2:]], dim=-1)
    # Integers: truncate the corners, then take the size between them (as the two-step conversion does).
    xyxy = _cxcywh_to_xyxy(cxcywh)
    return _xyxy_to_xywh(xyxy)


_TO_XYXY = {BoundingBoxFormat.XYWH: _xywh_to_xyxy, BoundingBoxFormat.CXCYWH: _cxcywh_to_xyxy}
_FROM_XYXY = {BoundingBoxFormat.XYWH: _xyxy_to_xywh, BoundingBoxFormat.CXCYWH: _xyxy_to_cxcywh}


def _parse_format(format):
    return BoundingBoxFormat[format.upper()] if isinstance(format, str) else format


_ROTATED_TO_XYWHR = {BoundingBoxFormat.CXCYWHR: _cxcywhr_to_xywhr, BoundingBoxFormat.XYXYXYXY: _xyxyxyxy_to_xywhr}
_ROTATED_FROM_XYWHR = {BoundingBoxFormat.CXCYWHR: _xywhr_to_cxcywhr, BoundingBoxFormat.XYXYXYXY: _xywhr_to_xyxyxyxy}


def _is_rotated(format) -> bool:
    return tv_tensors.is_rotated_bounding_format(format)


def _convert_bounding_box_format(boxes, old_format, new_format, inplace=False):
    if new_format == old_format:
        return boxes
    if _is_rotated(old_format) ^ _is_rotated(new_format):
        raise ValueError("Cannot convert between rotated and unrotated bounding boxes.")
    if _is_rotated(old_format):  # through XYWHR
        out = _ROTATED_TO_XYWHR.get(old_format, lambda b: b)(boxes)
        out = _ROTATED_FROM_XYWHR.get(new_format, lambda b: b)(out)
        if inplace and out.shape == boxes.shape:
            return boxes.copy_(out)
        return out
    if {old_format, new_format} == {BoundingBoxFormat.XYWH, BoundingBoxFormat.CXCYWH}:
        out = (_xywh_to_cxcywh if old_format == BoundingBoxFormat.XYWH else _cxcywh_to_xywh)(boxes)
    else:
        out = _TO_XYXY.get(old_format, lambda b: b)(boxes)
        out = _FROM_XYXY.get(new_format, lambda b: b)(out)
    if inplace:
        return boxes.copy_(out)
    return out


def convert_bounding_box_format(inpt, old_format=None, new_format=None, inplace=False):
    """Convert boxes between the XYXY, XYWH and CXCYWH formats, or between the rotated XYWHR, CXCYWHR and
    XYXYXYXY formats (`old_format` only for pure tensors)."""
    if new_format is None:
        raise TypeError("convert_bounding_box_format() missing 1 required argument: 'new_format'")
    old_format, new_format = _parse_format(old_format), _parse_format(new_format)
    if is_pure_tensor(inpt):
        if old_format is None:
            raise ValueError("For pure tensor inputs, `old_format` has to be passed.")
        return _convert_bounding_box_format(inpt, old_format=old_format, new_format=new_format, inplace=inplace)
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        if old_format is not None:
            raise ValueError("For bounding box tv_tensor inputs, `old_format` must not be passed.")
        output = _convert_bounding_box_format(_as_tensor(inpt), inpt.format, new_format, inplace=inplace)
        return tv_tensors.wrap(output, like=inpt, format=new_format)
    raise TypeError(f"Input can either be a plain tensor or a bounding box tv_tensor, but got {type(inpt)} instead.")


def _clamp_bounding_boxes(boxes, format, canvas_size, clamping_mode):
    if clamping_mode is None:
        return boxes.clone()
    if _is_rotated(format):
        shape = boxes.shape
        xyxyxyxy = _convert_bounding_box_format(boxes.clone(), format, BoundingBoxFormat.XYXYXYXY).reshape(-1, 8)
        clamped = _clamp_xyxyxyxy(xyxyxyxy, canvas_size, clamping_mode)
        return _convert_bounding_box_format(clamped, BoundingBoxFormat.XYXYXYXY, format).reshape(shape)
    in_dtype = boxes.dtype
    boxes = boxes.clone() if boxes.is_floating_point() else boxes.float()
    xyxy = _convert_bounding_box_format(boxes, format, BoundingBoxFormat.XYXY)
    # "soft" and "hard" clamping are the same for unrotated boxes (they differ for rotated ones).
    height, width = canvas_size
    high = ferrotorch.tensor([width, height, width, height], dtype=xyxy.dtype)
    xyxy = xyxy.clamp(min=ferrotorch.zeros(4, dtype=xyxy.dtype), max=high)
    return _convert_bounding_box_format(xyxy, BoundingBoxFormat.XYXY, format).to(in_dtype)


def clamp_bounding_boxes(inpt, format=None, canvas_size=None, clamping_mode="auto"):
    """Clamp boxes to their canvas ("auto" uses the boxes' own clamping_mode)."""
    if clamping_mode is not None and clamping_mode not in ("soft", "hard", "auto"):
        raise ValueError(f"clamping_mode must be soft, hard, auto or None, got {clamping_mode}")
    if is_pure_tensor(inpt):
        if format is None or canvas_size is None or clamping_mode == "auto":
            raise ValueError("For pure tensor inputs, `format`, `canvas_size` and `clamping_mode` have to be passed.")
        return _clamp_bounding_boxes(inpt, _parse_format(format), canvas_size, clamping_mode)
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        if format is not None or canvas_size is not None:
            raise ValueError("For bounding box tv_tensor inputs, `format` and `canvas_size` must not be passed.")
        if clamping_mode == "auto":
            clamping_mode = inpt.clamping_mode
        output = _clamp_bounding_boxes(_as_tensor(inpt), inpt.format, inpt.canvas_size, clamping_mode)
        return tv_tensors.wrap(output, like=inpt)
    raise TypeError(f"Input can either be a plain tensor or a bounding box tv_tensor, but got {type(inpt)} instead.")


def _clamp_keypoints(keypoints, canvas_size):
    dtype = keypoints.dtype
    points = keypoints.clone() if keypoints.is_floating_point() else keypoints.float()
    # Keypoints stay on pixels: the largest coordinate is size - 1 (boxes go up to size).
    high = ferrotorch.tensor([canvas_size[1] - 1, canvas_size[0] - 1], dtype=points.dtype)
    return points.clamp(min=ferrotorch.zeros(2, dtype=points.dtype), max=high).to(dtype)


def clamp_keypoints(inpt, canvas_size=None):
    """Clamp keypoints to [0, width - 1] x [0, height - 1]."""
    if is_pure_tensor(inpt):
        if canvas_size is None:
            raise ValueError("For pure tensor inputs, `canvas_size` has to be passed.")
        return _clamp_keypoints(inpt, canvas_size)
    if isinstance(inpt, tv_tensors.KeyPoints):
        if canvas_size is not None:
            raise ValueError("For keypoints tv_tensor inputs, `canvas_size` must not be passed.")
        return tv_tensors.wrap(_clamp_keypoints(_as_tensor(inpt), inpt.canvas_size), like=inpt)
    raise TypeError(f"Input can either be a plain tensor or a keypoints tv_tensor, but got {type(inpt)} instead.")
