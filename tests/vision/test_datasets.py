"""ferrovision.datasets: readers of the real on-disk formats, checked against files written here with NumPy,
the Debian Fashion-MNIST files, and FakeData items written by torchvision (data/make_datasets.py)."""

import gzip
import hashlib
import json
import os
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

import ferrotorch as ft
from ferrovision import datasets
from ferrovision.datasets import utils as dataset_utils
from ferrovision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset, pil_loader
from ferrovision.datasets.mnist import read_sn3_pascalvincent_tensor
from ferrovision.datasets.vision import StandardTransform

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"

# idx element type codes (the magic number's third byte).
IDX_TYPES = {np.dtype(np.uint8): 8, np.dtype(np.int8): 9, np.dtype(np.int16): 11, np.dtype(np.int32): 12,
             np.dtype(np.float32): 13, np.dtype(np.float64): 14}  # fmt: skip


def idx_bytes(array: np.ndarray) -> bytes:
    """An idx file: magic (0, 0, type, ndim), big-endian uint32 dims, big-endian data."""
    header = bytes([0, 0, IDX_TYPES[array.dtype], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: str, array: np.ndarray, compress: bool) -> str:
    data = idx_bytes(array)
    if compress:
        path += ".gz"
        data = gzip.compress(data)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_mnist_split(rng, n, size=28):
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def write_mnist(root, name, rng, compress=False, n_train=7, n_test=3):
    """Writes torchvision's layout ``root/<name>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``."""
    raw = os.path.join(root, name, "raw")
    splits = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images, labels = make_mnist_split(rng, n)
        write_idx(os.path.join(raw, f"{prefix}-images-idx3-ubyte"), images, compress)
        write_idx(os.path.join(raw, f"{prefix}-labels-idx1-ubyte"), labels, compress)
        splits[prefix] = (images, labels)
    return splits


# ---------------------------------------------------------------------------------------------------------
# VisionDataset and StandardTransform


class Tiny(datasets.VisionDataset):
    def __len__(self):
        return 3

    def __getitem__(self, index):
        return self.transforms(index, -index) if self.transforms else (index, -index)


class Named:
    def __init__(self, text):
        self.text = text

    def __call__(self, x):
        return (self.text, x)

    def __repr__(self):
        return self.text


def test_vision_dataset_repr_lists_root_and_transforms():
    ds = Tiny("~/somewhere", transform=Named("T(\n  inner)"), target_transform=Named("TT"))
    assert ds.root == os.path.expanduser("~/somewhere")
    assert repr(ds) == "\n".join([
        "Dataset Tiny",
        "    Number of datapoints: 3",
        f"    Root location: {os.path.expanduser('~/somewhere')}",
        "    StandardTransform",
        "Transform: T(",
        "             inner)",
        "Target transform: TT",
    ])  # fmt: skip


def test_vision_dataset_without_root_or_transforms():
    ds = Tiny()
    assert ds.root is None and ds.transforms is None
    assert repr(ds) == "Dataset Tiny\n    Number of datapoints: 3"


def test_standard_transform_applies_each_part():
    ds = Tiny(None, transform=Named("a"), target_transform=Named("b"))
    assert isinstance(ds.transforms, StandardTransform)
    assert ds[2] == (("a", 2), ("b", -2))
    assert StandardTransform(None, Named("b"))(1, 2) == (1, ("b", 2))


def test_transforms_and_transform_are_exclusive():
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform can be passed"):
        Tiny(None, transforms=lambda x, y: (x, y), transform=Named("a"))


def test_joint_transforms_are_kept_as_given():
    joint = lambda x, y: (y, x)  # noqa: E731
    ds = Tiny(None, transforms=joint)
    assert ds.transforms is joint and ds.transform is None
    assert ds[1] == (-1, 1)


def test_vision_dataset_is_a_ferrotorch_dataset_that_batches(tmp_path, rng):
    assert issubclass(datasets.VisionDataset, ft.utils.data.Dataset)
    splits = write_mnist(str(tmp_path), "MNIST", rng)
    ds = datasets.MNIST(str(tmp_path), train=True, transform=lambda img: ft.from_numpy(np.asarray(img).copy()))
    images, labels = next(iter(ft.utils.data.DataLoader(ds, batch_size=4)))
    np.testing.assert_array_equal(images.numpy(), splits["train"][0][:4])
    np.testing.assert_array_equal(labels.numpy(), splits["train"][1][:4])
    assert len(ds + ds) == 2 * len(ds)  # Dataset.__add__ concatenates


# ---------------------------------------------------------------------------------------------------------
# idx reader


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_every_element_type(tmp_path, rng, dtype):
    array = (rng.standard_normal((3, 4, 2)) * 100).astype(dtype)
    path = write_idx(str(tmp_path / "x-idx3"), array, compress=False)
    t = read_sn3_pascalvincent_tensor(path)
    np.testing.assert_array_equal(t.numpy(), array)
    assert t.numpy().dtype == np.dtype(dtype)


def test_read_idx_finds_gz_variant(tmp_path, rng):
    array = rng.integers(0, 256, (5,), dtype=np.uint8)
    write_idx(str(tmp_path / "labels"), array, compress=True)
    np.testing.assert_array_equal(read_sn3_pascalvincent_tensor(str(tmp_path / "labels")).numpy(), array)


def test_read_idx_rejects_bad_magic_and_short_data(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="bad magic number"):
        read_sn3_pascalvincent_tensor(str(tmp_path / "bad"))
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"\x00\x01")
    with pytest.raises(ValueError, match=r"shape \[5\] \(5 elements\) but the file holds 2"):
        read_sn3_pascalvincent_tensor(str(tmp_path / "short"))


# ---------------------------------------------------------------------------------------------------------
# MNIST family


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("train", [True, False])
def test_mnist_reads_raw_idx_files(tmp_path, rng, compress, train):
    splits = write_mnist(str(tmp_path), "MNIST", rng, compress=compress)
    images, labels = splits["train" if train else "t10k"]
    ds = datasets.MNIST(str(tmp_path), train=train)
    assert len(ds) == len(images)
    assert ds.data.dtype == ft.uint8 and tuple(ds.data.shape) == images.shape
    assert ds.targets.dtype == ft.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels.astype(np.int64))
    img, target = ds[1]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.array(img), images[1])
    assert type(target) is int and target == labels[1]


def test_mnist_metadata_and_repr(tmp_path, rng):
    write_mnist(str(tmp_path), "MNIST", rng)
    ds = datasets.MNIST(str(tmp_path), train=False)
    assert ds.classes[3] == "3 - three" and ds.class_to_idx["9 - nine"] == 9
    assert ds.raw_folder == os.path.join(str(tmp_path), "MNIST", "raw")
    assert repr(ds) == f"Dataset MNIST\n    Number of datapoints: 3\n    Root location: {tmp_path}\n    Split: Test"
    with pytest.warns(UserWarning, match="test_labels has been renamed targets"):
        assert ds.test_labels is ds.targets


def test_mnist_applies_transforms(tmp_path, rng):
    splits = write_mnist(str(tmp_path), "MNIST", rng)
    ds = datasets.MNIST(str(tmp_path), transform=lambda im: np.array(im).sum(), target_transform=lambda t: t + 100)
    images, labels = splits["train"]
    assert ds[0] == (images[0].sum(), labels[0] + 100)


def test_mnist_missing_files_raise(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True to download it"):
        datasets.MNIST(str(tmp_path))


@pytest.mark.parametrize("cls, first_class", [(datasets.FashionMNIST, "T-shirt/top"), (datasets.KMNIST, "o")])
def test_mnist_variants_read_their_own_folder(tmp_path, rng, cls, first_class):
    splits = write_mnist(str(tmp_path), cls.__name__, rng)
    ds = cls(str(tmp_path))
    np.testing.assert_array_equal(ds.data.numpy(), splits["train"][0])
    assert ds.classes[0] == first_class and len(ds.classes) == 10


def test_emnist_split_files_and_classes(tmp_path, rng):
    raw = str(tmp_path / "EMNIST" / "raw")
    images, labels = make_mnist_split(rng, 4)
    write_idx(os.path.join(raw, "emnist-letters-test-images-idx3-ubyte"), images, compress=True)
    write_idx(os.path.join(raw, "emnist-letters-test-labels-idx1-ubyte"), labels, compress=False)
    ds = datasets.EMNIST(str(tmp_path), split="letters", train=False)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds[2][1] == labels[2]
    assert ds.classes == ["N/A"] + list("abcdefghijklmnopqrstuvwxyz")
    assert len(datasets.EMNIST.classes_split_dict["byclass"]) == 62
    assert len(datasets.EMNIST.classes_split_dict["balanced"]) == 47
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.EMNIST(str(tmp_path), split="letters", train=True)


def test_emnist_rejects_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="Unknown value 'bogus' for argument split. Valid values are"):
        datasets.EMNIST(str(tmp_path), split="bogus")


def write_qmnist_test(root, rng, n):
    raw = os.path.join(root, "QMNIST", "raw")
    images = rng.integers(0, 256, (n, 2, 2), dtype=np.uint8)
    labels = rng.integers(0, 100000, (n, 8)).astype(np.int32)
    write_idx(os.path.join(raw, "qmnist-test-images-idx3-ubyte"), images, compress=True)
    write_idx(os.path.join(raw, "qmnist-test-labels-idx2-int"), labels, compress=True)
    return images, labels


def test_qmnist_compat_and_full_targets(tmp_path, rng):
    images, labels = write_qmnist_test(str(tmp_path), rng, 5)
    ds = datasets.QMNIST(str(tmp_path), train=False)
    assert ds.what == "test" and ds.targets.dtype == ft.int64 and tuple(ds.targets.shape) == (5, 8)
    img, target = ds[3]
    np.testing.assert_array_equal(np.array(img), images[3])
    assert target == int(labels[3, 0])
    full = datasets.QMNIST(str(tmp_path), what="test", compat=False)[3][1]
    np.testing.assert_array_equal(full.numpy(), labels[3].astype(np.int64))
    assert "Split: test" in repr(ds)


def test_qmnist_test10k_and_test50k_slices(tmp_path, rng):
    images, labels = write_qmnist_test(str(tmp_path), rng, 10003)
    first = datasets.QMNIST(str(tmp_path), what="test10k")
    rest = datasets.QMNIST(str(tmp_path), what="test50k", compat=False)
    assert len(first) == 10000 and len(rest) == 3
    np.testing.assert_array_equal(rest.data.numpy(), images[10000:])
    np.testing.assert_array_equal(rest.targets.numpy(), labels[10000:])


def test_qmnist_rejects_unknown_subset(tmp_path):
    with pytest.raises(ValueError, match="Unknown value 'val' for argument what"):
        datasets.QMNIST(str(tmp_path), what="val")


# ---------------------------------------------------------------------------------------------------------
# Downloading (only ever from a local file:// mirror)


def mnist_mirror(tmp_path, rng, broken_first=True):
    """A file:// mirror holding the four .gz files; returns (dataset subclass, splits)."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    splits, resources = {}, []
    for prefix in ("train", "t10k"):
        images, labels = make_mnist_split(rng, 2)
        splits[prefix] = (images, labels)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte.gz"
            data = gzip.compress(idx_bytes(array))
            (mirror / name).write_bytes(data)
            resources.append((name, hashlib.md5(data).hexdigest()))
    mirrors = [(tmp_path / "nowhere").as_uri() + "/"] if broken_first else []
    cls = type("LocalMNIST", (datasets.MNIST,), {"mirrors": mirrors + [mirror.as_uri() + "/"], "resources": resources})
    return cls, splits


def test_download_falls_back_to_the_next_mirror_and_extracts(tmp_path, rng):
    cls, splits = mnist_mirror(tmp_path, rng)
    ds = cls(str(tmp_path / "root"), download=True, train=False)
    np.testing.assert_array_equal(ds.data.numpy(), splits["t10k"][0])
    raw = tmp_path / "root" / "LocalMNIST" / "raw"
    assert (raw / "train-images-idx3-ubyte").is_file() and (raw / "train-images-idx3-ubyte.gz").is_file()


def test_download_rejects_a_wrong_md5(tmp_path, rng):
    cls, _ = mnist_mirror(tmp_path, rng, broken_first=False)
    cls.resources = [(name, "0" * 32) for name, _ in cls.resources]
    with pytest.raises(RuntimeError, match="Error downloading train-images-idx3-ubyte.gz"):
        cls(str(tmp_path / "root"), download=True)


def test_download_with_files_present_never_fetches(tmp_path, rng, monkeypatch):
    write_mnist(str(tmp_path), "MNIST", rng)

    def no_network(*args, **kwargs):
        raise AssertionError("tried to download")

    monkeypatch.setattr(dataset_utils, "_urlretrieve", no_network)
    assert len(datasets.MNIST(str(tmp_path), download=True)) == 7


def test_check_integrity_and_md5(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"ferrotorch")
    digest = hashlib.md5(b"ferrotorch").hexdigest()
    assert dataset_utils.calculate_md5(str(path)) == digest
    assert dataset_utils.check_integrity(str(path)) and dataset_utils.check_integrity(str(path), digest)
    assert not dataset_utils.check_integrity(str(path), "0" * 32)
    assert not dataset_utils.check_integrity(str(tmp_path / "missing"))


def test_extract_archive_handles_tar_gz_and_single_gz(tmp_path):
    (tmp_path / "a.txt").write_text("alpha")
    with tarfile.open(tmp_path / "pack.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "a.txt", arcname="inner/a.txt")
    out = dataset_utils.extract_archive(str(tmp_path / "pack.tar.gz"), str(tmp_path / "out"))
    assert out == str(tmp_path / "out") and (tmp_path / "out" / "inner" / "a.txt").read_text() == "alpha"
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress(b"beta"))
    assert (tmp_path / "b.txt").exists() is False
    assert dataset_utils.extract_archive(str(tmp_path / "b.txt.gz")) == str(tmp_path / "b.txt")
    assert (tmp_path / "b.txt").read_bytes() == b"beta"
    with pytest.raises(RuntimeError, match="Unknown compression or archive type: '.bin'"):
        dataset_utils.extract_archive(str(tmp_path / "c.bin"))


def test_verify_str_arg_messages():
    assert dataset_utils.verify_str_arg("a", "x", ("a", "b")) == "a"
    with pytest.raises(ValueError, match="Expected type str for argument x, but got type <class 'int'>."):
        dataset_utils.verify_str_arg(1, "x")
    with pytest.raises(ValueError, match=r"Valid values are \{'a', 'b'\}\."):
        dataset_utils.verify_str_arg("c", "x", ("a", "b"))


# ---------------------------------------------------------------------------------------------------------
# Fashion-MNIST from Debian's dataset-fashion-mnist package


def debian_idx(name):
    with gzip.open(os.path.join(DEBIAN_FASHION, name + ".gz"), "rb") as f:
        data = f.read()
    offset = 8 if "labels" in name else 16
    return np.frombuffer(data, dtype=np.uint8, offset=offset)


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION), reason="dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("train, prefix, n", [(True, "train", 60000), (False, "t10k", 10000)])
def test_fashion_mnist_falls_back_to_debian_files(tmp_path, train, prefix, n):
    ds = datasets.FashionMNIST(str(tmp_path), train=train)
    labels = debian_idx(f"{prefix}-labels-idx1-ubyte")
    pixels = debian_idx(f"{prefix}-images-idx3-ubyte").reshape(n, 28, 28)
    assert len(ds) == n and tuple(ds.data.shape) == (n, 28, 28)
    np.testing.assert_array_equal(ds.targets.numpy()[:20], labels[:20])
    assert int(ds.targets.sum()) == int(labels.sum(dtype=np.int64))
    assert int(ds.data.numpy().sum(dtype=np.int64)) == int(pixels.sum(dtype=np.int64))
    img, target = ds[n - 1]
    np.testing.assert_array_equal(np.array(img), pixels[n - 1])
    assert target == labels[n - 1] and ds.classes[target] == datasets.FashionMNIST.classes[labels[n - 1]]


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_prefers_files_under_root(tmp_path, rng):
    splits = write_mnist(str(tmp_path), "FashionMNIST", rng)
    assert len(datasets.FashionMNIST(str(tmp_path), train=False)) == len(splits["t10k"][0])


# ---------------------------------------------------------------------------------------------------------
# CIFAR


def write_cifar(root, rng, folder, train_files, test_files, meta_name, meta_key, label_key, n_classes, n=3):
    """Writes pickled batches as torchvision's layout has them: dicts of 'data' (N x 3072 uint8) and labels."""
    base = os.path.join(root, folder)
    os.makedirs(base)
    written = {}
    for name in train_files + test_files:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, n_classes, n)]
        with open(os.path.join(base, name), "wb") as f:
            pickle.dump({"data": data, label_key: labels, "batch_label": name}, f)
        written[name] = (data, labels)
    names = [f"class{i}" for i in range(n_classes)]
    with open(os.path.join(base, meta_name), "wb") as f:
        pickle.dump({meta_key: names}, f)
    return written, names


def write_cifar10(root, rng):
    train = [f"data_batch_{i}" for i in range(1, 6)]
    return write_cifar(root, rng, "cifar-10-batches-py", train, ["test_batch"], "batches.meta", "label_names", "labels", 10)


@pytest.mark.parametrize("train", [True, False])
def test_cifar10_reads_pickled_batches(tmp_path, rng, train):
    written, names = write_cifar10(str(tmp_path), rng)
    order = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    ds = datasets.CIFAR10(str(tmp_path), train=train)
    rows = np.concatenate([written[name][0] for name in order])
    labels = sum((written[name][1] for name in order), [])
    assert len(ds) == len(rows) and ds.data.dtype == np.uint8 and ds.data.shape == (len(rows), 32, 32, 3)
    # Row layout: 1024 red bytes, then green, then blue, each plane row-major.
    k = len(rows) - 1
    expected = np.stack([rows[k, c * 1024 : (c + 1) * 1024].reshape(32, 32) for c in range(3)], axis=-1)
    img, target = ds[k]
    assert img.mode == "RGB" and img.size == (32, 32)
    np.testing.assert_array_equal(np.array(img), expected)
    assert target == labels[k] and ds.targets == labels
    assert ds.classes == names and ds.class_to_idx["class7"] == 7


def test_cifar_md5_check_is_opt_in(tmp_path, rng):
    write_cifar10(str(tmp_path), rng)
    assert datasets.CIFAR10(str(tmp_path)).verify_md5 is False
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        datasets.CIFAR10(str(tmp_path), verify_md5=True)


def test_cifar_missing_batches_raise(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted. You can use download=True"):
        datasets.CIFAR10(str(tmp_path))


def test_cifar100_uses_fine_labels(tmp_path, rng):
    written, names = write_cifar(
        str(tmp_path), rng, "cifar-100-python", ["train"], ["test"], "meta", "fine_label_names", "fine_labels", 100
    )
    ds = datasets.CIFAR100(str(tmp_path), train=False)
    assert ds.targets == written["test"][1] and len(ds.classes) == 100
    assert repr(ds).endswith("Split: Test")


def test_cifar_download_from_local_archive(tmp_path, rng):
    source = tmp_path / "source"
    write_cifar10(str(source), rng)
    archive = tmp_path / "cifar.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    cls = type("LocalCIFAR10", (datasets.CIFAR10,), {"url": archive.as_uri(), "tgz_md5": md5})
    ds = cls(str(tmp_path / "root"), download=True, train=False)
    assert len(ds) == 3 and (tmp_path / "root" / "cifar-10-python.tar.gz").is_file()


# ---------------------------------------------------------------------------------------------------------
# DatasetFolder / ImageFolder


@pytest.fixture
def image_tree(tmp_path, rng):
    """root/{cat,dog,empty}: PNG/JPEG images (one nested), a text file and an empty class folder."""
    root = tmp_path / "tree"
    pixels = {}
    for path, fmt in [("cat/b.png", "PNG"), ("cat/a.JPG", "JPEG"), ("dog/sub/c.png", "PNG"), ("dog/d.jpeg", "JPEG")]:
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        array = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
        Image.fromarray(array).convert("L" if path == "dog/sub/c.png" else "RGB").save(full, format=fmt)
        pixels[str(full)] = np.array(Image.open(full).convert("RGB"))
    (root / "dog" / "notes.txt").write_text("not an image")
    return root, pixels


def test_image_folder_finds_images_in_sorted_order(image_tree):
    root, pixels = image_tree
    ds = datasets.ImageFolder(str(root))
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    expected = [(str(root / p), t) for p, t in [("cat/a.JPG", 0), ("cat/b.png", 0), ("dog/d.jpeg", 1), ("dog/sub/c.png", 1)]]
    assert ds.samples == expected and ds.imgs is ds.samples and ds.targets == [0, 0, 1, 1]
    for i, (path, target) in enumerate(expected):
        img, t = ds[i]
        assert img.mode == "RGB" and t == target
        np.testing.assert_array_equal(np.array(img), pixels[path])
    assert ".png" in IMG_EXTENSIONS and len(ds) == 4


def test_image_folder_empty_class_needs_allow_empty(image_tree):
    root, _ = image_tree
    (root / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty. Supported extensions are: .jpg"):
        datasets.ImageFolder(str(root))
    ds = datasets.ImageFolder(str(root), allow_empty=True)
    assert ds.classes == ["cat", "dog", "empty"] and len(ds) == 4


def test_image_folder_is_valid_file_replaces_extensions(image_tree):
    root, _ = image_tree
    ds = datasets.ImageFolder(str(root), is_valid_file=lambda p: p.endswith(".png"))
    assert [os.path.basename(p) for p, _ in ds.samples] == ["b.png", "c.png"]


def test_dataset_folder_with_custom_loader_and_extensions(image_tree):
    root, _ = image_tree
    ds = datasets.DatasetFolder(str(root), loader=lambda p: os.path.getsize(p), extensions=(".txt",),
                                allow_empty=True, target_transform=lambda t: t * 10)  # fmt: skip
    assert len(ds) == 1 and ds[0] == (len("not an image"), 10)


def test_folder_helpers_reject_bad_arguments(tmp_path, image_tree):
    root, _ = image_tree
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        make_dataset(str(root), extensions=None, is_valid_file=None)
    with pytest.raises(ValueError, match="'class_to_index' must have at least one entry"):
        make_dataset(str(root), class_to_idx={}, extensions=".png")
    with pytest.raises(ValueError, match="The class_to_idx parameter cannot be None."):
        datasets.DatasetFolder.make_dataset(str(root), None, extensions=(".png",))
    (tmp_path / "flat").mkdir()
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        find_classes(str(tmp_path / "flat"))


def test_pil_loader_converts_to_rgb(tmp_path):
    Image.new("L", (3, 2), 77).save(tmp_path / "g.png")
    img = pil_loader(str(tmp_path / "g.png"))
    assert img.mode == "RGB" and np.array(img).tolist() == [[[77, 77, 77]] * 3] * 2


# ---------------------------------------------------------------------------------------------------------
# FakeData


def fakedata_reference():
    ref = np.load(os.path.join(DATA, "fakedata_reference.npz"))
    return json.loads(str(ref["cases"])), ref


@pytest.mark.parametrize("case", ["rgb", "gray_offset"])
def test_fakedata_matches_torchvision_items(case):
    cases, ref = fakedata_reference()
    kwargs = dict(cases[case], image_size=tuple(cases[case]["image_size"]))
    ds = datasets.FakeData(**kwargs)
    assert len(ds) == kwargs["size"]
    for i in range(len(ds)):
        img, target = ds[i]
        assert img.mode == ("RGB" if kwargs["image_size"][0] == 3 else "L")
        np.testing.assert_array_equal(np.array(img), ref[f"{case}_images"][i])
        assert type(target) is int and target == ref[f"{case}_targets"][i]


def test_fakedata_is_deterministic_and_restores_the_global_rng():
    ds = datasets.FakeData(size=4, image_size=(3, 6, 6), random_offset=3)
    ft.manual_seed(123)
    first = np.array(ds[2][0])
    after = ft.randn(4).numpy()
    ft.manual_seed(123)
    expected_after = ft.randn(4).numpy()
    np.testing.assert_array_equal(after, expected_after)
    np.testing.assert_array_equal(np.array(ds[2][0]), first)
    shifted = datasets.FakeData(size=4, image_size=(3, 6, 6), random_offset=4)
    np.testing.assert_array_equal(np.array(shifted[1][0]), first)  # the seed is index + random_offset
    assert not np.array_equal(np.array(ds[1][0]), first)


def test_fakedata_index_out_of_range():
    with pytest.raises(IndexError, match="FakeData index out of range"):
        datasets.FakeData(size=2)[2]
