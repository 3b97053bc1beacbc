"""The further transforms.v2 classes against torchvision's outputs stored by
data/make_transforms_v2_extra.py (random resizes, elastic, keypoints through geometric pipelines, colour
distortions, the AutoAugment family, five/ten crops, MixUp/CutMix, noise, JPEG, temporal subsampling).

ferrotorch's generator reproduces torch's, so after the same seed the random parameters are
torchvision's. Each case's tolerance (atol, fraction of outlier elements) is in the case table: uint8
resizes are one grey level apart (integer vs float kernel), and nearest-neighbour warps may pick the
other pixel where a sampling point falls on a tie one float32 ulp away.
"""

import importlib.util
import json
import os
import warnings

import numpy as np
import pytest

import ferrotorch
import ferrovision.transforms.v2 as T

DATA = os.path.join(os.path.dirname(__file__), "data")
_spec = importlib.util.spec_from_file_location(
    "make_transforms_v2_extra", os.path.join(DATA, "make_transforms_v2_extra.py")
)
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)
with open(os.path.join(DATA, "transforms_v2_extra.json")) as f:
    META = json.load(f)["cases"]
ARRAYS = np.load(os.path.join(DATA, "transforms_v2_extra.npz"))


def assert_outputs_match(name, got, meta, expected, expected_meta):
    """Leaf types, canvas sizes, shapes and dtypes equal; values within the case's tolerance."""
    _, _, atol, outliers = REF.CASES[name]
    assert meta == expected_meta
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        assert got[key].shape == value.shape and got[key].dtype == value.dtype, key
        if value.size == 0:
            continue
        diff = np.abs(got[key].astype(np.float64) - value.astype(np.float64))
        if atol is None:  # JPEG: another build of libjpeg behind Pillow may round its DCT differently
            assert diff.mean() <= 2.0, f"{name}/{key}: mean diff {diff.mean()}"
            continue
        # Boxes and keypoints: float32 coordinates computed in another order.
        tolerance = atol + (1e-4 if meta[int(key)][0] in ("BoundingBoxes", "KeyPoints") else 0.0)
        assert (diff > tolerance).mean() <= outliers, f"{name}/{key}: max diff {diff.max()}"


def test_reference_covers_every_case():
    assert sorted(META) == sorted(REF.CASES)


@pytest.mark.parametrize("name", sorted(REF.CASES))
def test_matches_torchvision_reference(name):
    expected = {key.split("/", 1)[1]: ARRAYS[key] for key in ARRAYS.files if key.split("/", 1)[0] == name}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, meta = REF.run_case(name, T, ferrotorch)
    assert_outputs_match(name, got, meta, expected, META[name])
