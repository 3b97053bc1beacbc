"""AlexNet, as `torchvision.models.alexnet`."""

from functools import partial
from typing import Optional

import ferrotorch
from ferrotorch import nn

from ._api import Weights, WeightsEnum, _load_weights, register_model
from ._meta import _IMAGENET_CATEGORIES
from ..transforms._presets import ImageClassification, InterpolationMode  # noqa: F401
from ._utils import _ovewrite_named_param

__all__ = ["AlexNet", "AlexNet_Weights", "alexnet"]


class AlexNet(nn.Module):
    """AlexNet as in "One weird trick..." (https://arxiv.org/abs/1404.5997), torchvision's variant.

    Args:
        num_classes (int): output logits. Default: 1000
        dropout (float): dropout before the two hidden Linear layers. Default: 0.5
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = ferrotorch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


_COMMON_META = {
    'num_params': 61100840,
    'min_size': (63, 63),
    'categories': _IMAGENET_CATEGORIES,
    'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg',
    '_metrics': {'ImageNet-1K': {'acc@1': 56.522, 'acc@5': 79.066}},
    '_ops': 0.714,
    '_file_size': 233.087,
    '_docs': (
        '\n                These weights reproduce closely the results of the paper using a simplified training '
        'recipe.\n            '
    ),
}


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/alexnet-owt-7be5be79.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={
            **_COMMON_META,
        },
    )
    DEFAULT = IMAGENET1K_V1



@register_model()
def alexnet(*, weights: Optional[AlexNet_Weights] = None, progress=True, **kwargs):
    """AlexNet. ``weights``: an :class:`AlexNet_Weights` member or its name; ``kwargs`` go to :class:`AlexNet`."""
    weights = AlexNet_Weights.verify(weights)
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    return _load_weights(AlexNet(**kwargs), weights, progress)
