"""Colour v2 transforms: Grayscale, RandomGrayscale, RGB, ColorJitter, RandomChannelPermutation,
RandomPhotometricDistort and the random single adjustments (RandomInvert, RandomPosterize, ...)."""

import collections.abc

import ferrotorch

from .. import transforms as v1
from ..transforms import _uniform
from . import functional as F
from ._transform import Transform, _RandomApplyTransform
from ._utils import query_chw


class Grayscale(Transform):
    """Convert RGB images to grayscale with `num_output_channels` (1 or 3) channels."""

    def __init__(self, num_output_channels: int = 1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def transform(self, inpt, params):
        return self._call_kernel(F.rgb_to_grayscale, inpt, num_output_channels=self.num_output_channels)


class RandomGrayscale(_RandomApplyTransform):
    """With probability `p`, convert to grayscale keeping the number of channels."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__(p=p)

    def make_params(self, flat_inputs):
        num_input_channels, *_ = query_chw(flat_inputs)
        return dict(num_input_channels=num_input_channels)

    def transform(self, inpt, params):
        return self._call_kernel(F.rgb_to_grayscale, inpt, num_output_channels=params["num_input_channels"])


class ColorJitter(Transform):
    """Adjust brightness, contrast, saturation and hue by random factors, in a random order."""

    def __init__(self, brightness=None, contrast=None, saturation=None, hue=None) -> None:
        super().__init__()
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1.0, bound=(0, float("inf")), clip_first_on_zero=True):
        if value is None:
            return None
        if isinstance(value, (int, float)):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - value, center + value]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, collections.abc.Sequence) and len(value) == 2:
            value = [float(v) for v in value]
        else:
            raise TypeError(f"{name}={value} should be a single number or a sequence with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound} and increasing, but got {value}.")
        return None if value[0] == value[1] == center else (float(value[0]), float(value[1]))

    def make_params(self, flat_inputs):
        fn_idx, b, c, s, h = v1.ColorJitter.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        return dict(fn_idx=fn_idx, brightness_factor=b, contrast_factor=c, saturation_factor=s, hue_factor=h)

    def transform(self, inpt, params):
        adjust = [
            (F.adjust_brightness, params["brightness_factor"]),
            (F.adjust_contrast, params["contrast_factor"]),
            (F.adjust_saturation, params["saturation_factor"]),
            (F.adjust_hue, params["hue_factor"]),
        ]
        output = inpt
        for fn_id in params["fn_idx"].tolist():
            functional, factor = adjust[fn_id]
            if factor is not None:
                output = self._call_kernel(functional, output, factor)
        return output


class RGB(Transform):
    """Convert images to RGB (1-channel images are repeated to 3 channels; RGB images are unchanged)."""

    def transform(self, inpt, params):
        return self._call_kernel(F.grayscale_to_rgb, inpt)


class RandomChannelPermutation(Transform):
    """Shuffle the channels of the images by a random permutation."""

    def make_params(self, flat_inputs):
        num_channels, *_ = query_chw(flat_inputs)
        return dict(permutation=ferrotorch.randperm(num_channels))

    def transform(self, inpt, params):
        return self._call_kernel(F.permute_channels, inpt, params["permutation"])


class RandomPhotometricDistort(Transform):
    """SSD's photometric distortion: each of brightness, contrast, saturation and hue is adjusted with
    probability `p` by a factor drawn from its range (contrast before or after the others, at random),
    then the channels are shuffled with probability `p`."""

    def __init__(self, brightness=(0.875, 1.125), contrast=(0.5, 1.5), saturation=(0.5, 1.5), hue=(-0.05, 0.05),
                 p=0.5):  # fmt: skip
        super().__init__()
        self.brightness = brightness
        self.contrast = contrast
        self.hue = hue
        self.saturation = saturation
        self.p = p

    def make_params(self, flat_inputs):
        num_channels, *_ = query_chw(flat_inputs)
        params = {}
        for key, (low, high) in [
            ("brightness_factor", self.brightness), ("contrast_factor", self.contrast),
            ("saturation_factor", self.saturation), ("hue_factor", self.hue),
        ]:  # fmt: skip
            params[key] = _uniform(low, high) if ferrotorch.rand(1).item() < self.p else None
        params["contrast_before"] = bool(ferrotorch.rand(()).item() < 0.5)
        permute = ferrotorch.rand(1).item() < self.p
        params["channel_permutation"] = ferrotorch.randperm(num_channels) if permute else None
        return params

    def transform(self, inpt, params):
        contrast = params["contrast_factor"]
        if params["brightness_factor"] is not None:
            inpt = self._call_kernel(F.adjust_brightness, inpt, params["brightness_factor"])
        if contrast is not None and params["contrast_before"]:
            inpt = self._call_kernel(F.adjust_contrast, inpt, contrast)
        if params["saturation_factor"] is not None:
            inpt = self._call_kernel(F.adjust_saturation, inpt, params["saturation_factor"])
        if params["hue_factor"] is not None:
            inpt = self._call_kernel(F.adjust_hue, inpt, params["hue_factor"])
        if contrast is not None and not params["contrast_before"]:
            inpt = self._call_kernel(F.adjust_contrast, inpt, contrast)
        if params["channel_permutation"] is not None:
            inpt = self._call_kernel(F.permute_channels, inpt, permutation=params["channel_permutation"])
        return inpt



class RandomInvert(_RandomApplyTransform):
    """Invert the colours with probability `p`."""

    def transform(self, inpt, params):
        return self._call_kernel(F.invert, inpt)


class RandomPosterize(_RandomApplyTransform):
    """Keep `bits` bits per channel, with probability `p`."""

    def __init__(self, bits: int, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.bits = bits

    def transform(self, inpt, params):
        return self._call_kernel(F.posterize, inpt, bits=self.bits)


class RandomSolarize(_RandomApplyTransform):
    """Invert the values at or above `threshold`, with probability `p`."""

    def __init__(self, threshold: float, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.threshold = threshold

    def transform(self, inpt, params):
        return self._call_kernel(F.solarize, inpt, threshold=self.threshold)


class RandomAutocontrast(_RandomApplyTransform):
    """Stretch each channel to the full value range, with probability `p`."""

    def transform(self, inpt, params):
        return self._call_kernel(F.autocontrast, inpt)


class RandomEqualize(_RandomApplyTransform):
    """Equalise the histogram, with probability `p`."""

    def transform(self, inpt, params):
        return self._call_kernel(F.equalize, inpt)


class RandomAdjustSharpness(_RandomApplyTransform):
    """Adjust the sharpness by `sharpness_factor`, with probability `p`."""

    def __init__(self, sharpness_factor: float, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.sharpness_factor = sharpness_factor

    def transform(self, inpt, params):
        return self._call_kernel(F.adjust_sharpness, inpt, sharpness_factor=self.sharpness_factor)
