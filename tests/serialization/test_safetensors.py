"""``ferrotorch.utils.safetensors``: the format read and written directly, byte-identical to the
``safetensors`` package's files (data/reference.safetensors was written by it)."""

import json
import os
import struct

import numpy as np
import pytest

import ferrotorch as ft
from conftest import ALL_DTYPES, make, to_numpy
from ferrotorch.utils import safetensors as st
from helpers import mapped_ranges

DATA = os.path.join(os.path.dirname(__file__), "data")
REFERENCE = os.path.join(DATA, "reference.safetensors")


def reference_arrays():
    with np.load(os.path.join(DATA, "reference_safetensors.npz")) as npz:
        return {k: npz[k] for k in npz.files}


def hand_built(entries, metadata=None):
    """A safetensors file from ``{name: (dtype, shape, raw bytes)}``, packed in the given order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in entries.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_reference_file_loads():
    loaded = st.load_file(REFERENCE)
    arrays = reference_arrays()
    assert sorted(loaded) == sorted(arrays)
    for name, arr in arrays.items():
        got = to_numpy(loaded[name])
        assert got.dtype == arr.dtype and got.shape == arr.shape, name
        np.testing.assert_array_equal(got, arr)


def test_saving_the_reference_tensors_gives_the_same_bytes():
    tensors = {k: ft.from_numpy(v.copy()) for k, v in reference_arrays().items()}
    with open(REFERENCE, "rb") as f:
        assert st.save(tensors, metadata={"format": "np", "note": "reference"}) == f.read()


def test_hand_built_bfloat16_and_float16():
    bf16 = np.array([1.0, -2.5, 3.0e38, np.inf], np.float32).view(np.uint32) >> 16
    f16 = np.array([0.5, -0.0], np.float16)
    data = hand_built({"b": ("BF16", [2, 2], bf16.astype("<u2").tobytes()), "h": ("F16", [2], f16.tobytes())},
                      metadata={"k": "v"})
    loaded = st.load(data)
    assert loaded["b"].dtype == ft.bfloat16 and loaded["b"].shape == (2, 2)
    np.testing.assert_array_equal(to_numpy(loaded["b"]).ravel(), (bf16.astype(np.uint32) << 16).view(np.float32))
    np.testing.assert_array_equal(to_numpy(loaded["h"]), f16)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_round_trip(dtype, rng):
    t, _ = make((2, 3), dtype, rng)
    loaded = st.load(st.save({"t": t, "scalar": t[0, 0].clone(), "empty": t[:0]}))
    assert loaded["t"].dtype == dtype and loaded["scalar"].shape == () and loaded["empty"].shape == (0, 3)
    np.testing.assert_array_equal(to_numpy(loaded["t"]), to_numpy(t))


def test_layout_header_padding_and_alignment():
    data = st.save({"a": ft.ones(3, dtype=ft.bool), "b": ft.ones(1, dtype=ft.float64), "c": ft.ones(3, dtype=ft.float16)})
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0
    header = json.loads(data[8 : 8 + n])
    assert list(header) == ["b", "c", "a"]  # larger dtypes first, so every tensor is aligned
    assert header["b"] == {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}
    assert header["c"]["data_offsets"] == [8, 14] and header["a"]["data_offsets"] == [14, 17]


def test_metadata_round_trip_and_validation(tmp_path):
    st.save_file({"x": ft.ones(1)}, tmp_path / "m.safetensors", metadata={"format": "pt"})
    raw = (tmp_path / "m.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert json.loads(raw[8 : 8 + n])["__metadata__"] == {"format": "pt"}
    with pytest.raises(ValueError, match="metadata"):
        st.save({"x": ft.ones(1)}, metadata={"n": 1})


def test_load_file_maps_the_file(tmp_path):
    path = tmp_path / "w.safetensors"
    st.save_file({"w": ft.arange(100, dtype=ft.float32)}, path)
    loaded = st.load_file(path)
    assert any(start <= loaded["w"].data_ptr() < end for start, end in mapped_ranges(path))
    loaded["w"][0] = 9.0  # private mapping: the file is unchanged
    assert st.load_file(path)["w"][0].item() == 0.0


def test_ferrotorch_load_reads_safetensors_paths(tmp_path):
    path = tmp_path / "w.safetensors"
    st.save_file({"w": ft.ones(2)}, path)
    assert ft.load(path)["w"].tolist() == [1.0, 1.0]


def test_non_contiguous_and_shared_tensors_are_refused():
    t = ft.ones(2, 3)
    with pytest.raises(ValueError, match="non contiguous tensor: `t`"):
        st.save({"t": t.t()})
    with pytest.raises(RuntimeError, match="share memory"):
        st.save({"a": t, "b": t[1]})
    st.save({"a": t[0], "b": t[1]})  # disjoint views of one storage are fine
    with pytest.raises(ValueError, match="expected ferrotorch.Tensor"):
        st.save({"a": [1]})


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x01", "HeaderTooSmall"),
        (struct.pack("<Q", 1000) + b"{}", "InvalidHeaderLength"),
        (struct.pack("<Q", 2) + b"{]", "InvalidHeaderDeserialization"),
        (hand_built({"x": ("F32", [2], b"\x00" * 4)}), "InvalidOffset"),
        (hand_built({"x": ("C99", [1], b"\x00" * 4)}), "unsupported dtype"),
        (hand_built({"x": ("F32", [1], b"\x00" * 4)}) + b"junk", "MetadataIncompleteBuffer"),
    ],
    ids=["tiny", "length", "json", "offsets", "dtype", "trailing"],
)
def test_malformed_files_raise(data, message):
    with pytest.raises(st.SafetensorError, match=message):
        st.load(data)
