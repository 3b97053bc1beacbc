"""AutoAugment, RandAugment, TrivialAugmentWide and AugMix as v2 transforms.

They transform the single image or video of a sample (boxes, masks and keypoints are refused, as in
torchvision) with the v1 op tables and op kernel (`transforms.autoaugment`), applied through the v2
functionals. Their random draws follow torchvision's v2 classes, which differ from v1's (scalar draws,
signs from ``rand() <= 0.5``), and Solarize's magnitudes are fractions of the dtype's maximum value.
"""

import ferrotorch
from PIL import Image as PILImage
from ferrotorch import Tensor

from ... import tv_tensors
from .. import autoaugment as v1
from .._functional_tensor import _max_value, linspace
from ..autoaugment import AutoAugmentPolicy
from . import functional as F
from ._pytree import tree_flatten, tree_unflatten
from ._transform import Transform
from ._utils import _get_fill, _setup_fill_arg, check_type, is_pure_tensor


def _v2_space(space: dict, num_bins: int) -> dict:
    """A v1 op table with v2's Solarize magnitudes (1 down to 0, scaled by the dtype's maximum later)."""
    space["Solarize"] = (linspace(1.0, 0.0, num_bins), False)
    return space


class _AutoAugmentBase(Transform):
    """Finds the sample's image or video, and applies named ops to it."""

    def __init__(self, *, interpolation="nearest", fill=None) -> None:
        super().__init__()
        self.interpolation = interpolation
        self.fill = fill
        self._fill = _setup_fill_arg(fill)

    def _random_key(self, space: dict) -> str:
        keys = tuple(space.keys())
        return keys[int(ferrotorch.randint(len(keys), ()))]

    def _signed_magnitude(self, magnitudes, signed: bool, index) -> float:
        """magnitudes[index] (0.0 for ops without magnitude), negated when signed and ``rand() <= 0.5``."""
        if magnitudes.ndim == 0:
            return 0.0
        magnitude = float(magnitudes[index])
        if signed and ferrotorch.rand(()).item() <= 0.5:
            magnitude *= -1
        return magnitude

    def _flatten_and_extract_image_or_video(self, inputs):
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        needs_transform_list = self._needs_transform_list(flat_inputs)
        image_or_videos = []
        unsupported = (tv_tensors.BoundingBoxes, tv_tensors.Mask, tv_tensors.KeyPoints)
        for idx, (inpt, needs_transform) in enumerate(zip(flat_inputs, needs_transform_list)):
            if needs_transform and check_type(
                inpt, (tv_tensors.Image, PILImage.Image, is_pure_tensor, tv_tensors.Video)
            ):
                image_or_videos.append((idx, inpt))
            elif isinstance(inpt, unsupported):
                raise TypeError(f"Inputs of type {type(inpt).__name__} are not supported by {type(self).__name__}()")
        if not image_or_videos:
            raise TypeError("Found no image in the sample.")
        if len(image_or_videos) > 1:
            raise TypeError(
                "Auto augment transformations are only properly defined for a single image or video, "
                f"but found {len(image_or_videos)}."
            )
        idx, image_or_video = image_or_videos[0]
        return (flat_inputs, spec, idx), image_or_video

    @staticmethod
    def _unflatten_and_insert_image_or_video(flat_inputs_with_spec, image_or_video):
        flat_inputs, spec, idx = flat_inputs_with_spec
        flat_inputs[idx] = image_or_video
        return tree_unflatten(flat_inputs, spec)

    def _apply_image_or_video_transform(self, image, transform_id, magnitude, interpolation, fill):
        if transform_id == "Solarize":
            magnitude *= float(_max_value(image.dtype)) if isinstance(image, Tensor) else 255.0
        return v1._apply_op(image, transform_id, magnitude, interpolation, _get_fill(fill, type(image)), F=F)


class AutoAugment(_AutoAugmentBase):
    """AutoAugment (Cubuk et al., 2019): one random sub-policy of two ops, each applied with its probability."""

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET, interpolation="nearest", fill=None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        self.policy = policy
        if policy not in v1._POLICIES:
            raise ValueError(f"The provided policy {policy} is not recognized.")
        self._policies = v1._POLICIES[policy]

    def forward(self, *inputs):
        flat_inputs_with_spec, image_or_video = self._flatten_and_extract_image_or_video(inputs)
        height, width = F.get_size(image_or_video)
        policy = self._policies[int(ferrotorch.randint(len(self._policies), ()))]
        space = _v2_space(v1._autoaugment_space(10, (height, width)), 10)
        for transform_id, probability, magnitude_idx in policy:
            if not ferrotorch.rand(()).item() <= probability:
                continue
            magnitude = self._signed_magnitude(*space[transform_id], magnitude_idx)
            image_or_video = self._apply_image_or_video_transform(
                image_or_video, transform_id, magnitude, interpolation=self.interpolation, fill=self._fill
            )
        return self._unflatten_and_insert_image_or_video(flat_inputs_with_spec, image_or_video)


class RandAugment(_AutoAugmentBase):
    """RandAugment (Cubuk et al., 2020): `num_ops` uniformly drawn ops at the fixed `magnitude` bin."""

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31, interpolation="nearest", fill=None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        if not isinstance(num_ops, int) or (num_ops < 0):
            raise ValueError(f"num_ops should be a non-negative integer, but got {num_ops} instead.")
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins

    def forward(self, *inputs):
        flat_inputs_with_spec, image_or_video = self._flatten_and_extract_image_or_video(inputs)
        height, width = F.get_size(image_or_video)
        space = _v2_space(v1._randaugment_space(self.num_magnitude_bins, (height, width)), self.num_magnitude_bins)
        for _ in range(self.num_ops):
            transform_id = self._random_key(space)
            magnitude = self._signed_magnitude(*space[transform_id], self.magnitude)
            image_or_video = self._apply_image_or_video_transform(
                image_or_video, transform_id, magnitude, interpolation=self.interpolation, fill=self._fill
            )
        return self._unflatten_and_insert_image_or_video(flat_inputs_with_spec, image_or_video)


class TrivialAugmentWide(_AutoAugmentBase):
    """TrivialAugment Wide (Müller & Hutter, 2021): one uniformly drawn op at a uniformly drawn magnitude."""

    def __init__(self, num_magnitude_bins=31, interpolation="nearest", fill=None):
        super().__init__(interpolation=interpolation, fill=fill)
        self.num_magnitude_bins = num_magnitude_bins

    def forward(self, *inputs):
        flat_inputs_with_spec, image_or_video = self._flatten_and_extract_image_or_video(inputs)
        space = _v2_space(v1._trivial_augment_space(self.num_magnitude_bins), self.num_magnitude_bins)
        transform_id = self._random_key(space)
        magnitudes, signed = space[transform_id]
        index = int(ferrotorch.randint(self.num_magnitude_bins, ())) if magnitudes.ndim > 0 else None
        magnitude = self._signed_magnitude(magnitudes, signed, index)
        image_or_video = self._apply_image_or_video_transform(
            image_or_video, transform_id, magnitude, interpolation=self.interpolation, fill=self._fill
        )
        return self._unflatten_and_insert_image_or_video(flat_inputs_with_spec, image_or_video)


class AugMix(_AutoAugmentBase):
    """AugMix (Hendrycks et al., 2020): the image mixed with `mixture_width` chains of random ops, with
    Dirichlet-drawn weights."""

    def __init__(self, severity=3, mixture_width=3, chain_depth=-1, alpha=1.0, all_ops=True,
                 interpolation="bilinear", fill=None) -> None:  # fmt: skip
        super().__init__(interpolation=interpolation, fill=fill)
        self._PARAMETER_MAX = 10
        if not (1 <= severity <= self._PARAMETER_MAX):
            raise ValueError(f"The severity must be between [1, {self._PARAMETER_MAX}]. Got {severity} instead.")
        self.severity = severity
        self.mixture_width = mixture_width
        self.chain_depth = chain_depth
        self.alpha = alpha
        self.all_ops = all_ops

    def _sample_dirichlet(self, params: Tensor) -> Tensor:
        return v1._sample_dirichlet(params)

    def forward(self, *inputs):
        flat_inputs_with_spec, orig_image_or_video = self._flatten_and_extract_image_or_video(inputs)
        height, width = F.get_size(orig_image_or_video)
        if isinstance(orig_image_or_video, Tensor):
            image_or_video = tv_tensors._tv_tensor._as_tensor(orig_image_or_video)
        else:
            image_or_video = F.pil_to_tensor(orig_image_or_video)
        space = _v2_space(v1._augmix_space(self._PARAMETER_MAX, (height, width), self.all_ops), self._PARAMETER_MAX)
        orig_dims = list(image_or_video.shape)
        expected_ndim = 5 if isinstance(orig_image_or_video, tv_tensors.Video) else 4
        batch = image_or_video.reshape([1] * max(expected_ndim - image_or_video.ndim, 0) + orig_dims)
        n = batch.shape[0]
        batch_dims = [n] + [1] * (batch.ndim - 1)
        # Beta weights of the original and the augmented images (a two-parameter Dirichlet), then the
        # chains' weights scaled by the augmented share.
        m = self._sample_dirichlet(ferrotorch.tensor([[self.alpha, self.alpha]] * n))
        combined_weights = self._sample_dirichlet(
            ferrotorch.tensor([[self.alpha] * self.mixture_width] * n)
        ) * m[:, 1].reshape([n, -1])
        mix = m[:, 0].reshape(batch_dims) * batch
        for i in range(self.mixture_width):
            aug = batch
            depth = self.chain_depth if self.chain_depth > 0 else int(ferrotorch.randint(1, 4, size=(1,)).item())
            for _ in range(depth):
                transform_id = self._random_key(space)
                magnitudes, signed = space[transform_id]
                index = int(ferrotorch.randint(self.severity, ())) if magnitudes.ndim > 0 else None
                magnitude = self._signed_magnitude(magnitudes, signed, index)
                aug = self._apply_image_or_video_transform(
                    aug, transform_id, magnitude, interpolation=self.interpolation, fill=self._fill
                )
            mix = mix + combined_weights[:, i].reshape(batch_dims) * aug
        mix = mix.reshape(orig_dims).to(image_or_video.dtype)
        if isinstance(orig_image_or_video, (tv_tensors.Image, tv_tensors.Video)):
            mix = tv_tensors.wrap(mix, like=orig_image_or_video)
        elif isinstance(orig_image_or_video, PILImage.Image):
            mix = F.to_pil_image(mix)
        return self._unflatten_and_insert_image_or_video(flat_inputs_with_spec, mix)
