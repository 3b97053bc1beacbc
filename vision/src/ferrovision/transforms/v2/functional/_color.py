"""Colour adjustments of images and videos (tensors and PIL), through the v1 kernels."""

from PIL import Image as PILImage

from ferrotorch import Tensor

from ....transforms import _functional_pil as F_pil
from ....transforms import functional as F1
from ._geometry import _register_image
from ._utils import _dispatch, _register_kernel_internal


def rgb_to_grayscale(inpt, num_output_channels=1):
    """ITU-R 601-2 luma of an RGB image, with 1 or 3 output channels (a 1-channel image is copied)."""
    return _dispatch(rgb_to_grayscale, inpt, num_output_channels=num_output_channels)


def rgb_to_grayscale_image(image, num_output_channels=1):
    if num_output_channels not in (1, 3):
        raise ValueError(f"num_output_channels must be 1 or 3, got {num_output_channels}.")
    if image.shape[-3] == 1:
        if num_output_channels == 1:
            return image.clone()
        repeats = [1] * image.ndim
        repeats[-3] = 3
        return image.repeat(repeats)
    r, g, b = image.unbind(dim=-3)
    luma = r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze(dim=-3).to(image.dtype)
    return luma.expand(image.shape) if num_output_channels == 3 else luma


@_register_kernel_internal(rgb_to_grayscale, PILImage.Image)
def _rgb_to_grayscale_image_pil(image, num_output_channels=1):
    if num_output_channels not in (1, 3):
        raise ValueError(f"num_output_channels must be 1 or 3, got {num_output_channels}.")
    return F_pil.to_grayscale(image, num_output_channels=num_output_channels)


_register_image(rgb_to_grayscale, rgb_to_grayscale_image, video=False)
to_grayscale = rgb_to_grayscale


def grayscale_to_rgb(inpt):
    """Repeat a 1-channel image to 3 channels (RGB images are returned as they are)."""
    return _dispatch(grayscale_to_rgb, inpt)


def grayscale_to_rgb_image(image):
    if image.shape[-3] >= 3:
        return image
    return rgb_to_grayscale_image(image, num_output_channels=3)


@_register_kernel_internal(grayscale_to_rgb, PILImage.Image)
def _grayscale_to_rgb_image_pil(image):
    return image.convert(mode="RGB")


_register_image(grayscale_to_rgb, grayscale_to_rgb_image, video=False)


def _v1_functional(v1_kernel):
    """A v2 functional whose image, video and PIL kernel is the v1 function `v1_kernel` (same name and doc)."""

    def functional(inpt, *args, **kwargs):
        return _dispatch(functional, inpt, *args, **kwargs)

    functional.__name__ = functional.__qualname__ = v1_kernel.__name__
    functional.__doc__ = v1_kernel.__doc__
    functional.__module__ = __name__
    _register_image(functional, v1_kernel)
    _register_kernel_internal(functional, PILImage.Image)(v1_kernel)
    return functional


adjust_brightness = _v1_functional(F1.adjust_brightness)
adjust_contrast = _v1_functional(F1.adjust_contrast)
adjust_saturation = _v1_functional(F1.adjust_saturation)
adjust_hue = _v1_functional(F1.adjust_hue)
adjust_gamma = _v1_functional(F1.adjust_gamma)
adjust_sharpness = _v1_functional(F1.adjust_sharpness)
invert = _v1_functional(F1.invert)
posterize = _v1_functional(F1.posterize)
solarize = _v1_functional(F1.solarize)
autocontrast = _v1_functional(F1.autocontrast)
equalize = _v1_functional(F1.equalize)
adjust_brightness_image = adjust_brightness_video = F1.adjust_brightness
adjust_contrast_image = adjust_contrast_video = F1.adjust_contrast
adjust_saturation_image = adjust_saturation_video = F1.adjust_saturation
adjust_hue_image = adjust_hue_video = F1.adjust_hue
adjust_gamma_image = adjust_gamma_video = F1.adjust_gamma
adjust_sharpness_image = adjust_sharpness_video = F1.adjust_sharpness
invert_image = invert_video = F1.invert
posterize_image = posterize_video = F1.posterize
solarize_image = solarize_video = F1.solarize
autocontrast_image = autocontrast_video = F1.autocontrast
equalize_image = equalize_video = F1.equalize


def permute_channels(inpt, permutation):
    """Reorder the channels: output channel i is input channel permutation[i]."""
    return _dispatch(permute_channels, inpt, permutation=permutation)


def permute_channels_image(image, permutation):
    if isinstance(image, Tensor):
        return image[..., list(permutation) if not isinstance(permutation, Tensor) else permutation, :, :]
    return F1.to_pil_image(permute_channels_image(F1.pil_to_tensor(image), permutation), mode=image.mode)


_register_image(permute_channels, permute_channels_image)
permute_channels_video = permute_channels_image
_register_kernel_internal(permute_channels, PILImage.Image)(permute_channels_image)
