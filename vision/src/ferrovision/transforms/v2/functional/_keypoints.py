"""Geometric kernels of `tv_tensors.KeyPoints` (points ``[..., 2]`` of (x, y) on a canvas).

Unlike boxes, keypoints sit on pixels: a horizontal flip maps x to ``width - 1 - x``. Resizes scale the
coordinates, crops and pads shift them, and the affine and perspective warps map each point with the
same forward maps as the box corners. Keypoints are not clamped (use `clamp_keypoints`), as in
torchvision. Each kernel returns the points with the new canvas size where the canvas changes.
"""

import ferrotorch

from .... import tv_tensors
from ....tv_tensors._tv_tensor import _as_tensor
from ._affine import (
    _affine_points, _inverse_perspective, _perspective_coefficients, _perspective_points, affine, perspective, rotate,
)  # fmt: skip
from ._geometry import (
    _center_crop_compute_crop_anchor, _center_crop_parse_output_size, _compute_resized_output_size,
    _parse_pad_padding, center_crop, crop, horizontal_flip, pad, resize, resized_crop, vertical_flip,
)  # fmt: skip
from ._utils import _register_kernel_internal


def _register_keypoints(functional, kernel, *, new_canvas: bool):
    """Register the KeyPoints dispatcher of `functional`: `kernel` on the pure tensor with the canvas size;
    with `new_canvas` the kernel returns (points, canvas_size) and the output takes that canvas size."""

    def dispatch(inpt, *args, **kwargs):
        output = kernel(_as_tensor(inpt), inpt.canvas_size, *args, **kwargs)
        if new_canvas:
            output, canvas_size = output
            return tv_tensors.wrap(output, like=inpt, canvas_size=canvas_size)
        return tv_tensors.wrap(output, like=inpt)

    _register_kernel_internal(functional, tv_tensors.KeyPoints, tv_tensor_wrapper=False)(dispatch)


def _mirror(keypoints, axis: int, size: int):
    shape = keypoints.shape
    points = keypoints.clone().reshape(-1, 2)
    coordinates = list(points.unbind(-1))
    coordinates[axis] = (size - 1) - coordinates[axis]
    return ferrotorch.stack(coordinates, dim=-1).to(keypoints.dtype).reshape(shape)


def horizontal_flip_keypoints(keypoints, canvas_size):
    """Mirror keypoints left to right: x becomes ``width - 1 - x``."""
    return _mirror(keypoints, 0, canvas_size[1])


def vertical_flip_keypoints(keypoints, canvas_size):
    """Mirror keypoints upside down: y becomes ``height - 1 - y``."""
    return _mirror(keypoints, 1, canvas_size[0])


_register_keypoints(horizontal_flip, horizontal_flip_keypoints, new_canvas=False)
_register_keypoints(vertical_flip, vertical_flip_keypoints, new_canvas=False)


def resize_keypoints(keypoints, size, canvas_size, max_size=None):
    """Scale keypoints to the resized canvas; returns (keypoints, new canvas_size)."""
    old_height, old_width = canvas_size
    new_height, new_width = _compute_resized_output_size(canvas_size, size=size, max_size=max_size)
    if (new_height, new_width) == (old_height, old_width):
        return keypoints, canvas_size
    # A default-dtype tensor of ratios, as torchvision (integer keypoints are truncated back).
    ratios = ferrotorch.tensor([new_width / old_width, new_height / old_height])
    return keypoints.mul(ratios).to(keypoints.dtype), (new_height, new_width)


_register_keypoints(
    resize,
    lambda keypoints, canvas_size, size, max_size=None, **kwargs: resize_keypoints(
        keypoints, size, canvas_size=canvas_size, max_size=max_size
    ),
    new_canvas=True,
)


def pad_keypoints(keypoints, canvas_size, padding, padding_mode="constant"):
    """Shift keypoints by the left/top padding; returns (keypoints, padded canvas_size)."""
    if padding_mode not in ["constant"]:
        raise ValueError(
            f"Padding mode '{padding_mode}' is not supported with KeyPoints (supported modes are constant)"
        )
    left, right, top, bottom = _parse_pad_padding(padding)
    canvas_size = (canvas_size[0] + top + bottom, canvas_size[1] + left + right)
    return keypoints + ferrotorch.tensor([left, top], dtype=keypoints.dtype), canvas_size


_register_keypoints(
    pad,
    lambda keypoints, canvas_size, padding, padding_mode="constant", **kwargs: pad_keypoints(
        keypoints, canvas_size, padding, padding_mode
    ),
    new_canvas=True,
)


def crop_keypoints(keypoints, top, left, height, width):
    """Keypoints in the frame of the crop; returns (keypoints, (height, width))."""
    return keypoints - ferrotorch.tensor([left, top], dtype=keypoints.dtype), (height, width)


_register_keypoints(
    crop, lambda keypoints, canvas_size, top, left, height, width: crop_keypoints(keypoints, top, left, height, width),
    new_canvas=True,
)  # fmt: skip


def center_crop_keypoints(inpt, canvas_size, output_size):
    """Keypoints after `center_crop` of their canvas; returns (keypoints, output size)."""
    crop_height, crop_width = _center_crop_parse_output_size(output_size)
    top, left = _center_crop_compute_crop_anchor(crop_height, crop_width, *canvas_size)
    return crop_keypoints(inpt, top=top, left=left, height=crop_height, width=crop_width)


_register_keypoints(center_crop, center_crop_keypoints, new_canvas=True)


def resized_crop_keypoints(keypoints, top, left, height, width, size):
    """`crop_keypoints` then `resize_keypoints`; returns (keypoints, size)."""
    keypoints, canvas_size = crop_keypoints(keypoints, top, left, height, width)
    return resize_keypoints(keypoints, size=size, canvas_size=canvas_size)


_register_keypoints(
    resized_crop,
    lambda keypoints, canvas_size, top, left, height, width, size, **kwargs: resized_crop_keypoints(
        keypoints, top, left, height, width, size
    ),
    new_canvas=True,
)


def _affine_keypoints_with_expand(keypoints, canvas_size, angle, translate, scale, shear, center=None, expand=False):
    if keypoints.numel() == 0:
        return keypoints, canvas_size
    points = keypoints.clone() if keypoints.is_floating_point() else keypoints.float()
    moved, canvas_size = _affine_points(
        points.reshape(-1, 2), canvas_size, angle, translate, scale, shear, center, expand
    )
    return moved.reshape(keypoints.shape).to(keypoints.dtype), canvas_size


def affine_keypoints(keypoints, canvas_size, angle, translate, scale, shear, center=None):
    """Keypoints through the forward affine map; returns (keypoints, canvas_size)."""
    return _affine_keypoints_with_expand(keypoints, canvas_size, angle, translate, scale, shear, center, False)


_register_keypoints(
    affine,
    lambda keypoints, canvas_size, angle, translate, scale, shear, center=None, **kwargs: affine_keypoints(
        keypoints, canvas_size, angle, translate, scale, shear, center
    ),
    new_canvas=True,
)


def rotate_keypoints(keypoints, canvas_size, angle, expand=False, center=None):
    """Keypoints after `rotate` (counter-clockwise); returns (keypoints, canvas_size), enlarged with `expand`."""
    return _affine_keypoints_with_expand(
        keypoints, canvas_size, -angle, [0.0, 0.0], 1.0, [0.0, 0.0], center=center, expand=expand
    )


_register_keypoints(
    rotate,
    lambda keypoints, canvas_size, angle, expand=False, center=None, **kwargs: rotate_keypoints(
        keypoints, canvas_size, angle, expand=expand, center=center
    ),
    new_canvas=True,
)


def perspective_keypoints(keypoints, canvas_size, startpoints, endpoints, coefficients=None):
    """Keypoints through the forward perspective map (the inverse of the image's sampling map)."""
    if keypoints.numel() == 0:
        return keypoints
    dtype = keypoints.dtype if keypoints.is_floating_point() else ferrotorch.float32
    inv = _inverse_perspective(_perspective_coefficients(startpoints, endpoints, coefficients), what="keypoints")
    moved = _perspective_points(keypoints.reshape(-1, 2).to(dtype), inv)
    return moved.to(keypoints.dtype).reshape(keypoints.shape)


_register_keypoints(
    perspective,
    lambda keypoints, canvas_size, startpoints, endpoints, coefficients=None, **kwargs: perspective_keypoints(
        keypoints, canvas_size, startpoints, endpoints, coefficients
    ),
    new_canvas=False,
)
