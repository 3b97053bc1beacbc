"""MultiScaleRoIAlign: RoIAlign over a feature pyramid, each box pooled from the level that suits
its size (FPN paper, eq. 1)."""

import math

import ferrotorch as ft
from ferrotorch import nn

from ._utils import convert_boxes_to_roi_format
from .boxes import box_area
from .roi_align import roi_align


class LevelMapper:
    """Maps each box to a pyramid level: ``floor(canonical_level + log2(sqrt(area) /
    canonical_scale) + eps)``, clamped to ``[k_min, k_max]`` and returned relative to ``k_min``."""

    def __init__(self, k_min, k_max, canonical_scale=224, canonical_level=4, eps=1e-6):
        self.k_min = k_min
        self.k_max = k_max
        self.s0 = canonical_scale
        self.lvl0 = canonical_level
        self.eps = eps

    def __call__(self, boxlists):
        """Level index (int64 ``Tensor[K]``) of every box of a list of ``Tensor[L, 4]``."""
        s = ft.sqrt(ft.cat([box_area(boxlist) for boxlist in boxlists]))
        target_lvls = ft.floor(self.lvl0 + ft.log2(s / self.s0) + ft.tensor(self.eps, dtype=s.dtype))
        target_lvls = ft.clamp(target_lvls, min=self.k_min, max=self.k_max)
        return target_lvls.to(ft.int64) - self.k_min


def initLevelMapper(k_min, k_max, canonical_scale=224, canonical_level=4, eps=1e-6):
    """A :class:`LevelMapper` (torchvision's factory name)."""
    return LevelMapper(k_min, k_max, canonical_scale, canonical_level, eps)


def _infer_scale(feature, original_size):
    # Assumes a scale of the form 2 ** -k: the nearest power of two to the size ratio.
    approx_scale = float(feature.shape[-2]) / float(original_size[0])
    return 2 ** float(round(math.log2(approx_scale)))


def _setup_scales(features, image_shapes, canonical_scale, canonical_level):
    if not image_shapes:
        raise ValueError("images list should not be empty")
    original_input_shape = (max(s[0] for s in image_shapes), max(s[1] for s in image_shapes))
    scales = [_infer_scale(feat, original_input_shape) for feat in features]
    # Each level halves the resolution of the previous one.
    lvl_min = -math.log2(scales[0])
    lvl_max = -math.log2(scales[-1])
    return scales, initLevelMapper(int(lvl_min), int(lvl_max), canonical_scale=canonical_scale,
                                   canonical_level=canonical_level)


def _filter_input(x, featmap_names):
    return [v for k, v in x.items() if k in featmap_names]


def _multiscale_roi_align(x_filtered, boxes, output_size, sampling_ratio, scales, mapper):
    if scales is None or mapper is None:
        raise ValueError("scales and mapper should not be None")
    rois = convert_boxes_to_roi_format(boxes)
    if len(x_filtered) == 1:
        return roi_align(x_filtered[0], rois, output_size=output_size, spatial_scale=scales[0],
                         sampling_ratio=sampling_ratio)
    levels = mapper(boxes)
    first = x_filtered[0]
    result = ft.zeros((rois.shape[0], first.shape[1]) + tuple(output_size), dtype=first.dtype)
    # Boxes mapped to a level without a feature map stay zero, as in torchvision.
    for level, (feature, scale) in enumerate(zip(x_filtered, scales)):
        idx_in_level = ft.nonzero(levels == level, as_tuple=True)[0]
        pooled = roi_align(feature, rois[idx_in_level], output_size=output_size, spatial_scale=scale,
                           sampling_ratio=sampling_ratio)
        result = result.index_copy(0, idx_in_level, pooled.to(result.dtype))
    return result


class MultiScaleRoIAlign(nn.Module):
    """Multi-scale RoIAlign pooling: each box is pooled from the feature map given by eq. 1 of the
    FPN paper, where ``canonical_level`` (k0 = 4) is the level for a
    ``canonical_scale x canonical_scale`` (224) box. The scales of the maps are inferred from
    their sizes relative to the images at the first call.

    Args:
        featmap_names (List[str]): the feature maps to pool from.
        output_size (int or Tuple[int, int]): size of the pooled region.
        sampling_ratio (int): sampling ratio for RoIAlign.
        canonical_scale (int, optional): canonical_scale for LevelMapper. Default: 224
        canonical_level (int, optional): canonical_level for LevelMapper. Default: 4
    """

    def __init__(self, featmap_names, output_size, sampling_ratio, *, canonical_scale=224, canonical_level=4):
        super().__init__()
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.featmap_names = featmap_names
        self.sampling_ratio = sampling_ratio
        self.output_size = tuple(output_size)
        self.scales = None
        self.map_levels = None
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level

    def forward(self, x, boxes, image_shapes):
        """Pools ``boxes`` (List[Tensor[L, 4]], xyxy in image coordinates) from the maps of ``x``
        (dict name -> Tensor[N, C, H, W]) given the image sizes (List[(height, width)])."""
        x_filtered = _filter_input(x, self.featmap_names)
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(x_filtered, image_shapes, self.canonical_scale,
                                                         self.canonical_level)
        return _multiscale_roi_align(x_filtered, boxes, self.output_size, self.sampling_ratio, self.scales,
                                     self.map_levels)

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(featmap_names={self.featmap_names}, "
            f"output_size={self.output_size}, sampling_ratio={self.sampling_ratio})"
        )
