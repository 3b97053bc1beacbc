"""RoIAlign (Mask R-CNN): average of bilinearly interpolated samples in each bin of each RoI."""

import ferrotorch as ft
from ferrotorch import nn

from ._bilinear import channels_last_table, corner_rows_and_weights, roi_align_axis, weighted_gather
from ._utils import _pair, check_roi_inputs, roi_tensor


def _coordinate_dtype(dtype):
    # Sample positions are computed in the input's precision, as the C++ kernels do (float32 for
    # the half types).
    return dtype if dtype in (ft.float32, ft.float64) else ft.float32


def roi_sample_axis(start, extent, pooled, sampling_ratio):
    """Sample positions along one axis of every RoI, as torchvision's RoI kernels place them:
    ``grid`` samples per bin (``sampling_ratio``, or ``ceil(extent / pooled)`` when it is <= 0),
    each at the centre of its sub-bin.

    Args:
        start, extent (Tensor[K]): where each RoI starts and its length, in feature-map pixels.
    Returns:
        coords (Tensor[K, pooled, G]), in_grid (bool Tensor[K, G]: which of the G slots are used
        by that RoI; G is the largest grid), grid (Tensor[K], float)."""
    bin_size = extent / pooled
    if sampling_ratio > 0:
        grid = ft.full_like(extent, float(sampling_ratio))
        slots = sampling_ratio
    else:
        # C++ truncates ceil() to int, so NaN/inf extents become empty grids there.
        grid = ft.where(ft.isfinite(extent), ft.ceil(extent / pooled), 0.0)
        slots = max(1, int(grid.max())) if grid.numel() else 1
    index = ft.arange(slots, dtype=extent.dtype)
    in_grid = index[None, :] < grid[:, None]
    coords = (
        start[:, None, None]
        + ft.arange(pooled, dtype=extent.dtype)[None, :, None] * bin_size[:, None, None]
        + (index[None, None, :] + 0.5) * bin_size[:, None, None] / grid[:, None, None]
    )
    return coords, in_grid, grid


def roi_bilinear_pool(input, rois, batch_index, output_size, spatial_scale, sampling_ratio, offset, min_size,
                      groups=1):
    """Sum of the bilinear samples of each bin: ``[K, PH, PW, C // groups]``, and the grid sizes.

    ``offset`` is subtracted from the scaled box corners; ``min_size`` (or None) is the smallest
    RoI side. With ``groups > 1`` (position-sensitive), bin (ph, pw) reads channel group
    ``ph * PW + pw``."""
    n, c, height, width = input.shape
    pooled_h, pooled_w = output_size
    boxes = rois.detach()[:, 1:].to(_coordinate_dtype(input.dtype)) * spatial_scale - offset
    start_w, start_h, end_w, end_h = boxes.unbind(1)
    roi_w, roi_h = end_w - start_w, end_h - start_h
    if min_size is not None:
        roi_w, roi_h = roi_w.clamp(min=min_size), roi_h.clamp(min=min_size)
    y, y_in, grid_h = roi_sample_axis(start_h, roi_h, pooled_h, sampling_ratio)
    x, x_in, grid_w = roi_sample_axis(start_w, roi_w, pooled_w, sampling_ratio)
    k, gy, gx = y.shape[0], y.shape[2], x.shape[2]
    y_low, y_high, wy_low, wy_high = roi_align_axis(y, height)
    x_low, x_high, wx_low, wx_high = roi_align_axis(x, width)
    y_mask, x_mask = y_in[:, None, :].to(y.dtype), x_in[:, None, :].to(x.dtype)
    y_axis = [t.reshape(k, pooled_h, 1, gy, 1) for t in (y_low, y_high, wy_low * y_mask, wy_high * y_mask)]
    x_axis = [t.reshape(k, 1, pooled_w, 1, gx) for t in (x_low, x_high, wx_low * x_mask, wx_high * x_mask)]
    base = (batch_index * (height * width * groups)).reshape(k, 1, 1, 1, 1)
    if groups > 1:
        base = base + ft.arange(pooled_h * pooled_w).reshape(1, pooled_h, pooled_w, 1, 1)
    rows, weights = corner_rows_and_weights(y_axis, x_axis, base, width * groups, groups)
    table = channels_last_table(input, groups, group_major=False)
    samples = (k, pooled_h, pooled_w, gy * gx * 4)
    sums = weighted_gather(table, rows.reshape(*samples), weights.reshape(*samples))
    return sums, grid_h * grid_w


def roi_align(input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    """Region of Interest Align (Mask R-CNN) with average pooling.

    Args:
        input (Tensor[N, C, H, W]): feature maps.
        boxes (Tensor[K, 5] or List[Tensor[L, 4]]): xyxy boxes; a single tensor holds the image
            index in its first column, a list holds the boxes of image i at position i.
        output_size (int or Tuple[int, int]): (height, width) of the output in bins.
        spatial_scale (float): maps box coordinates to feature-map coordinates. Default: 1.0
        sampling_ratio (int): samples per bin along each axis; <= 0 picks
            ``ceil(roi_size / output_size)`` per RoI. Default: -1
        aligned (bool): shift the boxes by -0.5 pixel so that samples align with pixel centres
            (Detectron2); False keeps the legacy behaviour, which also makes every RoI at least
            1x1. Default: False

    Returns:
        Tensor[K, C, output_size[0], output_size[1]]: the pooled RoIs (differentiable w.r.t.
        ``input``).
    """
    rois = roi_tensor(boxes)
    output_size = _pair(output_size)
    batch_index = check_roi_inputs(input, rois, "roi_align_forward_kernel")
    sums, count = roi_bilinear_pool(
        input, rois, batch_index, output_size, spatial_scale, sampling_ratio,
        offset=0.5 if aligned else 0.0, min_size=None if aligned else 1.0,
    )
    out = sums / count.clamp(min=1).to(sums.dtype)[:, None, None, None]
    return out.permute(0, 3, 1, 2)


class RoIAlign(nn.Module):
    """See :func:`roi_align`."""

    def __init__(self, output_size, spatial_scale, sampling_ratio, aligned=False):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input, rois):
        return roi_align(input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned)

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
            f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned})"
        )
