"""F.pad in every mode and the padding modules, against np.pad."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.nn import functional as F

from conftest import LAYOUTS, assert_close, leaf, make

# F.pad's mode -> np.pad's mode.
NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def numpy_pad(arr, pad, mode, value=0.0):
    """np.pad with F.pad's argument order (last dim first) and negative amounts.

    Reflect/replicate index the input's own coordinates (grow, then crop); circular and constant
    crop first, then grow (so circular wraps around what is left), as PyTorch does.
    """
    pairs = [(0, 0)] * (arr.ndim - len(pad) // 2) + [(pad[2 * j], pad[2 * j + 1]) for j in range(len(pad) // 2)][::-1]
    grow = [(max(left, 0), max(right, 0)) for left, right in pairs]
    crop = tuple(slice(max(-left, 0), arr.shape[d] - max(-right, 0) if mode in ("constant", "circular") else None)
                 for d, (left, right) in enumerate(pairs))
    if mode in ("constant", "circular"):
        cropped = arr[crop]
        if mode == "constant":
            return np.pad(cropped, grow, mode="constant", constant_values=value)
        return np.pad(cropped, grow, mode="wrap")
    grown = np.pad(arr, grow, mode=NUMPY_MODE[mode])
    after = tuple(slice(max(-left, 0), grown.shape[d] - max(-right, 0)) for d, (left, right) in enumerate(pairs))
    return grown[after]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_constant_pad_matches_numpy(layout, dtype, rng):
    x, arr = make((2, 3, 4), dtype, rng, layout)
    assert_close(F.pad(x, (1, 2, 0, 3), value=1.5), numpy_pad(arr, (1, 2, 0, 3), "constant", 1.5), dtype)


def test_constant_pad_reaches_every_dim(rng):
    x, arr = make((2, 1, 3, 2, 2), ft.float64, rng)
    pad = (1, 0, 0, 2, 1, 1, 2, 0, 1, 1)
    assert_close(F.pad(x, pad), numpy_pad(arr, pad, "constant"))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", [
    ((3, 5), (2, 1)), ((2, 3, 5), (1, 3)),
    ((2, 3, 4), (1, 2, 2, 1)), ((2, 2, 3, 4), (0, 3, 1, 2)),
    ((2, 3, 3, 4), (1, 2, 2, 0, 1, 1)), ((1, 2, 3, 3, 4), (2, 1, 0, 2, 1, 2)),
])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_mode_matches_numpy(mode, shape, pad, layout, rng):
    x, arr = make(shape, ft.float64, rng, layout)
    assert_close(F.pad(x, pad, mode=mode), numpy_pad(arr, pad, mode))


@pytest.mark.parametrize("mode, pad", [
    ("constant", (-1, 2, 1, -2)), ("constant", (-2, -2, 0, 0)), ("reflect", (-1, 2, 1, -2)),
    ("replicate", (-3, 4, -1, 0)), ("circular", (-1, 2, 1, -2)), ("circular", (0, -4, -3, 0)),
])
def test_negative_padding_crops(mode, pad, rng):
    x, arr = make((2, 3, 4), ft.float64, rng)
    assert_close(F.pad(x, pad, mode=mode), numpy_pad(arr, pad, mode))


def test_constant_pad_with_only_cropping_is_a_view(rng):
    x, _ = make((3, 4), ft.float64, rng)
    out = F.pad(x, (-1, 0))
    out[0, 0] = 100.0
    assert x[0, 1].item() == 100.0


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_empty_batch(mode):
    out = F.pad(ft.zeros(0, 2, 3), (1, 2), mode=mode)
    assert tuple(out.shape) == (0, 2, 6)


@pytest.mark.parametrize("dtype", [ft.int64, ft.int32, ft.uint8, ft.bool])
def test_constant_pad_keeps_integer_and_bool_dtypes(dtype, rng):
    x, arr = make((2, 3), dtype, rng)
    expected = np.pad(arr, ((0, 0), (1, 1)), constant_values=1)
    assert_close(F.pad(x, (1, 1), value=1), expected, dtype)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_half_precision(dtype, mode, rng):
    x, arr = make((2, 3, 4), dtype, rng)
    assert_close(F.pad(x, (2, 1), mode=mode), numpy_pad(arr, (2, 1), mode), dtype)


def test_nan_and_inf_pass_through():
    x = ft.tensor([[float("nan"), 1.0, float("inf")]])
    assert_close(F.pad(x, (1, 1), mode="reflect"), [[1.0, float("nan"), 1.0, float("inf"), 1.0]])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_gradcheck(mode, rng):
    x = leaf((1, 2, 3, 4), rng, "transposed")
    assert ft.autograd.gradcheck(lambda t: F.pad(t, (2, -1, 1, 2), mode=mode), [x])


def test_gradgradcheck_reflect(rng):
    x = leaf((2, 4), rng)
    assert ft.autograd.gradgradcheck(lambda t: F.pad(t, (3, 2), mode="reflect"), [x])


def test_reflect_gradient_accumulates_on_mirrored_elements():
    x = ft.zeros(1, 3, dtype=ft.float64, requires_grad=True)
    F.pad(x, (2, 2), mode="reflect").sum().backward()
    # Output [x2 x1 | x0 x1 x2 | x1 x0]: x0 twice, x1 three times, x2 twice.
    assert_close(x.grad, [[2.0, 3.0, 2.0]])


@pytest.mark.parametrize("call, error, match", [
    (lambda x: F.pad(x, (1,)), RuntimeError, "Padding length must be divisible by 2"),
    (lambda x: F.pad(x, (1,) * 8), RuntimeError, "padding length 8 and input of dimension 3"),
    (lambda x: F.pad(x, (1, 1), mode="wrap"), NotImplementedError, "Unrecognised padding mode wrap"),
    (lambda x: F.pad(x, (1, 1), mode="reflect", value=2.0), RuntimeError, 'Padding mode "reflect" doesn\'t take in value'),
    (lambda x: F.pad(x, (3, 3), mode="reflect"), RuntimeError,
     r"Argument #4: Padding size should be less than the corresponding input dimension, but got: padding \(3, 3\) at dimension 2 of input \[1, 2, 3\]"),
    (lambda x: F.pad(x, (0, 0, 2, 0), mode="reflect"), RuntimeError, r"Argument #6: .*padding \(2, 0\) at dimension 1"),
    (lambda x: F.pad(x, (-2, -1), mode="replicate"), RuntimeError, r"input \(W: 3\) is too small. Calculated output W: 0"),
    (lambda x: F.pad(x, (0, 0, -2, 0), mode="replicate"), RuntimeError,
     r"Calculated output H: 0 W: 3 must be >= 1 in every dimension \(input H: 2, W: 3\)"),
    (lambda x: F.pad(x, (4, 0), mode="circular"), RuntimeError, "wrapping around more than once"),
    (lambda x: F.pad(x, (-2, -2), mode="circular"), RuntimeError, "Negative padding value is resulting in an empty dimension"),
    (lambda x: F.pad(x, (1,) * 6, mode="replicate"), NotImplementedError, "Padding size 6 is not supported for 3D input tensor."),
    (lambda x: F.pad(x, (-2, -2)), RuntimeError, "narrow\\(\\): length must be non-negative."),
    (lambda x: F.pad(x, (1.5, 1)), TypeError, "must be tuple of ints"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(ft.zeros(1, 2, 3))


def test_reflect_and_replicate_refuse_empty_non_batch_dims():
    with pytest.raises(RuntimeError, match=r"Expected 2D or 3D \(batch mode\) tensor .* but got: \[2, 0, 4\]"):
        F.pad(ft.zeros(2, 0, 4), (1, 1), mode="reflect")


@pytest.mark.parametrize("module, expected_repr, mode, value, pad", [
    (nn.ZeroPad1d(2), "ZeroPad1d((2, 2))", "constant", 0.0, (2, 2)),
    (nn.ZeroPad2d((1, 2, 3, 4)), "ZeroPad2d((1, 2, 3, 4))", "constant", 0.0, (1, 2, 3, 4)),
    (nn.ZeroPad3d(1), "ZeroPad3d((1, 1, 1, 1, 1, 1))", "constant", 0.0, (1,) * 6),
    (nn.ConstantPad1d((3, 1), 3.5), "ConstantPad1d(padding=(3, 1), value=3.5)", "constant", 3.5, (3, 1)),
    (nn.ConstantPad2d(1, -1), "ConstantPad2d(padding=(1, 1, 1, 1), value=-1)", "constant", -1, (1,) * 4),
    (nn.ConstantPad3d(1, 2.0), "ConstantPad3d(padding=(1, 1, 1, 1, 1, 1), value=2.0)", "constant", 2.0, (1,) * 6),
    (nn.ReflectionPad1d(2), "ReflectionPad1d((2, 2))", "reflect", None, (2, 2)),
    (nn.ReflectionPad2d((1, 0, 2, 1)), "ReflectionPad2d((1, 0, 2, 1))", "reflect", None, (1, 0, 2, 1)),
    (nn.ReflectionPad3d(1), "ReflectionPad3d((1, 1, 1, 1, 1, 1))", "reflect", None, (1,) * 6),
    (nn.ReplicationPad1d((1, 2)), "ReplicationPad1d((1, 2))", "replicate", None, (1, 2)),
    (nn.ReplicationPad2d(1), "ReplicationPad2d((1, 1, 1, 1))", "replicate", None, (1,) * 4),
    (nn.ReplicationPad3d(2), "ReplicationPad3d((2, 2, 2, 2, 2, 2))", "replicate", None, (2,) * 6),
    (nn.CircularPad1d(1), "CircularPad1d((1, 1))", "circular", None, (1, 1)),
    (nn.CircularPad2d((1, 2, 0, 1)), "CircularPad2d((1, 2, 0, 1))", "circular", None, (1, 2, 0, 1)),
    (nn.CircularPad3d(1), "CircularPad3d((1, 1, 1, 1, 1, 1))", "circular", None, (1,) * 6),
])
def test_modules_repr_and_forward(module, expected_repr, mode, value, pad, rng):
    assert repr(module) == expected_repr
    dims = len(pad) // 2
    x, arr = make((2,) + (3,) * (dims + 1), ft.float64, rng)
    assert_close(module(x), numpy_pad(arr, pad, mode, value or 0.0))
    assert len(module.state_dict()) == 0


def test_zero_pad_is_a_constant_pad():
    assert isinstance(nn.ZeroPad2d(1), nn.ConstantPad2d) and nn.ZeroPad2d(1).value == 0.0


def test_circular_pad_module_checks_rank():
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(ft.zeros(3, 3))
