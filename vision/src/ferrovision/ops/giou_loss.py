"""Generalized IoU loss (Rezatofighi et al., https://arxiv.org/abs/1902.09630)."""

from ._utils import _enclosing_box, _loss_inter_union, _reduce_loss, _upcast_non_float


def generalized_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    """``1 - GIoU`` of aligned pairs of xyxy boxes (``Tensor[N, 4]`` or ``Tensor[4]``): an IoU loss
    that still has a gradient when boxes do not overlap. ``reduction``: 'none' | 'mean' | 'sum'."""
    boxes1 = _upcast_non_float(boxes1)
    boxes2 = _upcast_non_float(boxes2)
    intsctk, unionk = _loss_inter_union(boxes1, boxes2)
    iouk = intsctk / (unionk + eps)
    xc1, yc1, xc2, yc2 = _enclosing_box(boxes1, boxes2)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    miouk = iouk - ((area_c - unionk) / (area_c + eps))
    return _reduce_loss(1 - miouk, reduction)
