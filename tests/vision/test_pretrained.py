"""The weights ferrovision ships (LeNet-5 and ResNet-8 trained on Fashion-MNIST): they load from the
package without a network, reach the accuracy their meta records on the real test set, are checked
against their sha256, and their preprocessing preset matches a NumPy computation."""

import hashlib
import os
import shutil

import numpy as np
import pytest
from PIL import Image

import ferrotorch
from ferrovision import models
from ferrovision.datasets import FashionMNIST
from ferrovision.models import LeNet5_Weights, ResNet8_Weights, Weights, WeightsEnum
from ferrovision.models._api import _load_weights

DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = [("lenet5", LeNet5_Weights), ("resnet8", ResNet8_Weights)]
needs_data = pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION), reason="dataset-fashion-mnist is not installed")


@pytest.fixture(scope="module")
def test_set():
    return FashionMNIST("/nonexistent", train=False)


def accuracy_percent(model, preset, images, labels, batch_size=2000):
    model.eval()
    correct = 0
    with ferrotorch.no_grad():
        for start in range(0, len(labels), batch_size):
            logits = model(preset(images[start:start + batch_size]))
            correct += (logits.argmax(1) == labels[start:start + batch_size]).sum().item()
    return 100 * correct / len(labels)


@needs_data
@pytest.mark.parametrize("name, enum", SHIPPED)
def test_accuracy_on_the_full_test_set_matches_meta(test_set, name, enum):
    # All 10,000 test images, as the training script measured them. The tolerance (0.05 points, five
    # images) covers logits that differ in the last bits from the script's run (batch size and thread
    # count change the summation order) and so may flip an argmax that was a near tie.
    weights = enum.DEFAULT
    model = getattr(models, name)(weights=weights)
    acc = accuracy_percent(model, weights.transforms(), test_set.data.unsqueeze(1), test_set.targets)
    assert acc == pytest.approx(weights.meta["_metrics"]["FashionMNIST"]["acc@1"], abs=0.05)


@pytest.mark.parametrize("name, enum", SHIPPED)
def test_get_model_loads_the_same_weights(name, enum):
    assert models.get_model_weights(name) is enum
    assert models.get_weight(f"{enum.__name__}.FASHION_MNIST_V1") is enum.DEFAULT
    direct = getattr(models, name)(weights=enum.DEFAULT).state_dict()
    by_name = models.get_model(name, weights="DEFAULT").state_dict()
    assert list(direct) == list(by_name)
    for key, value in direct.items():
        np.testing.assert_array_equal(value.numpy(), by_name[key].numpy())


@pytest.mark.parametrize("name, enum", SHIPPED)
def test_meta_describes_the_packaged_file(name, enum):
    weights = enum.FASHION_MNIST_V1
    meta = weights.meta
    model = getattr(models, name)(weights=weights)
    assert meta["num_params"] == sum(p.numel() for p in model.parameters())
    assert meta["categories"] == FashionMNIST.classes
    # The checkpoint is inside the installed package, named with its sha256 prefix, and is what meta says.
    path = weights.url
    assert os.path.dirname(path) == os.path.join(os.path.dirname(models.__file__), "weights")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert digest == meta["_sha256"]
    assert os.path.basename(path) == f"{name}_fashion_mnist-{digest[:8]}.pt"
    assert meta["_file_size"] == pytest.approx(os.path.getsize(path) / 2**20, abs=1e-3)
    assert os.path.getsize(path) < 1 << 20
    assert os.path.isfile(os.path.join(REPO, meta["recipe"]))
    assert meta["_docs"]
    # A state_dict only: plain tensors under the model's own keys.
    state = ferrotorch.load(path)
    assert list(state) == list(model.state_dict())


def test_sha256_mismatch_raises(tmp_path):
    original = LeNet5_Weights.DEFAULT
    intact, damaged = tmp_path / "intact.pt", tmp_path / "damaged.pt"
    shutil.copyfile(original.url, intact)
    data = bytearray(intact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))

    class Copies(WeightsEnum):
        INTACT = Weights(url=str(intact), transforms=original.transforms, meta=dict(original.meta))
        DAMAGED = Weights(url=str(damaged), transforms=original.transforms, meta=dict(original.meta))

    _load_weights(models.LeNet(), Copies.INTACT, progress=False)
    with pytest.raises(RuntimeError, match=f'invalid hash value .*expected "{original.meta["_sha256"]}"'):
        _load_weights(models.LeNet(), Copies.DAMAGED, progress=False)


def test_pretrained_fixes_num_classes():
    with pytest.raises(ValueError, match="'num_classes' expected value 10 but got 5"):
        models.resnet8(weights=ResNet8_Weights.DEFAULT, num_classes=5)


@pytest.mark.parametrize("enum", [LeNet5_Weights, ResNet8_Weights])
def test_transforms_preset_matches_numpy(enum, rng):
    preset = enum.DEFAULT.transforms()
    pixels = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    expected = (pixels.astype(np.float64) / 255 - 0.2860) / 0.3530

    from_pil = preset(Image.fromarray(pixels[0], mode="L"))
    assert from_pil.dtype == ferrotorch.float32 and tuple(from_pil.shape) == (1, 28, 28)
    np.testing.assert_allclose(from_pil.numpy()[0], expected[0], rtol=1e-6, atol=1e-6)

    single = preset(ferrotorch.from_numpy(pixels[:1].copy()))
    np.testing.assert_allclose(single.numpy(), expected[:1], rtol=1e-6, atol=1e-6)

    batch = preset(ferrotorch.from_numpy(pixels[:, None].copy()))
    assert tuple(batch.shape) == (3, 1, 28, 28)
    np.testing.assert_allclose(batch.numpy()[:, 0], expected, rtol=1e-6, atol=1e-6)
