"""Complete IoU loss (Zheng et al., https://arxiv.org/abs/1911.08287)."""

import math

import ferrotorch as ft

from ._utils import _reduce_loss, _upcast_non_float
from .diou_loss import _diou_iou_loss


def complete_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    """``1 - CIoU`` of aligned pairs of xyxy boxes (``Tensor[N, 4]`` or ``Tensor[4]``): the DIoU
    loss plus an aspect-ratio consistency term. ``reduction``: 'none' | 'mean' | 'sum'."""
    boxes1 = _upcast_non_float(boxes1)
    boxes2 = _upcast_non_float(boxes2)
    # torchvision passes no eps here: the DIoU part always uses the default.
    diou_loss, iou = _diou_iou_loss(boxes1, boxes2)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    v = (4 / (math.pi**2)) * ft.pow(ft.atan((x2g - x1g) / (y2g - y1g)) - ft.atan((x2 - x1) / (y2 - y1)), 2)
    with ft.no_grad():
        alpha = v / (1 - iou + v + eps)
    return _reduce_loss(diou_loss + alpha * v, reduction)
