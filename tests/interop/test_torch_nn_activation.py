"""PyTorch's activations as the reference, where PyTorch is installed (skipped otherwise):
the same outputs, gradients, node names and in-place behaviour for every function."""

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")

# name: call written once for either library (L is ferrotorch or torch).
CALLS = {
    "relu": lambda L, t: L.nn.functional.relu(t),
    "relu6": lambda L, t: L.nn.functional.relu6(t),
    "leaky_relu": lambda L, t: L.nn.functional.leaky_relu(t, 0.1),
    "elu": lambda L, t: L.nn.functional.elu(t, 0.8),
    "selu": lambda L, t: L.nn.functional.selu(t),
    "celu": lambda L, t: L.nn.functional.celu(t, 0.6),
    "gelu": lambda L, t: L.nn.functional.gelu(t),
    "gelu_tanh": lambda L, t: L.nn.functional.gelu(t, approximate="tanh"),
    "silu": lambda L, t: L.nn.functional.silu(t),
    "mish": lambda L, t: L.nn.functional.mish(t),
    "softplus": lambda L, t: L.nn.functional.softplus(t, 1.5, 2.0),
    "softsign": lambda L, t: L.nn.functional.softsign(t),
    "hardtanh": lambda L, t: L.nn.functional.hardtanh(t, -0.7, 0.9),
    "hardsigmoid": lambda L, t: L.nn.functional.hardsigmoid(t),
    "hardswish": lambda L, t: L.nn.functional.hardswish(t),
    "prelu": lambda L, t: L.nn.functional.prelu(t, L.tensor([0.1, 0.2, 0.3], dtype=t.dtype)),
    "rrelu_eval": lambda L, t: L.nn.functional.rrelu(t, 0.1, 0.4),
    "glu": lambda L, t: L.nn.functional.glu(t, 0),
    "logsigmoid": lambda L, t: L.nn.functional.logsigmoid(t),
    "tanhshrink": lambda L, t: L.nn.functional.tanhshrink(t),
    "softshrink": lambda L, t: L.nn.functional.softshrink(t, 0.4),
    "hardshrink": lambda L, t: L.nn.functional.hardshrink(t, 0.4),
    "threshold": lambda L, t: L.nn.functional.threshold(t, 0.2, -1.0),
    "sigmoid": lambda L, t: L.nn.functional.sigmoid(t),
    "tanh": lambda L, t: L.nn.functional.tanh(t),
    "softmax": lambda L, t: L.nn.functional.softmax(t, 1),
    "softmin": lambda L, t: L.nn.functional.softmin(t, 0),
    "log_softmax": lambda L, t: L.nn.functional.log_softmax(t, -1),
    "softmax_implicit": lambda L, t: L.nn.functional.softmax(t),
}

INPLACE = {
    "relu": lambda L, t: L.nn.functional.relu(t, inplace=True),
    "relu6": lambda L, t: L.nn.functional.relu6(t, inplace=True),
    "leaky_relu": lambda L, t: L.nn.functional.leaky_relu(t, 0.1, inplace=True),
    "elu": lambda L, t: L.nn.functional.elu(t, 0.8, inplace=True),
    "selu": lambda L, t: L.nn.functional.selu(t, inplace=True),
    "celu": lambda L, t: L.nn.functional.celu(t, 0.6, inplace=True),
    "silu": lambda L, t: L.nn.functional.silu(t, inplace=True),
    "mish": lambda L, t: L.nn.functional.mish(t, inplace=True),
    "hardtanh": lambda L, t: L.nn.functional.hardtanh(t, -0.7, 0.9, inplace=True),
    "hardsigmoid": lambda L, t: L.nn.functional.hardsigmoid(t, inplace=True),
    "hardswish": lambda L, t: L.nn.functional.hardswish(t, inplace=True),
    "threshold": lambda L, t: L.nn.functional.threshold(t, 0.2, -1.0, inplace=True),
    "rrelu_eval": lambda L, t: L.nn.functional.rrelu(t, 0.1, 0.4, inplace=True),
}


# PyTorch's float64 backward of these rounds a constant through float32 (celu's
# `1.0 / alpha.toFloat()`, hardsigmoid's `1.0f / 6.0f`); ours keeps float64.
FLOAT32_CONSTANTS_IN_BACKWARD = {"celu", "hardsigmoid"}


def _inputs(rng, shape=(4, 3, 5)):
    x = rng.uniform(-4, 4, size=shape)
    x.flat[:6] = [0.0, 0.2, -0.7, 0.9, 0.4, -0.4]  # kinks of the calls above
    return x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_outputs_and_gradients_match_torch(name, dtype):
    rng = np.random.default_rng(0)
    x = _inputs(rng)
    w = rng.normal(size=x.shape)
    results = []
    for L in (ft, torch):
        t = L.tensor(x, dtype=getattr(L, dtype), requires_grad=True)
        y = CALLS[name](L, t)
        gw = L.tensor(w[tuple(slice(0, s) for s in y.shape)], dtype=getattr(L, dtype))
        (g,) = L.autograd.grad((y * gw).sum(), t)
        results.append((y.detach().numpy(), g.numpy(), y.grad_fn.name()))
    (ours, our_grad, our_node), (ref, ref_grad, ref_node) = results
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours, ref, **tol)
    if name in FLOAT32_CONSTANTS_IN_BACKWARD and dtype == "float64":
        tol = dict(rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(our_grad, ref_grad, **tol)
    if name not in ("softsign", "tanhshrink", "softmin"):  # composites in PyTorch
        assert our_node == ref_node


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_matches_torch(name):
    rng = np.random.default_rng(1)
    x = _inputs(rng)
    results = []
    for L in (ft, torch):
        leaf = L.tensor(x, requires_grad=True)
        t = leaf * 1.0
        out = INPLACE[name](L, t)
        assert out is t
        (g,) = L.autograd.grad(out.sum(), leaf)
        results.append((out.detach().numpy(), g.numpy(), out.grad_fn.name()))
    (ours, our_grad, our_node), (ref, ref_grad, ref_node) = results
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(our_grad, ref_grad, rtol=1e-5, atol=1e-6)
    assert our_node == ref_node


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "mish", "elu", "celu", "softplus", "logsigmoid", "hardswish", "glu"])
def test_second_derivatives_match_torch(name):
    x = _inputs(np.random.default_rng(2))
    results = []
    for L in (ft, torch):
        t = L.tensor(x, dtype=L.float64, requires_grad=True)
        (g,) = L.autograd.grad(CALLS[name](L, t).sum(), t, create_graph=True)
        (gg,) = L.autograd.grad((g * g).sum(), t)
        results.append(gg.numpy())
    tol = 1e-6 if name in FLOAT32_CONSTANTS_IN_BACKWARD else 1e-10
    np.testing.assert_allclose(results[0], results[1], rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["relu", "gelu", "silu", "softplus", "hardswish", "elu", "mish"])
def test_half_precision_matches_torch(name, dtype):
    x = _inputs(np.random.default_rng(3))
    ours = CALLS[name](ft, ft.tensor(x, dtype=getattr(ft, dtype))).float().numpy()
    ref = CALLS[name](torch, torch.tensor(x, dtype=getattr(torch, dtype))).float().numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "threshold"])
def test_integer_inputs_match_torch(name):
    x = np.array([-3, -1, 0, 1, 2, 7])
    ours = CALLS[name](ft, ft.tensor(x)).numpy()
    ref = CALLS[name](torch, torch.tensor(x)).numpy()
    np.testing.assert_array_equal(ours, ref)
    assert ours.dtype == ref.dtype


def test_prelu_weight_gradient_matches_torch():
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 3, 4)), rng.uniform(0, 1, size=3)
    grads = []
    for L in (ft, torch):
        weight = L.tensor(w, requires_grad=True)
        L.nn.functional.prelu(L.tensor(x), weight).sum().backward()
        grads.append(weight.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_module_reprs_and_state_dicts_match_torch():
    builds = [
        lambda nn: nn.PReLU(4, init=0.3), lambda nn: nn.RReLU(0.2, 0.5, True), lambda nn: nn.Hardtanh(-3, 3, True),
        lambda nn: nn.ReLU6(), lambda nn: nn.CELU(2.0, True), lambda nn: nn.Softplus(0.5), lambda nn: nn.Threshold(1, 2),
        lambda nn: nn.Softshrink(), lambda nn: nn.GELU("tanh"), lambda nn: nn.Softmax(-1), lambda nn: nn.Hardswish(True),
    ]
    for build in builds:
        ours, ref = build(ft.nn), build(torch.nn)
        assert repr(ours) == repr(ref)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {k: tuple(v.shape) for k, v in ref.state_dict().items()}
