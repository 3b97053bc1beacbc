"""MobileNetV2, as `torchvision.models.mobilenetv2`."""

from functools import partial
from typing import Optional

import ferrotorch
from ferrotorch import nn

from ._api import Weights, WeightsEnum, _load_weights, register_model
from ._meta import _IMAGENET_CATEGORIES
from ..transforms._presets import ImageClassification, InterpolationMode  # noqa: F401
from ..ops.misc import Conv2dNormActivation
from ._utils import _make_divisible, _ovewrite_named_param

__all__ = ["MobileNetV2", "MobileNet_V2_Weights", "mobilenet_v2"]


class InvertedResidual(nn.Module):
    """Expand (1x1), depthwise 3x3, linear 1x1 projection; residual when shapes allow."""

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        self.stride = stride
        if stride not in [1, 2]:
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        norm_layer = norm_layer or nn.BatchNorm2d
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = self.stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers += [
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, norm_layer=norm_layer,
                                 activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 (https://arxiv.org/abs/1801.04381).

    Args:
        num_classes (int): output logits. Default: 1000
        width_mult (float): channel multiplier. Default: 1.0
        inverted_residual_setting (list of [t, c, n, s]): expansion, channels, repeats, stride per stage.
        round_nearest (int): channels are rounded to multiples of this. Default: 8
        block: the unit class. Default: :class:`InvertedResidual`
        norm_layer: Default: ``BatchNorm2d``
        dropout (float): before the classifier. Default: 0.2
    """

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8, block=None,
                 norm_layer=None, dropout=0.2):
        super().__init__()
        block = block or InvertedResidual
        norm_layer = norm_layer or nn.BatchNorm2d
        input_channel = 32
        last_channel = 1280
        if inverted_residual_setting is None:
            inverted_residual_setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                                         [6, 160, 3, 2], [6, 320, 1, 1]]
        if len(inverted_residual_setting) == 0 or len(inverted_residual_setting[0]) != 4:
            raise ValueError("inverted_residual_setting should be non-empty or a 4-element list, "
                             f"got {inverted_residual_setting}")
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer, activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(input_channel, output_channel, s if i == 0 else 1, expand_ratio=t,
                                      norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1, norm_layer=norm_layer,
                                             activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        _init_mobilenet(self)

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(ferrotorch.flatten(x, 1))


def _init_mobilenet(model):
    """torchvision's MobileNet initialization (V2 and V3): fan-out Kaiming convs, N(0, 0.01) Linear weights."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


_COMMON_META = {
    'num_params': 3504872,
    'min_size': (1, 1),
    'categories': _IMAGENET_CATEGORIES,
    '_ops': 0.301,
}


class MobileNet_V2_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v2-b0353104.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={
            **_COMMON_META,
            'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv2',
            '_metrics': {'ImageNet-1K': {'acc@1': 71.878, 'acc@5': 90.286}},
            '_file_size': 13.555,
            '_docs': 'These weights reproduce closely the results of the paper using a simple training recipe.',
        },
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v2-7ebf99e0.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={
            **_COMMON_META,
            'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning',
            '_metrics': {'ImageNet-1K': {'acc@1': 72.154, 'acc@5': 90.822}},
            '_file_size': 13.598,
            '_docs': (
                '\n                These weights improve upon the results of the original paper by using a '
                "modified version of TorchVision's\n                `new training recipe\n                <https://"
                'pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.'
                '\n            '
            ),
        },
    )
    DEFAULT = IMAGENET1K_V2



@register_model()
def mobilenet_v2(*, weights: Optional[MobileNet_V2_Weights] = None, progress=True, **kwargs):
    """MobileNetV2. ``weights``: a :class:`MobileNet_V2_Weights` member or its name; ``kwargs`` go to
    :class:`MobileNetV2`."""
    weights = MobileNet_V2_Weights.verify(weights)
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    return _load_weights(MobileNetV2(**kwargs), weights, progress)
