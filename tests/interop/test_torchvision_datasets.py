"""ferrovision.datasets against torchvision.datasets on the same files (skipped without torchvision)."""

import gzip
import os
import shutil
import sys

import numpy as np
import pytest

torchvision = pytest.importorskip("torchvision")

import ferrovision.datasets as fv  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vision"))
from test_datasets import idx_bytes, write_cifar, write_cifar10, write_idx, write_mnist  # noqa: E402

DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"


class Shout:
    """A transform with a multi-line repr, shared by both libraries so their reprs can be compared."""

    def __call__(self, x):
        return x

    def __repr__(self):
        return "Shout(\n  loud=True)"


def assert_same_items(ours, theirs, indices):
    assert len(ours) == len(theirs)
    assert repr(ours) == repr(theirs)
    for i in indices:
        (a, ta), (b, tb) = ours[i], theirs[i]
        assert a.mode == b.mode and a.size == b.size
        np.testing.assert_array_equal(np.array(a), np.array(b))
        if hasattr(tb, "numpy"):
            np.testing.assert_array_equal(ta.numpy(), tb.numpy())
        else:
            assert type(ta) is type(tb) and ta == tb


@pytest.fixture(scope="module")
def fashion_root(tmp_path_factory):
    """Debian's Fashion-MNIST decompressed into torchvision's layout (torchvision reads plain files only)."""
    if not os.path.isdir(DEBIAN_FASHION):
        pytest.skip("dataset-fashion-mnist is not installed")
    root = tmp_path_factory.mktemp("fashion")
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in os.listdir(DEBIAN_FASHION):
        with gzip.open(os.path.join(DEBIAN_FASHION, name)) as src, open(raw / name[:-3], "wb") as dst:
            shutil.copyfileobj(src, dst)
    return str(root)


@pytest.mark.parametrize("train", [True, False])
def test_fashion_mnist_same_as_torchvision(fashion_root, train):
    ours = fv.FashionMNIST(fashion_root, train=train, transform=Shout())
    theirs = torchvision.datasets.FashionMNIST(fashion_root, train=train, transform=ours.transform)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    np.testing.assert_array_equal(ours.targets.numpy(), theirs.targets.numpy())
    assert ours.classes == theirs.classes and ours.class_to_idx == theirs.class_to_idx
    assert_same_items(ours, theirs, [0, 1, len(theirs) - 1])


def test_debian_fallback_gives_torchvision_items(fashion_root, tmp_path):
    ours = fv.FashionMNIST(str(tmp_path), train=False)
    theirs = torchvision.datasets.FashionMNIST(fashion_root, train=False)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())


@pytest.mark.parametrize("name", ["MNIST", "KMNIST"])
def test_mnist_variants_same_as_torchvision(tmp_path, rng, name):
    write_mnist(str(tmp_path), name, rng)
    for train in (True, False):
        ours = getattr(fv, name)(str(tmp_path), train=train, target_transform=Shout())
        theirs = getattr(torchvision.datasets, name)(str(tmp_path), train=train, target_transform=Shout())
        assert_same_items(ours, theirs, range(len(theirs)))


def test_emnist_same_as_torchvision(tmp_path, rng):
    raw = str(tmp_path / "EMNIST" / "raw")
    write_idx(os.path.join(raw, "emnist-balanced-train-images-idx3-ubyte"), rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), False)
    write_idx(os.path.join(raw, "emnist-balanced-train-labels-idx1-ubyte"), rng.integers(0, 47, 4, dtype=np.uint8), False)
    ours = fv.EMNIST(str(tmp_path), split="balanced")
    theirs = torchvision.datasets.EMNIST(str(tmp_path), split="balanced")
    assert ours.classes == theirs.classes
    assert_same_items(ours, theirs, range(4))


@pytest.mark.parametrize("what, compat", [("test", True), ("test10k", False), ("test50k", True)])
def test_qmnist_same_as_torchvision(tmp_path, rng, what, compat):
    raw = os.path.join(str(tmp_path), "QMNIST", "raw")
    n = 10002
    write_idx(os.path.join(raw, "qmnist-test-images-idx3-ubyte"), rng.integers(0, 256, (n, 2, 3), dtype=np.uint8), False)
    write_idx(os.path.join(raw, "qmnist-test-labels-idx2-int"), rng.integers(0, 9, (n, 8)).astype(np.int32), False)
    ours = fv.QMNIST(str(tmp_path), what=what, compat=compat)
    theirs = torchvision.datasets.QMNIST(str(tmp_path), what=what, compat=compat)
    np.testing.assert_array_equal(ours.targets.numpy(), theirs.targets.numpy())
    assert_same_items(ours, theirs, [0, len(theirs) - 1])


@pytest.fixture
def lenient_cifar(monkeypatch):
    """torchvision checks the official MD5 of every batch; the batches written here have their own."""
    from torchvision.datasets import cifar

    monkeypatch.setattr(cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))


@pytest.mark.parametrize("train", [True, False])
def test_cifar10_same_as_torchvision(tmp_path, rng, lenient_cifar, train):
    write_cifar10(str(tmp_path), rng)
    ours = fv.CIFAR10(str(tmp_path), train=train)
    theirs = torchvision.datasets.CIFAR10(str(tmp_path), train=train)
    np.testing.assert_array_equal(ours.data, theirs.data)
    assert ours.targets == theirs.targets and ours.classes == theirs.classes
    assert_same_items(ours, theirs, range(len(theirs)))


def test_cifar100_same_as_torchvision(tmp_path, rng, lenient_cifar):
    write_cifar(str(tmp_path), rng, "cifar-100-python", ["train"], ["test"], "meta", "fine_label_names", "fine_labels", 100)
    ours, theirs = fv.CIFAR100(str(tmp_path)), torchvision.datasets.CIFAR100(str(tmp_path))
    assert ours.class_to_idx == theirs.class_to_idx
    assert_same_items(ours, theirs, range(len(theirs)))


def test_image_folder_same_as_torchvision(tmp_path, rng):
    from PIL import Image

    for path in ["b/x.png", "a/y.jpg", "a/deep/z.PNG", "b/w.bmp", "a/skip.txt"]:
        full = tmp_path / path
        full.parent.mkdir(parents=True, exist_ok=True)
        if path.endswith(".txt"):
            full.write_text("-")
        else:
            Image.fromarray(rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)).save(full)
    ours, theirs = fv.ImageFolder(str(tmp_path)), torchvision.datasets.ImageFolder(str(tmp_path))
    assert ours.samples == theirs.samples and ours.classes == theirs.classes and ours.targets == theirs.targets
    assert_same_items(ours, theirs, range(len(theirs)))
    valid = lambda p: p.endswith(".txt")  # noqa: E731
    ours = fv.DatasetFolder(str(tmp_path), loader=os.path.getsize, is_valid_file=valid, allow_empty=True)
    theirs = torchvision.datasets.DatasetFolder(str(tmp_path), loader=os.path.getsize, is_valid_file=valid, allow_empty=True)
    assert ours.samples == theirs.samples and ours[0] == theirs[0] and repr(ours) == repr(theirs)


@pytest.mark.parametrize("image_size", [(3, 16, 16), (1, 9, 7)])
def test_fakedata_same_as_torchvision(image_size):
    ours = fv.FakeData(size=6, image_size=image_size, num_classes=4, random_offset=5)
    theirs = torchvision.datasets.FakeData(size=6, image_size=image_size, num_classes=4, random_offset=5)
    assert_same_items(ours, theirs, range(6))


def test_idx_reader_same_as_torchvision(tmp_path, rng):
    from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor as theirs

    from ferrovision.datasets.mnist import read_sn3_pascalvincent_tensor as ours

    for dtype in (np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64):
        path = tmp_path / f"x{np.dtype(dtype).name}"
        path.write_bytes(idx_bytes((rng.standard_normal((2, 3)) * 50).astype(dtype)))
        np.testing.assert_array_equal(ours(str(path)).numpy(), theirs(str(path)).numpy())
