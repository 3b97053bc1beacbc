"""`ferrovision.ops`: as `torchvision.ops`."""

from .misc import MLP, Conv2dNormActivation, FrozenBatchNorm2d, Permute, SqueezeExcitation  # noqa: F401
from .stochastic_depth import StochasticDepth, stochastic_depth  # noqa: F401
from .boxes import (  # noqa: F401
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    masks_to_boxes,
    nms,
    remove_small_boxes,
)
from .ciou_loss import complete_box_iou_loss  # noqa: F401
from .deform_conv import DeformConv2d, deform_conv2d  # noqa: F401
from .diou_loss import distance_box_iou_loss  # noqa: F401
from .feature_pyramid_network import FeaturePyramidNetwork  # noqa: F401
from .focal_loss import sigmoid_focal_loss  # noqa: F401
from .giou_loss import generalized_box_iou_loss  # noqa: F401
from .poolers import MultiScaleRoIAlign  # noqa: F401
from .ps_roi_align import PSRoIAlign, ps_roi_align  # noqa: F401
from .ps_roi_pool import PSRoIPool, ps_roi_pool  # noqa: F401
from .roi_align import RoIAlign, roi_align  # noqa: F401
from .roi_pool import RoIPool, roi_pool  # noqa: F401
