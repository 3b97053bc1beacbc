"""ferrovision.transforms against torchvision's outputs stored by data/make_transforms_reference.py.

Every deterministic transform runs on PIL images and on uint8/float CHW and BCHW tensors; the
outputs must be the stored ones (exact for integer images, see `tolerance` for the exceptions),
and the repr of every class must be torchvision's.
"""

import importlib.util
import json
import os

import numpy as np
import pytest

import ferrotorch
import ferrovision.transforms as T
import ferrovision.transforms.functional as F

DATA = os.path.join(os.path.dirname(__file__), "data")


def _load_cases():
    spec = importlib.util.spec_from_file_location("make_transforms_reference", os.path.join(DATA, "make_transforms_reference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _load_cases()
with open(os.path.join(DATA, "transforms_reference.json")) as f:
    META = json.load(f)
ARRAYS = np.load(os.path.join(DATA, "transforms_reference.npz"))


@pytest.fixture(scope="module")
def inputs():
    return REF.make_inputs(ferrotorch)


def assert_matches_reference(name, got, kind):
    expected = ARRAYS[name]
    assert kind == META["kinds"][name]
    assert got.shape == expected.shape
    atol, max_fraction = REF.tolerance(name, expected.dtype)
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    assert diff.max(initial=0.0) <= atol, f"{name}: max diff {diff.max()}"
    if max_fraction < 1.0:
        assert (diff > 0).mean() <= max_fraction, f"{name}: {(diff > 0).sum()} elements differ"


def test_reference_covers_every_case():
    assert sorted(ARRAYS.files) == sorted(REF.CASES)


@pytest.mark.parametrize("name", sorted(REF.CASES))
def test_output_matches_torchvision(name, inputs):
    got, kind = REF.run_case(name, F, T, ferrotorch, inputs)
    assert_matches_reference(name, got, kind)


@pytest.mark.parametrize("name", sorted(META["reprs"]))
def test_repr_matches_torchvision(name):
    assert REF.repr_cases(T, T, ferrotorch)[name] == META["reprs"][name]
