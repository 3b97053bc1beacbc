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

from ._api import Weights, WeightsEnum, _load_weights, _packaged_weights, register_model
from ._fashion_mnist import _COMMON_META, _FashionMNISTClassification
from ._utils import _ovewrite_named_param

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
    """Weights ferrovision trained itself; the checkpoint ships inside the package (no download)."""

    FASHION_MNIST_V1 = Weights(
        url=_packaged_weights("lenet5_fashion_mnist-a77ca829.pt"),
        transforms=_FashionMNISTClassification,
        meta={
            **_COMMON_META,
            "num_params": 61706,
            "_metrics": {"FashionMNIST": {"acc@1": 89.83}},
            "_file_size": 0.239,
            "_sha256": "a77ca8296dd592e197312127b442a89d4c9f561ecd4348640216cf83ce207bb1",
            "_docs": ("Trained from scratch on the 60,000 Fashion-MNIST training images for 10 epochs (AdamW, "
                      "one-cycle learning rate peaking at 3e-3, batch 128, seed 0, no augmentation); accuracy "
                      "measured on the 10,000 test images."),
        },
    )
    DEFAULT = FASHION_MNIST_V1


@register_model()
def lenet5(*, weights: Optional[LeNet5_Weights] = None, progress=True, **kwargs):
    """LeNet-5; ``kwargs`` go to :class:`LeNet`."""
    weights = LeNet5_Weights.verify(weights)
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    return _load_weights(LeNet(**kwargs), weights, progress)
