"""A small ResNet for 28x28 grayscale images (MNIST / Fashion-MNIST). torchvision has no such model;
this one is ferrovision's own, built from :class:`~ferrovision.models.resnet.BasicBlock`.

``resnet8`` is a 3x3 stem and three stages of one BasicBlock each (1 + 3 * 2 convolutions + the
classifier = 8 weight layers), 16/32/64 channels at 14x14, 7x7 and 7x7 pixels. Downsampling early
keeps it cheap on a CPU: an epoch of Fashion-MNIST takes 1.5 to 2.5 minutes on two cores.

State dict layout (``resnet8``)::

    conv1.weight (16, 1, 3, 3), bn1.*                     stem, 28x28
    layer1.0.{conv1,bn1,conv2,bn2,downsample.0,downsample.1}.*   16 channels, stride 2 -> 14x14
    layer2.0.*                                            32 channels, stride 2 -> 7x7
    layer3.0.*                                            64 channels, stride 1
    fc.weight (10, 64), fc.bias (10,)
"""

from typing import Optional

import ferrotorch
from ferrotorch import nn

from ._api import Weights, WeightsEnum, _load_weights, _packaged_weights, register_model
from ._utils import _ovewrite_named_param
from .resnet import BasicBlock, conv1x1, conv3x3
from ._fashion_mnist import _COMMON_META, _FashionMNISTClassification

__all__ = ["SmallResNet", "ResNet8_Weights", "resnet8"]


class SmallResNet(nn.Module):
    """A ResNet of :class:`BasicBlock` stages for small grayscale images.

    Args:
        layers (list[int]): blocks per stage. Default: ``(1, 1, 1)``
        widths (list[int]): channels per stage (the stem has ``widths[0]``). Default: ``(16, 32, 64)``
        strides (list[int]): stride of each stage's first block. Default: ``(2, 2, 1)``
        num_classes (int): output logits. Default: 10
        in_channels (int): input channels. Default: 1
    """

    def __init__(self, layers=(1, 1, 1), widths=(16, 32, 64), strides=(2, 2, 1), num_classes=10, in_channels=1):
        super().__init__()
        if not len(layers) == len(widths) == len(strides):
            raise ValueError(f"layers, widths and strides need one entry per stage, got {len(layers)}, "
                             f"{len(widths)} and {len(strides)}")
        self.inplanes = widths[0]
        self.conv1 = conv3x3(in_channels, self.inplanes)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        for i, (blocks, width, stride) in enumerate(zip(layers, widths, strides), 1):
            self.add_module(f"layer{i}", self._make_layer(width, blocks, stride))
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(1, self.num_stages + 1):
            x = getattr(self, f"layer{i}")(x)
        return self.fc(ferrotorch.flatten(self.avgpool(x), 1))


class ResNet8_Weights(WeightsEnum):
    """Weights ferrovision trained itself; the checkpoint ships inside the package (no download)."""

    FASHION_MNIST_V1 = Weights(
        url=_packaged_weights("resnet8_fashion_mnist-87bd3ab6.pt"),
        transforms=_FashionMNISTClassification,
        meta={
            **_COMMON_META,
            "num_params": 78042,
            "_metrics": {"FashionMNIST": {"acc@1": 91.89}},
            "_file_size": 0.319,
            "_sha256": "87bd3ab6fb47f1c2f6b7641527fb7c524208be8e6192f8c3cf2e3530fcdd5658",
            "_docs": ("Trained from scratch on the 60,000 Fashion-MNIST training images for 5 epochs (AdamW, "
                      "one-cycle learning rate peaking at 5e-3, batch 128, seed 0, no augmentation); accuracy "
                      "measured on the 10,000 test images."),
        },
    )
    DEFAULT = FASHION_MNIST_V1


@register_model()
def resnet8(*, weights: Optional[ResNet8_Weights] = None, progress=True, **kwargs):
    """ResNet-8 for 28x28 grayscale images; ``kwargs`` go to :class:`SmallResNet`."""
    weights = ResNet8_Weights.verify(weights)
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    return _load_weights(SmallResNet(**kwargs), weights, progress)
