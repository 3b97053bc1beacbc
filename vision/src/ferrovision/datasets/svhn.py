"""SVHN (Street View House Numbers, cropped digits) from the ``{split}_32x32.mat`` files."""

import os
from typing import Any, Callable, Optional

import numpy as np
from PIL import Image

from .utils import check_integrity, download_url, verify_str_arg
from .vision import VisionDataset


def _loadmat(path):
    """scipy.io.loadmat of `path` (scipy is an optional dependency, needed only by this dataset)."""
    try:
        import scipy.io
    except ImportError:
        raise ImportError(
            "SVHN needs scipy to read its .mat files; install it with `pip install scipy`."
        ) from None
    return scipy.io.loadmat(path)


class SVHN(VisionDataset):
    """`SVHN <http://ufldl.stanford.edu/housenumbers/>`_ Dataset.

    The .mat files label the digit 0 as 10; here, as in torchvision, it is 0, so that labels lie in
    ``[0, 9]`` as the loss functions expect. Reading the files needs scipy (``scipy.io.loadmat``).

    Args:
        root (str or ``pathlib.Path``): Directory holding ``{split}_32x32.mat`` (or where it is saved when
            downloading).
        split (string): One of {'train', 'test', 'extra'} ('extra' is the extra training set).
        transform (callable, optional): Takes a PIL image and returns a transformed version.
        target_transform (callable, optional): Takes the target and transforms it.
        download (bool, optional): If True and the file is missing, download it (its MD5 is checked).
        verify_md5 (bool, optional, keyword-only): If True, also check the MD5 of a file already present
            (torchvision always does; here it is opt-in, as for CIFAR). Default: False.

    Attributes:
        data (numpy.ndarray): ``(N, 3, 32, 32)`` uint8 images, CHW.
        labels (numpy.ndarray): ``(N,)`` int64 labels in [0, 9].
    """

    split_list = {
        "train": [
            "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
            "train_32x32.mat",
            "e26dedcc434d2e4c54c9b2d4a06d8373",
        ],
        "test": [
            "http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
            "test_32x32.mat",
            "eb5a983be6a315427106f1b164d9cef3",
        ],
        "extra": [
            "http://ufldl.stanford.edu/housenumbers/extra_32x32.mat",
            "extra_32x32.mat",
            "a93ce644f1a588dc4d68dda5feec44a7",
        ],
    }

    def __init__(
        self,
        root,
        split: str = "train",
        transform: Optional[Callable] = None,
        target_transform: Optional[Callable] = None,
        download: bool = False,
        *,
        verify_md5: bool = False,
    ) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", tuple(self.split_list.keys()))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        self.verify_md5 = verify_md5
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        loaded_mat = _loadmat(os.path.join(self.root, self.filename))
        # "X" is (32, 32, 3, N) HWCN uint8; "y" is (N, 1) with labels 1..10.
        self.labels = loaded_mat["y"].astype(np.int64).squeeze()
        np.place(self.labels, self.labels == 10, 0)
        self.data = np.transpose(loaded_mat["X"], (3, 2, 0, 1))

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(PIL RGB image, int target) at `index`, transformed."""
        img, target = self.data[index], int(self.labels[index])
        img = Image.fromarray(np.transpose(img, (1, 2, 0)))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def _check_integrity(self) -> bool:
        md5 = self.file_md5 if self.verify_md5 else None
        return check_integrity(os.path.join(self.root, self.filename), md5)

    def download(self) -> None:
        """Download the split's .mat file (MD5-checked) unless it is already there."""
        download_url(self.url, self.root, self.filename, self.file_md5)

    def extra_repr(self) -> str:
        return f"Split: {self.split}"
