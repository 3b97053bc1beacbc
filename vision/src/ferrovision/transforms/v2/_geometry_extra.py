"""More geometric v2 transforms: FiveCrop, TenCrop, the random resizes of detection recipes
(ScaleJitter, RandomShortestSize, RandomResize) and ElasticTransform."""

import warnings

import ferrotorch

from ... import tv_tensors
from .. import transforms as v1
from . import functional as F
from ._geometry import _SIZE_MSG
from ._transform import Transform
from ._utils import _get_fill, _setup_fill_arg, _setup_number_or_seq, _setup_size, has_any, query_size


class _MultiCrop(Transform):
    """Shared by FiveCrop and TenCrop: images become tuples of crops; boxes and masks are refused."""

    def __init__(self, size) -> None:
        super().__init__()
        self.size = _setup_size(size, error_msg=_SIZE_MSG)

    def _call_kernel(self, functional, inpt, *args, **kwargs):
        if isinstance(inpt, (tv_tensors.BoundingBoxes, tv_tensors.KeyPoints, tv_tensors.Mask)):
            warnings.warn(
                f"{type(self).__name__}() is currently passing through inputs of type "
                f"tv_tensors.{type(inpt).__name__}. This will likely change in the future."
            )
        return super()._call_kernel(functional, inpt, *args, **kwargs)

    def check_inputs(self, flat_inputs):
        if has_any(flat_inputs, tv_tensors.BoundingBoxes, tv_tensors.Mask):
            raise TypeError(f"BoundingBoxes'es and Mask's are not supported by {type(self).__name__}()")


class FiveCrop(_MultiCrop):
    """The four corner crops and the centre crop of size `size`: each image becomes a 5-tuple."""

    def transform(self, inpt, params):
        return self._call_kernel(F.five_crop, inpt, self.size)


class TenCrop(_MultiCrop):
    """FiveCrop of the image and of its horizontal (or vertical) flip: each image becomes a 10-tuple."""

    def __init__(self, size, vertical_flip: bool = False) -> None:
        super().__init__(size)
        self.vertical_flip = vertical_flip

    def transform(self, inpt, params):
        return self._call_kernel(F.ten_crop, inpt, self.size, vertical_flip=self.vertical_flip)


class _RandomSize(Transform):
    """Shared by the random resizes: `make_params` gives the size, `transform` resizes to it with the
    subclass's `interpolation` and `antialias` (set last, so that the repr lists them last)."""

    def transform(self, inpt, params):
        return self._call_kernel(
            F.resize, inpt, size=params["size"], interpolation=self.interpolation, antialias=self.antialias
        )


class ScaleJitter(_RandomSize):
    """Resize to fit `target_size` (h, w) times a scale drawn from `scale_range` (Large Scale Jitter)."""

    def __init__(self, target_size, scale_range=(0.1, 2.0), interpolation="bilinear", antialias=True):
        super().__init__()
        self.target_size = target_size
        self.scale_range = scale_range
        self.interpolation = interpolation
        self.antialias = antialias

    def make_params(self, flat_inputs):
        orig_height, orig_width = query_size(flat_inputs)
        # A float32 tensor scale, as torchvision: the new size is truncated from float32 products.
        scale = self.scale_range[0] + ferrotorch.rand(1) * (self.scale_range[1] - self.scale_range[0])
        r = min(self.target_size[1] / orig_height, self.target_size[0] / orig_width) * scale
        return dict(size=(int(orig_height * r), int(orig_width * r)))


class RandomShortestSize(_RandomSize):
    """Resize the shorter edge to a size drawn from `min_size` (the longer edge at most `max_size`)."""

    def __init__(self, min_size, max_size=None, interpolation="bilinear", antialias=True):
        super().__init__()
        self.min_size = [min_size] if isinstance(min_size, int) else list(min_size)
        self.max_size = max_size
        self.interpolation = interpolation
        self.antialias = antialias

    def make_params(self, flat_inputs):
        orig_height, orig_width = query_size(flat_inputs)
        min_size = self.min_size[int(ferrotorch.randint(len(self.min_size), ()))]
        r = min_size / min(orig_height, orig_width)
        if self.max_size is not None:
            r = min(r, self.max_size / max(orig_height, orig_width))
        return dict(size=(int(orig_height * r), int(orig_width * r)))


class RandomResize(_RandomSize):
    """Resize the shorter edge to an integer drawn uniformly from [min_size, max_size)."""

    def __init__(self, min_size: int, max_size: int, interpolation="bilinear", antialias=True) -> None:
        super().__init__()
        self.min_size = min_size
        self.max_size = max_size
        self.interpolation = interpolation
        self.antialias = antialias

    def make_params(self, flat_inputs):
        return dict(size=[int(ferrotorch.randint(self.min_size, self.max_size, ()))])


class ElasticTransform(Transform):
    """Displace pixels (and boxes, masks, keypoints) by a random smooth field: uniform noise blurred
    with `sigma`, scaled by `alpha` (in pixels)."""

    def __init__(self, alpha=50.0, sigma=5.0, interpolation="bilinear", fill=0) -> None:
        super().__init__()
        self.alpha = _setup_number_or_seq(alpha, "alpha")
        self.sigma = _setup_number_or_seq(sigma, "sigma")
        self.interpolation = interpolation
        self.fill = fill
        self._fill = _setup_fill_arg(fill)

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        # The v1 field: the same draws, blur and scaling as torchvision's v2.
        return dict(displacement=v1.ElasticTransform.get_params(self.alpha, self.sigma, [height, width]))

    def transform(self, inpt, params):
        fill = _get_fill(self._fill, type(inpt))
        return self._call_kernel(F.elastic, inpt, **params, fill=fill, interpolation=self.interpolation)
