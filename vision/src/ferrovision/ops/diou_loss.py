"""Distance IoU loss (Zheng et al., https://arxiv.org/abs/1911.08287)."""

from ._utils import _enclosing_box, _loss_inter_union, _reduce_loss, _upcast_non_float


def distance_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    """``1 - DIoU`` of aligned pairs of xyxy boxes (``Tensor[N, 4]``): the IoU loss plus the squared
    distance of the centres over the squared diagonal of the enclosing box.
    ``reduction``: 'none' | 'mean' | 'sum'."""
    boxes1 = _upcast_non_float(boxes1)
    boxes2 = _upcast_non_float(boxes2)
    loss, _ = _diou_iou_loss(boxes1, boxes2, eps)
    return _reduce_loss(loss, reduction)


def _diou_iou_loss(boxes1, boxes2, eps=1e-7):
    """The per-pair DIoU loss and IoU."""
    intsct, union = _loss_inter_union(boxes1, boxes2)
    iou = intsct / (union + eps)
    xc1, yc1, xc2, yc2 = _enclosing_box(boxes1, boxes2)
    diagonal_distance_squared = ((xc2 - xc1) ** 2) + ((yc2 - yc1) ** 2) + eps
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    centers_distance_squared = (((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2) + (((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2)
    loss = 1 - iou + (centers_distance_squared / diagonal_distance_squared)
    return loss, iou
