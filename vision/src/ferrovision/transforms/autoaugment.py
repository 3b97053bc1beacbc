"""AutoAugment, RandAugment, TrivialAugmentWide and AugMix, as `torchvision.transforms.autoaugment`."""

import math
from enum import Enum

import ferrotorch
from ferrotorch import Tensor
from ferrotorch.distributions import Dirichlet
from ferrotorch.nn import Module

from . import functional as F
from ._functional_tensor import linspace
from .functional import InterpolationMode

__all__ = ["AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix"]


def _apply_op(img, op_name: str, magnitude: float, interpolation: InterpolationMode, fill, F=F):
    """One named augmentation at `magnitude` (its unit depends on the op), through the functionals of
    the namespace `F` (v1's ``transforms.functional``, or ``transforms.v2.functional`` for the v2 classes)."""
    if op_name in ("ShearX", "ShearY"):
        # Shear about the top-left corner, as the reference implementations do.
        angle = math.degrees(math.atan(magnitude))
        shear = [angle, 0.0] if op_name == "ShearX" else [0.0, angle]
        return F.affine(img, 0.0, [0, 0], 1.0, shear, interpolation=interpolation, fill=fill, center=[0, 0])
    if op_name in ("TranslateX", "TranslateY"):
        translate = [int(magnitude), 0] if op_name == "TranslateX" else [0, int(magnitude)]
        return F.affine(img, 0.0, translate, 1.0, [0.0, 0.0], interpolation=interpolation, fill=fill)
    if op_name == "Rotate":
        return F.rotate(img, magnitude, interpolation=interpolation, fill=fill)
    simple = {
        "Brightness": lambda: F.adjust_brightness(img, 1.0 + magnitude),
        "Color": lambda: F.adjust_saturation(img, 1.0 + magnitude),
        "Contrast": lambda: F.adjust_contrast(img, 1.0 + magnitude),
        "Sharpness": lambda: F.adjust_sharpness(img, 1.0 + magnitude),
        "Posterize": lambda: F.posterize(img, int(magnitude)),
        "Solarize": lambda: F.solarize(img, magnitude),
        "AutoContrast": lambda: F.autocontrast(img),
        "Equalize": lambda: F.equalize(img),
        "Invert": lambda: F.invert(img),
        "Identity": lambda: img,
    }
    if op_name not in simple:
        raise ValueError(f"The provided operator {op_name} is not recognized.")
    return simple[op_name]()


class AutoAugmentPolicy(Enum):
    """The policies learned on these datasets."""

    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


# (op, probability, magnitude bin) pairs of sub-policies, from the AutoAugment paper.
_POLICIES = {
    AutoAugmentPolicy.IMAGENET: [
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)), (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)), (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)), (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)), (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)), (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)), (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)), (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)), (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)), (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)), (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)), (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)), (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ],
    AutoAugmentPolicy.CIFAR10: [
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)), (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)), (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)), (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)), (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)), (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)), (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)), (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)), (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)), (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)), (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)), (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)), (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ],
    AutoAugmentPolicy.SVHN: [
        (("ShearX", 0.9, 4), ("Invert", 0.2, None)), (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.6, None), ("Solarize", 0.6, 6)), (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)), (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.4, None)), (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
        (("Invert", 0.9, None), ("AutoContrast", 0.8, None)), (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)), (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)), (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)), (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)), (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
        (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)), (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
        (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)), (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
        (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)), (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
        (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
    ],
}  # fmt: skip


def _no_magnitude():
    return (ferrotorch.tensor(0.0), False)


def _linear(high: float, num_bins: int):
    return (linspace(0.0, high, num_bins), True)


def _posterize_bins(start: int, span: int, num_bins: int):
    return ((start - (ferrotorch.arange(num_bins) / ((num_bins - 1) / span)).round().int()), False)


def _standard_space(num_bins: int, translate_x: float, translate_y: float, identity: bool) -> dict:
    """The op table shared by AutoAugment and RandAugment (and AugMix's geometric part)."""
    space = {"Identity": _no_magnitude()} if identity else {}
    space.update(
        {
            "ShearX": _linear(0.3, num_bins),
            "ShearY": _linear(0.3, num_bins),
            "TranslateX": _linear(translate_x, num_bins),
            "TranslateY": _linear(translate_y, num_bins),
            "Rotate": _linear(30.0, num_bins),
            "Brightness": _linear(0.9, num_bins),
            "Color": _linear(0.9, num_bins),
            "Contrast": _linear(0.9, num_bins),
            "Sharpness": _linear(0.9, num_bins),
            "Posterize": _posterize_bins(8, 4, num_bins),
            "Solarize": (linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": _no_magnitude(),
            "Equalize": _no_magnitude(),
        }
    )
    return space


def _autoaugment_space(num_bins: int, image_size) -> dict:
    """AutoAugment's ops: the standard table plus Invert (image_size is (height, width))."""
    space = _standard_space(num_bins, 150.0 / 331.0 * image_size[1], 150.0 / 331.0 * image_size[0], False)
    space["Invert"] = _no_magnitude()
    return space


def _randaugment_space(num_bins: int, image_size) -> dict:
    """RandAugment's ops: Identity and the standard table."""
    return _standard_space(num_bins, 150.0 / 331.0 * image_size[1], 150.0 / 331.0 * image_size[0], True)


def _trivial_augment_space(num_bins: int) -> dict:
    """TrivialAugment Wide's ops (wider ranges, independent of the image size)."""
    return {
        "Identity": _no_magnitude(),
        "ShearX": _linear(0.99, num_bins),
        "ShearY": _linear(0.99, num_bins),
        "TranslateX": _linear(32.0, num_bins),
        "TranslateY": _linear(32.0, num_bins),
        "Rotate": _linear(135.0, num_bins),
        "Brightness": _linear(0.99, num_bins),
        "Color": _linear(0.99, num_bins),
        "Contrast": _linear(0.99, num_bins),
        "Sharpness": _linear(0.99, num_bins),
        "Posterize": _posterize_bins(8, 6, num_bins),
        "Solarize": (linspace(255.0, 0.0, num_bins), False),
        "AutoContrast": _no_magnitude(),
        "Equalize": _no_magnitude(),
    }


def _augmix_space(num_bins: int, image_size, all_ops: bool) -> dict:
    """AugMix's ops; the colour ops only with `all_ops`."""
    space = {
        "ShearX": _linear(0.3, num_bins),
        "ShearY": _linear(0.3, num_bins),
        "TranslateX": _linear(image_size[1] / 3.0, num_bins),
        "TranslateY": _linear(image_size[0] / 3.0, num_bins),
        "Rotate": _linear(30.0, num_bins),
        "Posterize": _posterize_bins(4, 4, num_bins),
        "Solarize": (linspace(255.0, 0.0, num_bins), False),
        "AutoContrast": _no_magnitude(),
        "Equalize": _no_magnitude(),
    }
    if all_ops:
        for name in ("Brightness", "Color", "Contrast", "Sharpness"):
            space[name] = _linear(0.9, num_bins)
    return space


def _prepare_fill(img, fill):
    """Tensor images need the fill as one float per channel (None stays None)."""
    if isinstance(img, Tensor):
        channels = F.get_dimensions(img)[0]
        if isinstance(fill, (int, float)):
            return [float(fill)] * channels
        if fill is not None:
            return [float(f) for f in fill]
    return fill


def _draw_magnitude(magnitudes: Tensor, signed: bool, index) -> float:
    """magnitudes[index] (0 for magnitude-less ops), negated on a fair coin flip when signed."""
    magnitude = float(magnitudes[index].item()) if magnitudes.ndim > 0 else 0.0
    if signed and ferrotorch.randint(2, (1,)).item():
        magnitude *= -1.0
    return magnitude


class AutoAugment(Module):
    """AutoAugment (Cubuk et al., 2019): one random sub-policy of two ops per image."""

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self.policy = policy
        self.interpolation = interpolation
        self.fill = fill
        self.policies = self._get_policies(policy)

    def _get_policies(self, policy):
        if policy not in _POLICIES:
            raise ValueError(f"The provided policy {policy} is not recognized.")
        return _POLICIES[policy]

    def _augmentation_space(self, num_bins: int, image_size) -> dict:
        return _autoaugment_space(num_bins, image_size)

    @staticmethod
    def get_params(transform_num: int):
        """(sub-policy index, two probabilities, two signs)."""
        policy_id = int(ferrotorch.randint(transform_num, (1,)).item())
        probs = ferrotorch.rand((2,))
        signs = ferrotorch.randint(2, (2,))
        return policy_id, probs, signs

    def forward(self, img):
        fill = _prepare_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        transform_id, probs, signs = self.get_params(len(self.policies))
        op_meta = self._augmentation_space(10, (height, width))
        for i, (op_name, p, magnitude_id) in enumerate(self.policies[transform_id]):
            if probs[i].item() <= p:
                magnitudes, signed = op_meta[op_name]
                magnitude = float(magnitudes[magnitude_id].item()) if magnitude_id is not None else 0.0
                if signed and signs[i].item() == 0:
                    magnitude *= -1.0
                img = _apply_op(img, op_name, magnitude, interpolation=self.interpolation, fill=fill)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(policy={self.policy}, fill={self.fill})"


class RandAugment(Module):
    """RandAugment (Cubuk et al., 2020): num_ops uniformly drawn ops at a fixed magnitude."""

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins: int, image_size) -> dict:
        return _randaugment_space(num_bins, image_size)

    def forward(self, img):
        fill = _prepare_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        op_meta = self._augmentation_space(self.num_magnitude_bins, (height, width))
        for _ in range(self.num_ops):
            op_name = list(op_meta)[int(ferrotorch.randint(len(op_meta), (1,)).item())]
            magnitudes, signed = op_meta[op_name]
            magnitude = _draw_magnitude(magnitudes, signed, self.magnitude)
            img = _apply_op(img, op_name, magnitude, interpolation=self.interpolation, fill=fill)
        return img

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, "
            f"num_magnitude_bins={self.num_magnitude_bins}, interpolation={self.interpolation}, fill={self.fill})"
        )


class TrivialAugmentWide(Module):
    """TrivialAugment Wide (Müller & Hutter, 2021): one op at a uniformly drawn magnitude."""

    def __init__(self, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins: int) -> dict:
        return _trivial_augment_space(num_bins)

    def forward(self, img):
        fill = _prepare_fill(img, self.fill)
        op_meta = self._augmentation_space(self.num_magnitude_bins)
        op_name = list(op_meta)[int(ferrotorch.randint(len(op_meta), (1,)).item())]
        magnitudes, signed = op_meta[op_name]
        index = ferrotorch.randint(len(magnitudes), (1,)).item() if magnitudes.ndim > 0 else None
        magnitude = _draw_magnitude(magnitudes, signed, index)
        return _apply_op(img, op_name, magnitude, interpolation=self.interpolation, fill=fill)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(num_magnitude_bins={self.num_magnitude_bins}, "
            f"interpolation={self.interpolation}, fill={self.fill})"
        )


def _sample_dirichlet(params: Tensor) -> Tensor:
    """Dirichlet draws, one per row of `params` (B, K): torchvision's `torch._sample_dirichlet`,
    here ferrotorch.distributions' vectorized Gamma sampler, normalised."""
    return Dirichlet(params).sample()


class AugMix(Module):
    """AugMix (Hendrycks et al., 2020): a Dirichlet mix of `mixture_width` random op chains."""

    def __init__(
        self,
        severity=3,
        mixture_width=3,
        chain_depth=-1,
        alpha=1.0,
        all_ops=True,
        interpolation=InterpolationMode.BILINEAR,
        fill=None,
    ):
        super().__init__()
        self._PARAMETER_MAX = 10
        if not 1 <= severity <= self._PARAMETER_MAX:
            raise ValueError(f"The severity must be between [1, {self._PARAMETER_MAX}]. Got {severity} instead.")
        self.severity = severity
        self.mixture_width = mixture_width
        self.chain_depth = chain_depth
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins: int, image_size) -> dict:
        return _augmix_space(num_bins, image_size, self.all_ops)

    def forward(self, orig_img):
        fill = _prepare_fill(orig_img, self.fill)
        _, height, width = F.get_dimensions(orig_img)
        img = orig_img if isinstance(orig_img, Tensor) else F.pil_to_tensor(orig_img)
        op_meta = self._augmentation_space(self._PARAMETER_MAX, (height, width))
        orig_dims = list(img.shape)
        batch = img.reshape(*([1] * max(4 - img.ndim, 0) + orig_dims))
        batch_dims = [batch.shape[0]] + [1] * (batch.ndim - 1)
        n = batch_dims[0]
        m = _sample_dirichlet(ferrotorch.tensor([[self.alpha, self.alpha]] * n))
        weights = _sample_dirichlet(ferrotorch.tensor([[self.alpha] * self.mixture_width] * n))
        combined_weights = weights * m[:, 1].reshape(n, -1)
        mix = m[:, 0].reshape(*batch_dims) * batch
        for i in range(self.mixture_width):
            aug = batch
            depth = self.chain_depth if self.chain_depth > 0 else int(ferrotorch.randint(1, 4, size=(1,)).item())
            for _ in range(depth):
                op_name = list(op_meta)[int(ferrotorch.randint(len(op_meta), (1,)).item())]
                magnitudes, signed = op_meta[op_name]
                index = ferrotorch.randint(self.severity, (1,)).item() if magnitudes.ndim > 0 else None
                magnitude = _draw_magnitude(magnitudes, signed, index)
                aug = _apply_op(aug, op_name, magnitude, interpolation=self.interpolation, fill=fill)
            mix = mix + combined_weights[:, i].reshape(*batch_dims) * aug
        mix = mix.reshape(*orig_dims).to(img.dtype)
        return mix if isinstance(orig_img, Tensor) else F.to_pil_image(mix)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(severity={self.severity}, mixture_width={self.mixture_width}, "
            f"chain_depth={self.chain_depth}, alpha={self.alpha}, all_ops={self.all_ops}, "
            f"interpolation={self.interpolation}, fill={self.fill})"
        )
