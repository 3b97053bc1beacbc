"""Bilinear sampling built from index_select, shared by roi_align, ps_roi_align and deform_conv2d.

Bilinear interpolation is separable: each axis gives two neighbouring indices and their weights,
and the four corners of a sample are the products of the two axes. The two families of kernels
differ only in their per-axis rule (``roi_align_axis`` and ``deform_axis``); the gather that
combines the corners (``corner_rows_and_weights`` + ``weighted_gather``) is shared. Weights stay in
the autograd graph, so deform_conv2d gets gradients for its offsets; the gather gets the gradient
for the input.
"""

import ferrotorch as ft


def roi_align_axis(coord, size):
    """torchvision's RoIAlign rule on one axis: a sample outside ``[-1, size]`` contributes nothing,
    one in ``[-1, 0]`` reads index 0, and one past ``size - 1`` reads the last index.

    Returns ``(low, high, w_low, w_high)``: int64 indices and weights shaped like ``coord``."""
    valid = (coord >= -1) & (coord <= size)  # False for NaN
    c = ft.where(valid, coord, 0.0).clamp(min=0)
    low = c.floor().long()
    at_end = low >= size - 1
    low = ft.where(at_end, size - 1, low)
    high = ft.where(at_end, size - 1, low + 1)
    c = ft.where(at_end, low.to(c.dtype), c)
    frac = c - low.to(c.dtype)
    mask = valid.to(c.dtype)
    return low, high, (1.0 - frac) * mask, frac * mask


def deform_axis(coord, size):
    """torchvision's deformable-convolution rule on one axis: a sample outside ``(-1, size)``
    contributes nothing and neighbours outside ``[0, size - 1]`` read as zero (zero padding).

    Returns ``(low, high, w_low, w_high)`` as ``roi_align_axis``; ``coord`` may require grad."""
    valid = (coord > -1) & (coord < size)
    c = ft.where(valid, coord, 0.0)
    low = c.detach().floor()
    frac = c - low
    low = low.long()
    high = low + 1
    low_ok = (valid & (low >= 0)).to(c.dtype)
    high_ok = (valid & (high <= size - 1)).to(c.dtype)
    return low.clamp(0, size - 1), high.clamp(0, size - 1), (1.0 - frac) * low_ok, frac * high_ok


def corner_rows_and_weights(y_axis, x_axis, base, stride_y, stride_x):
    """Row indices and weights of the four corners of each sample, stacked on a new last axis.

    ``y_axis`` / ``x_axis`` are the per-axis results of an ``*_axis`` rule and ``base`` the row of
    index (0, 0) for each sample; all broadcast together. The row of corner (i, j) is
    ``base + i * stride_y + j * stride_x``."""
    y_low, y_high, wy_low, wy_high = y_axis
    x_low, x_high, wx_low, wx_high = x_axis
    corners = [(y_low, wy_low, x_low, wx_low), (y_low, wy_low, x_high, wx_high),
               (y_high, wy_high, x_low, wx_low), (y_high, wy_high, x_high, wx_high)]
    rows = [base + iy * stride_y + ix * stride_x for iy, _, ix, _ in corners]
    weights = [wy * wx for _, wy, _, wx in corners]
    shape = ft.broadcast_shapes(*[r.shape for r in rows], *[w.shape for w in weights])
    rows = ft.stack([r.expand(*shape) for r in rows], dim=-1)
    weights = ft.stack([w.expand(*shape) for w in weights], dim=-1)
    return rows, weights


def weighted_gather(table, rows, weights):
    """``sum_s weights[..., s] * table[rows[..., s]]`` for a ``[R, C]`` table: ``[..., C]``."""
    channels = table.shape[-1]
    values = table.index_select(0, rows.reshape(-1)).reshape(*rows.shape, channels)
    return (weights.to(table.dtype).unsqueeze(-2) @ values).squeeze(-2)


def channels_last_table(input, groups, group_major=True):
    """``input`` ``[N, C, H, W]`` as a ``[N * H * W * groups, C // groups]`` table whose row
    ``((n * H + y) * W + x) * groups + g`` holds the channels of group ``g`` at pixel (y, x) of
    image n. Group ``g`` is channels ``g * C/groups ...`` (``group_major``, as convolution groups)
    or channels ``g, g + groups, ...`` (position-sensitive RoI ops)."""
    n, c, h, w = input.shape
    if group_major:
        grouped = input.reshape(n, groups, c // groups, h, w).permute(0, 3, 4, 1, 2)
    else:
        grouped = input.reshape(n, c // groups, groups, h, w).permute(0, 3, 4, 2, 1)
    return grouped.reshape(n * h * w * groups, c // groups)
