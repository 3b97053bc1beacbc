"""The fused LSTM cell (`_C._lstm_cell`): the element-wise half of an LSTM step in one kernel,
against NumPy, through gradcheck (fused backward) and gradgradcheck (recorded backward)."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import _C
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import FLOAT_DTYPES, assert_close, leaf, make


def reference(gates, c):
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = np.split(gates.astype(np.float64), 4, axis=1)
    cy = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(cy), cy


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_values_match_numpy(dtype, layout, rng):
    gates, g = make((5, 12), dtype, rng, layout, -3, 3)
    c, cn = make((5, 3), dtype, rng, layout, -2, 2)
    h, cy = _C._lstm_cell(gates, c)
    h_ref, cy_ref = reference(g, cn)
    assert_close(h, h_ref, dtype=dtype)
    assert_close(cy, cy_ref, dtype=dtype)


def test_empty_batch_and_nan():
    h, cy = _C._lstm_cell(ft.zeros(0, 8), ft.zeros(0, 2))
    assert tuple(h.shape) == (0, 2) and tuple(cy.shape) == (0, 2)
    h, cy = _C._lstm_cell(ft.full((1, 4), float("nan")), ft.zeros(1, 1))
    assert np.isnan(h.numpy()).all() and np.isnan(cy.numpy()).all()


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_gradcheck_fused_backward(layout, rng):
    gates, c = leaf((3, 8), rng, layout), leaf((3, 2), rng, layout)
    assert gradcheck(lambda g, c: _C._lstm_cell(g, c), (gates, c))


def test_gradgradcheck_recorded_backward(rng):
    gates, c = leaf((2, 8), rng), leaf((2, 2), rng)
    assert gradgradcheck(lambda g, c: _C._lstm_cell(g, c), (gates, c))


def test_gradient_of_one_output_only(rng):
    gates, c = leaf((2, 8), rng), leaf((2, 2), rng)
    assert gradcheck(lambda g, c: _C._lstm_cell(g, c)[1], (gates, c))


def test_node_name(rng):
    h, _ = _C._lstm_cell(leaf((1, 4), rng), leaf((1, 1), rng))
    assert h.grad_fn.name() == "ThnnFusedLstmCellBackward0"


def test_bad_shapes_raise():
    with pytest.raises(RuntimeError, match=r"gates of shape \[B, 4 \* H\].*\[2, 7\].*\[2, 2\]"):
        _C._lstm_cell(ft.zeros(2, 7), ft.zeros(2, 2))
    with pytest.raises(RuntimeError, match="floating-point"):
        _C._lstm_cell(ft.zeros(2, 8, dtype=ft.int64), ft.zeros(2, 2, dtype=ft.int64))
