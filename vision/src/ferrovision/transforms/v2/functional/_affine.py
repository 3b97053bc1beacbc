"""Affine transforms, rotations and perspective warps of images, videos, masks and bounding boxes.

Images reuse the v1 kernels; a box is mapped by transforming its four corners and taking the
axis-aligned box around them, or for rotated boxes the rectangle on the longer diagonal of the moved
corners (then clamped to the canvas per the boxes' clamping_mode).
"""

import ferrotorch
from PIL import Image as PILImage
from ferrotorch import Tensor

from .... import tv_tensors
from ....transforms import _functional_pil as F_pil
from ....transforms import _functional_tensor as F_t
from ....transforms import functional as F1
from ....transforms.functional import InterpolationMode, _get_inverse_affine_matrix, pil_modes_mapping
from ....tv_tensors import BoundingBoxFormat
from ....tv_tensors._tv_tensor import _as_tensor
from ._geometry import _as_mask_kernel, _check_interpolation, _register_image
from ._meta import _clamp_bounding_boxes, _convert_bounding_box_format, _is_rotated
from ._rotated import _parallelogram_to_bounding_boxes
from ._utils import _dispatch, _register_kernel_internal


def _affine_parse_args(angle, translate, scale, shear, center):
    """Check and normalise the affine arguments as torchvision does; shear becomes [x, y]."""
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (int, float, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    shear = [shear, 0.0] if isinstance(shear, (int, float)) else list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None:
        if not isinstance(center, (list, tuple)):
            raise TypeError("Argument center should be a sequence")
        center = [float(c) for c in center]
    return float(angle), list(translate), shear, center


# -- affine


def affine(inpt, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate by `angle` degrees, translate, scale and shear about `center` (default: the centre)."""
    return _dispatch(
        affine, inpt, angle=angle, translate=translate, scale=scale, shear=shear,
        interpolation=interpolation, fill=fill, center=center,
    )  # fmt: skip


def affine_image(
    image, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None
):
    interpolation = _check_interpolation(interpolation)
    angle, translate, shear, center = _affine_parse_args(angle, translate, scale, shear, center)
    return F1.affine(image, angle, translate, scale, shear, interpolation=interpolation, fill=fill, center=center)


_register_image(affine, affine_image)
_register_kernel_internal(affine, PILImage.Image)(affine_image)
affine_video = affine_image


@_register_kernel_internal(affine, tv_tensors.Mask)
def affine_mask(mask, angle, translate, scale, shear, fill=None, center=None, **kwargs):
    """`affine_image` of a mask with nearest interpolation."""
    return _as_mask_kernel(affine_image)(
        mask, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=fill, center=center
    )


def _affine_points(points, canvas_size, angle, translate, scale, shear, center=None, expand=False):
    """Points (N, 2) (floating) through the forward affine map; with `expand`, in the frame of the
    enlarged canvas. Returns (points, canvas_size)."""
    angle, translate, shear, center = _affine_parse_args(angle, translate, scale, shear, center)
    height, width = canvas_size
    if center is None:
        center = [width * 0.5, height * 0.5]
    forward = _get_inverse_affine_matrix(center, angle, translate, scale, shear, inverted=False)
    matrix_t = ferrotorch.tensor(forward, dtype=points.dtype).reshape(2, 3).T
    # Homogeneous points: (N, 3) @ (3, 2).
    homogeneous = ferrotorch.cat([points, ferrotorch.ones(points.shape[0], 1, dtype=points.dtype)], dim=-1)
    moved = ferrotorch.matmul(homogeneous, matrix_t)
    if expand:
        frame = ferrotorch.tensor(
            [[0.0, 0.0, 1.0], [0.0, float(height), 1.0], [float(width), float(height), 1.0], [float(width), 0.0, 1.0]],
            dtype=points.dtype,
        )
        moved = moved - ferrotorch.matmul(frame, matrix_t).amin(dim=0, keepdim=True)
        new_width, new_height = F_t._compute_affine_output_size(
            _get_inverse_affine_matrix(center, angle, translate, scale, shear), width, height
        )
        canvas_size = (new_height, new_width)
    return moved, canvas_size


def _corner_format(format):
    """The format whose corners the point maps move: XYXYXYXY for rotated boxes, XYXY otherwise."""
    return BoundingBoxFormat.XYXYXYXY if _is_rotated(format) else BoundingBoxFormat.XYXY


def _box_corners(boxes, corner_format):
    """The four corners (N * 4, 2) of boxes in `corner_format`."""
    if corner_format == BoundingBoxFormat.XYXYXYXY:
        return boxes.reshape(-1, 2)
    return boxes.reshape(-1, 4)[:, [[0, 1], [2, 1], [2, 3], [0, 3]]].reshape(-1, 2)


def _boxes_from_corners(corners, corner_format):
    """Boxes from moved corners (N * 4, 2): the rectangle on the longer diagonal of each moved rotated
    box, or the axis-aligned box around the moved corners."""
    if corner_format == BoundingBoxFormat.XYXYXYXY:
        return _parallelogram_to_bounding_boxes(corners.reshape(-1, 8))
    mins, maxs = ferrotorch.aminmax(corners.reshape(-1, 4, 2), dim=1)
    return ferrotorch.cat([mins, maxs], dim=1)


def _affine_bounding_boxes_with_expand(bounding_boxes, format, canvas_size, angle, translate, scale, shear,
                                       center=None, expand=False, clamping_mode="soft"):  # fmt: skip
    """Boxes through the forward affine map; with `expand`, in the frame of the enlarged canvas."""
    if bounding_boxes.numel() == 0:
        return bounding_boxes, canvas_size
    shape, dtype = bounding_boxes.shape, bounding_boxes.dtype
    need_cast = not bounding_boxes.is_floating_point()
    boxes = bounding_boxes.float() if need_cast else bounding_boxes.clone()
    corner_format = _corner_format(format)
    boxes = _convert_bounding_box_format(boxes, format, corner_format)
    moved, canvas_size = _affine_points(
        _box_corners(boxes, corner_format), canvas_size, angle, translate, scale, shear, center, expand
    )
    out = _boxes_from_corners(moved, corner_format)
    out = _clamp_bounding_boxes(out, corner_format, canvas_size, clamping_mode)
    out = _convert_bounding_box_format(out, corner_format, format).reshape(shape)
    return (out.to(dtype) if need_cast else out), canvas_size


def affine_bounding_boxes(bounding_boxes, format, canvas_size, angle, translate, scale, shear, center=None,
                          clamping_mode="soft"):  # fmt: skip
    """Boxes after `affine` of their canvas (the box around each transformed box)."""
    out, _ = _affine_bounding_boxes_with_expand(
        bounding_boxes, format, canvas_size, angle, translate, scale, shear, center, False, clamping_mode
    )
    return out


@_register_kernel_internal(affine, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
def _affine_bounding_boxes_dispatch(inpt, angle, translate, scale, shear, center=None, **kwargs):
    output = affine_bounding_boxes(
        _as_tensor(inpt), inpt.format, inpt.canvas_size, angle, translate, scale, shear, center,
        clamping_mode=inpt.clamping_mode,
    )  # fmt: skip
    return tv_tensors.wrap(output, like=inpt)


# -- rotate


def rotate(inpt, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate counter-clockwise by `angle` degrees about `center`; `expand` enlarges the canvas."""
    return _dispatch(
        rotate, inpt, angle=angle, interpolation=interpolation, expand=expand, center=center, fill=fill
    )


def rotate_image(image, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    angle = angle % 360
    if center is None:  # exact half and quarter turns without resampling, as torchvision does
        if angle == 0:
            return image.clone()
        same_size = expand or image.shape[-1] == image.shape[-2]
        if angle == 180 or (same_size and angle in (90, 270)):
            return ferrotorch.rot90(image, k=int(angle) // 90, dims=(-2, -1))
    interpolation = _check_interpolation(interpolation)
    return F1.rotate(image, angle, interpolation=interpolation, expand=expand, center=center, fill=fill)


@_register_kernel_internal(rotate, PILImage.Image)
def _rotate_image_pil(image, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    interpolation = _check_interpolation(interpolation)
    return F_pil.rotate(image, angle, pil_modes_mapping[interpolation], expand, center, fill)


_register_image(rotate, rotate_image)
rotate_video = rotate_image


@_register_kernel_internal(rotate, tv_tensors.Mask)
def rotate_mask(mask, angle, expand=False, center=None, fill=None, **kwargs):
    """`rotate_image` of a mask with nearest interpolation."""
    return _as_mask_kernel(rotate_image)(
        mask, angle, interpolation=InterpolationMode.NEAREST, expand=expand, center=center, fill=fill
    )


def rotate_bounding_boxes(bounding_boxes, format, canvas_size, angle, expand=False, center=None, clamping_mode="soft"):
    """Boxes after `rotate`; returns (boxes, canvas_size) (enlarged with `expand`)."""
    return _affine_bounding_boxes_with_expand(
        bounding_boxes, format, canvas_size, -angle, [0.0, 0.0], 1.0, [0.0, 0.0], center, expand, clamping_mode
    )


@_register_kernel_internal(rotate, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
def _rotate_bounding_boxes_dispatch(inpt, angle, expand=False, center=None, **kwargs):
    output, canvas_size = rotate_bounding_boxes(
        _as_tensor(inpt), inpt.format, inpt.canvas_size, angle, expand, center, clamping_mode=inpt.clamping_mode
    )
    return tv_tensors.wrap(output, like=inpt, canvas_size=canvas_size)


# -- perspective


def _perspective_coefficients(startpoints, endpoints, coefficients):
    if coefficients is not None:
        if startpoints is not None and endpoints is not None:
            raise ValueError("The startpoints/endpoints and the coefficients shouldn't be defined concurrently.")
        if len(coefficients) != 8:
            raise ValueError("Argument coefficients should have 8 float values")
        return coefficients
    if startpoints is not None and endpoints is not None:
        return F1._get_perspective_coeffs(startpoints, endpoints)
    raise ValueError("Either the startpoints/endpoints or the coefficients must have non `None` values.")


def perspective(inpt, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None, coefficients=None):
    """Warp so that `startpoints` go to `endpoints` (or by the 8 `coefficients` of the inverse map)."""
    return _dispatch(
        perspective, inpt, startpoints=startpoints, endpoints=endpoints, interpolation=interpolation,
        fill=fill, coefficients=coefficients,
    )  # fmt: skip


def perspective_image(image, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None,
                      coefficients=None):  # fmt: skip
    coeffs = _perspective_coefficients(startpoints, endpoints, coefficients)
    interpolation = _check_interpolation(interpolation)
    if isinstance(image, Tensor):
        return F_t.perspective(image, coeffs, interpolation=interpolation.value, fill=fill)
    return F_pil.perspective(image, coeffs, interpolation=pil_modes_mapping[interpolation], fill=fill)


_register_image(perspective, perspective_image)
_register_kernel_internal(perspective, PILImage.Image)(perspective_image)
perspective_video = perspective_image


@_register_kernel_internal(perspective, tv_tensors.Mask)
def perspective_mask(mask, startpoints, endpoints, fill=None, coefficients=None, **kwargs):
    """`perspective_image` of a mask with nearest interpolation."""
    return _as_mask_kernel(perspective_image)(
        mask, startpoints, endpoints, interpolation=InterpolationMode.NEAREST, fill=fill, coefficients=coefficients
    )


def _inverse_perspective(c, what="bounding boxes"):
    """The coefficients of the forward map (start -> end) from those of the inverse map (end -> start)."""
    denom = c[0] * c[4] - c[1] * c[3]
    if denom == 0:
        raise RuntimeError(
            f"Provided perspective_coeffs {c} can not be inverted to transform {what}. "
            f"Denominator is zero, denom={denom}"
        )
    return [
        (c[4] - c[5] * c[7]) / denom,
        (-c[1] + c[2] * c[7]) / denom,
        (c[1] * c[5] - c[2] * c[4]) / denom,
        (-c[3] + c[5] * c[6]) / denom,
        (c[0] - c[2] * c[6]) / denom,
        (-c[0] * c[5] + c[2] * c[3]) / denom,
        (-c[4] * c[6] + c[3] * c[7]) / denom,
        (-c[0] * c[7] + c[1] * c[6]) / denom,
    ]


def _perspective_points(points, inv):
    """Points (N, 2) (floating) through the forward perspective map `inv` (8 coefficients)."""
    dtype = points.dtype
    numer = ferrotorch.tensor([[inv[0], inv[1], inv[2]], [inv[3], inv[4], inv[5]]], dtype=dtype)
    denom = ferrotorch.tensor([[inv[6], inv[7], 1.0], [inv[6], inv[7], 1.0]], dtype=dtype)
    homogeneous = ferrotorch.cat([points, ferrotorch.ones(points.shape[0], 1, dtype=dtype)], dim=-1)
    return ferrotorch.matmul(homogeneous, numer.T) / ferrotorch.matmul(homogeneous, denom.T)


def perspective_bounding_boxes(bounding_boxes, format, canvas_size, startpoints, endpoints, coefficients=None,
                               clamping_mode="soft"):  # fmt: skip
    """Boxes after `perspective`: the box around the four warped corners of each box."""
    if bounding_boxes.numel() == 0:
        return bounding_boxes
    inv = _inverse_perspective(_perspective_coefficients(startpoints, endpoints, coefficients))
    shape, original_dtype = bounding_boxes.shape, bounding_boxes.dtype
    corner_format = _corner_format(format)
    boxes = _convert_bounding_box_format(bounding_boxes, format, corner_format)
    dtype = boxes.dtype if boxes.is_floating_point() else ferrotorch.float32
    moved = _perspective_points(_box_corners(boxes, corner_format).to(dtype), inv)
    out = _clamp_bounding_boxes(_boxes_from_corners(moved, corner_format), corner_format, canvas_size, clamping_mode)
    out = _convert_bounding_box_format(out, corner_format, format).reshape(shape)
    return out.to(original_dtype)


@_register_kernel_internal(perspective, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
def _perspective_bounding_boxes_dispatch(inpt, startpoints, endpoints, coefficients=None, **kwargs):
    output = perspective_bounding_boxes(
        _as_tensor(inpt), inpt.format, inpt.canvas_size, startpoints, endpoints, coefficients,
        clamping_mode=inpt.clamping_mode,
    )  # fmt: skip
    return tv_tensors.wrap(output, like=inpt)
