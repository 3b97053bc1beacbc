"""Convolution: F.conv1d/2d/3d, F.conv_transpose1d/2d/3d and the Conv*/ConvTranspose* modules,
against float64 NumPy references written from the definition, plus gradcheck/gradgradcheck and
PyTorch's error messages."""

import math

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck
from conftest import assert_close, leaf, make, to_numpy

import numpy as np


def _window(offset, dilation, stride, count):
    """The input positions kernel offset ``offset`` reads for ``count`` outputs."""
    start = offset * dilation
    return slice(start, start + stride * (count - 1) + 1, stride)


def ref_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o, p] = sum_{c, k} x_padded[n, g*C/g + c, p*stride + k*dilation] * w[o, c, k] + b[o]."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    d = x.ndim - 2
    stride, padding, dilation = ([v] * d if isinstance(v, int) else list(v) for v in (stride, padding, dilation))
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    n, c = x.shape[:2]
    o, kernel = w.shape[0], w.shape[2:]
    out_size = [(xp.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(d)]
    out = np.zeros((n, o, *out_size))
    cg, og = c // groups, o // groups
    for k in np.ndindex(*kernel):
        sl = tuple(_window(k[i], dilation[i], stride[i], out_size[i]) for i in range(d))
        patch = xp[(slice(None), slice(None)) + sl]
        for g in range(groups):
            wk = w[(slice(g * og, (g + 1) * og), slice(None)) + k]
            out[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", patch[:, g * cg:(g + 1) * cg], wk)
    if b is not None:
        out += np.asarray(b, np.float64).reshape(1, -1, *[1] * d)
    return out


def ref_conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of ``conv``: each input element scatters ``x * w`` over its window, then
    ``padding`` is cropped from both ends (``output_padding`` extra at the end)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    d = x.ndim - 2
    stride, padding, output_padding, dilation = (
        [v] * d if isinstance(v, int) else list(v) for v in (stride, padding, output_padding, dilation)
    )
    n, c = x.shape[:2]
    og, kernel, size = w.shape[1], w.shape[2:], x.shape[2:]
    cg = c // groups
    full = [(size[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 + output_padding[i] for i in range(d)]
    out = np.zeros((n, og * groups, *full))
    for k in np.ndindex(*kernel):
        sl = tuple(_window(k[i], dilation[i], stride[i], size[i]) for i in range(d))
        for g in range(groups):
            wk = w[(slice(g * cg, (g + 1) * cg), slice(None)) + k]
            out[(slice(None), slice(g * og, (g + 1) * og)) + sl] += np.einsum("nc...,co->no...", x[:, g * cg:(g + 1) * cg], wk)
    out = out[(slice(None), slice(None)) + tuple(slice(padding[i], full[i] - padding[i]) for i in range(d))]
    if b is not None:
        out = out + np.asarray(b, np.float64).reshape(1, -1, *[1] * d)
    return out



CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}

# (spatial input size, kernel, stride, padding, dilation, groups, in channels, out channels)
CASES = [
    ((9,), (3,), 1, 0, 1, 1, 2, 3),
    ((10,), (4,), 3, 2, 2, 2, 4, 6),
    ((7, 6), (3, 3), 1, 1, 1, 1, 3, 4),
    ((8, 9), (3, 2), (2, 1), (1, 0), (1, 2), 2, 4, 2),
    ((6, 6), (1, 1), 1, 0, 1, 1, 5, 3),
    ((6, 7), (1, 1), 2, 0, 1, 3, 3, 6),
    ((5, 5), (5, 5), 1, 0, 1, 1, 2, 2),
    ((4, 5, 6), (2, 3, 2), (1, 2, 1), (1, 0, 1), (2, 1, 1), 2, 2, 4),
    ((3, 3, 3), (1, 1, 1), 1, 0, 1, 1, 2, 3),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{len(c[0])}d-k{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}-g{c[5]}")
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_conv_matches_reference(case, dtype, rng):
    size, kernel, stride, padding, dilation, groups, cin, cout = case
    x, xa = make((2, cin, *size), dtype, rng)
    w, wa = make((cout, cin // groups, *kernel), dtype, rng)
    b, ba = make((cout,), dtype, rng)
    out = CONV[len(size)](x, w, b, stride, padding, dilation, groups)
    assert_close(out, ref_conv(xa, wa, ba, stride, padding, dilation, groups), dtype, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{len(c[0])}d-k{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}-g{c[5]}")
def test_conv_transpose_matches_reference(case, rng):
    size, kernel, stride, padding, dilation, groups, cin, cout = case
    d = len(size)
    strides = (stride,) * d if isinstance(stride, int) else stride
    dilations = (dilation,) * d if isinstance(dilation, int) else dilation
    # The largest output padding allowed: below stride or dilation.
    output_padding = tuple(max(s, dl) - 1 for s, dl in zip(strides, dilations))
    paddings = (padding,) * d if isinstance(padding, int) else padding
    if any(p * 2 >= (n - 1) * s + dl * (k - 1) + 1 for p, n, s, dl, k in zip(paddings, size, strides, dilations, kernel)):
        padding = 0
    x, xa = make((2, cin, *size), ft.float64, rng)
    w, wa = make((cin, cout // groups, *kernel), ft.float64, rng)
    b, ba = make((cout,), ft.float64, rng)
    out = CONV_T[d](x, w, b, stride, padding, output_padding, groups, dilation)
    assert_close(out, ref_conv_transpose(xa, wa, ba, stride, padding, output_padding, groups, dilation), ft.float64)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_conv_reads_non_contiguous_input_and_weight(layout, rng):
    x, xa = make((2, 3, 7, 6), ft.float64, rng, layout)
    w, wa = make((4, 3, 3, 2), ft.float64, rng, layout)
    assert_close(F.conv2d(x, w, None, 2, 1), ref_conv(xa, wa, None, 2, 1), ft.float64)
    xt, xta = make((2, 4, 5, 4), ft.float64, rng, layout)
    assert_close(F.conv_transpose2d(xt, w, None, 2, 1, 1), ref_conv_transpose(xta, wa, None, 2, 1, 1), ft.float64)


def test_conv_one_by_one_reads_non_contiguous_channels(rng):
    # A channel-sliced input keeps dense planes: the 1x1 path reads it in place.
    x, xa = make((2, 6, 4, 5), ft.float64, rng)
    w, wa = make((3, 3, 1, 1), ft.float64, rng)
    assert_close(F.conv2d(x[:, 1:4], w), ref_conv(xa[:, 1:4], wa), ft.float64)


@pytest.mark.parametrize("kernel,dilation", [(3, 1), (4, 1), (4, 2), (2, 3)])
def test_padding_same_keeps_size(kernel, dilation, rng):
    x, xa = make((1, 2, 7, 6), ft.float64, rng)
    w, wa = make((3, 2, kernel, kernel), ft.float64, rng)
    out = F.conv2d(x, w, padding="same", dilation=dilation)
    # Odd total padding puts the extra zero at the end (right/bottom).
    total = dilation * (kernel - 1)
    xp = np.pad(xa, [(0, 0), (0, 0), (total // 2, total - total // 2), (total // 2, total - total // 2)])
    assert_close(out, ref_conv(xp, wa, dilation=dilation), ft.float64)


def test_padding_valid_is_no_padding(rng):
    x, xa = make((1, 2, 9), ft.float64, rng)
    w, wa = make((3, 2, 4), ft.float64, rng)
    assert_close(F.conv1d(x, w, padding="valid"), ref_conv(xa, wa), ft.float64)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_unbatched_input(dims, rng):
    x, xa = make((2,) + (4,) * dims, ft.float64, rng)
    w, wa = make((3, 2) + (2,) * dims, ft.float64, rng)
    assert_close(CONV[dims](x, w), ref_conv(xa[None], wa)[0], ft.float64)
    wt, wta = make((2, 3) + (2,) * dims, ft.float64, rng)
    assert_close(CONV_T[dims](x, wt, stride=2), ref_conv_transpose(xa[None], wta, stride=2)[0], ft.float64)


def test_empty_batch(rng):
    w = make((4, 3, 3, 3), ft.float32, rng)[0]
    assert F.conv2d(ft.zeros(0, 3, 8, 8), w).shape == (0, 4, 6, 6)
    assert F.conv_transpose2d(ft.zeros(0, 4, 8, 8), w).shape == (0, 3, 10, 10)


def test_zero_input_channels_give_the_bias(rng):
    b, ba = make((4,), ft.float32, rng)
    out = F.conv2d(ft.zeros(2, 0, 5, 5), ft.zeros(4, 0, 3, 3), b)
    assert_close(out, np.broadcast_to(ba.reshape(1, 4, 1, 1), (2, 4, 3, 3)), ft.float32)


def test_nan_in_input_propagates_to_its_windows():
    x = ft.zeros(1, 1, 5)
    x[0, 0, 0] = float("nan")
    out = to_numpy(F.conv1d(x, ft.ones(1, 1, 2)))
    assert np.isnan(out[0, 0, 0]) and not np.isnan(out[0, 0, 1:]).any()


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_half_dtypes_compute_in_float32(dtype, rng):
    x, xa = make((2, 3, 6, 6), dtype, rng, low=-1, high=1)
    w, wa = make((4, 3, 3, 3), dtype, rng, low=-1, high=1)
    out = F.conv2d(x, w, None, 1, 1)
    assert out.dtype == dtype
    assert_close(out, ref_conv(xa.astype(np.float64), wa.astype(np.float64), None, 1, 1), dtype, rtol=2e-2, atol=5e-2)


def test_integer_convolution_is_exact(rng):
    x, xa = make((1, 2, 5, 5), ft.int64, rng)
    w, wa = make((3, 2, 2, 2), ft.int64, rng)
    out = F.conv2d(x, w, stride=2, padding=1)
    assert out.dtype == ft.int64
    np.testing.assert_array_equal(to_numpy(out), ref_conv(xa, wa, None, 2, 1).astype(np.int64))


def test_functions_are_torch_level_names():
    assert ft.conv2d is F.conv2d and ft.conv_transpose3d is F.conv_transpose3d


def test_convolution_is_the_general_form(rng):
    x, xa = make((1, 4, 5, 5), ft.float64, rng)
    w, wa = make((4, 2, 3, 3), ft.float64, rng)
    out = ft.convolution(x, w, None, [2, 1], [1, 1], [1, 1], True, [1, 0], 2)
    assert_close(out, ref_conv_transpose(xa, wa, None, (2, 1), 1, (1, 0), 2), ft.float64)


# --- autograd ---------------------------------------------------------------------------

def test_single_convolution_backward_node(rng):
    x = leaf((1, 2, 5, 5), rng)
    w = leaf((3, 2, 3, 3), rng)
    assert type(F.conv2d(x, w)).__name__ == "Tensor"
    assert F.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert F.conv_transpose2d(x, leaf((2, 3, 3, 3), rng)).grad_fn.name() == "ConvolutionBackward0"


GRAD_CASES = [
    # dims, size, kernel, stride, padding, dilation, groups, cin, cout
    (1, (6,), (3,), 2, 1, 1, 2, 2, 4),
    (2, (5, 4), (3, 2), 1, (1, 0), (1, 2), 1, 2, 2),
    (2, (5, 5), (2, 2), 2, 1, 1, 1, 1, 2),
    (2, (3, 3), (1, 1), 1, 0, 1, 1, 2, 2),
    (3, (3, 4, 3), (2, 2, 2), (1, 2, 1), (1, 0, 0), 1, 1, 1, 2),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=str)
def test_conv_gradcheck(case, rng):
    dims, size, kernel, stride, padding, dilation, groups, cin, cout = case
    x = leaf((2, cin, *size), rng, "transposed")
    w = leaf((cout, cin // groups, *kernel), rng)
    b = leaf((cout,), rng)
    assert gradcheck(lambda x, w, b: CONV[dims](x, w, b, stride, padding, dilation, groups), (x, w, b))


@pytest.mark.parametrize("case", GRAD_CASES, ids=str)
def test_conv_transpose_gradcheck(case, rng):
    dims, size, kernel, stride, padding, dilation, groups, cin, cout = case
    x = leaf((2, cin, *size), rng)
    w = leaf((cin, cout // groups, *kernel), rng, "strided")
    b = leaf((cout,), rng)
    op = tuple(s - 1 for s in ((stride,) * dims if isinstance(stride, int) else stride))
    assert gradcheck(lambda x, w, b: CONV_T[dims](x, w, b, stride, padding, op, groups, dilation), (x, w, b))


def test_padding_same_gradcheck(rng):
    x = leaf((1, 2, 5, 4), rng)
    w = leaf((2, 2, 2, 3), rng)
    assert gradcheck(lambda x, w: F.conv2d(x, w, padding="same"), (x, w))


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_gradgradcheck(transposed, rng):
    x = leaf((2, 2, 4, 3), rng)
    w = leaf((2, 1, 2, 2), rng)
    b = leaf((2,), rng)
    if transposed:
        fn = lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2)
    else:
        fn = lambda x, w, b: F.conv2d(x, w, b, 1, 1, 2, 2)
    assert gradgradcheck(fn, (x, w, b))


def test_conv1d_gradgradcheck_strided(rng):
    x = leaf((1, 2, 7), rng)
    w = leaf((3, 2, 3), rng)
    assert gradgradcheck(lambda x, w: F.conv1d(x, w, None, 2, 1), (x, w))


def test_weight_gradient_alone(rng):
    x, xa = make((2, 3, 5, 5), ft.float64, rng)
    w = leaf((2, 3, 3, 3), rng)
    g, ga = make((2, 2, 3, 3), ft.float64, rng)
    F.conv2d(x, w).backward(g)
    # d/dw sum(g * conv(x, w)) = sum over batch and positions of g times x's windows.
    windows = np.lib.stride_tricks.sliding_window_view(xa, (3, 3), axis=(2, 3))  # n c h w i j
    expected = np.einsum("nohw,nchwij->ocij", ga, windows)
    assert_close(w.grad, expected, ft.float64)


# --- errors -----------------------------------------------------------------------------

ERRORS = [
    (lambda: F.conv2d(ft.randn(1, 4, 8, 8), ft.randn(64, 3, 3, 3)),
     r"Given groups=1, weight of size \[64, 3, 3, 3\], expected input\[1, 4, 8, 8\] to have 3 channels, but got 4 channels instead"),
    (lambda: F.conv2d(ft.randn(1, 3, 2, 2), ft.randn(4, 3, 3, 3)),
     r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel size can't be greater than actual input size"),
    (lambda: F.conv2d(ft.randn(3, 8), ft.randn(4, 3, 3, 3)),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[3, 8\]"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3)),
     r"expected stride to be a single integer value or a list of 1 values to match the convolution dimensions, but got stride=\[1, 1\]"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), groups=2),
     r"Given groups=2, weight of size \[4, 3, 3, 3\], expected input\[1, 3, 8, 8\] to have 6 channels"),
    (lambda: F.conv2d(ft.randn(1, 6, 8, 8), ft.randn(63, 3, 3, 3), groups=2),
     r"expected weight to be divisible by 2 at dimension 0, but got weight of size \[\[63, 3, 3, 3\]\] instead"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), ft.randn(3)),
     r"Given weight of size \[4, 3, 3, 3\], expected bias to be 1-dimensional with 4 elements, but got bias of size \[3\] instead"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), stride=0), "non-positive stride is not supported"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), padding=-1), "negative padding is not supported"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), dilation=0), "dilation should be greater than zero"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), groups=0), "non-positive groups is not supported"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), stride=2, padding="same"),
     "padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), padding="foo"), "Invalid padding string: 'foo'"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), padding=(1, 1, 1)),
     r"expected padding to be a single integer value or a list of 2 values"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8).double(), ft.randn(4, 3, 3, 3)), "expected scalar type Double but found Float"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), ft.randn(4).double()),
     r"Input type \(float\) and bias type \(double\) should be the same"),
    (lambda: F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(0, 3, 3, 3)),
     r"Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size \[0, 3, 3, 3\] instead"),
    (lambda: ft.convolution(ft.randn(1, 3, 8, 8), ft.randn(4, 3), None, [1], [0], [1], False, [0], 1),
     "weight should have at least three dimensions"),
    (lambda: ft.convolution(ft.randn(3, 8, 8), ft.randn(4, 3, 3, 3), None, [1], [0], [1], False, [0], 1),
     r"Expected 4-dimensional input for 4-dimensional weight \[4, 3, 3, 3\], but got 3-dimensional input of size \[3, 8, 8\] instead"),
    (lambda: F.conv_transpose2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3)),
     r"Given transposed=1, weight of size \[4, 3, 3, 3\], expected input\[1, 3, 8, 8\] to have 4 channels, but got 3 channels instead"),
    (lambda: F.conv_transpose2d(ft.randn(1, 4, 8, 8), ft.randn(4, 3, 3, 3), output_padding=1),
     "output padding must be smaller than either stride or dilation, but got output_padding_height: 1 output_padding_width: 1 "
     "stride_height: 1 stride_width: 1 dilation_height: 1 dilation_width: 1"),
    (lambda: F.conv_transpose1d(ft.randn(1, 4, 8), ft.randn(4, 3, 3), output_padding=1),
     "output_padding_height: 0 output_padding_width: 1 stride_height: 1 stride_width: 1"),
    (lambda: F.conv_transpose2d(ft.randn(1, 4, 8, 8), ft.randn(4, 3, 3, 3), padding=5),
     r"Given input size per channel: \(8 x 8\). Calculated output size per channel: \(0 x 0\). Output size is too small"),
    (lambda: F.conv_transpose2d(ft.randn(1, 4, 8, 8), ft.randn(4, 3, 3, 3), ft.randn(4)),
     r"Given transposed=1, weight of size \[4, 3, 3, 3\], expected bias to be 1-dimensional with 3 elements"),
    (lambda: F.conv_transpose2d(ft.randn(1, 4, 8, 8), ft.randn(4, 3, 3, 3), output_padding=-1),
     "negative output_padding is not supported"),
    (lambda: F.conv2d(ft.ones(1, 3, 8, 8), ft.ones(4, 3, 0, 3)),
     "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 3"),
    (lambda: F.conv1d(ft.ones(1, 3, 8), ft.ones(4, 3, 0)),
     "kernel size should be greater than zero, but got kernel_height: 1 kernel_width: 0"),
    (lambda: F.conv3d(ft.ones(1, 3, 8, 8, 8), ft.ones(4, 3, 2, 0, 3)),
     r"kernel size should be greater than zero, but got: 2 x 0 x 3 \(TxHxW\)"),
    (lambda: F.conv2d(ft.ones(1, 3, 0, 8), ft.ones(4, 3, 3, 3), padding=2),
     r"Only zero batch or zero channel inputs are supported, but got input shape: \[1, 3, 0, 8\]"),
    (lambda: F.conv1d(ft.ones(1, 3, 0), ft.ones(4, 3, 1), padding=1),
     r"Only zero batch or zero channel inputs are supported, but got input shape: \[1, 3, 1, 0\]"),
    (lambda: F.conv_transpose2d(ft.ones(1, 3, 0, 8), ft.ones(3, 4, 3, 3)), "Only zero batch or zero channel inputs are supported"),
    (lambda: F.conv2d(ft.ones(1, 3, 0, 8), ft.ones(4, 3, 3, 3), padding="same"),
     r"Calculated padded input size per channel: \(2 x 10\). Kernel size: \(3 x 3\)"),
    (lambda: F.conv_transpose2d(ft.randn(1, 1, 4, 8, 8), ft.randn(4, 3, 3, 3)),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv_transpose2d"),
]


@pytest.mark.parametrize("fn,message", ERRORS, ids=range(len(ERRORS)))
def test_bad_arguments_raise_runtime_error(fn, message):
    with pytest.raises(RuntimeError, match=message):
        fn()


def test_bool_convolution_is_not_implemented():
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        F.conv2d(ft.ones(1, 1, 3, 3, dtype=ft.bool), ft.ones(1, 1, 2, 2, dtype=ft.bool))


@pytest.mark.parametrize("kwargs", [{"stride": 1.5}, {"groups": 1.0}])
def test_float_arguments_raise_type_error(kwargs):
    with pytest.raises(TypeError):
        F.conv2d(ft.randn(1, 3, 8, 8), ft.randn(4, 3, 3, 3), **kwargs)


# --- modules ----------------------------------------------------------------------------

@pytest.mark.parametrize("module,expected", [
    (lambda: nn.Conv2d(3, 4, 3), "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))"),
    (lambda: nn.Conv2d(3, 4, (3, 5), stride=2, padding=1, dilation=2, bias=False, padding_mode="reflect"),
     "Conv2d(3, 4, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), bias=False, padding_mode=reflect)"),
    (lambda: nn.Conv1d(4, 4, 3, padding="same", groups=2), "Conv1d(4, 4, kernel_size=(3,), stride=(1,), padding=same, groups=2)"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, output_padding=1, stride=2),
     "ConvTranspose2d(3, 4, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"),
    (lambda: nn.ConvTranspose3d(3, 6, 2, groups=3), "ConvTranspose3d(3, 6, kernel_size=(2, 2, 2), stride=(1, 1, 1), groups=3)"),
])
def test_module_repr(module, expected):
    assert repr(module()) == expected


@pytest.mark.parametrize("cls,transposed,dims", [
    (nn.Conv1d, False, 1), (nn.Conv2d, False, 2), (nn.Conv3d, False, 3),
    (nn.ConvTranspose1d, True, 1), (nn.ConvTranspose2d, True, 2), (nn.ConvTranspose3d, True, 3),
])
def test_module_parameters_and_state_dict(cls, transposed, dims):
    m = cls(4, 6, 3, groups=2)
    shape = (4, 3) if transposed else (6, 2)
    sd = m.state_dict()
    assert list(sd) == ["weight", "bias"]
    assert tuple(sd["weight"].shape) == shape + (3,) * dims and tuple(sd["bias"].shape) == (6,)
    assert cls(4, 6, 3, bias=False).bias is None and list(cls(4, 6, 3, bias=False).state_dict()) == ["weight"]


def test_module_default_init_bounds():
    ft.manual_seed(0)
    m = nn.Conv2d(8, 16, 3)
    fan_in = 8 * 9
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias rule agree
    w, b = to_numpy(m.weight.detach()), to_numpy(m.bias.detach())
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound and w.std() > bound / 3


def test_module_dtype_argument():
    m = nn.Conv1d(2, 3, 2, dtype=ft.float64)
    assert m.weight.dtype == ft.float64 and m.bias.dtype == ft.float64


@pytest.mark.parametrize("cls,fn", [(nn.Conv1d, F.conv1d), (nn.Conv2d, F.conv2d), (nn.Conv3d, F.conv3d)])
def test_conv_module_forward_is_functional(cls, fn, rng):
    m = cls(2, 4, 2, stride=1, padding=1, dilation=1, groups=2, dtype=ft.float64)
    dims = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}[cls]
    x, xa = make((1, 2) + (4,) * dims, ft.float64, rng)
    wa, ba = to_numpy(m.weight.detach()), to_numpy(m.bias.detach())
    assert_close(m(x), ref_conv(xa, wa, ba, 1, 1, 1, 2), ft.float64)


def test_conv_transpose_module_output_size(rng):
    m = nn.ConvTranspose2d(3, 2, 3, stride=2, dtype=ft.float64)
    x = make((1, 3, 4, 4), ft.float64, rng)[0]
    assert m(x).shape == (1, 2, 9, 9)
    assert m(x, output_size=(10, 10)).shape == (1, 2, 10, 10)
    assert m(x, output_size=[1, 2, 10, 9]).shape == (1, 2, 10, 9)
    with pytest.raises(ValueError, match=r"requested an output size of \[20, 20\], but valid sizes range from \[9, 9\] to \[10, 10\]"):
        m(x, output_size=(20, 20))
    with pytest.raises(ValueError, match=r"ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements \(got 3\)"):
        m(x, output_size=(1, 2, 3))


@pytest.mark.parametrize("kwargs,message", [
    ({"groups": 0}, "groups must be a positive integer"),
    ({"groups": 2}, "in_channels must be divisible by groups"),
    ({"padding": "foo"}, "Invalid padding string 'foo'"),
    ({"padding": "same", "stride": 2}, "padding='same' is not supported for strided convolutions"),
    ({"padding_mode": "foo"}, "padding_mode must be one of"),
])
def test_conv_module_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(3, 4, 3, **kwargs)


def test_conv_transpose_module_rejects_padding_modes():
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


def test_conv_module_gradients_reach_parameters(rng):
    m = nn.Conv2d(2, 3, 3, padding=1, dtype=ft.float64)
    x = make((2, 2, 4, 4), ft.float64, rng)[0]
    m(x).sum().backward()
    assert m.weight.grad.shape == m.weight.shape
    assert_close(m.bias.grad, np.full(3, 2 * 16.0), ft.float64)


# Non-zero padding modes pad with F.pad (nn.functional.padding) first.
needs_pad = pytest.mark.skipif(not hasattr(F, "pad"), reason="F.pad is not in this build yet")


@needs_pad
@pytest.mark.parametrize("mode,np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_padding_modes(mode, np_mode, rng):
    m = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=ft.float64)
    x, xa = make((1, 2, 5, 6), ft.float64, rng)
    xp = np.pad(xa, [(0, 0), (0, 0), (1, 1), (2, 2)], mode=np_mode)
    assert_close(m(x), ref_conv(xp, to_numpy(m.weight.detach()), to_numpy(m.bias.detach())), ft.float64)


@needs_pad
def test_padding_mode_with_same_padding(rng):
    m = nn.Conv1d(1, 1, 4, padding="same", padding_mode="circular", bias=False, dtype=ft.float64)
    x, xa = make((1, 1, 7), ft.float64, rng)
    xp = np.pad(xa, [(0, 0), (0, 0), (1, 2)], mode="wrap")
    assert_close(m(x), ref_conv(xp, to_numpy(m.weight.detach())), ft.float64)
