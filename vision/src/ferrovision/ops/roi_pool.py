"""RoIPool (Fast R-CNN): max over integer-aligned bins of each RoI."""

import ferrotorch as ft
from ferrotorch import nn

from ._bilinear import channels_last_table
from ._utils import _pair, check_roi_inputs, roi_tensor
from .roi_align import _coordinate_dtype

# C++'s -FLT_MAX: the starting maximum of a non-empty bin, so values at or below it never win.
_LOWEST = -3.4028234663852886e38


def _round_half_away(x):
    """C's round(): halves away from zero (torch.round rounds them to even)."""
    return ft.sign(x) * ft.floor(x.abs() + 0.5)


def _axis_windows(start, extent, pooled, upper, dtype):
    """Integer bin windows along one axis: ``[lo, hi)`` per RoI and bin (``[K, pooled]`` each),
    from ``floor(p * bin)`` to ``ceil((p + 1) * bin)`` past ``start``, clipped to ``[0, upper]``."""
    bin_size = extent.to(dtype) / pooled
    p = ft.arange(pooled, dtype=dtype)[None, :]
    lo = ft.floor(p * bin_size[:, None]).long() + start[:, None]
    hi = ft.ceil((p + 1) * bin_size[:, None]).long() + start[:, None]
    return lo.clamp(0, upper), hi.clamp(0, upper)


def _window_positions(lo, hi, size):
    """Every pixel of every window, padded to the widest: positions ``[K, P, S]`` (clamped into
    the image) and whether each is inside its window."""
    span = max(1, int((hi - lo).max())) if lo.numel() else 1
    pos = lo[..., None] + ft.arange(span)[None, None, :]
    return pos.clamp(0, size - 1), pos < hi[..., None]


def pool_windows(input, rois, batch_index, output_size, spatial_scale, extra_pixel, upper_offset, groups=1):
    """The pixels of each bin of each RoI, as in torchvision's RoIPool kernels.

    RoI corners are rounded; ``extra_pixel`` (1 for RoIPool, 0 for PSRoIPool) is added to the
    RoI size (at least 1); windows are clipped to ``[0, size - upper_offset]``. Returns table rows
    ``[K, PH, PW, S]`` into ``channels_last_table(input, groups, group_major=False)``, their
    validity, and whether each bin is empty ``[K, PH, PW]``."""
    _, _, height, width = input.shape
    pooled_h, pooled_w = output_size
    dtype = _coordinate_dtype(input.dtype)
    corners = _round_half_away(rois.detach()[:, 1:].to(dtype) * spatial_scale).long()
    start_w, start_h, end_w, end_h = corners.unbind(1)
    roi_w = (end_w - start_w + extra_pixel).clamp(min=1)
    roi_h = (end_h - start_h + extra_pixel).clamp(min=1)
    h_lo, h_hi = _axis_windows(start_h, roi_h, pooled_h, height - upper_offset, dtype)
    w_lo, w_hi = _axis_windows(start_w, roi_w, pooled_w, width - upper_offset, dtype)
    h_pos, h_in = _window_positions(h_lo, h_hi, height)
    w_pos, w_in = _window_positions(w_lo, w_hi, width)
    k, sh, sw = h_pos.shape[0], h_pos.shape[2], w_pos.shape[2]
    base = (batch_index * (height * width * groups)).reshape(k, 1, 1, 1, 1)
    if groups > 1:
        base = base + ft.arange(pooled_h * pooled_w).reshape(1, pooled_h, pooled_w, 1, 1)
    rows = base + h_pos.reshape(k, pooled_h, 1, sh, 1) * (width * groups) + w_pos.reshape(k, 1, pooled_w, 1, sw) * groups
    inside = h_in.reshape(k, pooled_h, 1, sh, 1) & w_in.reshape(k, 1, pooled_w, 1, sw)
    empty = (h_hi <= h_lo).reshape(k, pooled_h, 1) | (w_hi <= w_lo).reshape(k, 1, pooled_w)
    return rows.reshape(k, pooled_h, pooled_w, sh * sw), inside.reshape(k, pooled_h, pooled_w, sh * sw), empty


def roi_pool(input, boxes, output_size, spatial_scale=1.0):
    """Region of Interest max pooling (Fast R-CNN).

    Args:
        input (Tensor[N, C, H, W]): feature maps.
        boxes (Tensor[K, 5] or List[Tensor[L, 4]]): xyxy boxes; a single tensor holds the image
            index in its first column, a list holds the boxes of image i at position i.
        output_size (int or Tuple[int, int]): (height, width) of the output in bins.
        spatial_scale (float): maps box coordinates to feature-map coordinates. Default: 1.0

    Returns:
        Tensor[K, C, output_size[0], output_size[1]]: the pooled RoIs; an empty bin is 0.
    """
    rois = roi_tensor(boxes)
    output_size = _pair(output_size)
    batch_index = check_roi_inputs(input, rois, "roi_pool_forward_kernel")
    rows, inside, empty = pool_windows(input, rois, batch_index, output_size, spatial_scale, 1, 0)
    table = channels_last_table(input, 1)
    k, ph, pw, s = rows.shape
    values = table.index_select(0, rows.reshape(-1)).reshape(k, ph, pw, s, table.shape[1])
    # The C++ kernel keeps the first strictly larger value, so NaN never wins.
    keys = ft.where(inside[..., None] & ~ft.isnan(values), values.detach(), float("-inf"))
    best = keys.argmax(dim=3, keepdim=True)
    out = ft.take_along_dim(values, best, dim=3).squeeze(3)
    out = ft.where(ft.take_along_dim(keys, best, dim=3).squeeze(3) > _LOWEST, out, _LOWEST)
    out = ft.where(empty[..., None], 0.0, out)
    return out.permute(0, 3, 1, 2)


class RoIPool(nn.Module):
    """See :func:`roi_pool`."""

    def __init__(self, output_size, spatial_scale):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input, rois):
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self):
        return f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale})"
