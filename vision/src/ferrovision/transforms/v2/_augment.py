"""RandomErasing and JPEG (MixUp and CutMix are in _mixup.py)."""

import numbers
import warnings
from collections.abc import Sequence

import ferrotorch

from ... import tv_tensors
from .. import transforms as v1
from . import functional as F
from ._geometry import _shaped
from ._transform import Transform, _RandomApplyTransform
from ._utils import _check_sequence_input, query_chw


class RandomErasing(_RandomApplyTransform):
    """With probability `p`, set a random rectangle (area fraction in `scale`, aspect ratio in `ratio`)
    of the images to `value` (a number, one per channel, or "random" for standard normal noise)."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, inplace=False):
        super().__init__(p=p)
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        self.scale = scale
        self.ratio = ratio
        if isinstance(value, (int, float)):
            self.value = [float(value)]
        elif isinstance(value, str):
            self.value = None
        else:
            self.value = [float(v) for v in value]
        self.inplace = inplace

    def _call_kernel(self, functional, inpt, *args, **kwargs):
        if isinstance(inpt, (tv_tensors.BoundingBoxes, tv_tensors.KeyPoints, tv_tensors.Mask)):
            warnings.warn(
                f"{type(self).__name__}() is currently passing through inputs of type "
                f"tv_tensors.{type(inpt).__name__}. This will likely change in the future."
            )
        return super()._call_kernel(functional, inpt, *args, **kwargs)

    def make_params(self, flat_inputs):
        img_c, img_h, img_w = query_chw(flat_inputs)
        if self.value is not None and len(self.value) not in (1, img_c):
            raise ValueError(
                f"If value is a sequence, it should have either a single value or {img_c} (number of inpt channels)"
            )
        i, j, h, w, v = v1.RandomErasing.get_params(_shaped(img_c, img_h, img_w), self.scale, self.ratio, self.value)
        if (h, w) == (img_h, img_w):  # no rectangle fitted in 10 tries: nothing to erase
            v = None
        return dict(i=i, j=j, h=h, w=w, v=v)

    def transform(self, inpt, params):
        if params["v"] is not None:
            inpt = self._call_kernel(F.erase, inpt, **params, inplace=self.inplace)
        return inpt


class JPEG(Transform):
    """JPEG-compress the images at a quality drawn uniformly from `quality` (an int, or (min, max) in
    [1, 100]) and decode them back (Pillow's codec; torchvision uses libjpeg directly)."""

    def __init__(self, quality):
        super().__init__()
        if isinstance(quality, int):
            if isinstance(quality, bool):
                raise TypeError("quality can't be bool")
            quality = [quality, quality]
        else:
            _check_sequence_input(quality, "quality", req_sizes=(2,))
        if not (1 <= quality[0] <= quality[1] <= 100 and isinstance(quality[0], int) and isinstance(quality[1], int)):
            raise ValueError(f"quality must be an integer from 1 to 100, got {quality =}")
        self.quality = quality

    def make_params(self, flat_inputs):
        return dict(quality=ferrotorch.randint(self.quality[0], self.quality[1] + 1, ()).item())

    def transform(self, inpt, params):
        return self._call_kernel(F.jpeg, inpt, quality=params["quality"])
