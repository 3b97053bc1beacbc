"""``ferrotorch.save``: PyTorch's zip layout, ``torch.*`` globals in the pickle, storages written
once and whole, round trips of every dtype and layout, and atomic replacement of files."""

import io
import os
import pickle
import pickletools
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as ft
from conftest import ALL_DTYPES, LAYOUTS, NUMPY_DTYPE, make, random_array, to_numpy
from helpers import data_pkl_of, mapped_ranges


def saved_bytes(obj, **kwargs):
    out = io.BytesIO()
    ft.save(obj, out, **kwargs)
    return out.getvalue()


def round_trip(obj, **kwargs):
    return ft.load(io.BytesIO(saved_bytes(obj)), **kwargs)


def test_archive_layout_matches_pytorch(tmp_path):
    t = ft.arange(6, dtype=ft.float32)
    ft.save({"a": t, "b": ft.ones(2, dtype=ft.int64)}, tmp_path / "model.ckpt.pt")
    with zipfile.ZipFile(tmp_path / "model.ckpt.pt") as zf:
        names = zf.namelist()
        assert names == [
            "model.ckpt/data.pkl", "model.ckpt/.format_version", "model.ckpt/.storage_alignment",
            "model.ckpt/byteorder", "model.ckpt/data/0", "model.ckpt/data/1", "model.ckpt/version",
            "model.ckpt/.data/serialization_id",
        ]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
        assert zf.read("model.ckpt/byteorder") == b"little"
        assert zf.read("model.ckpt/version") == b"3\n"
        assert zf.read("model.ckpt/.format_version") == b"1"
        assert zf.read("model.ckpt/.storage_alignment") == b"64"
        assert len(zf.read("model.ckpt/.data/serialization_id")) == 40
        assert np.frombuffer(zf.read("model.ckpt/data/0"), np.float32).tolist() == [0, 1, 2, 3, 4, 5]


def test_every_record_is_64_byte_aligned(tmp_path):
    ft.save([ft.ones(n, dtype=ft.float16) for n in range(1, 6)], tmp_path / "x.pt")
    raw = (tmp_path / "x.pt").read_bytes()
    with zipfile.ZipFile(tmp_path / "x.pt") as zf:
        for info in zf.infolist():
            name_len, extra_len = np.frombuffer(raw[info.header_offset + 26 : info.header_offset + 30], "<u2")
            start = info.header_offset + 30 + name_len + extra_len
            assert start % 64 == 0, info.filename
            assert raw[start : start + info.file_size] == zf.read(info)


def test_file_object_archive_is_named_archive():
    with zipfile.ZipFile(io.BytesIO(saved_bytes(ft.ones(1)))) as zf:
        assert zf.namelist()[0] == "archive/data.pkl"


def globals_in(data_pkl):
    """The ``module.name`` of every GLOBAL / STACK_GLOBAL in a pickle (following the memo)."""
    found, pushed, memo = [], [], {}
    for op, arg, _ in pickletools.genops(data_pkl):
        if op.name == "GLOBAL":
            found.append(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL":
            found.append(f"{pushed[-2]}.{pushed[-1]}")
        elif op.name == "MEMOIZE":
            memo[len(memo)] = pushed[-1]
        elif op.name in ("BINGET", "LONG_BINGET"):
            pushed.append(memo.get(arg))
        elif op.stack_after:
            pushed.append(arg if isinstance(arg, str) else None)
    return found


@pytest.mark.parametrize("protocol", [2, 4])
def test_pickle_names_torch_globals(protocol):
    obj = {"w": ft.nn.Parameter(ft.ones(2)), "t": ft.zeros(2, dtype=ft.bfloat16), "d": ft.float16,
           "dev": ft.device("cpu"), "s": ft.Size([2])}
    names = set(globals_in(data_pkl_of(saved_bytes(obj, pickle_protocol=protocol))))
    assert names == {
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_tensor_v2", "torch.FloatStorage",
        "torch.BFloat16Storage", "collections.OrderedDict", "torch.float16", "torch.device", "torch.Size",
    }


def test_tensor_pickle_matches_pytorch_opcodes():
    # What torch.save writes for {"a": torch.arange(6.)} (checked against PyTorch 2.15).
    expected = (
        b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02((X\x07\x00\x00\x00storageq\x03"
        b"ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x000q\x05X\x03\x00\x00\x00cpuq\x06K\x06tq\x07QK\x00K\x06\x85q\x08"
        b"K\x01\x85q\t\x89ccollections\nOrderedDict\nq\n)Rq\x0btq\x0cRq\rs."
    )
    assert data_pkl_of(saved_bytes({"a": ft.arange(6, dtype=ft.float32)})) == expected


def test_views_write_their_storage_once_and_whole():
    base = ft.arange(10, dtype=ft.float32)
    buffer = saved_bytes({"tail": base[4:], "pair": base[2:4], "base": base})
    with zipfile.ZipFile(io.BytesIO(buffer)) as zf:
        assert [n for n in zf.namelist() if "/data/" in n] == ["archive/data/0"]
        assert len(zf.read("archive/data/0")) == 40
    loaded = ft.load(io.BytesIO(buffer))
    assert loaded["tail"].storage_offset() == 4 and loaded["pair"].storage_offset() == 2
    loaded["base"][5] = -1.0
    assert loaded["tail"][1].item() == -1.0
    assert loaded["tail"].untyped_storage_ptr() == loaded["pair"].untyped_storage_ptr()


def test_a_lone_view_keeps_its_offset_and_full_storage():
    base = ft.arange(6, dtype=ft.int64)
    loaded = round_trip(base[3:])
    assert loaded.tolist() == [3, 4, 5] and loaded.storage_offset() == 3


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_round_trip_values_and_layout(dtype, layout, rng):
    t, arr = make((3, 4), dtype, rng, layout)
    loaded = round_trip(t)
    assert loaded.dtype == dtype
    assert loaded.shape == t.shape and loaded.stride() == t.stride() and loaded.storage_offset() == t.storage_offset()
    np.testing.assert_array_equal(to_numpy(loaded), np.asarray(arr, dtype=NUMPY_DTYPE[dtype]))


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16, ft.float64])
def test_round_trip_keeps_nan_inf_and_signed_zero(dtype):
    t = ft.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 1e-3], dtype=dtype)
    got = to_numpy(round_trip(t))
    np.testing.assert_array_equal(got, to_numpy(t))
    assert np.signbit(got[3])


def test_round_trip_scalar_and_empty_tensors():
    loaded = round_trip({"scalar": ft.tensor(2.5), "empty": ft.empty(0, 3), "empty_int": ft.zeros(2, 0, dtype=ft.int32)})
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 2.5
    assert loaded["empty"].shape == (0, 3) and loaded["empty"].dtype == ft.float32
    assert loaded["empty_int"].shape == (2, 0) and loaded["empty_int"].dtype == ft.int32


def test_round_trip_parameters_and_requires_grad():
    p, frozen = ft.nn.Parameter(ft.ones(2)), ft.nn.Parameter(ft.ones(2), requires_grad=False)
    leaf = ft.ones(3, requires_grad=True)
    loaded = round_trip([p, frozen, leaf, leaf * 2])
    assert type(loaded[0]) is ft.nn.Parameter and loaded[0].requires_grad
    assert type(loaded[1]) is ft.nn.Parameter and not loaded[1].requires_grad
    assert type(loaded[2]) is ft.Tensor and loaded[2].requires_grad and loaded[2].is_leaf
    assert loaded[3].requires_grad and loaded[3].is_leaf and loaded[3].tolist() == [2.0, 2.0, 2.0]


def test_round_trip_containers_and_python_values():
    sd = OrderedDict(w=ft.ones(1))
    sd._metadata = OrderedDict([("", {"version": 1})])
    obj = {"sd": sd, "list": [1, 2.5, "s", None, True, b"raw"], "tuple": (ft.zeros(1),), "set": {1, 2},
           "size": ft.Size([2, 3]), "dtype": ft.bfloat16, "device": ft.device("cpu"), 3: "int key"}
    loaded = round_trip(obj)
    assert type(loaded["sd"]) is OrderedDict and loaded["sd"]._metadata == {"": {"version": 1}}
    assert loaded["list"] == [1, 2.5, "s", None, True, b"raw"]
    assert isinstance(loaded["tuple"], tuple) and loaded["set"] == {1, 2} and loaded[3] == "int key"
    assert isinstance(loaded["size"], ft.Size) and loaded["size"] == (2, 3)
    assert loaded["dtype"] == ft.bfloat16 and loaded["device"] == ft.device("cpu")


def test_same_tensor_twice_loads_as_one_object():
    t = ft.ones(2)
    loaded = round_trip([t, t])
    assert loaded[0] is loaded[1]


def test_save_to_path_like_and_str(tmp_path):
    ft.save(ft.ones(2), tmp_path / "a.pt")
    ft.save(ft.ones(2), str(tmp_path / "b.pt"))
    assert ft.load(tmp_path / "a.pt").tolist() == ft.load(str(tmp_path / "b.pt")).tolist() == [1.0, 1.0]


def test_save_into_an_open_file(tmp_path):
    with open(tmp_path / "f.pt", "wb") as f:
        ft.save({"x": ft.arange(3)}, f)
    with open(tmp_path / "f.pt", "rb") as f:
        assert ft.load(f)["x"].tolist() == [0, 1, 2]


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "model.pt"
    ft.save({"w": ft.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ft.save({"w": ft.zeros(2), "bad": lambda: None}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    from ferrotorch._serialization import pickler

    path = tmp_path / "model.pt"
    ft.save({"w": ft.ones(2)}, path)
    before = path.read_bytes()

    def fail(self):
        raise OSError("disk full")

    monkeypatch.setattr(pickler.StorageRecord, "to_bytes", fail)
    with pytest.raises(OSError, match="disk full"):
        ft.save({"w": ft.zeros(2)}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]


def test_saved_file_has_ordinary_permissions(tmp_path):
    ft.save(ft.ones(1), tmp_path / "p.pt")
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "p.pt").st_mode & 0o777 == 0o666 & ~umask


def test_mmap_load_views_the_mapped_file(tmp_path):
    path = tmp_path / "big.pt"
    ft.save({"a": ft.arange(1000, dtype=ft.float32), "b": ft.ones(7, dtype=ft.bfloat16)}, path)
    loaded = ft.load(path, mmap=True)
    ranges = mapped_ranges(path)
    assert ranges, "the file is not mapped"
    for t in loaded.values():
        assert any(start <= t.data_ptr() < end for start, end in ranges)
    loaded["a"][0] = 5.0  # a private mapping: writable, the file is unchanged
    assert ft.load(path)["a"][0].item() == 0.0
    del loaded


def test_saved_values_are_numpy_exact(rng):
    arrays = {str(d): random_array((5,), d, rng) for d in ALL_DTYPES if d != ft.bfloat16}
    loaded = round_trip({k: ft.from_numpy(v.copy()) for k, v in arrays.items()})
    for k, v in arrays.items():
        assert to_numpy(loaded[k]).dtype == NUMPY_DTYPE[loaded[k].dtype]
        np.testing.assert_array_equal(to_numpy(loaded[k]), v)


def test_legacy_format_is_refused_when_saving():
    with pytest.raises(ValueError, match="zip format"):
        ft.save(ft.ones(1), io.BytesIO(), _use_new_zipfile_serialization=False)


def test_save_into_a_missing_directory(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        ft.save(ft.ones(1), tmp_path / "nope" / "x.pt")


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("weights_only", [True, False])
def test_round_trip_with_every_pickle_protocol(protocol, weights_only):
    obj = {"t": ft.arange(4, dtype=ft.int16)[1:], "p": ft.nn.Parameter(ft.ones(1)), "b": b"x" * 300}
    loaded = ft.load(io.BytesIO(saved_bytes(obj, pickle_protocol=protocol)), weights_only=weights_only)
    assert loaded["t"].tolist() == [1, 2, 3] and type(loaded["p"]) is ft.nn.Parameter
    assert loaded["b"] == b"x" * 300
