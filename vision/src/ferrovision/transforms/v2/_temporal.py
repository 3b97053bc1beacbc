"""UniformTemporalSubsample."""

import ferrotorch

from . import functional as F
from ._transform import Transform


class UniformTemporalSubsample(Transform):
    """Keep `num_samples` evenly spaced frames of the videos ``[..., T, C, H, W]``."""

    _transformed_types = (ferrotorch.Tensor,)

    def __init__(self, num_samples: int):
        super().__init__()
        self.num_samples = num_samples

    def transform(self, inpt, params):
        return self._call_kernel(F.uniform_temporal_subsample, inpt, self.num_samples)
