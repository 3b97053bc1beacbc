"""Linear, Bilinear, Identity, Flatten, Unflatten and nn.functional.linear/bilinear."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.nn import functional as F


def test_linear_output_matches_numpy():
    lin = nn.Linear(5, 3)
    x = ft.randn(2, 4, 5)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    np.testing.assert_allclose(lin(x).detach().numpy(), x.numpy() @ w.T + b, rtol=1e-5, atol=1e-6)


def test_linear_without_bias():
    lin = nn.Linear(4, 2, bias=False)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    x = ft.randn(3, 4)
    np.testing.assert_allclose(lin(x).detach().numpy(), x.numpy() @ lin.weight.detach().numpy().T, rtol=1e-5)


def test_linear_shapes_and_dtype_argument():
    lin = nn.Linear(4, 6, dtype=ft.float64)
    assert lin.weight.shape == (6, 4) and lin.bias.shape == (6,)
    assert lin.weight.dtype == ft.float64 and isinstance(lin.weight, nn.Parameter)


def test_linear_default_init_bounds():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-bound, bound) has variance bound^2 / 3.
    assert abs(w.var() - bound**2 / 3) < 0.05 * bound**2 / 3
    assert abs(w.mean()) < 0.01 * bound


def test_linear_gradients_match_closed_form():
    lin = nn.Linear(3, 2, dtype=ft.float64)
    x = ft.randn(5, 3, dtype=ft.float64, requires_grad=True)
    g = np.random.default_rng(0).standard_normal((5, 2))
    lin(x).backward(ft.tensor(g))
    np.testing.assert_allclose(lin.weight.grad.numpy(), g.T @ x.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(0), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), g @ lin.weight.detach().numpy(), rtol=1e-12)


def test_functional_linear_passes_gradcheck():
    rng = np.random.default_rng(1)
    args = [ft.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 4), (2, 4), (2,)]]
    assert ft.autograd.gradcheck(F.linear, args)


def test_functional_bilinear_matches_einsum():
    rng = np.random.default_rng(2)
    x1, x2, w, b = (rng.standard_normal(s) for s in [(6, 3), (6, 4), (5, 3, 4), (5,)])
    out = F.bilinear(ft.tensor(x1), ft.tensor(x2), ft.tensor(w), ft.tensor(b))
    np.testing.assert_allclose(out.numpy(), np.einsum("ni,kij,nj->nk", x1, w, x2) + b, rtol=1e-12)


def test_functional_bilinear_passes_gradcheck():
    rng = np.random.default_rng(3)
    args = [ft.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3), (2, 2), (4, 3, 2), (4,)]]
    assert ft.autograd.gradcheck(F.bilinear, args)


def test_bilinear_module_shapes_and_repr():
    bl = nn.Bilinear(3, 4, 5)
    assert bl.weight.shape == (5, 3, 4) and bl(ft.randn(7, 3), ft.randn(7, 4)).shape == (7, 5)
    assert repr(bl) == "Bilinear(in1_features=3, in2_features=4, out_features=5, bias=True)"
    assert np.abs(bl.weight.detach().numpy()).max() <= 1 / math.sqrt(3)


def test_bilinear_batch_mismatch_raises():
    with pytest.raises(RuntimeError, match="batch dimensions do not match"):
        F.bilinear(ft.randn(2, 3), ft.randn(3, 4), ft.randn(5, 3, 4))


def test_identity_returns_input_itself():
    x = ft.randn(3)
    assert nn.Identity(54, unused="x")(x) is x


def test_flatten_and_unflatten():
    x = ft.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 2))) == "Unflatten(dim=1, unflattened_size=(2, 2))"


def test_unflatten_rejects_non_int_sizes():
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nn.Unflatten(1, (2, 2.0))


def test_linear_repr():
    assert repr(nn.Linear(3, 4, bias=False)) == "Linear(in_features=3, out_features=4, bias=False)"
