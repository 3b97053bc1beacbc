"""Helpers shared by the ops: RoI formats, dtype upcasting, the loss reduction."""

import ferrotorch as ft


def _cat(tensors, dim=0):
    """``ft.cat`` that skips the copy for a single tensor."""
    if len(tensors) == 1:
        return tensors[0]
    return ft.cat(list(tensors), dim)


def convert_boxes_to_roi_format(boxes):
    """A list of per-image ``Tensor[L, 4]`` boxes as one ``Tensor[K, 5]`` whose first column is
    the image index."""
    concat_boxes = _cat(list(boxes), dim=0)
    ids = _cat([ft.full_like(b[:, :1], i) for i, b in enumerate(boxes)], dim=0)
    return ft.cat([ids, concat_boxes], dim=1)


def check_roi_boxes_shape(boxes):
    """Raises AssertionError (as torchvision) unless ``boxes`` is a ``Tensor[K, 5]`` or a list of
    ``Tensor[L, 4]``."""
    if isinstance(boxes, (list, tuple)):
        for tensor in boxes:
            assert tensor.size(1) == 4, "The shape of the tensor in the boxes list is not correct as List[Tensor[L, 4]]"
    elif isinstance(boxes, ft.Tensor):
        assert boxes.size(1) == 5, "The boxes tensor shape is not correct as Tensor[K, 5]"
    else:
        raise AssertionError("boxes is expected to be a Tensor[L, 5] or a List[Tensor[K, 4]]")


def roi_tensor(boxes):
    """Validates RoI boxes in either accepted form and returns them as ``Tensor[K, 5]``."""
    check_roi_boxes_shape(boxes)
    if isinstance(boxes, ft.Tensor):
        return boxes
    return convert_boxes_to_roi_format(boxes)


def _upcast(t):
    """Float16/bfloat16 to float32 and small integers to int32, so products do not overflow."""
    if t.is_floating_point():
        return t if t.dtype in (ft.float32, ft.float64) else t.float()
    return t if t.dtype in (ft.int32, ft.int64) else t.int()


def _upcast_non_float(t):
    """Anything but float32/float64 to float32."""
    if t.dtype not in (ft.float32, ft.float64):
        return t.float()
    return t


def _loss_inter_union(boxes1, boxes2):
    """Element-wise intersection and union areas of two aligned sets of xyxy boxes."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    w = ft.minimum(x2, x2g) - ft.maximum(x1, x1g)
    h = ft.minimum(y2, y2g) - ft.maximum(y1, y1g)
    # Only strictly overlapping pairs intersect (a NaN coordinate counts as no overlap).
    intsctk = ft.where((w > 0) & (h > 0), w * h, 0.0)
    unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk
    return intsctk, unionk


def _enclosing_box(boxes1, boxes2):
    """Corners (xc1, yc1, xc2, yc2) of the smallest boxes enclosing each aligned pair."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    return ft.minimum(x1, x1g), ft.minimum(y1, y1g), ft.maximum(x2, x2g), ft.maximum(y2, y2g)


def _reduce_loss(loss, reduction, empty_mean_is_zero=True):
    """Applies 'none' | 'mean' | 'sum' with torchvision's message for anything else. The box
    losses return 0 (not NaN) for the mean of an empty batch; the focal loss does not."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        if empty_mean_is_zero and loss.numel() == 0:
            return 0.0 * loss.sum()
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(
        f"Invalid Value for arg 'reduction': '{reduction} \n Supported reduction modes: 'none', 'mean', 'sum'"
    )


def _pair(x):
    """``x`` as a pair: an int is repeated, a sequence is returned as a tuple."""
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x, x)


def check_roi_inputs(input, rois, kernel):
    """The checks torchvision's RoI kernels make: matching dtypes and batch indices in range.
    Returns the batch index of each RoI (int64, truncated as C++ casts)."""
    if input.dim() != 4:
        raise RuntimeError(f"{kernel}: expected input of shape [N, C, H, W], got {list(input.shape)}")
    if input.dtype != rois.dtype:
        raise RuntimeError(f"{kernel}: input should have the same type as rois")
    batch_index = rois[:, 0].detach().long()
    if batch_index.numel() and (int(batch_index.min()) < 0 or int(batch_index.max()) >= input.shape[0]):
        raise RuntimeError(f"{kernel}: rois batch index must be in [0, batch_size)")
    return batch_index


def check_position_sensitive_channels(input, output_size, kernel):
    """The position-sensitive ops split the channels into one group per output bin."""
    if input.shape[1] % (output_size[0] * output_size[1]) != 0:
        raise RuntimeError(f"{kernel}: input channels must be a multiple of pooling height * pooling width")
