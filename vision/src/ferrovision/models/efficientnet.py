"""EfficientNet B0-B7 and V2 S/M/L, as `torchvision.models.efficientnet`."""

import copy
import math
from collections.abc import Sequence
from functools import partial
from typing import Optional

import ferrotorch
from ferrotorch import nn

from ._api import Weights, WeightsEnum, _load_weights, register_model
from ._meta import _IMAGENET_CATEGORIES
from ..transforms._presets import ImageClassification, InterpolationMode  # noqa: F401
from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..ops.stochastic_depth import StochasticDepth
from ._utils import _make_divisible, _ovewrite_named_param

__all__ = ["EfficientNet", "EfficientNet_B0_Weights", "EfficientNet_B1_Weights", "EfficientNet_B2_Weights",
           "EfficientNet_B3_Weights", "EfficientNet_B4_Weights", "EfficientNet_B5_Weights", "EfficientNet_B6_Weights",
           "EfficientNet_B7_Weights", "EfficientNet_V2_S_Weights", "EfficientNet_V2_M_Weights",
           "EfficientNet_V2_L_Weights", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
           "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_s",
           "efficientnet_v2_m", "efficientnet_v2_l"]


class _MBConvConfig:
    """One stage: expansion, kernel, stride of the first block, widths, block count and block class."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block

    @staticmethod
    def adjust_channels(channels, width_mult, min_value=None):
        """Scale and round to a multiple of 8."""
        return _make_divisible(channels * width_mult, 8, min_value)


class MBConvConfig(_MBConvConfig):
    """A stage of :class:`MBConv` blocks, widths scaled by ``width_mult`` and depth by ``depth_mult``."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, width_mult=1.0,
                 depth_mult=1.0, block=None):
        super().__init__(expand_ratio, kernel, stride, self.adjust_channels(input_channels, width_mult),
                         self.adjust_channels(out_channels, width_mult), self.adjust_depth(num_layers, depth_mult),
                         block or MBConv)

    @staticmethod
    def adjust_depth(num_layers, depth_mult):
        """Scale a block count, rounding up."""
        return int(math.ceil(num_layers * depth_mult))


class FusedMBConvConfig(_MBConvConfig):
    """A stage of :class:`FusedMBConv` blocks (EfficientNetV2's early stages)."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block=None):
        super().__init__(expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block or FusedMBConv)


class MBConv(nn.Module):
    """Expand 1x1, depthwise conv, squeeze-excitation, project 1x1 (SiLU); stochastic-depth residual."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer, se_layer=SqueezeExcitation):
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        layers = []
        if expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded_channels, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded_channels, expanded_channels, kernel_size=cnf.kernel,
                                           stride=cnf.stride, groups=expanded_channels, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(se_layer(expanded_channels, squeeze_channels, activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded_channels, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        result = self.block(input)
        return self.stochastic_depth(result) + input if self.use_res_connect else result


class FusedMBConv(nn.Module):
    """A full KxK expansion conv replacing MBConv's 1x1 + depthwise pair; stochastic-depth residual."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer):
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded_channels != cnf.input_channels:
            layers = [
                Conv2dNormActivation(cnf.input_channels, expanded_channels, kernel_size=cnf.kernel, stride=cnf.stride,
                                     norm_layer=norm_layer, activation_layer=nn.SiLU),
                Conv2dNormActivation(expanded_channels, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                     activation_layer=None),
            ]
        else:
            layers = [Conv2dNormActivation(cnf.input_channels, cnf.out_channels, kernel_size=cnf.kernel,
                                           stride=cnf.stride, norm_layer=norm_layer, activation_layer=nn.SiLU)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        result = self.block(input)
        return self.stochastic_depth(result) + input if self.use_res_connect else result


class EfficientNet(nn.Module):
    """EfficientNet V1 (https://arxiv.org/abs/1905.11946) and V2 (https://arxiv.org/abs/2104.00298).

    Args:
        inverted_residual_setting (list of MBConvConfig / FusedMBConvConfig): the stages.
        dropout (float): before the classifier.
        stochastic_depth_prob (float): drop probability of the last block (linear in depth). Default: 0.2
        num_classes (int): output logits. Default: 1000
        norm_layer: Default: ``BatchNorm2d``
        last_channel (int or None): width of the last conv; ``None`` means 4x the last stage's.
    """

    def __init__(self, inverted_residual_setting, dropout, stochastic_depth_prob=0.2, num_classes=1000,
                 norm_layer=None, last_channel=None):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, Sequence)
                and all(isinstance(s, _MBConvConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        norm_layer = norm_layer or nn.BatchNorm2d
        layers = [Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3, stride=2,
                                       norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total_stage_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        stage_block_id = 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(stage_block_id) / total_stage_blocks
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = last_channel if last_channel is not None else 4 * lastconv_input_channels
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(lastconv_output_channels, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init_range = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = ferrotorch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def _efficientnet_conf(arch, **kwargs):
    """The stages of ``arch`` and its last conv width (``None`` for V1)."""
    if arch.startswith("efficientnet_b"):
        bneck_conf = partial(MBConvConfig, width_mult=kwargs.pop("width_mult"), depth_mult=kwargs.pop("depth_mult"))
        return [
            bneck_conf(1, 3, 1, 32, 16, 1),
            bneck_conf(6, 3, 2, 16, 24, 2),
            bneck_conf(6, 5, 2, 24, 40, 2),
            bneck_conf(6, 3, 2, 40, 80, 3),
            bneck_conf(6, 5, 1, 80, 112, 3),
            bneck_conf(6, 5, 2, 112, 192, 4),
            bneck_conf(6, 3, 1, 192, 320, 1),
        ], None
    fused, mb = FusedMBConvConfig, MBConvConfig
    if arch.startswith("efficientnet_v2_s"):
        stages = [fused(1, 3, 1, 24, 24, 2), fused(4, 3, 2, 24, 48, 4), fused(4, 3, 2, 48, 64, 4),
                  mb(4, 3, 2, 64, 128, 6), mb(6, 3, 1, 128, 160, 9), mb(6, 3, 2, 160, 256, 15)]
    elif arch.startswith("efficientnet_v2_m"):
        stages = [fused(1, 3, 1, 24, 24, 3), fused(4, 3, 2, 24, 48, 5), fused(4, 3, 2, 48, 80, 5),
                  mb(4, 3, 2, 80, 160, 7), mb(6, 3, 1, 160, 176, 14), mb(6, 3, 2, 176, 304, 18),
                  mb(6, 3, 1, 304, 512, 5)]
    elif arch.startswith("efficientnet_v2_l"):
        stages = [fused(1, 3, 1, 32, 32, 4), fused(4, 3, 2, 32, 64, 7), fused(4, 3, 2, 64, 96, 7),
                  mb(4, 3, 2, 96, 192, 10), mb(6, 3, 1, 192, 224, 19), mb(6, 3, 2, 224, 384, 25),
                  mb(6, 3, 1, 384, 640, 7)]
    else:
        raise ValueError(f"Unsupported model type {arch}")
    return stages, 1280


def _efficientnet(arch, weights, progress, conf, dropout, norm_layer=None, **kwargs):
    setting, last_channel = _efficientnet_conf(arch, **conf)
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    if norm_layer is not None:
        kwargs["norm_layer"] = norm_layer
    model = EfficientNet(setting, kwargs.pop("dropout", dropout), last_channel=last_channel, **kwargs)
    return _load_weights(model, weights, progress)


# EfficientNet B5-B7 and V2 were trained (ported from TensorFlow) with these BatchNorm settings.
_TF_NORM = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
_V2_NORM = partial(nn.BatchNorm2d, eps=1e-03)


_COMMON_META = {
    'categories': _IMAGENET_CATEGORIES,
}


class EfficientNet_B0_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b0_rwightman-7f5810bc.pth',
        transforms=partial(
            ImageClassification,
            crop_size=224,
            resize_size=256,
            interpolation=InterpolationMode.BICUBIC,
        ),
        meta={
            **_COMMON_META,
            'min_size': (1, 1),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1',
            'num_params': 5288548,
            '_metrics': {'ImageNet-1K': {'acc@1': 77.692, 'acc@5': 93.532}},
            '_ops': 0.386,
            '_file_size': 20.451,
            '_docs': 'These weights are ported from the original paper.',
        },
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B1_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b1_rwightman-bac287d4.pth',
        transforms=partial(
            ImageClassification,
            crop_size=240,
            resize_size=256,
            interpolation=InterpolationMode.BICUBIC,
        ),
        meta={
            **_COMMON_META,
            'min_size': (1, 1),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1',
            'num_params': 7794184,
            '_metrics': {'ImageNet-1K': {'acc@1': 78.642, 'acc@5': 94.186}},
            '_ops': 0.687,
            '_file_size': 30.134,
            '_docs': 'These weights are ported from the original paper.',
        },
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b1-c27df63c.pth',
        transforms=partial(
            ImageClassification,
            crop_size=240,
            resize_size=255,
            interpolation=InterpolationMode.BILINEAR,
        ),
        meta={
            **_COMMON_META,
            'min_size': (1, 1),
            'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-lr-wd-crop-tuning',
            'num_params': 7794184,
            '_metrics': {'ImageNet-1K': {'acc@1': 79.838, 'acc@5': 94.934}},
            '_ops': 0.687,
            '_file_size': 30.136,
            '_docs': (
                '\n                These weights improve upon the results of the original paper by using a '
                "modified version of TorchVision's\n                `new training recipe\n                <https://"
                'pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.'
                '\n            '
            ),
        },
    )
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B2_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b2_rwightman-c35c1473.pth',
        transforms=partial(
            ImageClassification,
            crop_size=288,
            resize_size=288,
            interpolation=InterpolationMode.BICUBIC,
        ),
        meta={
            **_COMMON_META,
            'min_size': (1, 1),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1',
            'num_params': 9109994,
            '_metrics': {'ImageNet-1K': {'acc@1': 80.608, 'acc@5': 95.31}},
            '_ops': 1.088,
            '_file_size': 35.174,
            '_docs': 'These weights are ported from the original paper.',
        },
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B3_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b3_rwightman-b3899882.pth',
        transforms=partial(
            ImageClassification,
            crop_size=300,
            resize_size=320,
            interpolation=InterpolationMode.BICUBIC,
        ),
        meta={
            **_COMMON_META,
            'min_size': (1, 1),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1',
            'num_params': 12233232,
            '_metrics': {'ImageNet-1K': {'acc@1': 82.008, 'acc@5': 96.054}},
            '_ops': 1.827,
            '_file_size': 47.184,
            '_docs': 'These weights are ported from the original paper.',
        },
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B4_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b4_rwightman-23ab8bcd.pth',
        transforms=partial(
            ImageClassification,
            crop_size=380,
            resize_size=384,
            interpolation=InterpolationMode.BICUBIC,
        ),
        meta={
            **_COMMON_META,
            'min_size': (1, 1),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1',
            'num_params': 19341616,
            '_metrics': {'ImageNet-1K': {'acc@1': 83.384, 'acc@5': 96.594}},
            '_ops': 4.394,
            '_file_size': 74.489,
            '_docs': 'These weights are ported from the original paper.',
        },
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B5_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b5_lukemelas-1a07897c.pth',
        transforms=partial(
            ImageClassification,
            crop_size=456,
            resize_size=456,
            interpolation=InterpolationMode.BICUBIC,
        ),
        meta={
            **_COMMON_META,
            'min_size': (1, 1),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1',
            'num_params': 30389784,
            '_metrics': {'ImageNet-1K': {'acc@1': 83.444, 'acc@5': 96.628}},
            '_ops': 10.266,
            '_file_size': 116.864,
            '_docs': 'These weights are ported from the original paper.',
        },
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B6_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b6_lukemelas-24a108a5.pth',
        transforms=partial(
            ImageClassification,
            crop_size=528,
            resize_size=528,
            interpolation=InterpolationMode.BICUBIC,
        ),
        meta={
            **_COMMON_META,
            'min_size': (1, 1),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1',
            'num_params': 43040704,
            '_metrics': {'ImageNet-1K': {'acc@1': 84.008, 'acc@5': 96.916}},
            '_ops': 19.068,
            '_file_size': 165.362,
            '_docs': 'These weights are ported from the original paper.',
        },
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B7_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b7_lukemelas-c5b4e57e.pth',
        transforms=partial(
            ImageClassification,
            crop_size=600,
            resize_size=600,
            interpolation=InterpolationMode.BICUBIC,
        ),
        meta={
            **_COMMON_META,
            'min_size': (1, 1),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1',
            'num_params': 66347960,
            '_metrics': {'ImageNet-1K': {'acc@1': 84.122, 'acc@5': 96.908}},
            '_ops': 37.746,
            '_file_size': 254.675,
            '_docs': 'These weights are ported from the original paper.',
        },
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_v2_s-dd5fe13b.pth',
        transforms=partial(
            ImageClassification,
            crop_size=384,
            resize_size=384,
            interpolation=InterpolationMode.BILINEAR,
        ),
        meta={
            **_COMMON_META,
            'min_size': (33, 33),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v2',
            'num_params': 21458488,
            '_metrics': {'ImageNet-1K': {'acc@1': 84.228, 'acc@5': 96.878}},
            '_ops': 8.366,
            '_file_size': 82.704,
            '_docs': (
                '\n                These weights improve upon the results of the original paper by using a '
                "modified version of TorchVision's\n                `new training recipe\n                <https://"
                'pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.'
                '\n            '
            ),
        },
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_M_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_v2_m-dc08266a.pth',
        transforms=partial(
            ImageClassification,
            crop_size=480,
            resize_size=480,
            interpolation=InterpolationMode.BILINEAR,
        ),
        meta={
            **_COMMON_META,
            'min_size': (33, 33),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v2',
            'num_params': 54139356,
            '_metrics': {'ImageNet-1K': {'acc@1': 85.112, 'acc@5': 97.156}},
            '_ops': 24.582,
            '_file_size': 208.01,
            '_docs': (
                '\n                These weights improve upon the results of the original paper by using a '
                "modified version of TorchVision's\n                `new training recipe\n                <https://"
                'pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.'
                '\n            '
            ),
        },
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_L_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_v2_l-59c71312.pth',
        transforms=partial(
            ImageClassification,
            crop_size=480,
            resize_size=480,
            interpolation=InterpolationMode.BICUBIC,
            mean=(0.5, 0.5, 0.5),
            std=(0.5, 0.5, 0.5),
        ),
        meta={
            **_COMMON_META,
            'min_size': (33, 33),
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v2',
            'num_params': 118515272,
            '_metrics': {'ImageNet-1K': {'acc@1': 85.808, 'acc@5': 97.788}},
            '_ops': 56.08,
            '_file_size': 454.573,
            '_docs': 'These weights are ported from the original paper.',
        },
    )
    DEFAULT = IMAGENET1K_V1



@register_model()
def efficientnet_b0(*, weights: Optional[EfficientNet_B0_Weights] = None, progress=True, **kwargs):
    """EfficientNet-B0 (width x1.0, depth x1.0).

    ``weights``: an :class:`EfficientNet_B0_Weights` member or its name."""
    weights = EfficientNet_B0_Weights.verify(weights)
    return _efficientnet("efficientnet_b0", weights, progress, {"width_mult": 1.0, "depth_mult": 1.0}, 0.2,
                         norm_layer=None, **kwargs)


@register_model()
def efficientnet_b1(*, weights: Optional[EfficientNet_B1_Weights] = None, progress=True, **kwargs):
    """EfficientNet-B1 (width x1.0, depth x1.1).

    ``weights``: an :class:`EfficientNet_B1_Weights` member or its name."""
    weights = EfficientNet_B1_Weights.verify(weights)
    return _efficientnet("efficientnet_b1", weights, progress, {"width_mult": 1.0, "depth_mult": 1.1}, 0.2,
                         norm_layer=None, **kwargs)


@register_model()
def efficientnet_b2(*, weights: Optional[EfficientNet_B2_Weights] = None, progress=True, **kwargs):
    """EfficientNet-B2 (width x1.1, depth x1.2).

    ``weights``: an :class:`EfficientNet_B2_Weights` member or its name."""
    weights = EfficientNet_B2_Weights.verify(weights)
    return _efficientnet("efficientnet_b2", weights, progress, {"width_mult": 1.1, "depth_mult": 1.2}, 0.3,
                         norm_layer=None, **kwargs)


@register_model()
def efficientnet_b3(*, weights: Optional[EfficientNet_B3_Weights] = None, progress=True, **kwargs):
    """EfficientNet-B3 (width x1.2, depth x1.4).

    ``weights``: an :class:`EfficientNet_B3_Weights` member or its name."""
    weights = EfficientNet_B3_Weights.verify(weights)
    return _efficientnet("efficientnet_b3", weights, progress, {"width_mult": 1.2, "depth_mult": 1.4}, 0.3,
                         norm_layer=None, **kwargs)


@register_model()
def efficientnet_b4(*, weights: Optional[EfficientNet_B4_Weights] = None, progress=True, **kwargs):
    """EfficientNet-B4 (width x1.4, depth x1.8).

    ``weights``: an :class:`EfficientNet_B4_Weights` member or its name."""
    weights = EfficientNet_B4_Weights.verify(weights)
    return _efficientnet("efficientnet_b4", weights, progress, {"width_mult": 1.4, "depth_mult": 1.8}, 0.4,
                         norm_layer=None, **kwargs)


@register_model()
def efficientnet_b5(*, weights: Optional[EfficientNet_B5_Weights] = None, progress=True, **kwargs):
    """EfficientNet-B5 (width x1.6, depth x2.2).

    ``weights``: an :class:`EfficientNet_B5_Weights` member or its name."""
    weights = EfficientNet_B5_Weights.verify(weights)
    return _efficientnet("efficientnet_b5", weights, progress, {"width_mult": 1.6, "depth_mult": 2.2}, 0.4,
                         norm_layer=_TF_NORM, **kwargs)


@register_model()
def efficientnet_b6(*, weights: Optional[EfficientNet_B6_Weights] = None, progress=True, **kwargs):
    """EfficientNet-B6 (width x1.8, depth x2.6).

    ``weights``: an :class:`EfficientNet_B6_Weights` member or its name."""
    weights = EfficientNet_B6_Weights.verify(weights)
    return _efficientnet("efficientnet_b6", weights, progress, {"width_mult": 1.8, "depth_mult": 2.6}, 0.5,
                         norm_layer=_TF_NORM, **kwargs)


@register_model()
def efficientnet_b7(*, weights: Optional[EfficientNet_B7_Weights] = None, progress=True, **kwargs):
    """EfficientNet-B7 (width x2.0, depth x3.1).

    ``weights``: an :class:`EfficientNet_B7_Weights` member or its name."""
    weights = EfficientNet_B7_Weights.verify(weights)
    return _efficientnet("efficientnet_b7", weights, progress, {"width_mult": 2.0, "depth_mult": 3.1}, 0.5,
                         norm_layer=_TF_NORM, **kwargs)


@register_model()
def efficientnet_v2_s(*, weights: Optional[EfficientNet_V2_S_Weights] = None, progress=True, **kwargs):
    """EfficientNetV2-S. ``weights``: an :class:`EfficientNet_V2_S_Weights` member or its name."""
    weights = EfficientNet_V2_S_Weights.verify(weights)
    return _efficientnet("efficientnet_v2_s", weights, progress, {}, 0.2, norm_layer=_V2_NORM, **kwargs)


@register_model()
def efficientnet_v2_m(*, weights: Optional[EfficientNet_V2_M_Weights] = None, progress=True, **kwargs):
    """EfficientNetV2-M. ``weights``: an :class:`EfficientNet_V2_M_Weights` member or its name."""
    weights = EfficientNet_V2_M_Weights.verify(weights)
    return _efficientnet("efficientnet_v2_m", weights, progress, {}, 0.3, norm_layer=_V2_NORM, **kwargs)


@register_model()
def efficientnet_v2_l(*, weights: Optional[EfficientNet_V2_L_Weights] = None, progress=True, **kwargs):
    """EfficientNetV2-L. ``weights``: an :class:`EfficientNet_V2_L_Weights` member or its name."""
    weights = EfficientNet_V2_L_Weights.verify(weights)
    return _efficientnet("efficientnet_v2_l", weights, progress, {}, 0.4, norm_layer=_V2_NORM, **kwargs)
