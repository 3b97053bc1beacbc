"""`ferrovision.transforms.v2`: as `torchvision.transforms.v2`, transforms of whole samples.

A v2 transform takes any nesting of tuples, lists and dicts holding images (PIL, pure tensors,
`tv_tensors.Image`), videos, masks, bounding boxes and keypoints, draws its random parameters once, and
transforms each input with the kernel for its type, so that boxes and masks move with the image.
"""

from ..functional import InterpolationMode  # noqa: F401
from . import functional  # noqa: F401
from ._transform import Transform  # noqa: F401
from ._augment import RandomErasing  # noqa: F401
from ._color import ColorJitter, Grayscale, RandomGrayscale  # noqa: F401
from ._container import Compose, RandomApply, RandomChoice, RandomOrder  # noqa: F401
from ._geometry import (  # noqa: F401
    CenterCrop, Pad, RandomAffine, RandomCrop, RandomHorizontalFlip, RandomIoUCrop, RandomPerspective,
    RandomResizedCrop, RandomRotation, RandomVerticalFlip, RandomZoomOut, Resize,
)
from ._meta import ClampBoundingBoxes, ClampKeyPoints, ConvertBoundingBoxFormat, SetClampingMode  # noqa: F401
from ._misc import (  # noqa: F401
    ConvertImageDtype, GaussianBlur, Identity, Lambda, Normalize, SanitizeBoundingBoxes, ToDtype,
)
from ._type_conversion import PILToTensor, ToImage, ToPILImage, ToPureTensor  # noqa: F401
