"""ConvertBoundingBoxFormat, ClampBoundingBoxes, ClampKeyPoints and SetClampingMode."""

from ... import tv_tensors
from . import functional as F
from ._transform import Transform


class ConvertBoundingBoxFormat(Transform):
    """Convert the BoundingBoxes of a sample to `format` (a BoundingBoxFormat or its name)."""

    _transformed_types = (tv_tensors.BoundingBoxes,)

    def __init__(self, format) -> None:
        super().__init__()
        self.format = format

    def transform(self, inpt, params):
        return F.convert_bounding_box_format(inpt, new_format=self.format)


class ClampBoundingBoxes(Transform):
    """Clamp the BoundingBoxes of a sample to their canvas ("auto": each box set's own clamping_mode)."""

    _transformed_types = (tv_tensors.BoundingBoxes,)

    def __init__(self, clamping_mode="auto") -> None:
        super().__init__()
        self.clamping_mode = clamping_mode

    def transform(self, inpt, params):
        return F.clamp_bounding_boxes(inpt, clamping_mode=self.clamping_mode)


class ClampKeyPoints(Transform):
    """Clamp the KeyPoints of a sample to their canvas."""

    _transformed_types = (tv_tensors.KeyPoints,)

    def transform(self, inpt, params):
        return F.clamp_keypoints(inpt)


class SetClampingMode(Transform):
    """Set the clamping_mode ("soft", "hard" or None) of the BoundingBoxes of a sample."""

    _transformed_types = (tv_tensors.BoundingBoxes,)

    def __init__(self, clamping_mode) -> None:
        super().__init__()
        self.clamping_mode = clamping_mode
        if self.clamping_mode not in (None, "soft", "hard"):
            raise ValueError(f"clamping_mode must be soft, hard or None, got {clamping_mode}")

    def transform(self, inpt, params):
        out = inpt.clone()
        out.clamping_mode = self.clamping_mode
        return out
