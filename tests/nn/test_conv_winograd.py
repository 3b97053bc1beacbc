"""The Winograd F(2x2, 3x3) path of 2-d convolution (3x3 kernels, stride 1, dilation 1, one
group, float dtypes, at least 64 channels on each side and 4x4 image and output): forward,
input gradient (a stride-1 transposed convolution, also used directly by conv_transpose2d
with padding <= 2) and weight gradient, against float64 NumPy references written from the
definition; shapes cover tile edges (odd sizes), every padding the path takes, strided
operands and more tiles than one block holds, and shapes just below the thresholds (which
run as im2col) match too. gradcheck reaches 64 channels by repeating small leaves."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck
from conftest import assert_close, leaf, make, to_numpy


def ref_conv(x, w, padding):
    """out[n, o, i, j] = sum_{c, a, b} x_padded[n, c, i + a, j + b] * w[o, c, a, b]."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    oh, ow = xp.shape[2] - 2, xp.shape[3] - 2
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for a in range(3):
        for b in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, a:a + oh, b:b + ow], w[:, :, a, b])
    return out


def ref_grads(x, w, g, padding):
    """(input gradient, weight gradient) of sum(conv(x, w) * g)."""
    x, w, g = (np.asarray(v, np.float64) for v in (x, w, g))
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    oh, ow = g.shape[2:]
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(w)
    for a in range(3):
        for b in range(3):
            gxp[:, :, a:a + oh, b:b + ow] += np.einsum("nohw,oc->nchw", g, w[:, :, a, b])
            gw[:, :, a, b] = np.einsum("nohw,nchw->oc", g, xp[:, :, a:a + oh, b:b + ow])
    h, wd = x.shape[2:]
    return gxp[:, :, padding:padding + h, padding:padding + wd], gw


def tol(dtype, terms):
    """Absolute tolerance for sums of `terms` products of O(1) values."""
    eps = {ft.float32: 1e-6, ft.float64: 1e-14}[dtype]
    return 20 * eps * terms


# (batch, in channels, out channels, height, width, padding)
SHAPES = [
    (2, 64, 64, 7, 9, 1),    # odd sizes: half tiles at the bottom and right
    (1, 64, 65, 6, 7, 0),    # no padding, odd output width
    (1, 66, 64, 4, 6, 2),    # padding 2: output larger than the input
    (2, 64, 80, 4, 4, 1),    # the smallest image taken
    (1, 70, 64, 33, 17, 1),  # many blocks, split across threads
]
# Shapes the path leaves to im2col: too few channels on either side, too small an image or output.
BELOW = [
    (2, 63, 64, 6, 6, 1),
    (2, 64, 32, 6, 6, 1),
    (1, 3, 64, 8, 8, 1),
    (2, 64, 64, 3, 6, 1),
    (1, 64, 64, 5, 5, 0),    # 3x3 output
    (2, 64, 64, 1, 1, 1),    # a 1x1 image
]


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
@pytest.mark.parametrize("shape", SHAPES + BELOW)
def test_forward_matches_the_direct_sum(shape, dtype, rng):
    n, ci, co, h, w, p = shape
    x, xn = make((n, ci, h, w), dtype, rng, low=-1, high=1)
    wt, wn = make((co, ci, 3, 3), dtype, rng, low=-1, high=1)
    assert_close(F.conv2d(x, wt, padding=p), ref_conv(xn, wn, p), atol=tol(dtype, 9 * ci), rtol=1e-5)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
@pytest.mark.parametrize("shape", SHAPES + BELOW)
def test_gradients_match_the_reference(shape, dtype, rng):
    n, ci, co, h, w, p = shape
    x, xn = make((n, ci, h, w), dtype, rng, low=-1, high=1)
    wt, wn = make((co, ci, 3, 3), dtype, rng, low=-1, high=1)
    b, _ = make((co,), dtype, rng)
    x.requires_grad_(), wt.requires_grad_(), b.requires_grad_()
    out = F.conv2d(x, wt, b, padding=p)
    g, gn = make(tuple(out.shape), dtype, rng, low=-1, high=1)
    out.backward(g)
    gx, gw = ref_grads(xn, wn, gn, p)
    assert_close(x.grad, gx, atol=tol(dtype, 9 * co), rtol=1e-5)
    assert_close(wt.grad, gw, atol=tol(dtype, n * out.shape[2] * out.shape[3]), rtol=1e-5)
    assert_close(b.grad, gn.sum(axis=(0, 2, 3)), atol=tol(dtype, gn[:, 0].size), rtol=1e-5)


@pytest.mark.parametrize("layout", ["transposed", "strided", "broadcast"])
def test_strided_operands_are_read_in_place(layout, rng):
    # An expanded input cannot be a gradient leaf: it is read by the weight gradient only.
    x, xn = make((2, 64, 9, 6), ft.float64, rng, layout)
    wt, wn = make((64, 64, 3, 3), ft.float64, rng, "transposed" if layout == "broadcast" else layout)
    if layout != "broadcast":
        x.requires_grad_()
    wt.requires_grad_()
    out = F.conv2d(x, wt, padding=1)
    assert_close(out, ref_conv(xn, wn, 1))
    g, gn = make(tuple(out.shape), ft.float64, rng, layout)
    out.backward(g)
    gx, gw = ref_grads(xn, wn, gn, 1)
    if layout != "broadcast":
        assert_close(x.grad, gx)
    assert_close(wt.grad, gw)


def test_expanded_output_gradient_of_a_sum(rng):
    x = leaf((2, 64, 5, 7), rng)
    wt = leaf((64, 64, 3, 3), rng)
    F.conv2d(x, wt, padding=1).sum().backward()
    gx, gw = ref_grads(to_numpy(x), to_numpy(wt), np.ones((2, 64, 5, 7)), 1)
    assert_close(x.grad, gx)
    assert_close(wt.grad, gw)


def test_same_padding(rng):
    x, xn = make((2, 64, 6, 5), ft.float32, rng, low=-1, high=1)
    wt, wn = make((64, 64, 3, 3), ft.float32, rng, low=-1, high=1)
    assert_close(F.conv2d(x, wt, padding="same"), ref_conv(xn, wn, 1), atol=tol(ft.float32, 9 * 64), rtol=1e-5)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_count_does_not_change_the_result(threads, rng):
    x, xn = make((5, 64, 18, 14), ft.float64, rng)
    wt, wn = make((64, 64, 3, 3), ft.float64, rng)
    old = ft.get_num_threads()
    try:
        ft.set_num_threads(threads)
        x, wt = x.requires_grad_(), wt.requires_grad_()
        out = F.conv2d(x, wt, padding=1)
        g, gn = make(tuple(out.shape), ft.float64, rng)
        out.backward(g)
    finally:
        ft.set_num_threads(old)
    gx, gw = ref_grads(xn, wn, gn, 1)
    assert_close(out, ref_conv(xn, wn, 1))
    assert_close(x.grad, gx)
    assert_close(wt.grad, gw)


@pytest.mark.parametrize("padding", [0, 1, 2, 3])
def test_conv_transpose_stride_one(padding, rng):
    # padding <= 2 runs as a Winograd forward convolution of the flipped weight; 3 falls back.
    x, xn = make((2, 64, 7, 6), ft.float64, rng)
    wt, wn = make((64, 64, 3, 3), ft.float64, rng)
    x, wt = x.requires_grad_(), wt.requires_grad_()
    out = F.conv_transpose2d(x, wt, padding=padding)
    # conv_transpose(x, w, p) is the input gradient of conv(., w, p) at g = x.
    h, w = 7 + 2 - 2 * padding, 6 + 2 - 2 * padding
    expected, _ = ref_grads(np.zeros((2, 64, h, w)), wn, xn, padding)
    assert_close(out, expected)
    g, gn = make(tuple(out.shape), ft.float64, rng)
    out.backward(g)
    # Its gradients: the input's is conv(g, w, p), the weight's that of conv(g, ., p) at x.
    assert_close(x.grad, ref_conv(gn, wn, padding))
    _, gw = ref_grads(gn, wn, xn, padding)
    assert_close(wt.grad, gw)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_half_dtypes_compute_in_float32(dtype, rng):
    x, xn = make((2, 64, 6, 7), dtype, rng, low=-1, high=1)
    wt, wn = make((64, 64, 3, 3), dtype, rng, low=-1, high=1)
    out = F.conv2d(x, wt, padding=1)
    assert out.dtype == dtype
    # Inputs are rounded to the half dtype; so is the result (sums of 576 products).
    assert_close(out, ref_conv(xn, wn, 1), rtol=2e-2, atol=0.5)


# Small leaves repeated to 64 channels: the convolution takes the Winograd path while
# gradcheck perturbs only a few values; the first two output channels (every leaf reaches
# them) keep the Jacobian small.
def wide(x, w):
    return x.repeat(1, 32, 1, 1), w.repeat(32, 32, 1, 1)


def test_gradcheck_and_gradgradcheck(rng):
    x = leaf((1, 2, 4, 5), rng)
    wt = leaf((2, 2, 3, 3), rng)
    b = leaf((2,), rng)
    fn = lambda x, w, b: F.conv2d(*wide(x, w), b.repeat(32), padding=1)[:, :2]
    assert gradcheck(fn, (x, wt, b))
    assert gradgradcheck(fn, (x, wt, b))


def test_gradcheck_conv_transpose(rng):
    x = leaf((1, 2, 4, 5), rng)
    wt = leaf((2, 2, 3, 3), rng)
    assert gradcheck(lambda x, w: F.conv_transpose2d(*wide(x, w), padding=1)[:, :2], (x, wt))


def test_other_convolutions_still_match(rng):
    # Stride 2, dilation 2 and groups 2 do not take the Winograd path.
    x, xn = make((2, 64, 9, 8), ft.float64, rng)
    wt, wn = make((64, 64, 3, 3), ft.float64, rng)
    full = ref_conv(xn, wn, 1)
    assert_close(F.conv2d(x, wt, padding=1, stride=2), full[:, :, ::2, ::2])
    wg, wgn = make((64, 32, 3, 3), ft.float64, rng)
    grouped = np.concatenate([ref_conv(xn[:, :32], wgn[:32], 1), ref_conv(xn[:, 32:], wgn[32:], 1)], axis=1)
    assert_close(F.conv2d(x, wg, padding=1, groups=2), grouped)
    dil = np.zeros((64, 64, 5, 5))
    dil[:, :, ::2, ::2] = wn
    out = F.conv2d(x, wt, padding=2, dilation=2)
    xp = np.pad(xn, [(0, 0), (0, 0), (2, 2), (2, 2)])
    expected = sum(
        np.einsum("nchw,oc->nohw", xp[:, :, a:a + 9, b:b + 8], dil[:, :, a, b]) for a in range(5) for b in range(5)
    )
    assert_close(out, expected)
