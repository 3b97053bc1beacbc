"""Vision workloads (issue 8): a ResNet-18 training step on real Fashion-MNIST images and two
transforms pipelines on PIL images. Each library runs with its own domain library: ferrovision
beside ferrotorch, torchvision beside PyTorch.

Each callable carries ``items`` (images per call): run.py then also prints images per second.
"""

import functools
import importlib

import numpy as np
from PIL import Image

BATCH = 64  # a usual Fashion-MNIST/CIFAR batch size
# Fashion-MNIST training-set mean and std of pixel values in [0, 1].
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def _vision(lib):
    """The domain library matching `lib`: ferrovision for ferrotorch, torchvision for torch."""
    return importlib.import_module("ferrovision" if lib.__name__ == "ferrotorch" else "torchvision")


@functools.cache
def _fashion_mnist_uint8():
    """The Fashion-MNIST training images (60000x28x28 uint8) and labels, read once for both libraries
    with ferrovision from Debian's dataset-fashion-mnist files."""
    import ferrovision

    ds = ferrovision.datasets.FashionMNIST("/nonexistent", train=True)
    return ds.data.numpy(), ds.targets.numpy()


def _items(n):
    """Decorator: the callable built carries `items` = n images per call."""

    def wrap(build):
        @functools.wraps(build)
        def built(lib, rng):
            fn = build(lib, rng)
            fn.items = n
            return fn

        return built

    return wrap


@_items(BATCH)
def resnet18_fashion_mnist_step(lib, rng):
    """ResNet-18 (``resnet18(num_classes=10)``, torchvision's architecture unchanged) training step on
    Fashion-MNIST: batch 64 of real training images, zero-padded from 28x28 to 32x32 (so the stride-32
    network ends on a 1x1 map, as for CIFAR) and repeated to 3 channels, normalized; cross entropy,
    backward, SGD with momentum 0.9 and weight decay 5e-4. Calls cycle through 8 different batches."""
    images, labels = _fashion_mnist_uint8()
    lib.manual_seed(0)
    model = _vision(lib).models.resnet18(num_classes=10)
    model.train()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    batches = []
    for b in range(8):
        idx = rng.choice(len(images), BATCH, replace=False)
        x = np.pad(images[idx], ((0, 0), (2, 2), (2, 2))).astype(np.float32) / 255.0
        x = np.repeat(((x - FMNIST_MEAN) / FMNIST_STD)[:, None], 3, axis=1)
        batches.append((lib.from_numpy(np.ascontiguousarray(x)), lib.from_numpy(labels[idx].astype(np.int64))))
    loss_fn = lib.nn.CrossEntropyLoss()
    step_count = [0]

    def step():
        x, y = batches[step_count[0] % len(batches)]
        step_count[0] += 1
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


def _run_pipeline(pipeline, pil_images):
    def run():
        for img in pil_images:
            pipeline(img)

    return run


@_items(BATCH)
def fashion_mnist_transforms(lib, rng):
    """Fashion-MNIST training augmentation on 64 real PIL images (mode "L", 28x28) per call:
    RandomCrop(28, padding=4), RandomHorizontalFlip, ToTensor, Normalize."""
    images, _ = _fashion_mnist_uint8()
    T = _vision(lib).transforms
    lib.manual_seed(0)
    pipeline = T.Compose([
        T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize((FMNIST_MEAN,), (FMNIST_STD,)),
    ])  # fmt: skip
    pil = [Image.fromarray(images[i]) for i in rng.choice(len(images), BATCH, replace=False)]
    return _run_pipeline(pipeline, pil)


def _photo(rng, size=(500, 375)):
    """A photo-sized RGB PIL image (ImageNet's most common size, 500x375): smooth colour gradients plus
    noise. The cost of the transforms below depends on the sizes only, not on the content."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 255 / (w + h)], axis=-1)
    noisy = base + rng.normal(0, 20, base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


@_items(8)
def imagenet_transforms(lib, rng):
    """ImageNet training augmentation on 8 photo-sized (500x375) RGB PIL images per call:
    RandomResizedCrop(224), RandomHorizontalFlip, ColorJitter(0.4, 0.4, 0.4), ToTensor, Normalize."""
    T = _vision(lib).transforms
    lib.manual_seed(0)
    pipeline = T.Compose([
        T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4), T.ToTensor(),
        T.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])  # fmt: skip
    return _run_pipeline(pipeline, [_photo(rng) for _ in range(8)])


WORKLOADS = {
    "ResNet-18 train FMNIST 32x32 bs64": resnet18_fashion_mnist_step,
    "transforms FMNIST crop+flip x64": fashion_mnist_transforms,
    "transforms ImageNet RRC+jitter x8": imagenet_transforms,
}
