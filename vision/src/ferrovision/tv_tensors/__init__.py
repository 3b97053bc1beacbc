"""`ferrovision.tv_tensors`: as `torchvision.tv_tensors`, tensor subclasses that tell the v2 transforms
what a tensor holds (an image, a video, a mask, bounding boxes, keypoints)."""

from ._bounding_boxes import BoundingBoxes, BoundingBoxFormat, is_rotated_bounding_format
from ._image import Image, Mask, Video
from ._keypoints import KeyPoints
from ._torch_function_helpers import set_return_type
from ._tv_tensor import TVTensor, _as_subclass

__all__ = [
    "TVTensor", "Image", "Video", "Mask", "BoundingBoxes", "BoundingBoxFormat", "KeyPoints",
    "is_rotated_bounding_format", "set_return_type", "wrap",
]  # fmt: skip


def wrap(wrappee, *, like, **kwargs):
    """`wrappee` (a tensor) as the TVTensor type of `like`, with `like`'s metadata (``format``,
    ``canvas_size``, ...) unless overridden by `kwargs`."""
    wrap_method = getattr(type(like), "wrap", None)
    if wrap_method is not None:
        return wrap_method(wrappee, like, **kwargs)
    return _as_subclass(wrappee, type(like))
