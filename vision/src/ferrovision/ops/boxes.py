"""Box utilities: NMS, IoU variants, format conversion, clipping and filtering (xyxy boxes)."""

import math

import numpy as np

import ferrotorch as ft

from ._box_convert import _box_cxcywh_to_xyxy, _box_xywh_to_xyxy, _box_xyxy_to_cxcywh, _box_xyxy_to_xywh
from ._utils import _upcast

_AXIS_ALIGNED_FORMATS = ("xyxy", "xywh", "cxcywh")

# Above this many box coordinates batched_nms runs NMS per class instead of offsetting the boxes:
# torchvision's CPU threshold.
_VANILLA_BATCHED_NMS_NUMEL = 4000


def _check_nms_inputs(boxes, scores):
    if boxes.dim() != 2:
        raise RuntimeError(f"boxes should be a 2d tensor, got {boxes.dim()}D")
    if boxes.size(1) != 4:
        raise RuntimeError(f"boxes should have 4 elements in dimension 1, got {boxes.size(1)}")
    if scores.dim() != 1:
        raise RuntimeError(f"scores should be a 1d tensor, got {scores.dim()}D")
    if boxes.size(0) != scores.size(0):
        raise RuntimeError(
            "boxes and scores should have same number of elements in dimension 0, "
            f"got {boxes.size(0)} and {scores.size(0)}"
        )
    if not boxes.is_floating_point():
        raise RuntimeError(f'"nms_kernel" not implemented for \'{boxes.dtype}\'')
    if boxes.dtype != scores.dtype:
        raise RuntimeError("dets should have the same type as scores")


def _descending_order(scores):
    """Indices sorting ``scores`` from high to low, NaN first, ties in index order (as torch's
    descending sort)."""
    return np.lexsort((-scores, ~np.isnan(scores)))


def nms(boxes, scores, iou_threshold):
    """Non-maximum suppression: greedily keeps the highest-scoring box and drops the remaining
    boxes whose IoU with it is above ``iou_threshold``.

    Args:
        boxes (Tensor[N, 4]): boxes in ``(x1, y1, x2, y2)`` format.
        scores (Tensor[N]): score of each box.
        iou_threshold (float): boxes with IoU > iou_threshold are discarded.

    Returns:
        Tensor: int64 indices of the kept boxes, in decreasing order of score.
    """
    _check_nms_inputs(boxes, scores)
    if boxes.numel() == 0:
        return ft.empty((0,), dtype=ft.int64)
    # NMS has no gradient: run it in NumPy on a copy, in the boxes' own precision.
    b = np.array(boxes.detach().float().numpy() if boxes.dtype in (ft.float16, ft.bfloat16) else boxes.detach().numpy())
    s = np.array(scores.detach().float().numpy() if scores.dtype in (ft.float16, ft.bfloat16) else scores.detach().numpy())
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    order = _descending_order(s)
    suppressed = np.zeros(len(order), dtype=bool)
    keep = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for pos, i in enumerate(order):
            if suppressed[i]:
                continue
            keep.append(i)
            rest = order[pos + 1:]
            w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
            h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
            inter = w * h
            iou = inter / (areas[i] + areas[rest] - inter)
            suppressed[rest[iou > iou_threshold]] = True
    return ft.tensor(np.asarray(keep, dtype=np.int64))


def batched_nms(boxes, scores, idxs, iou_threshold):
    """NMS applied independently per category ``idxs`` (boxes of different categories never
    suppress each other).

    Args:
        boxes (Tensor[N, 4]): boxes in ``(x1, y1, x2, y2)`` format.
        scores (Tensor[N]): score of each box.
        idxs (Tensor[N]): category index of each box.
        iou_threshold (float): boxes with IoU > iou_threshold are discarded.

    Returns:
        Tensor: int64 indices of the kept boxes, in decreasing order of score.
    """
    if boxes.numel() > _VANILLA_BATCHED_NMS_NUMEL:
        return _batched_nms_vanilla(boxes, scores, idxs, iou_threshold)
    return _batched_nms_coordinate_trick(boxes, scores, idxs, iou_threshold)


def _batched_nms_coordinate_trick(boxes, scores, idxs, iou_threshold):
    # Shifting each category by more than the largest coordinate puts categories far apart, so a
    # single NMS call never compares boxes of different categories.
    if boxes.numel() == 0:
        return ft.empty((0,), dtype=ft.int64)
    max_coordinate = boxes.max()
    offsets = idxs.to(boxes.dtype) * (max_coordinate + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def _batched_nms_vanilla(boxes, scores, idxs, iou_threshold):
    # One NMS per category (cheaper than one big NMS when there are many boxes).
    keep_mask = ft.zeros_like(scores, dtype=ft.bool)
    for class_id in ft.unique(idxs).tolist():
        curr_indices = ft.nonzero(idxs == class_id, as_tuple=True)[0]
        curr_keep = nms(boxes[curr_indices], scores[curr_indices], iou_threshold)
        keep_mask[curr_indices[curr_keep]] = True
    keep_indices = ft.nonzero(keep_mask, as_tuple=True)[0]
    return keep_indices[scores[keep_indices].sort(descending=True)[1]]


def remove_small_boxes(boxes, min_size):
    """Indices of the boxes (``Tensor[..., 4]``, xyxy) whose width and height are both at least
    ``min_size``."""
    ws, hs = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
    keep = (ws >= min_size) & (hs >= min_size)
    return ft.nonzero(keep, as_tuple=True)[0]


def clip_boxes_to_image(boxes, size):
    """Clips xyxy boxes (``Tensor[..., 4]``) to an image of ``size = (height, width)``."""
    dim = boxes.dim()
    height, width = size
    boxes_x = boxes[..., 0::2].clamp(min=0, max=width)
    boxes_y = boxes[..., 1::2].clamp(min=0, max=height)
    return ft.stack((boxes_x, boxes_y), dim=dim).reshape(boxes.shape)


_CONVERSIONS = {
    ("xywh", "xyxy"): (_box_xywh_to_xyxy,),
    ("cxcywh", "xyxy"): (_box_cxcywh_to_xyxy,),
    ("xyxy", "xywh"): (_box_xyxy_to_xywh,),
    ("xyxy", "cxcywh"): (_box_xyxy_to_cxcywh,),
    ("xywh", "cxcywh"): (_box_xywh_to_xyxy, _box_xyxy_to_cxcywh),
    ("cxcywh", "xywh"): (_box_cxcywh_to_xyxy, _box_xyxy_to_xywh),
}


def box_convert(boxes, in_fmt, out_fmt):
    """Converts boxes (``Tensor[..., 4]``) between the formats ``'xyxy'`` (corners), ``'xywh'``
    (top-left corner, width, height) and ``'cxcywh'`` (centre, width, height)."""
    if in_fmt not in _AXIS_ALIGNED_FORMATS or out_fmt not in _AXIS_ALIGNED_FORMATS:
        raise ValueError(f"Unsupported Bounding Box Conversions for given in_fmt {in_fmt} and out_fmt {out_fmt}")
    if in_fmt == out_fmt:
        return boxes.clone()
    for step in _CONVERSIONS[(in_fmt, out_fmt)]:
        boxes = step(boxes)
    return boxes


def box_area(boxes, fmt="xyxy"):
    """Area of each box (``Tensor[..., 4]`` in ``fmt``: 'xyxy', 'xywh' or 'cxcywh')."""
    if fmt not in _AXIS_ALIGNED_FORMATS:
        raise ValueError(f"Unsupported Bounding Box area for given format {fmt}")
    boxes = _upcast(boxes)
    if fmt == "xyxy":
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return boxes[..., 2] * boxes[..., 3]


def _corners(boxes, fmt):
    """Top-left and bottom-right corners, ``[..., 2]`` each, of boxes in ``fmt``."""
    if fmt == "xyxy":
        return boxes[..., :2], boxes[..., 2:]
    if fmt == "xywh":
        return boxes[..., :2], boxes[..., :2] + boxes[..., 2:]
    return boxes[..., :2] - boxes[..., 2:] / 2, boxes[..., :2] + boxes[..., 2:] / 2


def _box_inter_union(boxes1, boxes2, fmt="xyxy"):
    """Pairwise intersection and union areas, ``[..., N, M]`` each."""
    area1 = box_area(boxes1, fmt=fmt)
    area2 = box_area(boxes2, fmt=fmt)
    lt1, rb1 = _corners(boxes1, fmt)
    lt2, rb2 = _corners(boxes2, fmt)
    lt = ft.maximum(lt1[..., :, None, :], lt2[..., None, :, :])
    rb = ft.minimum(rb1[..., :, None, :], rb2[..., None, :, :])
    wh = _upcast(rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area1[..., :, None] + area2[..., None, :] - inter
    return inter, union


def box_iou(boxes1, boxes2, fmt="xyxy"):
    """Pairwise intersection-over-union of ``boxes1`` (``[..., N, 4]``) and ``boxes2``
    (``[..., M, 4]``) in ``fmt`` ('xyxy', 'xywh' or 'cxcywh'); returns ``[..., N, M]``."""
    if fmt not in _AXIS_ALIGNED_FORMATS:
        raise ValueError(f"Unsupported format '{fmt}'. Supported axis-aligned formats: {_AXIS_ALIGNED_FORMATS}.")
    inter, union = _box_inter_union(boxes1, boxes2, fmt=fmt)
    return inter / union


def _enclosing_wh(boxes1, boxes2):
    """Width and height (``[..., N, M, 2]``) of the smallest box enclosing each pair."""
    lti = ft.minimum(boxes1[..., :, None, :2], boxes2[..., None, :, :2])
    rbi = ft.maximum(boxes1[..., :, None, 2:], boxes2[..., None, :, 2:])
    return _upcast(rbi - lti).clamp(min=0)


def generalized_box_iou(boxes1, boxes2):
    """Pairwise generalized IoU (IoU minus the fraction of the enclosing box not covered by the
    union) of xyxy boxes ``[..., N, 4]`` and ``[..., M, 4]``; returns ``[..., N, M]``."""
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    whi = _enclosing_wh(boxes1, boxes2)
    areai = whi[..., 0] * whi[..., 1]
    return iou - (areai - union) / areai


def _box_diou_iou(boxes1, boxes2, eps=1e-7):
    iou = box_iou(boxes1, boxes2)
    whi = _enclosing_wh(boxes1, boxes2)
    diagonal_distance_squared = whi[..., 0] ** 2 + whi[..., 1] ** 2 + eps
    x_p = (boxes1[..., 0] + boxes1[..., 2]) / 2
    y_p = (boxes1[..., 1] + boxes1[..., 3]) / 2
    x_g = (boxes2[..., 0] + boxes2[..., 2]) / 2
    y_g = (boxes2[..., 1] + boxes2[..., 3]) / 2
    centers_distance_squared = (_upcast(x_p[..., :, None] - x_g[..., None, :]) ** 2) + (
        _upcast(y_p[..., :, None] - y_g[..., None, :]) ** 2
    )
    return iou - centers_distance_squared / diagonal_distance_squared, iou


def distance_box_iou(boxes1, boxes2, eps=1e-7):
    """Pairwise distance IoU (IoU minus the squared centre distance over the squared diagonal of
    the enclosing box) of xyxy boxes; returns ``[..., N, M]``."""
    diou, _ = _box_diou_iou(_upcast(boxes1), _upcast(boxes2), eps=eps)
    return diou


def complete_box_iou(boxes1, boxes2, eps=1e-7):
    """Pairwise complete IoU (distance IoU minus an aspect-ratio consistency term) of xyxy boxes;
    returns ``[..., N, M]``."""
    boxes1 = _upcast(boxes1)
    boxes2 = _upcast(boxes2)
    diou, iou = _box_diou_iou(boxes1, boxes2, eps)
    w_pred = boxes1[..., :, None, 2] - boxes1[..., :, None, 0]
    h_pred = boxes1[..., :, None, 3] - boxes1[..., :, None, 1]
    w_gt = boxes2[..., None, :, 2] - boxes2[..., None, :, 0]
    h_gt = boxes2[..., None, :, 3] - boxes2[..., None, :, 1]
    v = (4 / (math.pi**2)) * ft.pow(ft.atan(w_pred / h_pred) - ft.atan(w_gt / h_gt), 2)
    with ft.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def masks_to_boxes(masks):
    """Tight xyxy boxes (float32 ``Tensor[N, 4]``) around the nonzero pixels of each mask in
    ``masks`` (``Tensor[N, H, W]``); an empty mask gives ``[0, 0, 0, 0]``."""
    if masks.numel() == 0:
        return ft.zeros((0, 4), dtype=ft.float32)
    n, h, w = masks.shape
    masks_bool = masks.bool()
    non_zero_rows = ft.any(masks_bool, dim=2)
    non_zero_cols = ft.any(masks_bool, dim=1)
    empty_masks = ~ft.any(non_zero_rows, dim=1)
    rows_f = non_zero_rows.float()
    cols_f = non_zero_cols.float()
    y1 = rows_f.argmax(dim=1)
    x1 = cols_f.argmax(dim=1)
    y2 = (h - 1) - rows_f.flip(dims=[1]).argmax(dim=1)
    x2 = (w - 1) - cols_f.flip(dims=[1]).argmax(dim=1)
    bounding_boxes = ft.stack([x1, y1, x2, y2], dim=1).float()
    bounding_boxes[empty_masks] = 0
    return bounding_boxes
