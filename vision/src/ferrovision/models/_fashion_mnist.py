"""What the Fashion-MNIST weights ferrovision ships (``lenet5``, ``resnet8``) have in common: the class
names, the evaluation preprocessing and the shared ``meta`` entries."""

from functools import partial

from ..transforms._presets import ImageClassification

# Fashion-MNIST's classes in label order (as ferrovision.datasets.FashionMNIST.classes).
_FASHION_MNIST_CATEGORIES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                             "Bag", "Ankle boot"]

# uint8 -> [0, 1] -> normalized with the training set's pixel mean and std, as the training script does.
# Inputs of 28x28 pass the resize and centre crop unchanged; larger images are scaled down to 28x28.
_FashionMNISTClassification = partial(ImageClassification, crop_size=28, resize_size=28, mean=(0.2860,),
                                      std=(0.3530,))

_COMMON_META = {
    "min_size": (28, 28),
    "categories": _FASHION_MNIST_CATEGORIES,
    "recipe": "vision/scripts/train_fashion_mnist.py",
}
