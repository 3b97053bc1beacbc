"""LeNet-5 (LeCun et al., 1998). torchvision has no LeNet; this layout is ferrovision's own.

State dict layout (for ``num_classes=10, in_channels=1``)::

    features.0.weight  (6, 1, 5, 5)    features.0.bias  (6,)     Conv2d, padding 2 (28x28 -> 28x28)
    features.3.weight  (16, 6, 5, 5)   features.3.bias  (16,)    Conv2d (14x14 -> 10x10)
    classifier.0.weight (120, 400)     classifier.0.bias (120,)
    classifier.2.weight (84, 120)      classifier.2.bias (84,)
    classifier.4.weight (10, 84)       classifier.4.bias (10,)

``features`` is Conv-Tanh-AvgPool twice (indices 1, 2, 4, 5 hold no parameters); ``classifier`` is
Linear-Tanh-Linear-Tanh-Linear. Inputs are ``(N, in_channels, 28, 28)`` (MNIST / Fashion-MNIST size).
"""

from typing import Optional

import ferrotorch
from ferrotorch import nn

from ._api import WeightsEnum, _load_weights, register_model

__all__ = ["LeNet", "LeNet5_Weights", "lenet5"]


class LeNet(nn.Module):
    """LeNet-5 with tanh activations and average pooling, for 28x28 inputs.

    Args:
        num_classes (int): output logits. Default: 10
        in_channels (int): input channels. Default: 1
    """

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(ferrotorch.flatten(self.features(x), 1))


class LeNet5_Weights(WeightsEnum):
    """No published checkpoints: LeNet-5 trains in seconds (the enum exists for the weights API)."""


@register_model()
def lenet5(*, weights: Optional[LeNet5_Weights] = None, progress=True, **kwargs):
    """LeNet-5; ``kwargs`` go to :class:`LeNet`."""
    weights = LeNet5_Weights.verify(weights)
    return _load_weights(LeNet(**kwargs), weights, progress)
