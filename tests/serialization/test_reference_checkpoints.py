"""Checkpoints written by PyTorch (data/*.pt, from data/make_reference.py) load with the values,
dtypes, layouts, types and storage sharing PyTorch saw."""

import json
import os

import numpy as np
import pytest

import ferrotorch as ft
from describe import describe

DATA = os.path.join(os.path.dirname(__file__), "data")
NAMES = ["state_dict", "objects", "adam"]


def expected(name):
    with open(os.path.join(DATA, f"{name}.json")) as f:
        tree = json.load(f)
    with np.load(os.path.join(DATA, f"{name}.npz")) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return tree, arrays


def check_matches(obj, name):
    tree, arrays = describe(obj, ft)
    want_tree, want_arrays = expected(name)
    assert tree == want_tree
    assert sorted(k.lstrip("/") for k in arrays) == sorted(want_arrays)
    for path, values in arrays.items():
        want = want_arrays[path.lstrip("/")]
        assert values.dtype == want.dtype, path
        np.testing.assert_array_equal(values, want, err_msg=path)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("weights_only", [True, False])
def test_torch_checkpoint_loads_as_saved(name, weights_only):
    check_matches(ft.load(os.path.join(DATA, f"{name}.pt"), weights_only=weights_only), name)


@pytest.mark.parametrize("name", NAMES)
def test_torch_checkpoint_loads_from_file_object(name):
    with open(os.path.join(DATA, f"{name}.pt"), "rb") as f:
        check_matches(ft.load(f), name)


@pytest.mark.parametrize("name", NAMES)
def test_torch_checkpoint_loads_memory_mapped(name):
    check_matches(ft.load(os.path.join(DATA, f"{name}.pt"), mmap=True), name)


@pytest.mark.parametrize("name", NAMES)
def test_resaved_torch_checkpoint_is_unchanged(name, tmp_path):
    ft.save(ft.load(os.path.join(DATA, f"{name}.pt")), tmp_path / f"{name}.pt")
    check_matches(ft.load(tmp_path / f"{name}.pt"), name)


def test_tied_weights_share_memory():
    sd = ft.load(os.path.join(DATA, "state_dict.pt"))
    assert sd["head.weight"].data_ptr() == sd["tied.weight"].data_ptr()
    sd["head.weight"].fill_(7.0)
    assert sd["tied.weight"].eq(7.0).all().item()


def test_view_shares_memory_with_its_base():
    objects = ft.load(os.path.join(DATA, "objects.pt"))
    objects["base"][1, 1] = -5.0
    assert objects["view"][0, 0].item() == -5.0
    assert objects["noncontiguous"][1, 1].item() == -5.0


@pytest.mark.parametrize(
    "map_location",
    ["cpu", ft.device("cpu"), {"cpu": "cpu"}, lambda storage, location: storage, lambda storage, location: None],
    ids=["str", "device", "dict", "callable", "callable-default"],
)
def test_map_location(map_location):
    check_matches(ft.load(os.path.join(DATA, "adam.pt"), map_location=map_location), "adam")


def test_map_location_callable_sees_each_storage_once():
    seen = []

    def record(storage, location):
        seen.append((storage.dtype, location))
        return storage

    ft.load(os.path.join(DATA, "objects.pt"), map_location=record)
    assert all(location == "cpu" for _, location in seen)
    # base, view and noncontiguous share one storage; each of the 11 other tensors has its own
    assert len(seen) == 12


def test_map_location_cuda_without_cuda_is_rejected():
    with pytest.raises(RuntimeError, match="CUDA device"):
        ft.load(os.path.join(DATA, "adam.pt"), map_location={"cpu": "cuda:0"})
