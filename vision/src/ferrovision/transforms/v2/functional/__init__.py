"""`ferrovision.transforms.v2.functional`: as `torchvision.transforms.v2.functional`.

Each functional (``resize``, ``crop``, ``horizontal_flip``, ...) dispatches on its input's type to a
kernel: pure tensors and `tv_tensors.Image`/`Video` and PIL images go to the image kernels (the v1
functional kernels), `Mask` to the mask kernels (nearest interpolation), `BoundingBoxes` to the box
kernels, which also update ``canvas_size``. The per-type kernels are public too (``resize_image``,
``resize_mask``, ``resize_bounding_boxes``, ...), and `register_kernel` adds kernels for custom TVTensors.
"""

from ....transforms.functional import InterpolationMode  # noqa: F401
from ._utils import is_pure_tensor, register_kernel  # noqa: F401  (first: the others register into it)
from ._meta import (  # noqa: F401
    clamp_bounding_boxes, clamp_keypoints, convert_bounding_box_format, get_dimensions, get_dimensions_image,
    get_dimensions_video, get_image_num_channels, get_num_channels, get_num_channels_image, get_num_channels_video,
    get_num_frames, get_num_frames_video, get_size, get_size_bounding_boxes, get_size_image, get_size_keypoints,
    get_size_mask, get_size_video,
)
from ._geometry import (  # noqa: F401
    center_crop, center_crop_bounding_boxes, center_crop_image, center_crop_mask, center_crop_video, crop,
    crop_bounding_boxes, crop_image, crop_mask, crop_video, hflip, horizontal_flip, horizontal_flip_bounding_boxes,
    horizontal_flip_image, horizontal_flip_mask, horizontal_flip_video, pad, pad_bounding_boxes, pad_image, pad_mask,
    pad_video, resize, resize_bounding_boxes, resize_image, resize_mask, resize_video, resized_crop,
    resized_crop_bounding_boxes, resized_crop_image, resized_crop_mask, resized_crop_video, vertical_flip,
    vertical_flip_bounding_boxes, vertical_flip_image, vertical_flip_mask, vertical_flip_video, vflip,
)
from ._affine import (  # noqa: F401
    affine, affine_bounding_boxes, affine_image, affine_mask, affine_video, perspective, perspective_bounding_boxes,
    perspective_image, perspective_mask, perspective_video, rotate, rotate_bounding_boxes, rotate_image, rotate_mask,
    rotate_video,
)
from ._color import (  # noqa: F401
    adjust_brightness, adjust_brightness_image, adjust_brightness_video, adjust_contrast, adjust_contrast_image,
    adjust_contrast_video, adjust_gamma, adjust_gamma_image, adjust_gamma_video, adjust_hue, adjust_hue_image,
    adjust_hue_video, adjust_saturation, adjust_saturation_image, adjust_saturation_video, adjust_sharpness,
    adjust_sharpness_image, adjust_sharpness_video, autocontrast, autocontrast_image, autocontrast_video, equalize,
    equalize_image, equalize_video, grayscale_to_rgb, grayscale_to_rgb_image, invert, invert_image, invert_video,
    permute_channels, permute_channels_image, permute_channels_video, posterize, posterize_image, posterize_video,
    rgb_to_grayscale, rgb_to_grayscale_image, solarize, solarize_image, solarize_video, to_grayscale,
)
from ._misc import (  # noqa: F401
    convert_image_dtype, erase, erase_image, erase_video, gaussian_blur, gaussian_blur_image, gaussian_blur_video,
    gaussian_noise, gaussian_noise_image, gaussian_noise_video, jpeg, jpeg_image, jpeg_video, normalize,
    normalize_image, normalize_video, pil_to_tensor, sanitize_bounding_boxes, sanitize_keypoints, to_dtype,
    to_dtype_image, to_dtype_video, to_image, to_pil_image,
)
from ._keypoints import (  # noqa: F401
    affine_keypoints, center_crop_keypoints, crop_keypoints, horizontal_flip_keypoints, pad_keypoints,
    perspective_keypoints, resize_keypoints, resized_crop_keypoints, rotate_keypoints, vertical_flip_keypoints,
)
from ._elastic import (  # noqa: F401
    elastic, elastic_bounding_boxes, elastic_image, elastic_keypoints, elastic_mask, elastic_transform,
    elastic_video,
)
from ._crops import five_crop, five_crop_image, five_crop_video, ten_crop, ten_crop_image, ten_crop_video  # noqa: F401
from ._temporal import uniform_temporal_subsample, uniform_temporal_subsample_video  # noqa: F401
