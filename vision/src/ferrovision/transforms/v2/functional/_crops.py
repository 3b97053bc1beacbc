"""`five_crop` and `ten_crop` of images and videos (the v1 kernels), returning tuples of crops."""

from PIL import Image as PILImage

from ferrotorch import Tensor

from .... import tv_tensors
from ....transforms import functional as F1
from ....tv_tensors._tv_tensor import _as_tensor
from ._utils import _dispatch, _register_kernel_internal


def five_crop(inpt, size):
    """The four corner crops and the centre crop of size `size` (h, w), as a tuple."""
    return _dispatch(five_crop, inpt, size=size)


def ten_crop(inpt, size, vertical_flip=False):
    """`five_crop` of the input and of its horizontal (or, with `vertical_flip`, vertical) flip."""
    return _dispatch(ten_crop, inpt, size=size, vertical_flip=vertical_flip)


def five_crop_image(image, size):
    return F1.five_crop(image, size)


def ten_crop_image(image, size, vertical_flip=False):
    return F1.ten_crop(image, size, vertical_flip=vertical_flip)


five_crop_video, ten_crop_video = five_crop_image, ten_crop_image


def _register_crops(functional, kernel):
    """Register `kernel` for tensors, PIL images, Images and Videos; TVTensor crops keep their type."""

    def tv_tensor_kernel(inpt, *args, **kwargs):
        return tuple(tv_tensors.wrap(crop, like=inpt) for crop in kernel(_as_tensor(inpt), *args, **kwargs))

    for input_type in (Tensor, PILImage.Image):
        _register_kernel_internal(functional, input_type)(kernel)
    for input_type in (tv_tensors.Image, tv_tensors.Video):
        _register_kernel_internal(functional, input_type, tv_tensor_wrapper=False)(tv_tensor_kernel)


_register_crops(five_crop, five_crop_image)
_register_crops(ten_crop, ten_crop_image)
