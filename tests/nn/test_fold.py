"""F.unfold / F.fold (im2col / col2im) and the Unfold / Fold modules, against float64 NumPy
references written from the definition, with gradcheck and PyTorch's error messages."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck
from conftest import assert_close, leaf, make


def _window(offset, dilation, stride, count):
    """The input positions kernel offset ``offset`` reads for ``count`` blocks."""
    start = offset * dilation
    return slice(start, start + stride * (count - 1) + 1, stride)


def ref_unfold(x, kernel, dilation=1, padding=0, stride=1):
    """(N, C, H, W) -> (N, C * kH * kW, L): row c * kH * kW + k holds channel c at offset k."""
    x = np.asarray(x, np.float64)
    kernel, dilation, padding, stride = ((v, v) if isinstance(v, int) else tuple(v) for v in (kernel, dilation, padding, stride))
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    blocks = [(xp.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2)]
    rows = []
    for k in np.ndindex(*kernel):
        sl = tuple(_window(k[i], dilation[i], stride[i], blocks[i]) for i in range(2))
        rows.append(xp[(slice(None), slice(None)) + sl].reshape(x.shape[0], x.shape[1], -1))
    return np.stack(rows, axis=2).reshape(x.shape[0], -1, blocks[0] * blocks[1])


def ref_fold(cols, output_size, kernel, dilation=1, padding=0, stride=1):
    """The adjoint of ``unfold``: (N, C * kH * kW, L) -> (N, C, *output_size), summing overlaps."""
    cols = np.asarray(cols, np.float64)
    kernel, dilation, padding, stride, output_size = (
        (v, v) if isinstance(v, int) else tuple(v) for v in (kernel, dilation, padding, stride, output_size)
    )
    n, ck, _ = cols.shape
    c = ck // (kernel[0] * kernel[1])
    padded = [output_size[i] + 2 * padding[i] for i in range(2)]
    blocks = [(padded[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2)]
    out = np.zeros((n, c, *padded))
    cols = cols.reshape(n, c, kernel[0] * kernel[1], *blocks)
    for j, k in enumerate(np.ndindex(*kernel)):
        sl = tuple(_window(k[i], dilation[i], stride[i], blocks[i]) for i in range(2))
        out[(slice(None), slice(None)) + sl] += cols[:, :, j]
    return out[:, :, padding[0]:padded[0] - padding[0], padding[1]:padded[1] - padding[1]]


# (input spatial size, kernel, dilation, padding, stride)
CASES = [
    ((4, 5), 2, 1, 0, 1),
    ((6, 7), (3, 2), (1, 2), (1, 0), (2, 1)),
    ((5, 5), 3, 2, 2, 3),
    ((3, 3), 1, 1, 0, 1),
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_unfold_matches_reference(case, dtype, rng):
    size, k, d, p, s = case
    x, xa = make((2, 3, *size), dtype, rng)
    assert_close(F.unfold(x, k, d, p, s), ref_unfold(xa, k, d, p, s), dtype)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fold_matches_reference(case, rng):
    size, k, d, p, s = case
    cols_shape = ref_unfold(np.zeros((2, 3, *size)), k, d, p, s).shape
    c, ca = make(cols_shape, ft.float64, rng)
    assert_close(F.fold(c, size, k, d, p, s), ref_fold(ca, size, k, d, p, s), ft.float64)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_non_contiguous_inputs(layout, rng):
    x, xa = make((2, 3, 5, 6), ft.float64, rng, layout)
    assert_close(F.unfold(x, (2, 3), padding=1, stride=2), ref_unfold(xa, (2, 3), padding=1, stride=2), ft.float64)
    c, ca = make((2, 12, 24), ft.float64, rng, layout)
    assert_close(F.fold(c, (5, 6), 2, stride=(1, 2), padding=1), ref_fold(ca, (5, 6), 2, stride=(1, 2), padding=1), ft.float64)


def test_unbatched(rng):
    x, xa = make((3, 4, 4), ft.float64, rng)
    cols = F.unfold(x, 2)
    assert_close(cols, ref_unfold(xa[None], 2)[0], ft.float64)
    assert_close(F.fold(cols, (4, 4), 2), ref_fold(ref_unfold(xa[None], 2), (4, 4), 2)[0], ft.float64)


def test_empty_batch():
    assert F.unfold(ft.zeros(0, 3, 8, 8), 2).shape == (0, 12, 49)
    assert F.fold(ft.zeros(0, 12, 9), (4, 4), 2).shape == (0, 3, 4, 4)


def test_half_dtypes(rng):
    x, xa = make((1, 2, 4, 4), ft.bfloat16, rng)
    assert_close(F.unfold(x, 2), ref_unfold(xa, 2), ft.bfloat16)
    c, ca = make((1, 8, 9), ft.float16, rng, low=-1, high=1)
    assert_close(F.fold(c, (4, 4), 2), ref_fold(ca.astype(np.float64), (4, 4), 2), ft.float16, rtol=1e-2, atol=1e-2)


def test_gradient_nodes_are_named_like_pytorch(rng):
    x = leaf((1, 2, 4, 4), rng)
    assert F.unfold(x, 2).grad_fn.name() == "Im2ColBackward0"
    assert F.fold(leaf((1, 8, 9), rng), (4, 4), 2).grad_fn.name() == "Col2ImBackward0"


def test_unfold_gradcheck(rng):
    x = leaf((2, 2, 4, 5), rng, "transposed")
    assert gradcheck(lambda x: F.unfold(x, (2, 3), (1, 1), 1, (2, 1)), (x,))
    assert gradgradcheck(lambda x: F.unfold(x, 2, 1, 1, 1) ** 2, (x,))


def test_fold_gradcheck(rng):
    c = leaf((1, 8, 10), rng)
    assert gradcheck(lambda c: F.fold(c, (4, 5), 2, padding=(1, 0), stride=(1, 2)), (c,))
    assert gradgradcheck(lambda c: F.fold(c, (4, 5), 2, padding=(1, 0), stride=(1, 2)) ** 2, (c,))


ERRORS = [
    (lambda: F.unfold(ft.randn(1, 3, 8, 8, 8), 2),
     r"Expected 3D or 4D \(batch mode\) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: \[1, 3, 8, 8, 8\]"),
    (lambda: F.unfold(ft.randn(1, 0, 8, 8), 2), r"but got: \[1, 0, 8, 8\]"),
    (lambda: F.unfold(ft.randn(1, 3, 2, 2), 3),
     r"Given input with spatial size \(2, 2\), kernel_size=\(3, 3\), dilation=\(1, 1\), padding=\(0, 0\), calculated shape of the array of sliding blocks as \(0, 0\), but its components must be at least one."),
    (lambda: F.unfold(ft.randn(1, 3, 8, 8), (2, 2, 2)), "It is expected kernel_size equals to 2, but got size 3"),
    (lambda: F.unfold(ft.randn(1, 3, 8, 8), 0), "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0"),
    (lambda: F.unfold(ft.randn(1, 3, 8, 8), 2, dilation=0), "dilation should be greater than zero, but got dilation_height: 0"),
    (lambda: F.unfold(ft.randn(1, 3, 8, 8), 2, padding=-1), "padding should be non-negative, but got pad_height: -1 pad_width: -1"),
    (lambda: F.unfold(ft.randn(1, 3, 8, 8), 2, stride=0), "stride should be greater than zero, but got stride_height: 0"),
    (lambda: F.fold(ft.randn(1, 12, 10), (4, 4), 2),
     r"Given output_size=\(4, 4\), kernel_size=\(2, 2\), dilation=\(1, 1\), padding=\(0, 0\), stride=\(1, 1\), expected size of input's dimension 2 to match the calculated number of sliding blocks 3 \* 3 = 9, but got input.size\(2\)=10."),
    (lambda: F.fold(ft.randn(1, 13, 9), (4, 4), 2),
     r"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size\(1\)=13 and kernel_size=\(2, 2\)."),
    (lambda: F.fold(ft.randn(1, 1, 12, 9), (4, 4), 2),
     r"Expected 2D or 3D \(batch mode\) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: \[1, 1, 12, 9\]"),
    (lambda: F.fold(ft.randn(1, 12, 9), (4, 4, 4), 2), "It is expected output_size equals to 2, but got size 3"),
    (lambda: F.fold(ft.randn(1, 12, 9), (1, 1), 2), r"calculated number of sliding blocks 0 \* 0 = 0, but got input.size\(2\)=9"),
]


@pytest.mark.parametrize("fn,message", ERRORS, ids=range(len(ERRORS)))
def test_bad_arguments_raise_runtime_error(fn, message):
    with pytest.raises(RuntimeError, match=message):
        fn()


def test_integer_input_is_not_implemented():
    with pytest.raises(NotImplementedError, match="\"im2col_out_cpu\" not implemented for 'Long'"):
        F.unfold(ft.ones(1, 1, 3, 3, dtype=ft.int64), 2)


def test_module_reprs():
    assert repr(nn.Fold((4, 5), 2)) == "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)"
    assert repr(nn.Unfold(3, padding=1)) == "Unfold(kernel_size=3, dilation=1, padding=1, stride=1)"
    assert list(nn.Fold(4, 2).state_dict()) == []


def test_modules_are_the_functions(rng):
    x, xa = make((2, 3, 6, 6), ft.float64, rng)
    cols = nn.Unfold(2, stride=2)(x)
    assert_close(cols, ref_unfold(xa, 2, stride=2), ft.float64)
    # Non-overlapping blocks: folding undoes unfolding.
    assert_close(nn.Fold((6, 6), 2, stride=2)(cols), xa, ft.float64)
