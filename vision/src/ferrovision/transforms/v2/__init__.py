"""`ferrovision.transforms.v2`: as `torchvision.transforms.v2`, transforms of whole samples.

A v2 transform takes any nesting of tuples, lists and dicts holding images (PIL, pure tensors,
`tv_tensors.Image`), videos, masks, bounding boxes and keypoints, draws its random parameters once, and
transforms each input with the kernel for its type, so that boxes and masks move with the image.
"""

from ..autoaugment import AutoAugmentPolicy  # noqa: F401
from ..functional import InterpolationMode  # noqa: F401
from . import functional  # noqa: F401
from ._transform import Transform  # noqa: F401
from ._augment import JPEG, RandomErasing  # noqa: F401
from ._auto_augment import AugMix, AutoAugment, RandAugment, TrivialAugmentWide  # noqa: F401
from ._color import (  # noqa: F401
    RGB, ColorJitter, Grayscale, RandomAdjustSharpness, RandomAutocontrast, RandomChannelPermutation,
    RandomEqualize, RandomGrayscale, RandomInvert, RandomPhotometricDistort, RandomPosterize, RandomSolarize,
)
from ._container import Compose, RandomApply, RandomChoice, RandomOrder  # noqa: F401
from ._geometry import (  # noqa: F401
    CenterCrop, Pad, RandomAffine, RandomCrop, RandomHorizontalFlip, RandomIoUCrop, RandomPerspective,
    RandomResizedCrop, RandomRotation, RandomVerticalFlip, RandomZoomOut, Resize,
)
from ._geometry_extra import (  # noqa: F401
    ElasticTransform, FiveCrop, RandomResize, RandomShortestSize, ScaleJitter, TenCrop,
)
from ._meta import ClampBoundingBoxes, ClampKeyPoints, ConvertBoundingBoxFormat, SetClampingMode  # noqa: F401
from ._misc import (  # noqa: F401
    ConvertImageDtype, GaussianBlur, GaussianNoise, Identity, Lambda, LinearTransformation, Normalize,
    SanitizeBoundingBoxes, SanitizeKeyPoints, ToDtype,
)
from ._mixup import CutMix, MixUp  # noqa: F401
from ._temporal import UniformTemporalSubsample  # noqa: F401
from ._type_conversion import PILToTensor, ToImage, ToPILImage, ToPureTensor  # noqa: F401
from ._utils import (  # noqa: F401
    check_type, get_bounding_boxes, get_keypoints, has_all, has_any, query_chw, query_size,
)
