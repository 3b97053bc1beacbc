"""Position-sensitive RoIAlign (Light-Head R-CNN): RoIAlign where each bin reads its own channel
group."""

from ferrotorch import nn

from ._utils import _pair, check_position_sensitive_channels, check_roi_inputs, roi_tensor
from .roi_align import roi_bilinear_pool


def ps_roi_align(input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1):
    """Position-sensitive Region of Interest Align: bin (ph, pw) of output channel c averages
    bilinear samples of input channel ``(c * PH + ph) * PW + pw``. Boxes are shifted by -0.5
    pixel (as ``roi_align(aligned=True)``).

    Args:
        input (Tensor[N, C, H, W]): feature maps, C a multiple of PH * PW.
        boxes (Tensor[K, 5] or List[Tensor[L, 4]]): xyxy boxes; a single tensor holds the image
            index in its first column, a list holds the boxes of image i at position i.
        output_size (int or Tuple[int, int]): (height, width) of the output in bins.
        spatial_scale (float): maps box coordinates to feature-map coordinates. Default: 1.0
        sampling_ratio (int): samples per bin along each axis; <= 0 picks
            ``ceil(roi_size / output_size)`` per RoI. Default: -1

    Returns:
        Tensor[K, C / (PH * PW), PH, PW]: the pooled RoIs (differentiable w.r.t. ``input``).
    """
    rois = roi_tensor(boxes)
    output_size = _pair(output_size)
    batch_index = check_roi_inputs(input, rois, "ps_roi_align_forward_kernel")
    check_position_sensitive_channels(input, output_size, "ps_roi_align_forward_kernel")
    sums, count = roi_bilinear_pool(
        input, rois, batch_index, output_size, spatial_scale, sampling_ratio,
        offset=0.5, min_size=None, groups=output_size[0] * output_size[1],
    )
    # No clamp on the count here (torchvision divides by it as is).
    out = sums / count.to(sums.dtype)[:, None, None, None]
    return out.permute(0, 3, 1, 2)


class PSRoIAlign(nn.Module):
    """See :func:`ps_roi_align`."""

    def __init__(self, output_size, spatial_scale, sampling_ratio):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio

    def forward(self, input, rois):
        return ps_roi_align(input, rois, self.output_size, self.spatial_scale, self.sampling_ratio)

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
            f"sampling_ratio={self.sampling_ratio})"
        )
