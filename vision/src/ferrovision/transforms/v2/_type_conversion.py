"""PILToTensor, ToImage, ToPILImage and ToPureTensor."""

import numpy as np
from PIL import Image as PILImage

from ... import tv_tensors
from ...tv_tensors._tv_tensor import _as_tensor
from . import functional as F
from ._transform import Transform
from ._utils import is_pure_tensor


class PILToTensor(Transform):
    """PIL image -> ``[C, H, W]`` pure tensor of the image's dtype (no scaling)."""

    _transformed_types = (PILImage.Image,)

    def transform(self, inpt, params):
        return F.pil_to_tensor(inpt)


class ToImage(Transform):
    """Pure tensor, NumPy array (HWC) or PIL image -> `tv_tensors.Image` (no scaling)."""

    _transformed_types = (is_pure_tensor, PILImage.Image, np.ndarray)

    def transform(self, inpt, params):
        return F.to_image(inpt)


class ToPILImage(Transform):
    """Tensor, Image or NumPy array -> PIL image (of `mode`, or the one inferred)."""

    _transformed_types = (is_pure_tensor, tv_tensors.Image, np.ndarray)

    def __init__(self, mode=None) -> None:
        super().__init__()
        self.mode = mode

    def transform(self, inpt, params):
        return F.to_pil_image(inpt, mode=self.mode)


class ToPureTensor(Transform):
    """Every TVTensor -> the same data as a pure `ferrotorch.Tensor` (metadata dropped)."""

    _transformed_types = (tv_tensors.TVTensor,)

    def transform(self, inpt, params):
        return _as_tensor(inpt)
