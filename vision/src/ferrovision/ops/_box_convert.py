"""Conversions between the xyxy, xywh and cxcywh box formats (last dimension of size 4)."""

import ferrotorch as ft


def _box_cxcywh_to_xyxy(boxes):
    """(cx, cy, w, h) -> (x1, y1, x2, y2)."""
    cx, cy, w, h = boxes.unbind(-1)
    return ft.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)


def _box_xyxy_to_cxcywh(boxes):
    """(x1, y1, x2, y2) -> (cx, cy, w, h)."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return ft.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def _box_xywh_to_xyxy(boxes):
    """(x, y, w, h) -> (x1, y1, x2, y2)."""
    x, y, w, h = boxes.unbind(-1)
    return ft.stack((x, y, x + w, y + h), dim=-1)


def _box_xyxy_to_xywh(boxes):
    """(x1, y1, x2, y2) -> (x, y, w, h)."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return ft.stack((x1, y1, x2 - x1, y2 - y1), dim=-1)
