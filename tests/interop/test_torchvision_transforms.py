"""ferrovision.transforms against torchvision itself (skipped where torchvision is not installed).

Runs the whole case table of tests/vision/data/make_transforms_reference.py on freshly drawn
random images (other seeds than the stored reference), including the seeded random transforms,
whose parameters must be torchvision's because ferrotorch's default generator streams are torch's.
"""

import importlib.util
import os

import numpy as np
import pytest

torchvision = pytest.importorskip("torchvision")
import torch  # noqa: E402
import torchvision.transforms as TT  # noqa: E402
import torchvision.transforms.functional as TF  # noqa: E402

import ferrotorch  # noqa: E402
import ferrovision.transforms as FT  # noqa: E402
import ferrovision.transforms.functional as FF  # noqa: E402

_PATH = os.path.join(os.path.dirname(__file__), "..", "vision", "data", "make_transforms_reference.py")
_spec = importlib.util.spec_from_file_location("make_transforms_reference", _PATH)
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)

SEEDS = (1,)


@pytest.fixture(scope="module")
def inputs():
    return {seed: (REF.make_inputs(torch, seed), REF.make_inputs(ferrotorch, seed)) for seed in SEEDS}


def assert_same(name, expected, got):
    (a, kind_a), (b, kind_b) = expected, got
    assert kind_a == kind_b
    assert a.shape == b.shape
    atol, max_fraction = REF.tolerance(name, a.dtype)
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    assert diff.max(initial=0.0) <= atol, f"{name}: max diff {diff.max()}"
    assert (diff > 0).mean() <= max_fraction, f"{name}: {(diff > 0).sum()} elements differ"


# PIL cases run the same Pillow calls and are covered by the stored reference; tensors here.
TENSOR_CASES = sorted(name for name, (inp, _) in REF.CASES.items() if not inp.startswith("pil"))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", TENSOR_CASES)
def test_same_output_as_torchvision(name, seed, inputs):
    torch_inputs, ferro_inputs = inputs[seed]
    expected = REF.run_case(name, TF, TT, torch, torch_inputs)
    got = REF.run_case(name, FF, FT, ferrotorch, ferro_inputs)
    assert_same(name, expected, got)


@pytest.mark.parametrize("shape", [(3, 64, 48), (1, 5, 70), (2, 3, 33, 33)])
@pytest.mark.parametrize("size", [(16, 20), (100, 7), 11])
@pytest.mark.parametrize("mode", ["BILINEAR", "BICUBIC"])
def test_antialiased_resize_on_random_shapes(shape, size, mode):
    x = np.random.default_rng(sum(shape)).integers(0, 256, size=shape, dtype=np.uint8)
    for arr in (x, x.astype(np.float32) / 255):
        a = TF.resize(torch.from_numpy(arr), size, TF.InterpolationMode[mode]).numpy()
        b = FF.resize(ferrotorch.from_numpy(arr), size, FF.InterpolationMode[mode]).numpy()
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        if arr.dtype == np.uint8:
            assert diff.max() <= 1 and (diff > 0).mean() < 0.01
        else:
            assert diff.max() < 1e-5


@pytest.mark.parametrize("seed", range(20))
def test_random_params_follow_torch_stream(seed):
    img_t = torch.zeros(3, 40, 50, dtype=torch.uint8)
    img_f = ferrotorch.zeros(3, 40, 50, dtype=ferrotorch.uint8)
    draws = [
        lambda T, img: T.RandomResizedCrop.get_params(img, [0.08, 1.0], [3 / 4, 4 / 3]),
        lambda T, img: T.RandomCrop.get_params(img, (20, 30)),
        lambda T, img: T.RandomAffine.get_params([-30, 30], [0.1, 0.2], [0.5, 1.5], [-5, 5, -3, 3], [50, 40]),
        lambda T, img: T.RandomPerspective.get_params(50, 40, 0.5),
        lambda T, img: T.RandomRotation.get_params([-90, 90]),
        lambda T, img: T.GaussianBlur.get_params(0.1, 2.0),
        lambda T, img: T.RandomErasing.get_params(img.float(), (0.02, 0.33), (0.3, 3.3), [0.0])[:4],
    ]
    for draw in draws:
        torch.manual_seed(seed)
        expected = draw(TT, img_t)
        ferrotorch.manual_seed(seed)
        assert draw(FT, img_f) == expected
    torch.manual_seed(seed)
    order, *factors = TT.ColorJitter.get_params((0.5, 1.5), (0.5, 1.5), (0.5, 1.5), (-0.1, 0.1))
    ferrotorch.manual_seed(seed)
    f_order, *f_factors = FT.ColorJitter.get_params((0.5, 1.5), (0.5, 1.5), (0.5, 1.5), (-0.1, 0.1))
    assert order.tolist() == f_order.tolist() and factors == f_factors


def test_augmix_matches_shape_and_dtype_of_torchvision():
    # AugMix's Dirichlet draws use torch's own gamma sampler, which ferrotorch does not reproduce:
    # only the output contract is comparable.
    x = np.random.default_rng(0).integers(0, 256, size=(2, 3, 20, 24), dtype=np.uint8)
    a = TT.AugMix()(torch.from_numpy(x))
    b = FT.AugMix()(ferrotorch.from_numpy(x))
    assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype)
