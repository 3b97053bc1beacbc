"""Geometric v2 transforms: flips, resizes, crops, pad, rotation, affine and perspective warps, zoom-out
and the IoU crop. Random parameters are drawn from ferrotorch's generator in torchvision's order (most
through the v1 classes' `get_params`), so a seeded ferrotorch draws what a seeded torch draws."""

import warnings
from collections.abc import Sequence

import ferrotorch
from PIL import Image as PILImage

from ... import tv_tensors
from .. import transforms as v1
from ..functional import _get_perspective_coeffs
from ..transforms import _randint
from . import functional as F
from ._transform import Transform, _RandomApplyTransform
from ._utils import (
    _check_padding_arg, _check_padding_mode_arg, _check_sequence_input, _get_fill, _setup_angle, _setup_fill_arg,
    _setup_size, get_bounding_boxes, has_all, has_any, is_pure_tensor, query_size,
)  # fmt: skip
from .functional._geometry import _parse_pad_padding
from ...ops import box_iou

_SIZE_MSG = "Please provide only two dimensions (h, w) for size."


def _shaped(*shape):
    """A tensor of `shape` without storage to speak of, for the v1 `get_params` that read only a shape."""
    return ferrotorch.empty([1] * len(shape)).expand(*shape)


class RandomHorizontalFlip(_RandomApplyTransform):
    """Flip the sample left to right with probability `p`."""

    def transform(self, inpt, params):
        return self._call_kernel(F.horizontal_flip, inpt)


class RandomVerticalFlip(_RandomApplyTransform):
    """Flip the sample upside down with probability `p`."""

    def transform(self, inpt, params):
        return self._call_kernel(F.vertical_flip, inpt)


class Resize(Transform):
    """Resize to `size` ((h, w), or the shorter edge's length; None with `max_size` for the longer edge)."""

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True) -> None:
        super().__init__()
        if isinstance(size, int):
            size = [size]
        elif isinstance(size, Sequence) and len(size) in {1, 2}:
            size = list(size)
        elif size is None:
            if not isinstance(max_size, int):
                raise ValueError(f"max_size must be an integer when size is None, but got {max_size} instead.")
        else:
            raise ValueError(
                f"size can be an integer, a sequence of one or two integers, or None, but got {size} instead."
            )
        self.size = size
        self.interpolation = interpolation
        self.max_size = max_size
        self.antialias = antialias

    def transform(self, inpt, params):
        return self._call_kernel(
            F.resize, inpt, self.size, interpolation=self.interpolation, max_size=self.max_size,
            antialias=self.antialias,
        )  # fmt: skip


class CenterCrop(Transform):
    """Crop the centre to `size` (zero-padding first where the input is smaller)."""

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size, error_msg=_SIZE_MSG)

    def transform(self, inpt, params):
        return self._call_kernel(F.center_crop, inpt, output_size=self.size)


class RandomResizedCrop(Transform):
    """Crop a random area (fraction `scale` of the input, aspect ratio in `ratio`) and resize it to `size`."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation="bilinear", antialias=True):
        super().__init__()
        self.size = _setup_size(size, error_msg=_SIZE_MSG)
        if not isinstance(scale, Sequence) or len(scale) != 2:
            raise TypeError("Scale should be a sequence of two floats.")
        if not isinstance(ratio, Sequence) or len(ratio) != 2:
            raise TypeError("Ratio should be a sequence of two floats.")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")
        self.scale = scale
        self.ratio = ratio
        self.interpolation = interpolation
        self.antialias = antialias

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        top, left, h, w = v1.RandomResizedCrop.get_params(_shaped(1, height, width), self.scale, self.ratio)
        return dict(top=top, left=left, height=h, width=w)

    def transform(self, inpt, params):
        return self._call_kernel(
            F.resized_crop, inpt, **params, size=self.size, interpolation=self.interpolation, antialias=self.antialias
        )


class Pad(Transform):
    """Pad the borders; `padding` is an int, (lr, tb) or (left, top, right, bottom)."""

    def __init__(self, padding, fill=0, padding_mode="constant") -> None:
        super().__init__()
        _check_padding_arg(padding)
        _check_padding_mode_arg(padding_mode)
        self.padding = padding if isinstance(padding, int) else list(padding)
        self.fill = fill
        self._fill = _setup_fill_arg(fill)
        self.padding_mode = padding_mode

    def transform(self, inpt, params):
        fill = _get_fill(self._fill, type(inpt))
        return self._call_kernel(F.pad, inpt, padding=self.padding, fill=fill, padding_mode=self.padding_mode)


class RandomZoomOut(_RandomApplyTransform):
    """Place the sample at a random spot of a canvas `side_range` times larger, filled with `fill`."""

    def __init__(self, fill=0, side_range=(1.0, 4.0), p=0.5) -> None:
        super().__init__(p=p)
        self.fill = fill
        self._fill = _setup_fill_arg(fill)
        _check_sequence_input(side_range, "side_range", req_sizes=(2,))
        self.side_range = side_range
        if side_range[0] < 1.0 or side_range[0] > side_range[1]:
            raise ValueError(f"Invalid side range provided {side_range}.")

    def make_params(self, flat_inputs):
        orig_h, orig_w = query_size(flat_inputs)
        r = self.side_range[0] + ferrotorch.rand(1) * (self.side_range[1] - self.side_range[0])
        canvas_width, canvas_height = int(orig_w * r), int(orig_h * r)
        r = ferrotorch.rand(2)
        left, top = int((canvas_width - orig_w) * r[0]), int((canvas_height - orig_h) * r[1])
        right, bottom = canvas_width - (left + orig_w), canvas_height - (top + orig_h)
        return dict(padding=[left, top, right, bottom])

    def transform(self, inpt, params):
        return self._call_kernel(F.pad, inpt, **params, fill=_get_fill(self._fill, type(inpt)))


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from `degrees`."""

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0) -> None:
        super().__init__()
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        self.interpolation = interpolation
        self.expand = expand
        self.fill = fill
        self._fill = _setup_fill_arg(fill)
        if center is not None:
            _check_sequence_input(center, "center", req_sizes=(2,))
        self.center = center

    def make_params(self, flat_inputs):
        return dict(angle=v1.RandomRotation.get_params(self.degrees))

    def transform(self, inpt, params):
        return self._call_kernel(
            F.rotate, inpt, **params, interpolation=self.interpolation, expand=self.expand, center=self.center,
            fill=_get_fill(self._fill, type(inpt)),
        )  # fmt: skip


class RandomAffine(Transform):
    """A random affine map: rotation in `degrees`, translation up to `translate` of the size, scale in
    `scale`, shear in `shear` (all optional but degrees)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation="nearest", fill=0, center=None):
        super().__init__()
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        if translate is not None:
            _check_sequence_input(translate, "translate", req_sizes=(2,))
            for t in translate:
                if not (0.0 <= t <= 1.0):
                    raise ValueError("translation values should be between 0 and 1")
        self.translate = translate
        if scale is not None:
            _check_sequence_input(scale, "scale", req_sizes=(2,))
            for s in scale:
                if s <= 0:
                    raise ValueError("scale values should be positive")
        self.scale = scale
        self.shear = _setup_angle(shear, name="shear", req_sizes=(2, 4)) if shear is not None else shear
        self.interpolation = interpolation
        self.fill = fill
        self._fill = _setup_fill_arg(fill)
        if center is not None:
            _check_sequence_input(center, "center", req_sizes=(2,))
        self.center = center

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        angle, translate, scale, shear = v1.RandomAffine.get_params(
            self.degrees, self.translate, self.scale, self.shear, [width, height]
        )
        return dict(angle=angle, translate=translate, scale=scale, shear=shear)

    def transform(self, inpt, params):
        return self._call_kernel(
            F.affine, inpt, **params, interpolation=self.interpolation, fill=_get_fill(self._fill, type(inpt)),
            center=self.center,
        )  # fmt: skip


class RandomCrop(Transform):
    """Crop at a random position, after optional `padding` (and padding to `size` if `pad_if_needed`)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant") -> None:
        super().__init__()
        self.size = _setup_size(size, error_msg=_SIZE_MSG)
        if pad_if_needed or padding is not None:
            if padding is not None:
                _check_padding_arg(padding)
            _check_padding_mode_arg(padding_mode)
        self.padding = _parse_pad_padding(padding) if padding else None  # [left, right, top, bottom]
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self._fill = _setup_fill_arg(fill)
        self.padding_mode = padding_mode

    def make_params(self, flat_inputs):
        padded_height, padded_width = query_size(flat_inputs)
        if self.padding is not None:
            pad_left, pad_right, pad_top, pad_bottom = self.padding
            padded_height += pad_top + pad_bottom
            padded_width += pad_left + pad_right
        else:
            pad_left = pad_right = pad_top = pad_bottom = 0
        cropped_height, cropped_width = self.size
        if self.pad_if_needed:
            if padded_height < cropped_height:
                diff = cropped_height - padded_height
                pad_top, pad_bottom, padded_height = pad_top + diff, pad_bottom + diff, padded_height + 2 * diff
            if padded_width < cropped_width:
                diff = cropped_width - padded_width
                pad_left, pad_right, padded_width = pad_left + diff, pad_right + diff, padded_width + 2 * diff
        if padded_height < cropped_height or padded_width < cropped_width:
            raise ValueError(
                f"Required crop size {(cropped_height, cropped_width)} is larger than "
                f"{'padded ' if self.padding is not None else ''}input image size {(padded_height, padded_width)}."
            )
        padding = [pad_left, pad_top, pad_right, pad_bottom]
        top = _randint(0, padded_height - cropped_height + 1) if padded_height > cropped_height else 0
        left = _randint(0, padded_width - cropped_width + 1) if padded_width > cropped_width else 0
        return dict(
            needs_crop=padded_height > cropped_height or padded_width > cropped_width, top=top, left=left,
            height=cropped_height, width=cropped_width, needs_pad=any(padding), padding=padding,
        )  # fmt: skip

    def transform(self, inpt, params):
        if params["needs_pad"]:
            fill = _get_fill(self._fill, type(inpt))
            inpt = self._call_kernel(F.pad, inpt, padding=params["padding"], fill=fill, padding_mode=self.padding_mode)
        if params["needs_crop"]:
            inpt = self._call_kernel(
                F.crop, inpt, top=params["top"], left=params["left"], height=params["height"], width=params["width"]
            )
        return inpt


class RandomPerspective(_RandomApplyTransform):
    """With probability `p`, move each corner inwards by up to `distortion_scale` of half the size."""

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation="bilinear", fill=0) -> None:
        super().__init__(p=p)
        if not (0 <= distortion_scale <= 1):
            raise ValueError("Argument distortion_scale value should be between 0 and 1")
        self.distortion_scale = distortion_scale
        self.interpolation = interpolation
        self.fill = fill
        self._fill = _setup_fill_arg(fill)

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        startpoints, endpoints = v1.RandomPerspective.get_params(width, height, self.distortion_scale)
        return dict(coefficients=_get_perspective_coeffs(startpoints, endpoints))

    def transform(self, inpt, params):
        return self._call_kernel(
            F.perspective, inpt, startpoints=None, endpoints=None, fill=_get_fill(self._fill, type(inpt)),
            interpolation=self.interpolation, **params,
        )  # fmt: skip


class RandomIoUCrop(Transform):
    """SSD's random crop: a crop whose IoU with some box (whose centre it contains) reaches a
    threshold drawn from `sampler_options`; boxes whose centre falls outside become all-zero (remove
    them with `SanitizeBoundingBoxes`)."""

    def __init__(self, min_scale=0.3, max_scale=1.0, min_aspect_ratio=0.5, max_aspect_ratio=2.0,
                 sampler_options=None, trials=40):  # fmt: skip
        super().__init__()
        self.min_scale = min_scale
        self.max_scale = max_scale
        self.min_aspect_ratio = min_aspect_ratio
        self.max_aspect_ratio = max_aspect_ratio
        self.options = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0] if sampler_options is None else sampler_options
        self.trials = trials

    def check_inputs(self, flat_inputs):
        if not (
            has_all(flat_inputs, tv_tensors.BoundingBoxes)
            and has_any(flat_inputs, PILImage.Image, tv_tensors.Image, is_pure_tensor)
        ):
            raise TypeError(
                f"{type(self).__name__}() requires input sample to contain tensor or PIL images "
                "and bounding boxes. Sample can also contain masks."
            )

    def make_params(self, flat_inputs):
        orig_h, orig_w = query_size(flat_inputs)
        bboxes = get_bounding_boxes(flat_inputs)
        xyxy = F.convert_bounding_box_format(
            tv_tensors._tv_tensor._as_tensor(bboxes), bboxes.format, tv_tensors.BoundingBoxFormat.XYXY
        )
        cx, cy = 0.5 * (xyxy[..., 0] + xyxy[..., 2]), 0.5 * (xyxy[..., 1] + xyxy[..., 3])
        while True:
            min_jaccard_overlap = self.options[_randint(0, len(self.options))]
            if min_jaccard_overlap >= 1.0:  # the sample unchanged
                return dict()
            for _ in range(self.trials):
                r = self.min_scale + (self.max_scale - self.min_scale) * ferrotorch.rand(2)
                new_w, new_h = int(orig_w * r[0]), int(orig_h * r[1])
                if not (self.min_aspect_ratio <= new_w / new_h <= self.max_aspect_ratio):
                    continue
                r = ferrotorch.rand(2)
                left, top = int((orig_w - new_w) * r[0]), int((orig_h - new_h) * r[1])
                right, bottom = left + new_w, top + new_h
                if left == right or top == bottom:
                    continue
                is_within_crop_area = (left < cx) & (cx < right) & (top < cy) & (cy < bottom)
                if not is_within_crop_area.any():
                    continue
                crop_box = ferrotorch.tensor([[left, top, right, bottom]], dtype=xyxy.dtype)
                if box_iou(xyxy[is_within_crop_area], crop_box).max() < min_jaccard_overlap:
                    continue
                return dict(top=top, left=left, height=new_h, width=new_w, is_within_crop_area=is_within_crop_area)

    def transform(self, inpt, params):
        if len(params) < 1:
            return inpt
        output = self._call_kernel(
            F.crop, inpt, top=params["top"], left=params["left"], height=params["height"], width=params["width"]
        )
        if isinstance(output, tv_tensors.BoundingBoxes):
            output[~params["is_within_crop_area"]] = 0
        return output

