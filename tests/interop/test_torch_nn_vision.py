"""PyTorch as the reference for resampling and rearranging images (skipped where it is not
installed): interpolate, grid_sample, affine_grid and the shuffles give the same values and
gradients, raise the same errors, and their modules print the same."""

import warnings

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

INTERPOLATING = {"linear", "bilinear", "bicubic", "trilinear"}
MODE_SHAPES = [
    ("nearest", (2, 3, 5)), ("nearest", (2, 2, 4, 5)), ("nearest", (1, 2, 3, 4, 3)),
    ("nearest-exact", (2, 3, 5)), ("nearest-exact", (2, 2, 4, 5)), ("nearest-exact", (1, 2, 3, 4, 3)),
    ("linear", (2, 3, 5)), ("bilinear", (2, 2, 4, 5)), ("bicubic", (2, 2, 4, 5)),
    ("trilinear", (1, 2, 3, 4, 3)), ("area", (2, 3, 5)), ("area", (2, 2, 4, 5)), ("area", (1, 2, 3, 4, 3)),
]
SIZE_ARGUMENTS = [
    {"size": 1}, {"size": 3}, {"size": 7}, {"scale_factor": 0.37}, {"scale_factor": 1.1},
    {"scale_factor": 2}, {"scale_factor": 2.1}, {"scale_factor": 3.3},
    {"scale_factor": 1.6, "recompute_scale_factor": True},
]


def both(array, grad=False):
    """The same values as a ferrotorch and a torch tensor."""
    return (ft.tensor(array).requires_grad_(grad), torch.tensor(array).requires_grad_(grad))


def check_same(ours, theirs, tol):
    ours = ours.detach().numpy()
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def torch_backward_disagrees_with_its_forward(mode, shape, out_shape, kwargs):
    """torch's backward kernels map same-size outputs as copies (and, for nearest, double-size
    outputs as i // 2), while its forward kernels (1-D/3-D nearest, bicubic) use the given
    scale factor's floor(i / scale): there torch's gradient is not that of its own forward.
    Ours is (test_vision.py gradchecks those cases)."""
    scale = kwargs.get("scale_factor")
    if scale is None or kwargs.get("recompute_scale_factor") or scale in (1, 2):
        return False
    same = out_shape[2:] == shape[2:]
    double = all(o == 2 * i for o, i in zip(out_shape[2:], shape[2:]))
    if mode == "nearest" and len(shape) != 4:
        return same or double
    return mode == "bicubic" and same


@pytest.mark.parametrize("mode,shape,align", [
    (mode, shape, align) for mode, shape in MODE_SHAPES
    for align in ([False, True] if mode in INTERPOLATING else [None])
])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_interpolate_values_and_gradients_match_torch(mode, shape, align, dtype, tol):
    rng = np.random.default_rng(0)
    for kwargs in SIZE_ARGUMENTS:
        ours_x, theirs_x = both(rng.standard_normal(shape).astype(dtype), grad=True)
        ours = F.interpolate(ours_x, mode=mode, align_corners=align, **kwargs)
        theirs = TF.interpolate(theirs_x, mode=mode, align_corners=align, **kwargs)
        check_same(ours, theirs, tol)
        if torch_backward_disagrees_with_its_forward(mode, shape, tuple(theirs.shape), kwargs):
            continue
        g = rng.standard_normal(tuple(theirs.shape)).astype(dtype)
        ours.backward(ft.tensor(g))
        theirs.backward(torch.tensor(g))
        check_same(ours_x.grad, theirs_x.grad, tol * 10)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("input_shape,grid_shape", [((2, 3, 4, 5), (2, 3, 6, 2)), ((2, 2, 3, 4, 5), (2, 2, 3, 2, 3))])
def test_grid_sample_values_and_gradients_match_torch(mode, padding_mode, align_corners, input_shape, grid_shape):
    rng = np.random.default_rng(1)
    ours_x, theirs_x = both(rng.standard_normal(input_shape), grad=True)
    grid = rng.uniform(-1.8, 1.8, grid_shape)
    grid.flat[:4] = [-1.0, 1.0, 0.0, 1.0]
    ours_g, theirs_g = both(grid, grad=True)
    ours = F.grid_sample(ours_x, ours_g, mode, padding_mode, align_corners)
    theirs = TF.grid_sample(theirs_x, theirs_g, mode, padding_mode, align_corners)
    check_same(ours, theirs, 1e-10)
    g = rng.standard_normal(tuple(theirs.shape))
    ours.backward(ft.tensor(g))
    theirs.backward(torch.tensor(g))
    check_same(ours_x.grad, theirs_x.grad, 1e-10)
    check_same(ours_g.grad, theirs_g.grad, 1e-9)


def test_grid_sample_float32_matches_torch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    grid = rng.uniform(-1.2, 1.2, (2, 4, 4, 2)).astype(np.float32)
    for mode in ("bilinear", "bicubic"):
        ours = F.grid_sample(ft.tensor(x), ft.tensor(grid), mode, "reflection", False)
        check_same(ours, TF.grid_sample(torch.tensor(x), torch.tensor(grid), mode, "reflection", False), 1e-5)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 4), (2, 1, 3, 2, 4)])
def test_affine_grid_values_and_gradients_match_torch(align_corners, size):
    rng = np.random.default_rng(3)
    d = len(size) - 2
    ours_t, theirs_t = both(rng.standard_normal((2, d, d + 1)), grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = F.affine_grid(ours_t, size, align_corners)
        theirs = TF.affine_grid(theirs_t, size, align_corners)
    check_same(ours, theirs, 1e-12)
    g = rng.standard_normal(tuple(theirs.shape))
    ours.backward(ft.tensor(g))
    theirs.backward(torch.tensor(g))
    check_same(ours_t.grad, theirs_t.grad, 1e-12)


@pytest.mark.parametrize("name,args,shape", [
    ("pixel_shuffle", (2,), (2, 3, 8, 3, 2)), ("pixel_shuffle", (3,), (9, 2, 2)),
    ("pixel_unshuffle", (2,), (2, 3, 4, 6)), ("channel_shuffle", (3,), (2, 6, 2, 3)),
    ("channel_shuffle", (2,), (2, 4, 3)),
])
def test_shuffles_match_torch(name, args, shape):
    rng = np.random.default_rng(4)
    ours_x, theirs_x = both(rng.standard_normal(shape), grad=True)
    ours, theirs = getattr(F, name)(ours_x, *args), getattr(TF, name)(theirs_x, *args)
    check_same(ours, theirs, 0)
    g = rng.standard_normal(tuple(theirs.shape))
    ours.backward(ft.tensor(g))
    theirs.backward(torch.tensor(g))
    check_same(ours_x.grad, theirs_x.grad, 0)


ERROR_CALLS = [
    lambda L, x: L.nn.functional.interpolate(x, size=2, scale_factor=2),
    lambda L, x: L.nn.functional.interpolate(x),
    lambda L, x: L.nn.functional.interpolate(x, size=(2,)),
    lambda L, x: L.nn.functional.interpolate(x, scale_factor=(2, 2, 2)),
    lambda L, x: L.nn.functional.interpolate(x, size=(2, 2.0)),
    lambda L, x: L.nn.functional.interpolate(x, size=2, mode="nearest", align_corners=False),
    lambda L, x: L.nn.functional.interpolate(x, size=2, recompute_scale_factor=True),
    lambda L, x: L.nn.functional.interpolate(x, size=(0, 2)),
    lambda L, x: L.nn.functional.interpolate(x, scale_factor=0.1, mode="bilinear"),
    lambda L, x: L.nn.functional.interpolate(x[0], size=0, mode="linear"),
    lambda L, x: L.nn.functional.interpolate(x[:, :0], size=2),
    lambda L, x: L.nn.functional.interpolate(x[:, :, :0], size=2, mode="area"),
    lambda L, x: L.nn.functional.interpolate(x[0, :, :, :0], size=2, mode="area"),
    lambda L, x: L.nn.functional.interpolate(x, size=2, mode="linear"),
    lambda L, x: L.nn.functional.interpolate(x[0], size=2, mode="bilinear"),
    lambda L, x: L.nn.functional.interpolate(x, size=2, mode="cubic"),
    lambda L, x: L.nn.functional.interpolate(x[0, 0], size=2),
    lambda L, x: L.nn.functional.interpolate(x, size=2, mode="nearest", antialias=True),
    lambda L, x: L.nn.functional.grid_sample(x, L.zeros(2, 2, 2, 2), align_corners=False),
    lambda L, x: L.nn.functional.grid_sample(x, L.zeros(1, 2, 2, 3), align_corners=False),
    lambda L, x: L.nn.functional.grid_sample(x, L.zeros(1, 2, 2, 2), mode="area"),
    lambda L, x: L.nn.functional.grid_sample(x, L.zeros(1, 2, 2, 2), padding_mode="wrap"),
    lambda L, x: L.nn.functional.grid_sample(x[:, :, :0], L.zeros(1, 2, 2, 2), align_corners=False),
    lambda L, x: L.nn.functional.grid_sample(x, L.zeros(1, 2, 2, 2, dtype=L.float64), align_corners=False),
    lambda L, x: L.nn.functional.affine_grid(L.zeros(1, 2, 4), (1, 1, 3, 3), align_corners=False),
    lambda L, x: L.nn.functional.affine_grid(L.zeros(1, 2, 3), (1, 1, 0, 3), align_corners=False),
    lambda L, x: L.nn.functional.affine_grid(L.zeros(1, 2, 3), (1, 3), align_corners=False),
    lambda L, x: L.nn.functional.pixel_shuffle(x, 2),
    lambda L, x: L.nn.functional.pixel_shuffle(x[0, 0], 1),
    lambda L, x: L.nn.functional.pixel_unshuffle(x, 2),
    lambda L, x: L.nn.functional.pixel_unshuffle(x, 0),
    lambda L, x: L.nn.functional.channel_shuffle(x, 2),
    lambda L, x: L.nn.functional.channel_shuffle(x, -1),
    lambda L, x: L.nn.functional.channel_shuffle(x[0, 0], 1),
]


@pytest.mark.parametrize("call", ERROR_CALLS)
def test_errors_match_torch(call):
    with pytest.raises(Exception) as theirs:
        call(torch, torch.zeros(1, 1, 3, 3))
    with pytest.raises(type(theirs.value)) as ours:
        call(ft, ft.zeros(1, 1, 3, 3))
    # torch also lists its 'lanczos' mode, which ferrotorch does not have.
    expected = str(theirs.value).replace("lanczos | ", "").replace(
        "bilinear, bicubic, and lanczos modes", "bilinear and bicubic modes"
    )
    assert str(ours.value) == expected


@pytest.mark.parametrize("build", [
    lambda L: L.nn.Upsample(scale_factor=2),
    lambda L: L.nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True),
    lambda L: L.nn.Upsample(scale_factor=(1.5, 2), mode="bicubic", recompute_scale_factor=True),
    lambda L: L.nn.UpsamplingNearest2d(size=5),
    lambda L: L.nn.UpsamplingBilinear2d(scale_factor=3),
    lambda L: L.nn.PixelShuffle(2),
    lambda L: L.nn.PixelUnshuffle(2),
    lambda L: L.nn.ChannelShuffle(2),
])
def test_modules_repr_and_output_match_torch(build):
    ours, theirs = build(ft), build(torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict().keys()) == list(theirs.state_dict().keys())
    x = np.random.default_rng(5).standard_normal((1, 4, 4, 6))
    check_same(ours(ft.tensor(x)), theirs(torch.tensor(x)), 1e-12)


def test_modules_are_exported_like_torch():
    for name in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
                 "ChannelShuffle"):
        assert isinstance(getattr(nn, name), type) and hasattr(torch.nn, name)
