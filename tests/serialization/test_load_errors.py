"""``ferrotorch.load`` on things that are not (readable) checkpoints: PyTorch's exception types,
clear messages."""

import io
import pickle
import zipfile

import pytest

import ferrotorch as ft
from helpers import checkpoint_bytes


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        ft.load(tmp_path / "missing.pt")


def test_text_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("hello")
    with pytest.raises(pickle.UnpicklingError, match="is not a checkpoint"):
        ft.load(path)


def test_empty_file_is_not_a_checkpoint():
    with pytest.raises(pickle.UnpicklingError, match="is not a checkpoint"):
        ft.load(io.BytesIO(b""))


def test_legacy_format_is_reported():
    legacy = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03."
    with pytest.raises(RuntimeError, match="legacy"):
        ft.load(io.BytesIO(legacy))


def test_zip_without_data_pkl_is_rejected():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("something/else.txt", "x")
    with pytest.raises(RuntimeError, match="data.pkl"):
        ft.load(io.BytesIO(out.getvalue()))


def test_truncated_zip_is_rejected():
    buffer = io.BytesIO()
    ft.save(ft.ones(3), buffer)
    with pytest.raises(RuntimeError, match="zip archive"):
        ft.load(io.BytesIO(buffer.getvalue()[:-30]))


def storage_pickle(numel):
    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
            b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpu" + bytes([ord("K"), numel]) + b"tQK\x00K\x02\x85K\x01\x85"
            b"\x89ccollections\nOrderedDict\n)RtR.")


def test_missing_storage_record_is_rejected():
    with pytest.raises(RuntimeError, match="data/0"):
        ft.load(io.BytesIO(checkpoint_bytes(storage_pickle(2))))


def test_storage_of_the_wrong_size_is_rejected():
    with pytest.raises(RuntimeError, match="holds 4 bytes, expected 2 elements"):
        ft.load(io.BytesIO(checkpoint_bytes(storage_pickle(2), {"0": b"\x00" * 4})))


def test_hand_built_checkpoint_loads():
    t = ft.load(io.BytesIO(checkpoint_bytes(storage_pickle(2), {"0": b"\x00\x00\x80\x3f\x00\x00\x00\x40"})))
    assert t.tolist() == [1.0, 2.0]


def test_mmap_needs_a_path():
    buffer = io.BytesIO()
    ft.save(ft.ones(1), buffer)
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        ft.load(io.BytesIO(buffer.getvalue()), mmap=True)


def test_unknown_torch_global_with_weights_only_false(tmp_path):
    payload = b"\x80\x02ctorch.nonexistent\nThing\n."
    with pytest.raises(AttributeError, match="torch.nonexistent.Thing"):
        ft.load(io.BytesIO(checkpoint_bytes(payload)), weights_only=False)
