"""datasets.SVHN on small .mat files written with scipy.io.savemat in the layout of the real ones
(``X``: 32x32x3xN uint8, ``y``: Nx1 labels 1..10); skipped when scipy is not installed."""

import hashlib
import sys

import numpy as np
import pytest

from ferrovision import datasets


def write_svhn(root, rng, split="train", n=5):
    scipy_io = pytest.importorskip("scipy.io")
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = np.array([10, 1, 5, 9, 10][:n], dtype=np.uint8).reshape(n, 1)
    path = root / f"{split}_32x32.mat"
    scipy_io.savemat(path, {"X": np.ascontiguousarray(images.transpose(1, 2, 3, 0)), "y": labels})
    return images, labels[:, 0], path


@pytest.mark.parametrize("split", ["train", "test", "extra"])
def test_svhn_reads_mat_files(tmp_path, rng, split):
    images, labels, _ = write_svhn(tmp_path, rng, split)
    ds = datasets.SVHN(str(tmp_path), split=split)
    assert len(ds) == 5 and ds.data.shape == (5, 3, 32, 32) and ds.data.dtype == np.uint8
    assert ds.labels.dtype == np.int64 and ds.labels.tolist() == [0, 1, 5, 9, 0]  # 10 is the digit 0
    img, target = ds[2]
    assert img.mode == "RGB" and img.size == (32, 32) and target == 5 and type(target) is int
    np.testing.assert_array_equal(np.array(img), images[2])
    assert repr(ds).splitlines()[-1].strip() == f"Split: {split}"


def test_svhn_transforms_and_errors(tmp_path, rng):
    write_svhn(tmp_path, rng)
    ds = datasets.SVHN(str(tmp_path), transform=lambda img: np.array(img).sum(), target_transform=lambda t: t + 100)
    assert ds[0][1] == 100 and isinstance(ds[0][0], np.integer)
    with pytest.raises(ValueError, match="Unknown value 'valid' for argument split"):
        datasets.SVHN(str(tmp_path), split="valid")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted. You can use download=True"):
        datasets.SVHN(str(tmp_path), split="test")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        datasets.SVHN(str(tmp_path), verify_md5=True)  # our small file is not the real one


def test_svhn_download_from_local_file(tmp_path, rng):
    source = tmp_path / "source"
    source.mkdir()
    _, _, path = write_svhn(source, rng, "test", n=3)
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    split_list = dict(datasets.SVHN.split_list, test=[path.as_uri(), "test_32x32.mat", md5])
    cls = type("LocalSVHN", (datasets.SVHN,), {"split_list": split_list})
    ds = cls(str(tmp_path / "root"), split="test", download=True, verify_md5=True)
    assert len(ds) == 3 and (tmp_path / "root" / "test_32x32.mat").is_file()
    bad = dict(split_list, test=[path.as_uri(), "test_32x32.mat", "0" * 32])
    with pytest.raises(RuntimeError, match="File not found or corrupted"):
        type("BadSVHN", (datasets.SVHN,), {"split_list": bad})(str(tmp_path / "other"), split="test", download=True)


def test_svhn_without_scipy_says_so(tmp_path, monkeypatch):
    (tmp_path / "train_32x32.mat").write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "scipy", None)  # makes `import scipy.io` fail
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    with pytest.raises(ImportError, match="SVHN needs scipy to read its .mat files"):
        datasets.SVHN(str(tmp_path))
