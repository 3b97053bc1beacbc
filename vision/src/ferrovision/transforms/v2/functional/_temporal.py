"""`uniform_temporal_subsample`: evenly spaced frames of a video."""

import ferrotorch

from .... import tv_tensors
from ....transforms._functional_tensor import linspace
from ._utils import _dispatch, _register_kernel_internal


def uniform_temporal_subsample(inpt, num_samples):
    """`num_samples` frames of a video ``[..., T, C, H, W]`` at evenly spaced times (first and last included)."""
    return _dispatch(uniform_temporal_subsample, inpt, num_samples=num_samples)


@_register_kernel_internal(uniform_temporal_subsample, ferrotorch.Tensor)
@_register_kernel_internal(uniform_temporal_subsample, tv_tensors.Video)
def uniform_temporal_subsample_video(video, num_samples):
    t_max = video.shape[-4] - 1
    # float32 linspace truncated to integers, as torchvision (pytorchvideo's reference).
    indices = linspace(0.0, float(t_max), num_samples).long()
    return ferrotorch.index_select(video, -4, indices)
