"""ConvNeXt Tiny/Small/Base/Large, as `torchvision.models.convnext`."""

from functools import partial
from collections.abc import Sequence
from typing import Optional

import ferrotorch
from ferrotorch import nn

from ._api import Weights, WeightsEnum, _load_weights, register_model
from ._meta import _IMAGENET_CATEGORIES
from ..transforms._presets import ImageClassification, InterpolationMode  # noqa: F401
from ..ops.misc import Conv2dNormActivation, Permute
from ..ops.stochastic_depth import StochasticDepth
from ._utils import _ovewrite_named_param

__all__ = ["ConvNeXt", "ConvNeXt_Tiny_Weights", "ConvNeXt_Small_Weights", "ConvNeXt_Base_Weights",
           "ConvNeXt_Large_Weights", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large"]


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an ``(N, C, H, W)`` tensor."""

    def forward(self, x):
        x = nn.functional.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """Depthwise 7x7 conv, LayerNorm, 4x MLP with GELU, scaled by a learned ``layer_scale``; residual."""

    def __init__(self, dim, layer_scale, stochastic_depth_prob, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(ferrotorch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input):
        return self.stochastic_depth(self.layer_scale * self.block(input)) + input


class CNBlockConfig:
    """One stage: its width, the width after its downsampling layer (``None`` for the last), its depth."""

    def __init__(self, input_channels, out_channels, num_layers):
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers

    def __repr__(self):
        return (f"{self.__class__.__name__}(input_channels={self.input_channels}, "
                f"out_channels={self.out_channels}, num_layers={self.num_layers})")


class ConvNeXt(nn.Module):
    """ConvNeXt from "A ConvNet for the 2020s" (https://arxiv.org/abs/2201.03545).

    Args:
        block_setting (list[CNBlockConfig]): the stages.
        stochastic_depth_prob (float): drop probability of the last block (linear in depth). Default: 0.0
        layer_scale (float): initial residual scale. Default: 1e-6
        num_classes (int): output logits. Default: 1000
        block, norm_layer: Defaults: :class:`CNBlock`, :class:`LayerNorm2d` (eps 1e-6)
    """

    def __init__(self, block_setting, stochastic_depth_prob=0.0, layer_scale=1e-6, num_classes=1000, block=None,
                 norm_layer=None, **kwargs):
        super().__init__()
        if not block_setting:
            raise ValueError("The block_setting should not be empty")
        if not (isinstance(block_setting, Sequence) and all(isinstance(s, CNBlockConfig) for s in block_setting)):
            raise TypeError("The block_setting should be List[CNBlockConfig]")
        block = block or CNBlock
        norm_layer = norm_layer or partial(LayerNorm2d, eps=1e-6)
        layers = [Conv2dNormActivation(3, block_setting[0].input_channels, kernel_size=4, stride=4, padding=0,
                                       norm_layer=norm_layer, activation_layer=None, bias=True)]
        total_stage_blocks = sum(cnf.num_layers for cnf in block_setting)
        stage_block_id = 0
        for cnf in block_setting:
            stage = []
            for _ in range(cnf.num_layers):
                sd_prob = stochastic_depth_prob * stage_block_id / (total_stage_blocks - 1.0)
                stage.append(block(cnf.input_channels, layer_scale, sd_prob))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
            if cnf.out_channels is not None:
                layers.append(nn.Sequential(norm_layer(cnf.input_channels),
                                            nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = block_setting[-1]
        last_channels = last.out_channels if last.out_channels is not None else last.input_channels
        self.classifier = nn.Sequential(norm_layer(last_channels), nn.Flatten(1),
                                        nn.Linear(last_channels, num_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


def _convnext(widths, depths, default_sd_prob, weights, progress, **kwargs):
    block_setting = [CNBlockConfig(w, w_next, d) for w, w_next, d in zip(widths, widths[1:] + [None], depths)]
    stochastic_depth_prob = kwargs.pop("stochastic_depth_prob", default_sd_prob)
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    model = ConvNeXt(block_setting, stochastic_depth_prob=stochastic_depth_prob, **kwargs)
    return _load_weights(model, weights, progress)


_COMMON_META = {
    'min_size': (32, 32),
    'categories': _IMAGENET_CATEGORIES,
    'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#convnext',
    '_docs': (
        '\n        These weights improve upon the results of the original paper by using a modified version of '
        "TorchVision's\n        `new training recipe\n        "
        '<https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.'
        '\n    '
    ),
}


class ConvNeXt_Tiny_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/convnext_tiny-983f1562.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=236),
        meta={
            **_COMMON_META,
            'num_params': 28589128,
            '_metrics': {'ImageNet-1K': {'acc@1': 82.52, 'acc@5': 96.146}},
            '_ops': 4.456,
            '_file_size': 109.119,
        },
    )
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/convnext_small-0c510722.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=230),
        meta={
            **_COMMON_META,
            'num_params': 50223688,
            '_metrics': {'ImageNet-1K': {'acc@1': 83.616, 'acc@5': 96.65}},
            '_ops': 8.684,
            '_file_size': 191.703,
        },
    )
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Base_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/convnext_base-6075fbad.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={
            **_COMMON_META,
            'num_params': 88591464,
            '_metrics': {'ImageNet-1K': {'acc@1': 84.062, 'acc@5': 96.87}},
            '_ops': 15.355,
            '_file_size': 338.064,
        },
    )
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/convnext_large-ea097f82.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={
            **_COMMON_META,
            'num_params': 197767336,
            '_metrics': {'ImageNet-1K': {'acc@1': 84.414, 'acc@5': 96.976}},
            '_ops': 34.361,
            '_file_size': 754.537,
        },
    )
    DEFAULT = IMAGENET1K_V1



@register_model()
def convnext_tiny(*, weights: Optional[ConvNeXt_Tiny_Weights] = None, progress=True, **kwargs):
    """ConvNeXt Tiny. ``weights``: a :class:`ConvNeXt_Tiny_Weights` member or its name."""
    weights = ConvNeXt_Tiny_Weights.verify(weights)
    return _convnext([96, 192, 384, 768], [3, 3, 9, 3], 0.1, weights, progress, **kwargs)


@register_model()
def convnext_small(*, weights: Optional[ConvNeXt_Small_Weights] = None, progress=True, **kwargs):
    """ConvNeXt Small. ``weights``: a :class:`ConvNeXt_Small_Weights` member or its name."""
    weights = ConvNeXt_Small_Weights.verify(weights)
    return _convnext([96, 192, 384, 768], [3, 3, 27, 3], 0.4, weights, progress, **kwargs)


@register_model()
def convnext_base(*, weights: Optional[ConvNeXt_Base_Weights] = None, progress=True, **kwargs):
    """ConvNeXt Base. ``weights``: a :class:`ConvNeXt_Base_Weights` member or its name."""
    weights = ConvNeXt_Base_Weights.verify(weights)
    return _convnext([128, 256, 512, 1024], [3, 3, 27, 3], 0.5, weights, progress, **kwargs)


@register_model()
def convnext_large(*, weights: Optional[ConvNeXt_Large_Weights] = None, progress=True, **kwargs):
    """ConvNeXt Large. ``weights``: a :class:`ConvNeXt_Large_Weights` member or its name."""
    weights = ConvNeXt_Large_Weights.verify(weights)
    return _convnext([192, 384, 768, 1536], [3, 3, 27, 3], 0.5, weights, progress, **kwargs)
