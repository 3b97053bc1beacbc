"""The evaluation preprocessing attached to classification weights, as
`torchvision.transforms._presets.ImageClassification`, written with ferrotorch ops directly."""

from enum import Enum

import numpy as np

import ferrotorch
from ferrotorch import nn

__all__ = ["InterpolationMode", "ImageClassification"]


class InterpolationMode(Enum):
    """Interpolation methods, valued as in torchvision (only BILINEAR and BICUBIC appear in presets)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _cubic(x, a=-0.5):
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


_FILTERS = {InterpolationMode.BILINEAR: (_triangle, 1.0), InterpolationMode.BICUBIC: (_cubic, 2.0)}


def _antialias_weights(in_size, out_size, mode):
    """The (out_size, in_size) matrix of PIL's / PyTorch's antialiased resampling along one axis:
    the filter is widened by the downscale factor so every input pixel contributes."""
    kernel, support = _FILTERS[mode]
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support *= filter_scale
    weights = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_size)
        w = kernel((np.arange(lo, hi) - center + 0.5) / filter_scale)
        weights[i, lo:hi] = w / w.sum()
    return weights


def _resized_size(height, width, size):
    """torchvision's rule for ``resize(img, [size])``: the shorter edge becomes ``size``."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if width <= height else (new_short, new_long)


def _resize(img, size, mode):
    """Antialiased resize of a float ``(..., H, W)`` tensor: two matrix products."""
    height, width = img.shape[-2:]
    new_h, new_w = _resized_size(height, width, size)
    if (new_h, new_w) == (height, width):
        return img
    rows = ferrotorch.from_numpy(_antialias_weights(height, new_h, mode).astype(np.float32)).to(img.dtype)
    cols = ferrotorch.from_numpy(_antialias_weights(width, new_w, mode).T.astype(np.float32)).to(img.dtype)
    return ferrotorch.matmul(ferrotorch.matmul(rows, img), cols)


def _center_crop(img, size):
    """Central ``size x size`` crop (zero padding first when the image is smaller), as torchvision rounds it."""
    height, width = img.shape[-2:]
    if size > height or size > width:
        pad_h, pad_w = max(size - height, 0), max(size - width, 0)
        pads = [pad_w // 2, (pad_w + 1) // 2, pad_h // 2, (pad_h + 1) // 2]
        img = nn.functional.pad(img, pads)
        height, width = img.shape[-2:]
    top = int(round((height - size) / 2.0))
    left = int(round((width - size) / 2.0))
    return img[..., top:top + size, left:left + size]


def _to_tensor(img):
    """A PIL image, or a uint8/float tensor; returns (float tensor in the original value range, was_uint8)."""
    if not isinstance(img, ferrotorch.Tensor):
        array = np.asarray(img)
        array = array[:, :, None] if array.ndim == 2 else array
        img = ferrotorch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
    was_uint8 = img.dtype == ferrotorch.uint8
    return (img.to(ferrotorch.float32) if was_uint8 else img), was_uint8


class ImageClassification(nn.Module):
    """Resize the shorter edge to ``resize_size``, crop the centre ``crop_size`` square, scale to
    [0, 1] and normalize with ``mean`` / ``std``.

    Accepts a PIL image, or a ``(C, H, W)`` / ``(B, C, H, W)`` tensor (uint8 in [0, 255] or float in [0, 1]).
    Resizing is antialiased, as torchvision's default; uint8 images are rounded back to integers after
    resizing as torchvision does (its integer kernel may differ from ours by one grey level).
    """

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        img, was_uint8 = _to_tensor(img)
        img = _resize(img, self.resize_size[0], self.interpolation)
        if was_uint8:
            img = img.round().clamp(0, 255) / 255.0
        img = _center_crop(img, self.crop_size[0])
        mean = ferrotorch.tensor(self.mean, dtype=img.dtype).reshape(-1, 1, 1)
        std = ferrotorch.tensor(self.std, dtype=img.dtype).reshape(-1, 1, 1)
        return (img - mean) / std

    def __repr__(self):
        return (f"{self.__class__.__name__}(\n    crop_size={self.crop_size}\n    resize_size={self.resize_size}"
                f"\n    mean={self.mean}\n    std={self.std}\n    interpolation={self.interpolation}\n)")

    def describe(self):
        """The sentence torchvision's documentation shows for these weights."""
        return (
            "Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` objects. "
            f"The images are resized to ``resize_size={self.resize_size}`` "
            f"using ``interpolation={self.interpolation}``, "
            f"followed by a central crop of ``crop_size={self.crop_size}``. Finally the values are first rescaled to "
            f"``[0.0, 1.0]`` and then normalized using ``mean={self.mean}`` and ``std={self.std}``."
        )


