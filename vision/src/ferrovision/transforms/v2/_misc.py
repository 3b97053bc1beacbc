"""Lambda, Identity, Normalize, GaussianBlur, GaussianNoise, ToDtype, ConvertImageDtype, LinearTransformation,
SanitizeBoundingBoxes, SanitizeKeyPoints."""

import warnings
from collections.abc import Mapping

import ferrotorch
from PIL import Image as PILImage

from ... import tv_tensors
from .. import transforms as v1
from . import functional as F
from ._pytree import tree_flatten, tree_unflatten
from ._transform import Transform
from ._utils import _setup_number_or_seq, _setup_size, get_bounding_boxes, get_keypoints, has_any, is_pure_tensor


class Identity(Transform):
    """Return the sample unchanged."""

    def transform(self, inpt, params):
        return inpt


class Lambda(Transform):
    """Apply `lambd` to the inputs that are instances of `types` (default: everything)."""

    _transformed_types = (object,)

    def __init__(self, lambd, *types):
        super().__init__()
        self.lambd = lambd
        self.types = types or self._transformed_types

    def transform(self, inpt, params):
        return self.lambd(inpt) if isinstance(inpt, self.types) else inpt

    def extra_repr(self) -> str:
        extras = []
        name = getattr(self.lambd, "__name__", None)
        if name:
            extras.append(name)
        extras.append(f"types={[type.__name__ for type in self.types]}")
        return ", ".join(extras)


def _reject_pil(transform, flat_inputs):
    if has_any(flat_inputs, PILImage.Image):
        raise TypeError(f"{type(transform).__name__}() does not support PIL images.")


class Normalize(Transform):
    """(image - mean) / std per channel, for float tensor images and videos."""

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = list(mean)
        self.std = list(std)
        self.inplace = inplace

    def check_inputs(self, flat_inputs):
        _reject_pil(self, flat_inputs)

    def transform(self, inpt, params):
        return self._call_kernel(F.normalize, inpt, mean=self.mean, std=self.std, inplace=self.inplace)


class GaussianBlur(Transform):
    """Gaussian blur with a sigma drawn uniformly from `sigma` (min, max)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)) -> None:
        super().__init__()
        self.kernel_size = _setup_size(kernel_size, "Kernel size should be a tuple/list of two integers")
        for ks in self.kernel_size:
            if ks <= 0 or ks % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        self.sigma = _setup_number_or_seq(sigma, "sigma")
        if not 0.0 < self.sigma[0] <= self.sigma[1]:
            raise ValueError(f"sigma values should be positive and of the form (min, max). Got {self.sigma}")

    def make_params(self, flat_inputs):
        sigma = v1.GaussianBlur.get_params(self.sigma[0], self.sigma[1])
        return dict(sigma=[sigma, sigma])

    def transform(self, inpt, params):
        return self._call_kernel(F.gaussian_blur, inpt, self.kernel_size, **params)


class ToDtype(Transform):
    """Convert to `dtype` (one dtype for images and videos, or a dict {type or "others": dtype or None});
    with `scale`, image values are rescaled to the new dtype's range."""

    _transformed_types = (ferrotorch.Tensor,)

    def __init__(self, dtype, scale=False) -> None:
        super().__init__()
        if not isinstance(dtype, (dict, ferrotorch.dtype)):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} instead")
        if isinstance(dtype, dict) and ferrotorch.Tensor in dtype and any(
            cls in dtype for cls in [tv_tensors.Image, tv_tensors.Video]
        ):
            warnings.warn(
                "Got `dtype` values for `torch.Tensor` and either `tv_tensors.Image` or `tv_tensors.Video`. "
                "Note that a plain `torch.Tensor` will *not* be transformed by this (or any other transformation) "
                "in case a `tv_tensors.Image` or `tv_tensors.Video` is present in the input."
            )
        self.dtype = dtype
        self.scale = scale

    def transform(self, inpt, params):
        is_image_like = is_pure_tensor(inpt) or isinstance(inpt, (tv_tensors.Image, tv_tensors.Video))
        if isinstance(self.dtype, ferrotorch.dtype):
            if not is_image_like:
                return inpt
            dtype = self.dtype
        elif type(inpt) in self.dtype:
            dtype = self.dtype[type(inpt)]
        elif "others" in self.dtype:
            dtype = self.dtype["others"]
        else:
            raise ValueError(
                f"No dtype was specified for type {type(inpt)}. "
                "If you only need to convert the dtype of images or videos, you can just pass e.g. "
                "dtype=torch.float32. If you're passing a dict as dtype, you can use \"others\" as a catch-all key "
                'e.g. dtype={tv_tensors.Mask: torch.int64, "others": None} to pass-through the rest of the inputs.'
            )
        if dtype is None:
            if self.scale and is_image_like:
                warnings.warn(
                    "scale was set to True but no dtype was specified for images or videos: no scaling will be done."
                )
            return inpt
        return self._call_kernel(F.to_dtype, inpt, dtype=dtype, scale=self.scale)


class ConvertImageDtype(Transform):
    """`ToDtype(dtype, scale=True)` for images (kept for compatibility)."""

    def __init__(self, dtype=ferrotorch.float32) -> None:
        super().__init__()
        self.dtype = dtype

    def transform(self, inpt, params):
        return self._call_kernel(F.to_dtype, inpt, dtype=self.dtype, scale=True)


def _find_labels_default_heuristic(inputs):
    """The labels of a sample: the second item of a (img, labels) pair, or the "labels"-like key of a
    dict (alone or second in a pair)."""
    if isinstance(inputs, (tuple, list)):
        inputs = inputs[1]
    if is_pure_tensor(inputs):
        return inputs
    if not isinstance(inputs, Mapping):
        raise ValueError(
            "When using the default labels_getter, the input passed to forward must be a dictionary or a two-tuple "
            f"whose second item is a dictionary or a tensor, but got {inputs} instead."
        )
    candidate_key = next((key for key in inputs.keys() if key.lower() == "labels"), None)
    if candidate_key is None:
        candidate_key = next((key for key in inputs.keys() if "label" in key.lower()), None)
    if candidate_key is None:
        raise ValueError(
            "Could not infer where the labels are in the sample. Try passing a callable as the labels_getter parameter?"
            "If there are no labels in the sample by design, pass labels_getter=None."
        )
    return inputs[candidate_key]


def _parse_labels_getter(labels_getter):
    if labels_getter == "default":
        return _find_labels_default_heuristic
    if callable(labels_getter):
        return labels_getter
    if labels_getter is None:
        return lambda _: None
    raise ValueError(f"labels_getter should either be 'default', a callable, or None, but got {labels_getter}.")


class SanitizeBoundingBoxes(Transform):
    """Remove degenerate boxes (smaller than `min_size` or `min_area`, or outside the canvas), and the
    matching entries of the labels and masks."""

    def __init__(self, min_size=1.0, min_area=1.0, labels_getter="default") -> None:
        super().__init__()
        if min_size < 1:
            raise ValueError(f"min_size must be >= 1, got {min_size}.")
        self.min_size = min_size
        if min_area < 1:
            raise ValueError(f"min_area must be >= 1, got {min_area}.")
        self.min_area = min_area
        self.labels_getter = labels_getter
        self._labels_getter = _parse_labels_getter(labels_getter)

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        labels = self._labels_getter(inputs)
        if labels is not None:
            msg = "The labels in the input to forward() must be a tensor or None, got {type} instead."
            if isinstance(labels, ferrotorch.Tensor):
                labels = (labels,)
            elif isinstance(labels, (tuple, list)):
                for entry in labels:
                    if not isinstance(entry, ferrotorch.Tensor):
                        raise ValueError(msg.format(type=type(entry)))
            else:
                raise ValueError(msg.format(type=type(labels)))
        flat_inputs, spec = tree_flatten(inputs)
        boxes = get_bounding_boxes(flat_inputs)
        if labels is not None:
            for label in labels:
                if boxes.shape[0] != label.shape[0]:
                    raise ValueError(
                        f"Number of boxes (shape={boxes.shape}) and must match the number of labels."
                        f"Found labels with shape={label.shape})."
                    )
        valid = F._misc._get_sanitize_bounding_boxes_mask(
            tv_tensors._tv_tensor._as_tensor(boxes), boxes.format, boxes.canvas_size, self.min_size, self.min_area
        )
        params = dict(valid=valid, labels=labels)
        return tree_unflatten([self.transform(inpt, params) for inpt in flat_inputs], spec)

    def transform(self, inpt, params):
        is_label = params["labels"] is not None and any(inpt is label for label in params["labels"])
        is_bounding_boxes_or_mask = isinstance(inpt, (tv_tensors.BoundingBoxes, tv_tensors.Mask))
        if not (is_label or is_bounding_boxes_or_mask):
            return inpt
        try:
            output = inpt[params["valid"]]
        except IndexError:
            return inpt
        return output if is_label else tv_tensors.wrap(output, like=inpt)


class GaussianNoise(Transform):
    """Add Gaussian noise N(mean, sigma) to float images in [0, 1] (uint8 images: scaled by 255), clipped
    to the value range when `clip`."""

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip=True) -> None:
        super().__init__()
        self.mean = mean
        self.sigma = sigma
        self.clip = clip

    def transform(self, inpt, params):
        return self._call_kernel(F.gaussian_noise, inpt, mean=self.mean, sigma=self.sigma, clip=self.clip)


class LinearTransformation(Transform):
    """Flatten each image, subtract `mean_vector` and multiply by `transformation_matrix` (e.g. ZCA
    whitening); the checks and the computation are v1's `LinearTransformation`."""

    _transformed_types = (is_pure_tensor, tv_tensors.Image, tv_tensors.Video)

    def __init__(self, transformation_matrix, mean_vector):
        super().__init__()
        v1.LinearTransformation(transformation_matrix, mean_vector)  # v1's argument checks
        self.transformation_matrix = transformation_matrix
        self.mean_vector = mean_vector

    def check_inputs(self, flat_inputs):
        _reject_pil(self, flat_inputs)

    def transform(self, inpt, params):
        # v1's forward reads only the matrix and the mean vector, which this transform holds too.
        output = v1.LinearTransformation.forward(self, tv_tensors._tv_tensor._as_tensor(inpt))
        if isinstance(inpt, (tv_tensors.Image, tv_tensors.Video)):
            output = tv_tensors.wrap(output, like=inpt)
        return output


class SanitizeKeyPoints(Transform):
    """Remove the keypoints (or groups of keypoints) outside the canvas, and the matching rows of the
    labels found by `labels_getter` (None by default: no labels)."""

    def __init__(self, labels_getter=None) -> None:
        super().__init__()
        self.labels_getter = labels_getter
        self._labels_getter = _parse_labels_getter(labels_getter)

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        labels = self._labels_getter(inputs)
        if labels is not None:
            msg = "The labels in the input to forward() must be a tensor or None, got {type} instead."
            if isinstance(labels, ferrotorch.Tensor):
                labels = (labels,)
            elif isinstance(labels, (tuple, list)):
                for entry in labels:
                    if not isinstance(entry, ferrotorch.Tensor):
                        raise ValueError(msg.format(type=type(entry)))
            else:
                raise ValueError(msg.format(type=type(labels)))
        flat_inputs, spec = tree_flatten(inputs)
        points = get_keypoints(flat_inputs)
        if labels is not None:
            for label in labels:
                if points.shape[0] != label.shape[0]:
                    raise ValueError(
                        f"Number of kepyoints (shape={points.shape}) must match the number of labels."
                        f"Found labels with shape={label.shape})."
                    )
        valid = F._misc._get_sanitize_keypoints_mask(points, canvas_size=points.canvas_size)
        params = dict(valid=valid, labels=labels)
        return tree_unflatten([self.transform(inpt, params) for inpt in flat_inputs], spec)

    def transform(self, inpt, params):
        is_label = params["labels"] is not None and any(inpt is label for label in params["labels"])
        is_keypoints = isinstance(inpt, tv_tensors.KeyPoints)
        if not (is_label or is_keypoints):
            return inpt
        output = inpt[params["valid"]]
        return output if is_label else tv_tensors.wrap(output, like=inpt)
