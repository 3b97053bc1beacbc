"""ferrovision.transforms.v2 and tv_tensors against torchvision itself (skipped without torchvision).

Runs the case table of tests/vision/data/make_transforms_v2.py on other samples and seeds than the
stored reference, compares reprs, functional kernels called directly, and the tv_tensors' behaviour
under tensor operations.
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

_PATH = os.path.join(os.path.dirname(__file__), "..", "vision", "data", "make_transforms_v2.py")
_spec = importlib.util.spec_from_file_location("make_transforms_v2", _PATH)
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)

RESIZING = {"detection_pipeline", "RandomChoice_Order_Apply"}


def _run(name, T, lib, seed, sample_seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return REF.run_case(name, T, lib, seed=seed, sample_seed=sample_seed)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", sorted(REF.CASES))
def test_case_matches_torchvision(name, seed):
    expected, expected_info = _run(name, TT, torch, seed, sample_seed=seed)
    got, info = _run(name, FT, ferrotorch, seed, sample_seed=seed)
    assert info == expected_info
    levels = 1 if ("Resize" in name or "ResizedCrop" in name or name in RESIZING) else 0
    atol = levels if expected["image"].dtype == np.uint8 else levels / 255 + 1e-5
    assert got["image"].dtype == expected["image"].dtype
    np.testing.assert_allclose(got["image"].astype(np.float64), expected["image"].astype(np.float64), rtol=0, atol=atol)
    np.testing.assert_allclose(got["boxes"], expected["boxes"], rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(got["masks"], expected["masks"])
    np.testing.assert_array_equal(got["labels"], expected["labels"])


@pytest.mark.parametrize("name", sorted(REF.CASES))
def test_repr_matches_torchvision(name):
    _, build = REF.CASES[name]
    assert repr(build(FT, ferrotorch)).replace("ferrovision", "torchvision") == repr(build(TT, torch))


BOXES = np.array([[1.5, 2.0, 9.0, 7.5], [0.0, 3.0, 20.0, 16.0], [12.0, 0.5, 19.5, 4.0]], dtype=np.float32)


def _boxes(lib, tv, format="XYXY", dtype="float32"):
    data = lib.from_numpy(BOXES.copy()).to(getattr(lib, dtype))
    return tv.BoundingBoxes(data, format=format, canvas_size=(16, 20))


@pytest.mark.parametrize("format", ["XYXY", "XYWH", "CXCYWH"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
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
        lambda F: (F.affine, dict(angle=17.0, translate=[2, -1], scale=1.1, shear=[4.0, -3.0])),
        lambda F: (F.rotate, dict(angle=-33.0, expand=True)),
        lambda F: (F.rotate, dict(angle=25.0, center=[3.0, 4.0])),
        lambda F: (F.perspective, dict(startpoints=[[0, 0], [19, 0], [19, 15], [0, 15]],
                                       endpoints=[[2, 1], [18, 0], [17, 14], [1, 15]])),  # fmt: skip
        lambda F: (F.convert_bounding_box_format, dict(new_format="CXCYWH")),
        lambda F: (F.convert_bounding_box_format, dict(new_format="XYWH")),
        lambda F: (F.clamp_bounding_boxes, {}),
    ],
)
def test_box_kernels_match_torchvision(call, format, dtype):
    expected_fn, kwargs = call(TF)
    got_fn, got_kwargs = call(FF)
    expected = expected_fn(_boxes(torch, ttv, format, dtype), **kwargs)
    got = got_fn(_boxes(ferrotorch, ftv, format, dtype), **got_kwargs)
    assert isinstance(got, ftv.BoundingBoxes)
    assert (got.format.name, tuple(got.canvas_size)) == (expected.format.name, tuple(expected.canvas_size))
    assert got.numpy().dtype == expected.numpy().dtype
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    "call",
    [
        lambda F: (F.resize, dict(size=[11, 31], interpolation=F.InterpolationMode.BILINEAR)),
        lambda F: (F.resize, dict(size=[30, 9], interpolation=F.InterpolationMode.NEAREST_EXACT)),
        lambda F: (F.affine, dict(angle=17.0, translate=[2, -1], scale=1.1, shear=[4.0, -3.0], fill=4)),
        lambda F: (F.rotate, dict(angle=90.0)),
        lambda F: (F.rotate, dict(angle=-33.0, expand=True)),
        lambda F: (F.perspective, dict(startpoints=None, endpoints=None,
                                       coefficients=[1.1, 0.1, -1.0, 0.05, 0.9, 1.0, 0.001, 0.002])),  # fmt: skip
        lambda F: (F.center_crop, dict(output_size=[20, 25])),
        lambda F: (F.pad, dict(padding=[2, 1], fill=3)),
        lambda F: (F.crop, dict(top=-2, left=3, height=20, width=8)),
    ],
)
def test_mask_kernels_match_torchvision(call, rng):
    masks = rng.integers(0, 4, size=(2, 16, 20)).astype(np.uint8)
    expected_fn, kwargs = call(TF)
    got_fn, got_kwargs = call(FF)
    for data in (masks, masks[0]):  # stacked and single 2-D masks
        expected = expected_fn(ttv.Mask(torch.from_numpy(data.copy())), **kwargs)
        got = got_fn(ftv.Mask(ferrotorch.from_numpy(data.copy())), **got_kwargs)
        assert isinstance(got, ftv.Mask)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("src,dst", [("uint8", "float32"), ("float32", "uint8"), ("uint8", "int32"),
                                     ("int32", "uint8"), ("float64", "int16"), ("int16", "float64")])  # fmt: skip
def test_to_dtype_scale_matches_torchvision(src, dst, rng):
    data = rng.random((3, 4, 5)) if src.startswith("float") else rng.integers(0, 120, (3, 4, 5))
    expected = TF.to_dtype(torch.from_numpy(data).to(getattr(torch, src)), getattr(torch, dst), scale=True)
    got = FF.to_dtype(ferrotorch.from_numpy(data).to(getattr(ferrotorch, src)), getattr(ferrotorch, dst), scale=True)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_tv_tensor_operations_match_torchvision():
    for lib, tv in ((torch, ttv), (ferrotorch, ftv)):
        img = tv.Image(lib.zeros(3, 2, 2))
        boxes = _boxes(lib, tv)
        kinds = [type(x).__name__ for x in (img + 1, img.flip(-1), img.clone(), img.to(lib.float64), img.detach(),
                                            img.float(), img[0], img.add_(0), boxes.clone(), boxes[0])]  # fmt: skip
        with tv.set_return_type("TVTensor"):
            kinds += [type(img * 2).__name__, type(boxes + 1).__name__, (boxes + 1).canvas_size]
        if lib is torch:
            expected = kinds
    assert kinds == expected


def test_tv_tensor_reprs_match_torchvision():
    def reprs(lib, tv):
        return [
            repr(tv.Image(lib.arange(8.0).reshape(2, 2, 2))),
            repr(tv.Mask(lib.ones(2, 3, dtype=lib.uint8))),
            repr(_boxes(lib, tv)),
            repr(tv.KeyPoints([[1.0, 2.0], [3.0, 4.0]], canvas_size=(5, 5))),
        ]

    assert reprs(ferrotorch, ftv) == reprs(torch, ttv)
