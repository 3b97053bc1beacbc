"""The further transforms.v2 classes and kernels against torchvision itself (skipped without torchvision).

Runs the case table of tests/vision/data/make_transforms_v2_extra.py on other samples and seeds than the
stored reference, compares reprs, and calls the keypoint, elastic, crop and temporal kernels directly.
"""

import importlib.util
import os
import warnings

import numpy as np
import pytest

torchvision = pytest.importorskip("torchvision")
import torch  # noqa: E402
import torchvision.transforms.v2 as TT  # noqa: E402
import torchvision.transforms.v2.functional as TF  # noqa: E402
from torchvision import tv_tensors as ttv  # noqa: E402

import ferrotorch  # noqa: E402
import ferrovision.transforms.v2 as FT  # noqa: E402
import ferrovision.transforms.v2.functional as FF  # noqa: E402
from ferrovision import tv_tensors as ftv  # noqa: E402

_DATA = os.path.join(os.path.dirname(__file__), "..", "vision")
_spec = importlib.util.spec_from_file_location("make_transforms_v2_extra", os.path.join(_DATA, "data", "make_transforms_v2_extra.py"))  # fmt: skip
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)
_spec = importlib.util.spec_from_file_location("reference_test", os.path.join(_DATA, "test_transforms_v2_extra_reference.py"))  # fmt: skip
REF_TEST = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF_TEST)


def _run(name, T, lib, seed, sample_seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return REF.run_case(name, T, lib, seed=seed, sample_seed=sample_seed)


@pytest.mark.parametrize("seed", [1])  # one seed: the stored reference (CI) uses another
@pytest.mark.parametrize("name", sorted(REF.CASES))
def test_case_matches_torchvision(name, seed):
    expected, expected_meta = _run(name, TT, torch, seed, sample_seed=seed)
    got, meta = _run(name, FT, ferrotorch, seed, sample_seed=seed)
    REF_TEST.assert_outputs_match(name, got, meta, expected, expected_meta)


@pytest.mark.parametrize("name", sorted(REF.CASES))
def test_repr_matches_torchvision(name):
    build = REF.CASES[name][1]
    got = repr(build(FT, ferrotorch)).replace("ferrovision", "torchvision")
    assert got == repr(build(TT, torch))


def test_linear_transformation_repr():
    args = lambda lib: (lib.eye(3), lib.zeros(3))  # noqa: E731
    assert repr(FT.LinearTransformation(*args(ferrotorch))) == repr(TT.LinearTransformation(*args(torch)))


POINTS = np.array([[1.5, 2.0], [0.0, 3.0], [12.0, 15.0], [19.0, 0.5]], dtype=np.float32)


def _keypoints(lib, tv, dtype):
    return tv.KeyPoints(lib.from_numpy(POINTS.copy()).to(getattr(lib, dtype)), canvas_size=(16, 20))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize(
    "call",
    [
        lambda F: (F.horizontal_flip, {}),
        lambda F: (F.vertical_flip, {}),
        lambda F: (F.resize, dict(size=[11, 31])),
        lambda F: (F.resize, dict(size=None, max_size=12)),
        lambda F: (F.crop, dict(top=2, left=-3, height=10, width=12)),
        lambda F: (F.center_crop, dict(output_size=[10, 25])),
        lambda F: (F.resized_crop, dict(top=1, left=2, height=9, width=14, size=[18, 7])),
        lambda F: (F.pad, dict(padding=[1, 2, 3, 4])),
        lambda F: (F.affine, dict(angle=30, translate=[2, -1], scale=1.2, shear=[5, 3], center=[3, 4])),
        lambda F: (F.rotate, dict(angle=37, expand=True)),
        lambda F: (F.rotate, dict(angle=-120, center=[2, 3])),
        lambda F: (F.perspective, dict(startpoints=[[0, 0], [19, 0], [19, 15], [0, 15]],
                                       endpoints=[[2, 1], [17, 0], [18, 14], [1, 15]])),  # fmt: skip
    ],
)
def test_keypoint_kernels_match_torchvision(call, dtype):
    fn, kwargs = call(TF)
    expected = fn(_keypoints(torch, ttv, dtype), **kwargs)
    fn, kwargs = call(FF)
    got = fn(_keypoints(ferrotorch, ftv, dtype), **kwargs)
    assert type(got) is ftv.KeyPoints and tuple(got.canvas_size) == tuple(expected.canvas_size)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elastic_kernels_match_torchvision(dtype):
    rng = np.random.default_rng(3)
    displacement = (rng.random((1, 16, 20, 2)) * 0.3 - 0.15).astype(getattr(np, dtype))
    image = rng.integers(0, 256, (3, 16, 20), dtype=np.uint8)
    boxes = np.array([[1.5, 2.0, 9.0, 7.5], [0.0, 3.0, 20.0, 16.0]], dtype=np.float32)
    samples = [
        lambda lib, tv: tv.Image(lib.from_numpy(image.copy())),
        lambda lib, tv: tv.Image(lib.from_numpy(image.astype(np.float32) / 255)),
        lambda lib, tv: tv.Mask(lib.from_numpy(image[0].copy())),
        lambda lib, tv: _keypoints(lib, tv, dtype),
        lambda lib, tv: tv.BoundingBoxes(lib.from_numpy(boxes).to(getattr(lib, dtype)), format="CXCYWH", canvas_size=(16, 20)),  # fmt: skip
        lambda lib, tv: tv.BoundingBoxes(lib.from_numpy(boxes).long(), format="XYXY", canvas_size=(16, 20)),
    ]
    for make in samples:
        expected = TF.elastic(make(torch, ttv), torch.from_numpy(displacement))
        got = FF.elastic(make(ferrotorch, ftv), ferrotorch.from_numpy(displacement))
        assert type(got).__name__ == type(expected).__name__
        # uint8 images: one grey level where float32 sums round apart
        atol = 1 if expected.dtype == torch.uint8 else 1e-4
        np.testing.assert_allclose(got.numpy().astype(np.float64), expected.numpy().astype(np.float64), atol=atol)


@pytest.mark.parametrize("num_samples", [1, 3, 7, 10])
def test_uniform_temporal_subsample_matches_torchvision(num_samples):
    video = np.arange(7 * 2 * 1 * 2).reshape(7, 2, 1, 2)
    expected = TF.uniform_temporal_subsample(torch.from_numpy(video), num_samples)
    got = FF.uniform_temporal_subsample(ferrotorch.from_numpy(video), num_samples)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_jpeg_matches_torchvision_closely():
    image = np.random.default_rng(0).integers(0, 256, (2, 3, 16, 20), dtype=np.uint8)
    for quality in (5, 50, 95):
        expected = TF.jpeg(torch.from_numpy(image), quality).numpy().astype(np.int64)
        got = FF.jpeg(ferrotorch.from_numpy(image), quality).numpy().astype(np.int64)
        assert np.abs(got - expected).mean() <= 2.0


# -- rotated boxes

ROTATED = np.array(
    [[3.0, 4.0, 6.0, 3.0, 30.0], [10.0, 2.0, 5.0, 8.0, -60.0], [1.0, 14.0, 12.0, 4.0, 135.0],
     [15.0, 8.0, 9.0, 9.0, 0.0]],
    dtype=np.float32,
)  # XYWHR on a (16, 20) canvas, some leaving it


def _rotated(lib, tv, format="XYWHR", dtype="float32", clamping_mode="soft"):
    boxes = lib.from_numpy(ROTATED.copy()).to(getattr(lib, dtype))
    fn = TF if lib is torch else FF
    if format != "XYWHR":
        boxes = fn.convert_bounding_box_format(boxes, old_format="XYWHR", new_format=format)
    return tv.BoundingBoxes(boxes, format=format, canvas_size=(16, 20), clamping_mode=clamping_mode)


ROTATED_FORMATS = ["XYWHR", "CXCYWHR", "XYXYXYXY"]


@pytest.mark.parametrize("new_format", ROTATED_FORMATS)
@pytest.mark.parametrize("format", ROTATED_FORMATS)
def test_rotated_conversions_match_torchvision(format, new_format):
    expected = TF.convert_bounding_box_format(_rotated(torch, ttv, format, "float64"), new_format=new_format)
    got = FF.convert_bounding_box_format(_rotated(ferrotorch, ftv, format, "float64"), new_format=new_format)
    assert got.format.name == new_format
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="Cannot convert between rotated and unrotated bounding boxes"):
        FF.convert_bounding_box_format(_rotated(ferrotorch, ftv, format), new_format="XYXY")


@pytest.mark.parametrize("clamping_mode", ["soft", "hard"])
@pytest.mark.parametrize("format", ROTATED_FORMATS)
def test_rotated_clamping_matches_torchvision(format, clamping_mode):
    expected = TF.clamp_bounding_boxes(_rotated(torch, ttv, format, "float64", clamping_mode))
    got = FF.clamp_bounding_boxes(_rotated(ferrotorch, ftv, format, "float64", clamping_mode))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize(
    "format, clamping_mode", [("XYWHR", "soft"), ("CXCYWHR", "hard"), ("XYXYXYXY", "soft"), ("XYXYXYXY", None)]
)
@pytest.mark.parametrize(
    "call",
    [
        lambda F: (F.horizontal_flip, {}),
        lambda F: (F.vertical_flip, {}),
        lambda F: (F.resize, dict(size=[11, 31])),
        lambda F: (F.crop, dict(top=2, left=-3, height=10, width=12)),
        lambda F: (F.center_crop, dict(output_size=[10, 25])),
        lambda F: (F.resized_crop, dict(top=1, left=2, height=9, width=14, size=[18, 7])),
        lambda F: (F.pad, dict(padding=[1, 2, 3, 4])),
        lambda F: (F.affine, dict(angle=30, translate=[2, -1], scale=1.2, shear=[5, 3], center=[3, 4])),
        lambda F: (F.rotate, dict(angle=37, expand=True)),
        lambda F: (F.perspective, dict(startpoints=[[0, 0], [19, 0], [19, 15], [0, 15]],
                                       endpoints=[[2, 1], [17, 0], [18, 14], [1, 15]])),  # fmt: skip
    ],
)
def test_rotated_box_kernels_match_torchvision(call, clamping_mode, format):
    fn, kwargs = call(TF)
    expected = fn(_rotated(torch, ttv, format, "float64", clamping_mode), **kwargs)
    fn, kwargs = call(FF)
    got = fn(_rotated(ferrotorch, ftv, format, "float64", clamping_mode), **kwargs)
    assert type(got) is ftv.BoundingBoxes and got.format.name == format
    assert tuple(got.canvas_size) == tuple(expected.canvas_size)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("format", ROTATED_FORMATS)
def test_rotated_elastic_and_sanitize_match_torchvision(format):
    displacement = np.random.default_rng(4).random((1, 16, 20, 2)) * 0.2 - 0.1
    expected = TF.elastic(_rotated(torch, ttv, format, "float64"), torch.from_numpy(displacement))
    got = FF.elastic(_rotated(ferrotorch, ftv, format, "float64"), ferrotorch.from_numpy(displacement))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    expected_boxes, expected_valid = TF.sanitize_bounding_boxes(_rotated(torch, ttv, format), min_size=4)
    got_boxes, got_valid = FF.sanitize_bounding_boxes(_rotated(ferrotorch, ftv, format), min_size=4)
    np.testing.assert_array_equal(got_valid.numpy(), expected_valid.numpy())
