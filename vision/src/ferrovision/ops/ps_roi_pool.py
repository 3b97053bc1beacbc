"""Position-sensitive RoIPool (R-FCN): each output bin averages its own channel group."""

from ferrotorch import nn

from ._bilinear import channels_last_table, weighted_gather
from ._utils import _pair, check_position_sensitive_channels, check_roi_inputs, roi_tensor
from .roi_pool import pool_windows


def ps_roi_pool(input, boxes, output_size, spatial_scale=1.0):
    """Position-sensitive Region of Interest average pooling (R-FCN): bin (ph, pw) of output
    channel c averages input channel ``(c * PH + ph) * PW + pw`` over the bin.

    Args:
        input (Tensor[N, C, H, W]): feature maps, C a multiple of PH * PW.
        boxes (Tensor[K, 5] or List[Tensor[L, 4]]): xyxy boxes; a single tensor holds the image
            index in its first column, a list holds the boxes of image i at position i.
        output_size (int or Tuple[int, int]): (height, width) of the output in bins.
        spatial_scale (float): maps box coordinates to feature-map coordinates. Default: 1.0

    Returns:
        Tensor[K, C / (PH * PW), PH, PW]: the pooled RoIs; an empty bin is 0.
    """
    rois = roi_tensor(boxes)
    output_size = _pair(output_size)
    batch_index = check_roi_inputs(input, rois, "ps_roi_pool_forward_kernel")
    check_position_sensitive_channels(input, output_size, "ps_roi_pool_forward_kernel")
    groups = output_size[0] * output_size[1]
    # torchvision clips these windows to size - 1 (so the last row/column is never read).
    rows, inside, empty = pool_windows(input, rois, batch_index, output_size, spatial_scale, 0, 1, groups)
    area = inside.sum(dim=3, keepdim=True).clamp(min=1)
    weights = (inside & ~empty[..., None]).to(input.dtype) / area.to(input.dtype)
    out = weighted_gather(channels_last_table(input, groups, group_major=False), rows, weights)
    return out.permute(0, 3, 1, 2)


class PSRoIPool(nn.Module):
    """See :func:`ps_roi_pool`."""

    def __init__(self, output_size, spatial_scale):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input, rois):
        return ps_roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self):
        return f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale})"
