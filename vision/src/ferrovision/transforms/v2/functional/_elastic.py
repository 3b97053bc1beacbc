"""`elastic`: displace every pixel by a field ``(1, H, W, 2)`` in normalised coordinates.

Images sample the input at the identity grid plus the displacement (the v1 kernel); masks the same with
nearest interpolation. Boxes and keypoints cannot invert the field exactly; as torchvision, they move by
the approximate inverse ``identity - displacement`` read at the (integer) pixel of each point (box
corners rounded up), and boxes become the box around their four moved corners (rotated boxes: only
their centre moves).
"""

from PIL import Image as PILImage

import ferrotorch
from ferrotorch import Tensor

from .... import tv_tensors
from ....transforms import _functional_tensor as F_t
from ....transforms import functional as F1
from ....transforms.functional import InterpolationMode
from ....tv_tensors import BoundingBoxFormat
from ....tv_tensors._tv_tensor import _as_tensor
from ._geometry import _as_mask_kernel, _check_interpolation, _register_image
from ._meta import _clamp_bounding_boxes, _convert_bounding_box_format, _is_rotated
from ._utils import _dispatch, _register_kernel_internal


def elastic(inpt, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Move the pixels (and boxes, keypoints) of `inpt` by `displacement` ``(1, H, W, 2)``."""
    return _dispatch(elastic, inpt, displacement=displacement, interpolation=interpolation, fill=fill)


elastic_transform = elastic


def _check_displacement(displacement, height, width):
    if not isinstance(displacement, Tensor):
        raise TypeError("Argument displacement should be a Tensor")
    expected_shape = (1, height, width, 2)
    if tuple(displacement.shape) != expected_shape:
        raise ValueError(f"Argument displacement shape should be {expected_shape}, but given {displacement.shape}")


def elastic_image(image, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    interpolation = _check_interpolation(interpolation)
    _check_displacement(displacement, *image.shape[-2:])
    dtype = image.dtype if image.is_floating_point() else ferrotorch.float32
    grid = _identity_grid(tuple(image.shape[-2:]), dtype) + displacement.to(dtype)
    return F_t._apply_grid_transform(image, grid, interpolation.value, fill=fill)


_register_image(elastic, elastic_image)
elastic_video = elastic_image


@_register_kernel_internal(elastic, PILImage.Image)
def _elastic_image_pil(image, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    output = elastic_image(F1.pil_to_tensor(image), displacement, interpolation=interpolation, fill=fill)
    return F1.to_pil_image(output, mode=image.mode)


def elastic_mask(mask, displacement, fill=None):
    """`elastic_image` of a mask with nearest interpolation."""
    return _as_mask_kernel(elastic_image)(mask, displacement, interpolation=InterpolationMode.NEAREST, fill=fill)


_register_kernel_internal(elastic, tv_tensors.Mask)(
    lambda mask, displacement, fill=None, **kwargs: elastic_mask(mask, displacement, fill=fill)
)


def _identity_grid(size, dtype):
    """The sampling grid (1, H, W, 2) that leaves an image unchanged, in `dtype`."""
    if dtype == ferrotorch.float32:
        return F_t._create_identity_grid(list(size))
    xs, ys = (ferrotorch.linspace((-s + 1) / s, (s - 1) / s, s, dtype=dtype) for s in size[::-1])
    grid_y, grid_x = ferrotorch.meshgrid([ys, xs], indexing="ij")
    return ferrotorch.stack([grid_x, grid_y], -1).unsqueeze(0)


def _move_points(points, canvas_size, displacement, dtype):
    """Points (N, 2) moved by the approximate inverse field read at their integer pixel."""
    inv_grid = _identity_grid(canvas_size, dtype) - displacement.to(dtype)
    index = points.to(ferrotorch.int64)
    index_x = index[:, 0].clamp(0, inv_grid.shape[2] - 1)
    index_y = index[:, 1].clamp(0, inv_grid.shape[1] - 1)
    size = ferrotorch.tensor(list(canvas_size[::-1]), dtype=dtype)
    return (inv_grid[0, index_y, index_x, :] + 1) * (0.5 * size) - 0.5


def elastic_keypoints(keypoints, canvas_size, displacement):
    """Keypoints after `elastic` (approximately: see the module's doc)."""
    _check_displacement(displacement, *canvas_size)
    if keypoints.numel() == 0:
        return keypoints
    dtype = keypoints.dtype if keypoints.is_floating_point() else ferrotorch.float32
    moved = _move_points(keypoints.reshape(-1, 2), canvas_size, displacement, dtype)
    return moved.to(keypoints.dtype).reshape(keypoints.shape)


@_register_kernel_internal(elastic, tv_tensors.KeyPoints, tv_tensor_wrapper=False)
def _elastic_keypoints_dispatch(inpt, displacement, **kwargs):
    return tv_tensors.wrap(elastic_keypoints(_as_tensor(inpt), inpt.canvas_size, displacement), like=inpt)


def elastic_bounding_boxes(bounding_boxes, format, canvas_size, displacement, clamping_mode="soft"):
    """Boxes after `elastic`: the box around the four moved corners (approximately: see the module's doc)."""
    _check_displacement(displacement, *canvas_size)
    if bounding_boxes.numel() == 0:
        return bounding_boxes
    dtype = bounding_boxes.dtype if bounding_boxes.is_floating_point() else ferrotorch.float32
    shape = bounding_boxes.shape
    if _is_rotated(format):  # the centre moves; size and angle stay
        boxes = _convert_bounding_box_format(bounding_boxes.clone(), format, BoundingBoxFormat.CXCYWHR).reshape(-1, 5)
        moved = _move_points(boxes[:, :2].ceil(), canvas_size, displacement, dtype)
        out = ferrotorch.cat([moved, boxes[:, 2:]], dim=1).to(boxes.dtype)
        out = _clamp_bounding_boxes(out, BoundingBoxFormat.CXCYWHR, canvas_size, clamping_mode)
        return _convert_bounding_box_format(out, BoundingBoxFormat.CXCYWHR, format).reshape(shape)
    boxes = _convert_bounding_box_format(bounding_boxes.clone(), format, BoundingBoxFormat.XYXY).reshape(-1, 4)
    corners = boxes[:, [[0, 1], [2, 1], [2, 3], [0, 3]]].reshape(-1, 2)
    if corners.is_floating_point():
        corners = corners.ceil()
    moved = _move_points(corners, canvas_size, displacement, dtype).reshape(-1, 4, 2)
    mins, maxs = ferrotorch.aminmax(moved, dim=1)
    out = ferrotorch.cat([mins, maxs], dim=1).to(boxes.dtype)
    out = _clamp_bounding_boxes(out, BoundingBoxFormat.XYXY, canvas_size, clamping_mode)
    return _convert_bounding_box_format(out, BoundingBoxFormat.XYXY, format).reshape(shape)


@_register_kernel_internal(elastic, tv_tensors.BoundingBoxes, tv_tensor_wrapper=False)
def _elastic_bounding_boxes_dispatch(inpt, displacement, **kwargs):
    output = elastic_bounding_boxes(
        _as_tensor(inpt), inpt.format, inpt.canvas_size, displacement, clamping_mode=inpt.clamping_mode
    )
    return tv_tensors.wrap(output, like=inpt)
