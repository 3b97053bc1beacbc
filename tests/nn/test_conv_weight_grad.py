"""The im2col weight gradient of convolution, which accumulates either `a @ cols^T` or its
transpose `cols @ a^T` (few gradient channels, many window rows: up to 128 channels per group
with at least twice as many rows), against a float64 NumPy reference built from sliding
windows. Shapes select each order, with groups, dilation, strides, batches split across
threads and several samples per product; the transposed convolution's weight gradient takes
the same path with the roles of input and output gradient swapped."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck
from conftest import assert_close, leaf, make

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def ref_weight_grad(x, g, kernel, stride, padding, dilation, groups):
    """d/dw sum(g * conv(x, w)): per group, the output gradient `g` times `x`'s windows,
    summed over batch and positions (positions past `g`'s size are not used)."""
    x, g = np.asarray(x, np.float64), np.asarray(g, np.float64)
    d = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    extent = [dl * (k - 1) + 1 for k, dl in zip(kernel, dilation)]
    win = np.lib.stride_tricks.sliding_window_view(xp, extent, axis=tuple(range(2, 2 + d)))
    win = win[(slice(None), slice(None))
              + tuple(slice(0, s * (n - 1) + 1, s) for s, n in zip(stride, g.shape[2:]))
              + tuple(slice(None, None, dl) for dl in dilation)]
    n, c, o = x.shape[0], x.shape[1], g.shape[1]
    cg, og = c // groups, o // groups
    win = win.reshape(n, c, -1, int(np.prod(kernel)))
    gf = g.reshape(n, o, -1)
    blocks = [np.einsum("nop,ncpk->ock", gf[:, i * og:(i + 1) * og], win[:, i * cg:(i + 1) * cg]) for i in range(groups)]
    return np.concatenate(blocks).reshape(o, cg, *kernel)


def tup(v, d):
    return (v,) * d if isinstance(v, int) else tuple(v)


# (input size, kernel, stride, padding, dilation, groups, in channels, out channels, batch):
# `ca` = out channels per group, `depth` = in channels per group x kernel elements.
CASES = [
    ((9, 8), (3, 3), 2, 1, 1, 1, 4, 3, 2),            # ca 3, depth 36: transposed order
    ((8, 9), (3, 2), 1, (1, 0), (2, 1), 2, 4, 4, 2),  # two groups, dilation: transposed order
    ((6, 5), (1, 1), 1, 0, 1, 1, 2, 5, 3),            # depth 2 < 2 * ca: direct order
    ((12,), (2,), 1, 0, 1, 1, 128, 128, 1),           # ca 128, depth 256: transposed order (edge)
    ((7,), (3,), 1, 1, 1, 1, 50, 129, 2),             # ca 129: direct order
    ((20, 20), (3, 3), 2, 1, 1, 1, 8, 16, 5),         # batch split across threads, 3 samples per product
    ((4, 5, 4), (2, 3, 2), (1, 2, 1), 1, 1, 2, 4, 2, 2),  # 3-d, groups
]
IDS = [f"{len(c[0])}d-k{c[1]}-g{c[5]}-ci{c[6]}-co{c[7]}" for c in CASES]


@pytest.fixture(params=[1, 3], ids=["1thread", "3threads"])
def threads(request):
    before = ft.get_num_threads()
    ft.set_num_threads(request.param)
    yield request.param
    ft.set_num_threads(before)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_weight_gradient_matches_reference(case, dtype, threads, rng):
    size, kernel, stride, padding, dilation, groups, cin, cout, n = case
    d = len(size)
    x, xa = make((n, cin, *size), dtype, rng, low=-1, high=1)
    w, _ = make((cout, cin // groups, *kernel), dtype, rng, low=-1, high=1)
    w.requires_grad_()
    out = CONV[d](x, w, None, stride, padding, dilation, groups)
    g, ga = make(tuple(out.shape), dtype, rng, low=-1, high=1)
    out.backward(g)
    expected = ref_weight_grad(xa, ga, kernel, tup(stride, d), tup(padding, d), tup(dilation, d), groups)
    terms = n * int(np.prod(out.shape[2:]))
    assert_close(w.grad, expected, dtype, rtol=1e-5, atol=1e-6 * terms if dtype == ft.float32 else 1e-12 * terms)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_weight_gradient_reads_non_contiguous_operands(layout, rng):
    x, xa = make((3, 6, 7, 9), ft.float64, rng, layout)
    w = leaf((8, 6, 3, 3), rng, layout)
    out = F.conv2d(x, w, None, 2, 1)
    g, ga = make(tuple(out.shape), ft.float64, rng, layout)
    out.backward(g)
    assert_close(w.grad, ref_weight_grad(xa, ga, (3, 3), (2, 2), (1, 1), (1, 1), 1), ft.float64)


def test_weight_gradient_of_a_sum_reads_the_expanded_gradient(rng):
    # sum() sends back an expanded gradient of ones (stride 0 everywhere).
    x, xa = make((2, 5, 8, 8), ft.float64, rng)
    w = leaf((4, 5, 3, 3), rng)
    out = F.conv2d(x, w, None, 1, 1, 2)
    out.sum().backward()
    ones = np.ones(tuple(out.shape))
    assert_close(w.grad, ref_weight_grad(xa, ones, (3, 3), (1, 1), (1, 1), (2, 2), 1), ft.float64)


@pytest.mark.parametrize("groups,cin,cout", [(1, 3, 5), (2, 4, 6), (1, 40, 2)])
def test_transposed_convolution_weight_gradient(groups, cin, cout, rng):
    # conv_transpose(x, w) is the adjoint of conv(., w): its weight gradient is conv's, with
    # the output gradient as the input and x as the output gradient (ca = cin / groups).
    x, xa = make((2, cin, 4, 5), ft.float64, rng)
    w = leaf((cin, cout // groups, 3, 3), rng)
    out = F.conv_transpose2d(x, w, None, 2, 1, 1, groups)
    g, ga = make(tuple(out.shape), ft.float64, rng)
    out.backward(g)
    assert_close(w.grad, ref_weight_grad(ga, xa, (3, 3), (2, 2), (1, 1), (1, 1), groups), ft.float64)


@pytest.mark.parametrize("cin,cout,groups", [(4, 2, 1), (1, 6, 1), (4, 4, 2)], ids=["transposed-order", "direct-order", "groups"])
def test_weight_gradient_gradcheck(cin, cout, groups, rng):
    x = leaf((2, cin, 5, 4), rng, "transposed")
    w = leaf((cout, cin // groups, 3, 2), rng)
    assert gradcheck(lambda x, w: F.conv2d(x, w, None, (2, 1), 1, 1, groups), (x, w))
