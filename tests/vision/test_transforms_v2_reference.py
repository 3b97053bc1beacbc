"""ferrovision.transforms.v2 against torchvision's outputs stored by data/make_transforms_v2.py.

Each case transforms a detection sample (image, boxes, masks, labels) after the same seed; the random
parameters are torchvision's because ferrotorch's generator reproduces torch's. Masks, labels and the
boxes' metadata must be equal; boxes close in float32; images equal but where noted in `IMAGE_ATOL`.
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
_spec = importlib.util.spec_from_file_location("make_transforms_v2", os.path.join(DATA, "make_transforms_v2.py"))
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)
with open(os.path.join(DATA, "transforms_v2_reference.json")) as f:
    META = json.load(f)["cases"]
ARRAYS = np.load(os.path.join(DATA, "transforms_v2_reference.npz"))

# torch resizes uint8 images with an integer kernel (ferrovision through float): one grey level apart.
IMAGE_ATOL = {name: 1 for name in META if "Resize" in name or "ResizedCrop" in name or name in (
    "detection_pipeline", "RandomChoice_Order_Apply")}  # fmt: skip


def assert_sample_matches(name, got, info):
    expected = {key: ARRAYS[f"{name}/{key}"] for key in ("image", "boxes", "masks", "labels")}
    assert info == META[name]
    assert got["image"].dtype == expected["image"].dtype and got["image"].shape == expected["image"].shape
    levels = IMAGE_ATOL.get(name, 0)  # in grey levels; float outputs here come from uint8 images
    atol = levels if got["image"].dtype == np.uint8 else levels / 255 + 1e-5
    np.testing.assert_allclose(got["image"].astype(np.float64), expected["image"].astype(np.float64), rtol=0, atol=atol)
    assert got["boxes"].dtype == expected["boxes"].dtype
    np.testing.assert_allclose(got["boxes"], expected["boxes"], rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(got["masks"], expected["masks"])
    np.testing.assert_array_equal(got["labels"], expected["labels"])


@pytest.mark.parametrize("name", sorted(REF.CASES))
def test_matches_torchvision_reference(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RandomErasing warns that boxes and masks pass through, as torchvision
        got, info = REF.run_case(name, T, ferrotorch)
    assert_sample_matches(name, got, info)
