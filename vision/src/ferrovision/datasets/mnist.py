"""MNIST and its relatives (Fashion-MNIST, KMNIST, EMNIST, QMNIST), read from the raw idx files.

Files live where torchvision puts them, ``root/<ClassName>/raw/<name>``, uncompressed or as ``<name>.gz``
(or ``.xz``/``.bz2``). FashionMNIST also finds the files Debian's ``dataset-fashion-mnist`` package installs
when `root` has none.
"""

import os
import string
import warnings
from typing import Any, Callable, Optional

import numpy as np
from PIL import Image

import ferrotorch

from .utils import _COMPRESSED_FILE_OPENERS, download_and_extract_archive, extract_archive, verify_str_arg
from .vision import VisionDataset

_DIGIT_CLASSES = [
    "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
    "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
]  # fmt: skip


class MNIST(VisionDataset):
    """`MNIST <http://yann.lecun.com/exdb/mnist/>`_ Dataset.

    Args:
        root (str or ``pathlib.Path``): Root directory of the dataset, holding
            ``MNIST/raw/train-images-idx3-ubyte`` and ``MNIST/raw/t10k-images-idx3-ubyte`` (or ``.gz``).
        train (bool, optional): If True, the training set (``train-*``), otherwise the test set (``t10k-*``).
        transform (callable, optional): Takes a PIL image and returns a transformed version.
        target_transform (callable, optional): Takes the target and transforms it.
        download (bool, optional): If True and the files are missing, download them from `mirrors` into
            ``root/<ClassName>/raw`` and check their MD5. With the files present, nothing is downloaded.

    Attributes:
        data (Tensor): ``(N, 28, 28)`` uint8 images.
        targets (Tensor): ``(N,)`` int64 labels.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    # Folders searched after ``root/<ClassName>/raw`` (e.g. where a system package installs the files).
    system_folders: tuple[str, ...] = ()
    training_file = "training.pt"
    test_file = "test.pt"
    classes = _DIGIT_CLASSES

    def __init__(
        self,
        root,
        train: bool = True,
        transform: Optional[Callable] = None,
        target_transform: Optional[Callable] = None,
        download: bool = False,
    ) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self.data, self.targets = self._load_data()

    # -- where the files are -------------------------------------------------------------------------

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    def _required_files(self) -> list[str]:
        """Uncompressed names of the files that must be present (both splits, as torchvision checks)."""
        return [os.path.splitext(os.path.basename(name))[0] for name, _ in self.resources]

    def _split_files(self) -> tuple[str, str]:
        """Uncompressed names of this split's image and label files."""
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _data_folder(self) -> Optional[str]:
        """The first folder (the raw folder, then `system_folders`) holding every required file."""
        for folder in (self.raw_folder, *self.system_folders):
            if all(_find_file(os.path.join(folder, name)) is not None for name in self._required_files()):
                return folder
        return None

    def _check_exists(self) -> bool:
        return self._data_folder() is not None

    @property
    def images_file(self) -> str:
        return os.path.join(self._data_folder() or self.raw_folder, self._split_files()[0])

    @property
    def labels_file(self) -> str:
        return os.path.join(self._data_folder() or self.raw_folder, self._split_files()[1])

    def _load_data(self):
        return read_image_file(self.images_file), read_label_file(self.labels_file)

    # -- items -----------------------------------------------------------------------------------------

    def _target(self, index: int) -> Any:
        return int(self.targets[index])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(PIL image of mode ``"L"``, int target) at `index`, transformed."""
        img = Image.fromarray(self.data[index].numpy())
        target = self._target(index)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    # torchvision's old attribute names, kept with its warnings.
    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets")
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets")
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data")
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data")
        return self.data

    def download(self) -> None:
        """Download the files that are missing, trying each mirror in turn; never touches the network
        when the files are already present."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            errors = []
            for mirror in self.mirrors:
                try:
                    download_and_extract_archive(
                        f"{mirror}{filename}", download_root=self.raw_folder, filename=filename, md5=md5
                    )
                except (RuntimeError, OSError) as e:  # URLError is an OSError
                    errors.append(e)
                    continue
                break
            else:
                message = f"Error downloading {filename}:\n"
                for mirror, err in zip(self.mirrors, errors):
                    message += f"Tried {mirror}, got:\n{err}\n"
                raise RuntimeError(message)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_ Dataset.

    Same arguments as :class:`MNIST`; files under ``root/FashionMNIST/raw``. When they are not there, the
    files of Debian's ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``) are used.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    system_folders = ("/usr/share/datasets/fashion-mnist",)
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """`Kuzushiji-MNIST <https://github.com/rois-codh/kmnist>`_ Dataset; same arguments as :class:`MNIST`."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """`EMNIST <https://www.nist.gov/itl/products-and-services/emnist-dataset>`_ Dataset.

    Args:
        root (str or ``pathlib.Path``): Root directory holding
            ``EMNIST/raw/emnist-<split>-<train|test>-images-idx3-ubyte`` (and ``-labels-idx1-ubyte``).
        split (str): One of ``byclass``, ``bymerge``, ``balanced``, ``letters``, ``digits``, ``mnist``.
        **kwargs: `train`, `transform`, `target_transform`, `download` as for :class:`MNIST`.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # Merged classes: upper and lower case letters that look alike share one class.
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y", "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split: str, **kwargs: Any) -> None:
        self.split = verify_str_arg(split, "split", self.splits)
        self.training_file = f"training_{split}.pt"
        self.test_file = f"test_{split}.pt"
        super().__init__(root, **kwargs)
        self.classes = self.classes_split_dict[self.split]

    @property
    def _file_prefix(self) -> str:
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    def _split_files(self) -> tuple[str, str]:
        return f"{self._file_prefix}-images-idx3-ubyte", f"{self._file_prefix}-labels-idx1-ubyte"

    def _required_files(self) -> list[str]:
        return list(self._split_files())

    def download(self) -> None:
        """Download NIST's zip of every split and decompress its ``.gz`` members into the raw folder."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5)
        gzip_folder = os.path.join(self.raw_folder, "gzip")
        for name in os.listdir(gzip_folder):
            if name.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, name), self.raw_folder)
                os.remove(os.path.join(gzip_folder, name))


class QMNIST(MNIST):
    """`QMNIST <https://github.com/facebookresearch/qmnist>`_ Dataset.

    Args:
        root (str or ``pathlib.Path``): Root directory whose ``QMNIST/raw`` holds the binary files.
        what (str, optional): ``train``, ``test`` (60k), ``test10k`` (the MNIST test images), ``test50k``
            (the other 50k) or ``nist`` (all NIST digits). Default: ``train`` or ``test`` from `train`.
        compat (bool, optional): If True (default) the target is the class number; otherwise the int64
            vector of all QMNIST label fields.
        train (bool, optional): Picks `what` when it is None. Default: True.
        **kwargs: `transform`, `target_transform`, `download` as for :class:`MNIST`.
    """

    subsets = {"train": "train", "test": "test", "test10k": "test", "test50k": "test", "nist": "nist"}
    _base = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
    resources = {  # type: ignore[assignment]
        "train": [
            (_base + "qmnist-train-images-idx3-ubyte.gz", "ed72d4157d28c017586c42bc6afe6370"),
            (_base + "qmnist-train-labels-idx2-int.gz", "0058f8dd561b90ffdd0f734c6a30e5e4"),
        ],
        "test": [
            (_base + "qmnist-test-images-idx3-ubyte.gz", "1394631089c404de565df7b7aeaf9412"),
            (_base + "qmnist-test-labels-idx2-int.gz", "5b5b05890a5e13444e108efe57b788aa"),
        ],
        "nist": [
            (_base + "xnist-images-idx3-ubyte.xz", "7f124b3b8ab81486c9d8c2749c17f834"),
            (_base + "xnist-labels-idx2-int.xz", "5ed0e788978e45d4a8bd4b7caec3d79d"),
        ],
    }
    classes = _DIGIT_CLASSES

    def __init__(self, root, what: Optional[str] = None, compat: bool = True, train: bool = True, **kwargs: Any):
        if what is None:
            what = "train" if train else "test"
        self.what = verify_str_arg(what, "what", tuple(self.subsets.keys()))
        self.compat = compat
        self.data_file = what + ".pt"
        self.training_file = self.data_file
        self.test_file = self.data_file
        super().__init__(root, train, **kwargs)

    def _split_files(self) -> tuple[str, str]:
        images, labels = self.resources[self.subsets[self.what]]
        return tuple(os.path.splitext(os.path.basename(url))[0] for url, _ in (images, labels))

    def _required_files(self) -> list[str]:
        return list(self._split_files())

    def _load_data(self):
        data = read_sn3_pascalvincent_tensor(self.images_file)
        if data.dtype != ferrotorch.uint8:
            raise TypeError(f"data should be of dtype torch.uint8 instead of {data.dtype}")
        if data.ndimension() != 3:
            raise ValueError(f"data should have 3 dimensions instead of {data.ndimension()}")
        targets = read_sn3_pascalvincent_tensor(self.labels_file).long()
        if targets.ndimension() != 2:
            raise ValueError(f"targets should have 2 dimensions instead of {targets.ndimension()}")
        if self.what == "test10k":
            data, targets = data[0:10000].clone(), targets[0:10000].clone()
        elif self.what == "test50k":
            data, targets = data[10000:].clone(), targets[10000:].clone()
        return data, targets

    def _target(self, index: int) -> Any:
        target = self.targets[index]
        return int(target[0]) if self.compat else target

    def download(self) -> None:
        """Download only the files of the subset `what` asks for."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for url, md5 in self.resources[self.subsets[self.what]]:
            download_and_extract_archive(url, self.raw_folder, md5=md5)

    def extra_repr(self) -> str:
        return f"Split: {self.what}"


# idx ("SN3 Pascal Vincent") element types: the magic number's third byte -> big-endian NumPy dtype.
SN3_PASCALVINCENT_TYPEMAP = {8: ">u1", 9: ">i1", 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}


def _find_file(path: str) -> Optional[str]:
    """`path` if it exists, else its first existing compressed variant (``path.gz``, ...), else None."""
    for candidate in (path, *(path + suffix for suffix in _COMPRESSED_FILE_OPENERS)):
        if os.path.isfile(candidate):
            return candidate
    return None


def _read_bytes(path: str) -> bytes:
    """Contents of `path` or of its compressed variant, decompressed."""
    found = _find_file(path)
    if found is None:
        raise FileNotFoundError(f"No such file: '{path}' (nor a compressed variant)")
    suffix = os.path.splitext(found)[1]
    opener = _COMPRESSED_FILE_OPENERS.get(suffix, open)
    with opener(found, "rb") as f:
        return f.read()


def read_sn3_pascalvincent_tensor(path: str, strict: bool = True) -> "ferrotorch.Tensor":
    """Read an idx file (Lush's "SN3 Pascal Vincent" format) into a tensor of its element type.

    `path` may name the uncompressed file or its ``.gz``/``.xz``/``.bz2`` variant; when the plain file is
    missing, the compressed variant next to it is read.
    """
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path} is not an idx file: bad magic number")
    ty, nd = data[2], data[3]
    if ty not in SN3_PASCALVINCENT_TYPEMAP or not 1 <= nd <= 3:
        raise ValueError(f"{path}: unsupported idx element type {ty} or number of dimensions {nd}")
    shape = [int.from_bytes(data[4 * (i + 1) : 4 * (i + 2)], "big") for i in range(nd)]
    dtype = np.dtype(SN3_PASCALVINCENT_TYPEMAP[ty])
    parsed = np.frombuffer(data, dtype=dtype, offset=4 * (nd + 1))
    numel = int(np.prod(shape))
    if strict and parsed.size != numel:
        raise ValueError(f"{path}: header says shape {shape} ({numel} elements) but the file holds {parsed.size}")
    # A native-endian, writable copy that the tensor owns.
    array = parsed[:numel].astype(dtype.newbyteorder("="), copy=True).reshape(shape)
    return ferrotorch.from_numpy(array)


def read_label_file(path: str) -> "ferrotorch.Tensor":
    """A 1-D uint8 idx label file as an int64 tensor."""
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != ferrotorch.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {x.dtype}")
    if x.ndimension() != 1:
        raise ValueError(f"x should have 1 dimension instead of {x.ndimension()}")
    return x.long()


def read_image_file(path: str) -> "ferrotorch.Tensor":
    """A 3-D uint8 idx image file as an ``(N, H, W)`` uint8 tensor."""
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != ferrotorch.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {x.dtype}")
    if x.ndimension() != 3:
        raise ValueError(f"x should have 3 dimension instead of {x.ndimension()}")
    return x
