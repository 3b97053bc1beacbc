"""The fused GRU cell (`_C._gru_cell`): the element-wise half of a GRU step in one kernel,
against NumPy, through gradcheck (fused backward) and gradgradcheck (recorded backward)."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import _C
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import FLOAT_DTYPES, assert_close, leaf, make


def reference(gi, gh, h):
    """PyTorch's GRU update: r, z = sigmoid(gi + gh), n = tanh(gi_n + r * gh_n)."""
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    (ir, iz, i_n), (hr, hz, hn) = np.split(gi.astype(np.float64), 3, axis=1), np.split(gh.astype(np.float64), 3, axis=1)
    r, z = sig(ir + hr), sig(iz + hz)
    n = np.tanh(i_n + r * hn)
    return (1 - z) * n + z * h


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided", "broadcast"])
def test_values_match_numpy(dtype, layout, rng):
    gi, a = make((5, 9), dtype, rng, layout, -3, 3)
    gh, b = make((5, 9), dtype, rng, "contiguous", -3, 3)
    h, hn = make((5, 3), dtype, rng, layout, -2, 2)
    assert_close(_C._gru_cell(gi, gh, h), reference(a, b, hn), dtype=dtype)


def test_empty_batch_nan_and_inf():
    assert tuple(_C._gru_cell(ft.zeros(0, 6), ft.zeros(0, 6), ft.zeros(0, 2)).shape) == (0, 2)
    out = _C._gru_cell(ft.full((1, 3), float("nan")), ft.zeros(1, 3), ft.zeros(1, 1))
    assert np.isnan(out.numpy()).all()
    # Saturated gates: z = 1 keeps the old state, z = 0 takes n.
    inf = float("inf")
    keep = _C._gru_cell(ft.tensor([[0.0, inf, 0.5]]), ft.zeros(1, 3), ft.tensor([[0.25]]))
    take = _C._gru_cell(ft.tensor([[0.0, -inf, 0.5]]), ft.zeros(1, 3), ft.tensor([[0.25]]))
    np.testing.assert_allclose(keep.numpy(), [[0.25]])
    np.testing.assert_allclose(take.numpy(), [[np.tanh(0.5)]], rtol=1e-6)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_gradcheck_fused_backward(layout, rng):
    gi, gh, h = leaf((3, 6), rng, layout), leaf((3, 6), rng), leaf((3, 2), rng, layout)
    assert gradcheck(lambda a, b, h: _C._gru_cell(a, b, h), (gi, gh, h))


def test_gradgradcheck_recorded_backward(rng):
    gi, gh, h = leaf((2, 6), rng), leaf((2, 6), rng), leaf((2, 2), rng)
    assert gradgradcheck(lambda a, b, h: _C._gru_cell(a, b, h), (gi, gh, h))


def test_gradient_of_some_inputs_only(rng):
    gi, h = leaf((2, 6), rng), leaf((2, 2), rng)
    gh = ft.tensor(rng.standard_normal((2, 6)))
    assert gradcheck(lambda a, h: _C._gru_cell(a, gh, h), (gi, h))


def test_node_name_and_module_parity(rng):
    assert _C._gru_cell(leaf((1, 3), rng), leaf((1, 3), rng), leaf((1, 1), rng)).grad_fn.name() == "ThnnFusedGruCellBackward0"
    # GRUCell through the fused kernel equals the update written out in NumPy.
    cell = ft.nn.GRUCell(4, 3).double()
    x, h = ft.tensor(rng.standard_normal((2, 4))), ft.tensor(rng.standard_normal((2, 3)))
    gi = x.numpy() @ cell.weight_ih.detach().numpy().T + cell.bias_ih.detach().numpy()
    gh = h.numpy() @ cell.weight_hh.detach().numpy().T + cell.bias_hh.detach().numpy()
    np.testing.assert_allclose(cell(x, h).detach().numpy(), reference(gi, gh, h.numpy()), rtol=1e-12, atol=1e-12)


def test_bad_shapes_raise():
    with pytest.raises(RuntimeError, match=r"gates of shape \[B, 3 \* H\].*\[2, 7\]"):
        _C._gru_cell(ft.zeros(2, 7), ft.zeros(2, 6), ft.zeros(2, 2))
    with pytest.raises(RuntimeError, match="floating-point"):
        _C._gru_cell(ft.zeros(2, 6, dtype=ft.int64), ft.zeros(2, 6, dtype=ft.int64), ft.zeros(2, 2, dtype=ft.int64))
