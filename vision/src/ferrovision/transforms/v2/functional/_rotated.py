"""Rotated bounding boxes: the XYWHR / CXCYWHR / XYXYXYXY conversions, the rectangle kept by a
transformed box (`_parallelogram_to_bounding_boxes`) and the clamping of rotated boxes to a canvas.

Angles are in degrees, counter-clockwise on screen (y down): an XYWHR box has its first corner at
(x1, y1), its width along (cos r, -sin r) and its height along (sin r, cos r). XYXYXYXY lists the four
corners in that order. The formulas follow torchvision's, operation for operation, so that float32
results round the same way. Rotated boxes are floating point (`BoundingBoxes` refuses integer ones).
"""

import math

import ferrotorch


def _radians(degrees):
    return degrees.mul(math.pi).div(180.0)


def _half(wh):
    """|wh / -2|, as torchvision writes w / 2 (it floors negatives for integers)."""
    return wh.div(-2, rounding_mode=None if wh.is_floating_point() else "floor").abs()


def _cxcywhr_to_xywhr(boxes):
    cx, cy, w, h, r = boxes.unbind(-1)
    half_w, half_h = _half(w), _half(h)
    r_rad = _radians(r)
    cos, sin = r_rad.cos(), r_rad.sin()
    x1 = cx.sub(half_w.mul(cos)).sub(half_h.mul(sin))
    y1 = cy.add(half_w.mul(sin)).sub(half_h.mul(cos))
    return ferrotorch.stack([x1, y1, w, h, r], dim=-1)


def _xywhr_to_cxcywhr(boxes):
    x1, y1, w, h, r = boxes.unbind(-1)
    half_w, half_h = _half(w), _half(h)
    r_rad = _radians(r)
    cos, sin = r_rad.cos(), r_rad.sin()
    cx = x1.add(half_w.mul(cos)).add(half_h.mul(sin))
    cy = y1.sub(half_w.mul(sin)).add(half_h.mul(cos))
    return ferrotorch.stack([cx, cy, w, h, r], dim=-1)


def _xywhr_to_xyxyxyxy(boxes):
    x1, y1, w, h, r = boxes.unbind(-1)
    r_rad = _radians(r)
    cos, sin = r_rad.cos(), r_rad.sin()
    corners = [
        x1, y1,
        x1.add(w.mul(cos)), y1.sub(w.mul(sin)),
        x1.add(w.mul(cos).add(h.mul(sin))), y1.sub(w.mul(sin).sub(h.mul(cos))),
        x1.add(h.mul(sin)), y1.add(h.mul(cos)),
    ]  # fmt: skip
    return ferrotorch.stack(corners, dim=-1)


def _xyxyxyxy_to_xywhr(boxes):
    dtype = boxes.dtype
    need_cast = dtype not in (ferrotorch.float32, ferrotorch.float64)
    if need_cast:  # squares of float16 overflow
        boxes = boxes.to(ferrotorch.float32)
    x1, y1, x2, y2, x3, y3, _, _ = boxes.unbind(-1)
    r_rad = ferrotorch.atan2(y1.sub(y2), x2.sub(x1))
    dx21, dy21, dx32, dy32 = x2 - x1, y2 - y1, x3 - x2, y3 - y2
    w = dx21.pow(2).add(dy21.pow(2)).sqrt()
    h = dx32.pow(2).add(dy32.pow(2)).sqrt()
    out = ferrotorch.stack([x1, y1, w, h, r_rad.div(math.pi).mul(180.0)], dim=-1)
    return out.to(dtype) if need_cast else out


def _parallelogram_to_bounding_boxes(parallelogram):
    """The rectangle that keeps the two corners of the longer diagonal of each parallelogram (…, 8)."""
    original_shape, dtype = parallelogram.shape, parallelogram.dtype
    need_cast = dtype not in (ferrotorch.float32, ferrotorch.float64)
    if need_cast:
        parallelogram = parallelogram.to(ferrotorch.float32)
    x1, y1, x2, y2, x3, y3, x4, y4 = parallelogram.unbind(-1)
    cx, cy = (x1 + x3) / 2, (y1 + y3) / 2
    wp = ferrotorch.sqrt((x2 - x1).pow(2) + (y2 - y1).pow(2))
    hp = ferrotorch.sqrt((x4 - x1).pow(2) + (y4 - y1).pow(2))
    r12 = ferrotorch.atan2(y1 - y2, x2 - x1)
    r14 = ferrotorch.atan2(y1 - y4, x4 - x1)
    r_rad = r12 - r14
    sign = ferrotorch.where(r_rad > math.pi / 2, -1, 1)
    cos, sin = r_rad.cos(), r_rad.sin()
    w = ferrotorch.where(wp < hp, wp * sin, wp + hp * cos * sign)
    h = ferrotorch.where(wp > hp, hp * sin, hp + wp * cos * sign)
    r_rad = ferrotorch.where(hp > wp, r14 + math.pi / 2, r12)
    cos, sin = r_rad.cos(), r_rad.sin()
    corners = [
        cx - w / 2 * cos - h / 2 * sin, cy - h / 2 * cos + w / 2 * sin,
        cx + w / 2 * cos - h / 2 * sin, cy - h / 2 * cos - w / 2 * sin,
        cx + w / 2 * cos + h / 2 * sin, cy + h / 2 * cos - w / 2 * sin,
        cx - w / 2 * cos + h / 2 * sin, cy + h / 2 * cos + w / 2 * sin,
    ]  # fmt: skip
    out = ferrotorch.stack(corners, dim=-1).reshape(original_shape)
    return out.to(dtype) if need_cast else out


# -- clamping (torchvision's algorithm: for each of the 4 sides of the canvas, rotate so that side is
# the left one, move the corners past it along the box's edges, and rotate back)


def _order_points(boxes, indices=None):
    """Boxes (N, 8) with their corners cyclically shifted so that the first one is the leftmost (the
    topmost among equals), or shifted by the given `indices`; returns (indices, boxes)."""
    if indices is None:
        x, y = boxes[:, 0::2], boxes[:, 1::2]
        y_max = ferrotorch.max(y.abs(), dim=1, keepdim=True)[0]
        x_max = ferrotorch.max(x.abs(), dim=1, keepdim=True)[0]
        _, first = (y / y_max + (x / x_max) * 100).min(dim=1)
        indices = ferrotorch.ones_like(boxes)
        indices[..., 0] = first.mul(2).to(boxes.dtype)
        indices = indices.cumsum(1).remainder(8)
    return indices, boxes.gather(1, indices.to(ferrotorch.int64))


def _slopes_and_intercepts(boxes):
    """(a, b) of the lines y = a x + b through consecutive corners (the last back to the first)."""
    x, y = boxes[..., ::2], boxes[..., 1::2]
    a = (y.roll(-1, -1) - y) / (x.roll(-1, -1) - x)
    return a, y - a * x


def _intersections(a, b):
    """The corners where consecutive lines (the first with the last) meet, (N, 8)."""
    x = (b - b.roll(1, -1)).neg() / (a - a.roll(1, -1))
    y = a * x + b
    return ferrotorch.cat((x.unsqueeze(-1), y.unsqueeze(-1)), dim=-1).reshape(a.shape[0], 8)


def _clamp_y_intercepts(boxes, original_boxes, canvas_size, clamping_mode):
    a, b = _slopes_and_intercepts(boxes)
    a1, a2, a3, a4 = a.unbind(-1)
    b1, b2, b3, b4 = b.unbind(-1)
    b1m, b2m, b3m, b4m = _slopes_and_intercepts(original_boxes)[1].unbind(-1)
    height, width = canvas_size
    # Soft: the smallest box of the same angle around the part of the box inside the canvas.
    b1 = b2.clamp(b1, b3).clamp(0, height)
    b4 = b3.clamp(b2, b4).clamp(0, height)
    if clamping_mode == "hard":
        # Hard: the largest box of the same angle inside both the box and the canvas.
        b1 = b4 = (b1 + b4) / 2
        b2 = ferrotorch.stack(
            [b1 * a2 / a1, b3 * a2 / a3, (a1 - a2) * width + b1, (a3 - a2) * width + b3], dim=1
        ).max(dim=1)[0].clamp(max=b2)
        b3 = ferrotorch.stack(
            [height * (1 - a3 / a4) + b4 * a3 / a4, height * (1 - a3 / a2) + b2 * a3 / a2,
             (a2 - a3) * width + b2, (a4 - a3) * width + b4],
            dim=1,
        ).min(dim=1)[0].clamp(min=b3)  # fmt: skip
        # torchvision clamps b1 and b4 in place, and they are then one tensor: both get both clamps.
        b1 = b4 = b1.clamp(b1m, b3m).clamp(b2m, b4m)
        return ferrotorch.stack([b1, b2.clamp(b2m, b4m), b3.clamp(b1m, b3m), b4], dim=-1)
    return ferrotorch.stack([b1.clamp(b1m, b3m), b2.clamp(b2m, b4m), b3.clamp(b1m, b3m), b4.clamp(b2m, b4m)], dim=-1)


def _clamp_left_side(boxes, original_boxes, canvas_size, clamping_mode):
    """Move the corners of boxes (N, 8), ordered by `_order_points`, to the right of x = 0."""
    a, _ = _slopes_and_intercepts(boxes)
    x1, y1, x2, y2, x3, y3, x4, y4 = boxes.unbind(-1)
    b = _clamp_y_intercepts(boxes, original_boxes, canvas_size, clamping_mode)
    case_a = _intersections(a, b)
    columns = list(boxes.unbind(-1))
    columns[0], columns[6] = columns[0].clamp(min=0), columns[6].clamp(min=0)
    case_b = ferrotorch.stack(columns, dim=-1)
    case_c = ferrotorch.zeros_like(case_b)
    cond_a = (x1 < 0) & ~case_a.isnan().any(-1)  # the first corner is left of the canvas
    cond_b = ferrotorch.isclose(y1, y2) | ferrotorch.isclose(y3, y4)  # axis-aligned edges
    cond_c = (x1 <= 0) & (x2 <= 0) & (x3 <= 0) & (x4 <= 0)  # entirely left of the canvas, or degenerate
    cond_c = cond_c | ferrotorch.isclose(y1, y4) | ferrotorch.isclose(y2, y3) | (cond_b & ferrotorch.isclose(x1, x2))
    for cond, case in ((cond_a, case_a), (cond_b, case_b), (cond_c, case_c)):
        boxes = ferrotorch.where(cond.unsqueeze(1).repeat(1, 8), case.reshape(-1, 8), boxes)
    return boxes


def _rotate_canvas(boxes, width):
    """Corners (N, 8) after turning the canvas 90 degrees: (x, y) -> (y, width - x)."""
    x, y = boxes[:, 0::2], boxes[:, 1::2]
    return ferrotorch.stack([y, width - x], dim=-1).reshape(-1, 8)


def _clamp_xyxyxyxy(boxes, canvas_size, clamping_mode):
    """Clamp XYXYXYXY boxes (N, 8) to the canvas ("soft": around the visible part; "hard": inside it)."""
    out, original = boxes, boxes.clone()
    for _ in range(4):  # one side of the canvas at a time
        indices, out = _order_points(out)
        _, original = _order_points(original, indices)
        out = _clamp_left_side(out, original, canvas_size, clamping_mode)
        _, out = _order_points(out, indices)
        _, original = _order_points(original, indices)
        out, original = _rotate_canvas(out, canvas_size[1]), _rotate_canvas(original, canvas_size[1])
        canvas_size = (canvas_size[1], canvas_size[0])
    return out
