"""Activations (``nn.functional`` and modules) against float64 NumPy formulas: every float
dtype, non-contiguous layouts, empty and 0-d inputs, NaN/inf, the boundary conventions,
integer inputs, in-place variants, gradcheck and gradgradcheck."""

import math

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import FLOAT_DTYPES, assert_close, leaf, make, to_numpy

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _elu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


# name: (ferrotorch call, float64 NumPy reference, integer rule, input range for gradcheck).
# Integer rules: "keep" (integer result), "promote" (float result), else the kernel name
# PyTorch's NotImplementedError quotes.
SPECS = {
    "relu": (F.relu, lambda x: np.where(x <= 0, 0.0, x), "keep", (-2, 2)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6), "keep", (-2, 8)),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), "leaky_relu_cpu", (-2, 2)),
    "elu": (lambda t: F.elu(t, 0.7), lambda x: _elu(x, 0.7), "elu_cpu", (-2, 2)),
    "selu": (F.selu, lambda x: SELU_SCALE * _elu(x, SELU_ALPHA), "elu_cpu", (-2, 2)),
    "celu": (lambda t: F.celu(t, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(np.minimum(x, 0) / 1.5)), "elu_cpu", (-2, 2)),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), "GeluKernelImpl", (-3, 3)),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))), "GeluKernelImpl", (-3, 3)),
    "silu": (F.silu, lambda x: x * _sigmoid(x), "silu_cpu", (-3, 3)),
    "mish": (F.mish, lambda x: x * np.tanh(np.logaddexp(0, x)), "mish_cpu", (-3, 3)),
    "softplus": (lambda t: F.softplus(t, 2.0, 3.0),
                 lambda x: np.where(2 * x > 3, x, np.logaddexp(0, 2 * x) / 2), "softplus_cpu", (-3, 3)),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x)), "promote", (-3, 3)),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 1.5), lambda x: np.clip(x, -0.5, 1.5), "keep", (-2, 2)),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), "hardsigmoid_cpu", (-5, 5)),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, "hardswish_cpu", (-5, 5)),
    "logsigmoid": (F.logsigmoid, lambda x: -np.logaddexp(0, -x), "log_sigmoid_cpu", (-3, 3)),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x), "promote", (-3, 3)),
    "softshrink": (lambda t: F.softshrink(t, 0.7),
                   lambda x: np.where(x > 0.7, x - 0.7, np.where(x < -0.7, x + 0.7, x * 0)), "softshrink_check", (-2, 2)),
    "hardshrink": (lambda t: F.hardshrink(t, 0.7), lambda x: np.where((x >= -0.7) & (x <= 0.7), 0.0, x), "hardshrink_cpu", (-2, 2)),
    "threshold": (lambda t: F.threshold(t, 0.3, -2.0), lambda x: np.where(x <= 0.3, -2.0, x), "keep", (-2, 2)),
    "sigmoid": (F.sigmoid, _sigmoid, "promote", (-3, 3)),
    "tanh": (F.tanh, np.tanh, "promote", (-3, 3)),
}

# The in-place forms: (in-place call, out-of-place equivalent, node name PyTorch records).
INPLACE = {
    "relu": (lambda t: F.relu(t, inplace=True), "relu", "ReluBackward0"),
    "relu_": (F.relu_, "relu", "ReluBackward0"),
    "tensor_relu_": (lambda t: t.relu_(), "relu", "ReluBackward0"),
    "relu6": (lambda t: F.relu6(t, inplace=True), "relu6", "HardtanhBackward0"),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2, inplace=True), "leaky_relu", "LeakyReluBackward1"),
    "leaky_relu_": (lambda t: F.leaky_relu_(t, 0.2), "leaky_relu", "LeakyReluBackward1"),
    "elu": (lambda t: F.elu(t, 0.7, inplace=True), "elu", "EluBackward1"),
    "elu_": (lambda t: F.elu_(t, 0.7), "elu", "EluBackward1"),
    "selu": (lambda t: F.selu(t, inplace=True), "selu", "EluBackward1"),
    "selu_": (F.selu_, "selu", "EluBackward1"),
    "celu": (lambda t: F.celu(t, 1.5, inplace=True), "celu", "CeluBackward1"),
    "celu_": (lambda t: F.celu_(t, 1.5), "celu", "CeluBackward1"),
    "silu": (lambda t: F.silu(t, inplace=True), "silu", "SiluBackward0"),
    "mish": (lambda t: F.mish(t, inplace=True), "mish", "MishBackward0"),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 1.5, inplace=True), "hardtanh", "HardtanhBackward0"),
    "hardtanh_": (lambda t: F.hardtanh_(t, -0.5, 1.5), "hardtanh", "HardtanhBackward0"),
    "hardsigmoid": (lambda t: F.hardsigmoid(t, inplace=True), "hardsigmoid", "HardsigmoidBackward0"),
    "hardswish": (lambda t: F.hardswish(t, inplace=True), "hardswish", "HardswishBackward0"),
    "threshold": (lambda t: F.threshold(t, 0.3, -2.0, inplace=True), "threshold", "ThresholdBackward1"),
    "threshold_": (lambda t: F.threshold_(t, 0.3, -2.0), "threshold", "ThresholdBackward1"),
}

NODES = {
    "relu": "ReluBackward0", "relu6": "HardtanhBackward0", "leaky_relu": "LeakyReluBackward0",
    "elu": "EluBackward0", "selu": "EluBackward0", "celu": "CeluBackward0", "gelu": "GeluBackward0",
    "gelu_tanh": "GeluBackward0", "silu": "SiluBackward0", "mish": "MishBackward0",
    "softplus": "SoftplusBackward0", "hardtanh": "HardtanhBackward0", "hardsigmoid": "HardsigmoidBackward0",
    "hardswish": "HardswishBackward0", "logsigmoid": "LogSigmoidBackward0", "softshrink": "SoftshrinkBackward0",
    "hardshrink": "HardshrinkBackward0", "threshold": "ThresholdBackward0", "sigmoid": "SigmoidBackward0",
    "tanh": "TanhBackward0",
}

LOOSE = {ft.float16: (2e-3, 2e-3), ft.bfloat16: (2e-2, 2e-2), ft.float32: (1e-5, 1e-6), ft.float64: (1e-12, 1e-12)}


def _check(spec, t, arr, dtype):
    fn, ref = SPECS[spec][:2]
    rtol, atol = LOOSE[dtype]
    expected = ref(np.asarray(arr, dtype=np.float64))
    assert_close(fn(t), expected, dtype=dtype, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("spec", sorted(SPECS))
def test_values_match_numpy_in_every_float_dtype(spec, dtype, rng):
    t, arr = make((3, 5), dtype, rng, low=-6, high=6)
    _check(spec, t, arr, dtype)


@pytest.mark.parametrize("layout", ["transposed", "strided", "broadcast"])
@pytest.mark.parametrize("spec", sorted(SPECS))
def test_values_on_non_contiguous_layouts(spec, layout, rng):
    t, arr = make((4, 3, 2), ft.float32, rng, layout, low=-6, high=6)
    _check(spec, t, arr, ft.float32)


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_empty_and_zero_dim_inputs(spec, rng):
    fn = SPECS[spec][0]
    assert tuple(fn(ft.zeros(0, 3)).shape) == (0, 3)
    t, arr = make((), ft.float64, rng)
    _check(spec, t, arr, ft.float64)


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_nan_propagates_and_infinities_follow_the_formula(spec):
    values = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 50.0, -50.0])
    with np.errstate(all="ignore"):
        _check(spec, ft.tensor(values), values, ft.float64)
    assert bool(SPECS[spec][0](ft.tensor([float("nan")])).isnan().all())


# Points exactly on a kink: the value and which side's slope PyTorch's backward takes.
BOUNDARIES = [
    ("relu", F.relu, [0.0], [0.0], [0.0]),
    ("leaky_relu", lambda t: F.leaky_relu(t, 0.2), [0.0], [0.0], [0.2]),
    ("hardtanh", lambda t: F.hardtanh(t, -0.5, 1.5), [-0.5, 1.5], [-0.5, 1.5], [0.0, 0.0]),
    ("threshold", lambda t: F.threshold(t, 0.3, -2.0), [0.3], [-2.0], [0.0]),
    ("hardshrink", lambda t: F.hardshrink(t, 0.5), [-0.5, 0.5], [0.0, 0.0], [0.0, 0.0]),
    ("softshrink", lambda t: F.softshrink(t, 0.5), [-0.5, 0.5], [0.0, 0.0], [0.0, 0.0]),
    ("hardsigmoid", F.hardsigmoid, [-3.0, 3.0], [0.0, 1.0], [0.0, 0.0]),
    ("hardswish", F.hardswish, [-3.0, 3.0], [0.0, 3.0], [-0.5, 1.5]),
    ("elu", F.elu, [0.0], [0.0], [1.0]),
    ("softplus", lambda t: F.softplus(t, 1.0, 2.0), [2.0], [math.log1p(math.exp(2.0))], [1 / (1 + math.exp(-2.0))]),
]


@pytest.mark.parametrize("name,fn,points,values,grads", BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_boundary_points_take_pytorchs_side(name, fn, points, values, grads):
    x = ft.tensor(points, dtype=ft.float64, requires_grad=True)
    y = fn(x)
    assert_close(y.detach(), np.array(values))
    y.sum().backward()
    assert_close(x.grad, np.array(grads))


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_integer_inputs_follow_pytorch(spec):
    fn, ref, rule, _ = SPECS[spec]
    t = ft.tensor([-3, -1, 0, 2, 7])
    if rule == "keep":
        r = fn(t)
        assert r.dtype == ft.int64
        np.testing.assert_array_equal(to_numpy(r), ref(np.array([-3, -1, 0, 2, 7], dtype=np.float64)).astype(np.int64))
    elif rule == "promote":
        assert fn(t).dtype == ft.float32
    else:
        with pytest.raises(NotImplementedError, match=f'"{rule}" not implemented for \'Long\''):
            fn(t)


def test_bool_inputs_are_rejected_by_relu():
    with pytest.raises(NotImplementedError, match="Boolean inputs not supported for relu"):
        F.relu(ft.tensor([True, False]))


@pytest.mark.parametrize("case", sorted(INPLACE))
def test_inplace_writes_input_and_bumps_version(case, rng):
    fn, spec = INPLACE[case][:2]
    t, arr = make((3, 4), ft.float32, rng)
    view = t.t()  # writes through a non-contiguous view reach the base
    v0 = t._version
    out = fn(view)
    assert out is view
    assert t._version > v0
    assert_close(t, SPECS[spec][1](arr.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", sorted(INPLACE))
def test_inplace_records_pytorchs_node_and_gradient(case, rng):
    fn, spec, node = INPLACE[case]
    x = leaf((3, 4), rng, "transposed")
    y = x * 1.0
    out = fn(y)
    assert out.grad_fn.name() == node
    (gi,) = ft.autograd.grad(out.sum(), x)
    (expected,) = ft.autograd.grad(SPECS[spec][0](x * 1.0).sum(), x)
    assert_close(gi, to_numpy(expected))


def test_inplace_on_leaf_requiring_grad_raises():
    x = ft.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        F.relu(x, inplace=True)


def test_inplace_on_integer_tensor_keeps_dtype():
    t = ft.tensor([-2, 3, -1])
    F.relu_(t)
    np.testing.assert_array_equal(to_numpy(t), [0, 3, 0])
    with pytest.raises(NotImplementedError, match="leaky_relu_cpu"):
        F.leaky_relu_(ft.tensor([-2, 3]))


def test_relu_saves_its_output_so_the_input_may_change_afterwards():
    x = leaf((4,), np.random.default_rng(1))
    y = x * 1.0
    r = F.relu(y)
    y.add_(1.0)
    r.sum().backward()
    assert x.grad is not None


@pytest.mark.parametrize("spec", sorted(NODES))
def test_node_names_are_pytorchs(spec, rng):
    x = leaf((2, 3), rng)
    assert SPECS[spec][0](x).grad_fn.name() == NODES[spec]


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("spec", sorted(SPECS))
def test_gradcheck(spec, layout, rng):
    low, high = SPECS[spec][3]
    assert gradcheck(SPECS[spec][0], (leaf((2, 3), rng, layout, low, high),))


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_gradgradcheck(spec, rng):
    low, high = SPECS[spec][3]
    assert gradgradcheck(SPECS[spec][0], (leaf((2, 3), rng, "transposed", low, high),))


def test_backward_of_backward_is_recorded_with_its_own_node(rng):
    x = leaf((3,), rng)
    (g,) = ft.autograd.grad(F.gelu(x).sum(), x, create_graph=True)
    assert g.grad_fn.name() == "GeluBackwardBackward0"


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh."):
        F.gelu(ft.ones(2), approximate="foo")


def test_hardtanh_rejects_min_above_max():
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(ft.ones(2), 1.0, 0.0)


def test_softshrink_rejects_negative_lambda():
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\] for input dtype Float, but found -1"):
        F.softshrink(ft.ones(2), -1.0)


def test_celu_rejects_zero_alpha():
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(ft.ones(2), 0.0)


def test_torch_namespace_and_tensor_methods(rng):
    t, arr = make((2, 3), ft.float64, rng)
    assert_close(ft.relu(t), np.maximum(arr, 0))
    assert_close(t.relu(), np.maximum(arr, 0))
    assert_close(ft.selu(t), SPECS["selu"][1](arr))
    assert_close(ft.celu(t, 1.5), SPECS["celu"][1](arr))
    assert_close(ft.threshold(t, 0.3, -2.0), SPECS["threshold"][1](arr))
    assert_close(t.hardshrink(0.7), SPECS["hardshrink"][1](arr))
    assert_close(ft.hardshrink(t, 0.7), SPECS["hardshrink"][1](arr))
    u = t.clone()
    ft.selu_(u)
    assert_close(u, SPECS["selu"][1](arr))


# ---- prelu ----------------------------------------------------------------------------------

def _prelu_ref(x, w, channel_dim=True):
    shape = [1] * x.ndim
    if channel_dim and x.ndim >= 2:
        shape[1] = w.size
    return np.where(x > 0, x, w.reshape(shape) * x)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_prelu_per_channel_weight(dtype, layout, rng):
    t, arr = make((2, 3, 4), dtype, rng, layout)
    w, warr = make((3,), dtype, rng, low=0, high=1)
    rtol, atol = LOOSE[dtype]
    assert_close(F.prelu(t, w), _prelu_ref(arr.astype(np.float64), warr.astype(np.float64)), dtype=dtype, rtol=rtol, atol=atol)
    assert_close(t.prelu(w), _prelu_ref(arr.astype(np.float64), warr.astype(np.float64)), dtype=dtype, rtol=rtol, atol=atol)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (0, 3)])
def test_prelu_single_weight_broadcasts(shape, rng):
    t, arr = make(shape, ft.float64, rng)
    assert_close(F.prelu(t, ft.tensor([0.3], dtype=ft.float64)), np.where(arr > 0, arr, 0.3 * arr))
    assert_close(F.prelu(t, ft.tensor(0.3, dtype=ft.float64)), np.where(arr > 0, arr, 0.3 * arr))


def test_prelu_errors():
    with pytest.raises(RuntimeError, match="Found parameter numbers = 2 and channel size = 3"):
        F.prelu(ft.randn(2, 3), ft.randn(2))
    with pytest.raises(RuntimeError, match="Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"):
        F.prelu(ft.randn(2, 3), ft.randn(1, 3))
    with pytest.raises(NotImplementedError, match="prelu_cpu"):
        F.prelu(ft.tensor([1, -1]), ft.tensor([1]))


@pytest.mark.parametrize("wshape,xshape", [((3,), (2, 3, 2)), ((1,), (2, 3)), ((1,), (4,))])
def test_prelu_gradcheck_wrt_input_and_weight(wshape, xshape, rng):
    x = leaf(xshape, rng, "transposed")
    w = leaf(wshape, rng, low=0.1, high=0.9)
    assert gradcheck(F.prelu, (x, w))
    assert gradgradcheck(F.prelu, (x, w))
    assert F.prelu(x, w).grad_fn.name() == "PreluKernelBackward0"


# ---- rrelu ----------------------------------------------------------------------------------

def test_rrelu_eval_is_leaky_relu_with_mean_slope(rng):
    t, arr = make((3, 4), ft.float64, rng)
    assert_close(F.rrelu(t, 0.1, 0.3), np.where(arr > 0, arr, 0.2 * arr))


def test_rrelu_training_draws_slopes_in_range_and_backward_uses_them(rng):
    x = leaf((200,), rng)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    assert y.grad_fn.name() == "RreluWithNoiseBackward0"
    xa, ya = to_numpy(x.detach()), to_numpy(y.detach())
    neg = xa <= 0
    slopes = ya[neg] / xa[neg]
    assert ((slopes >= 0.1) & (slopes <= 0.3)).all() and np.unique(slopes).size > 10
    np.testing.assert_array_equal(ya[~neg], xa[~neg])
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad)[neg], slopes)
    np.testing.assert_array_equal(to_numpy(x.grad)[~neg], 1.0)


def test_rrelu_follows_manual_seed():
    x = -ft.ones(50)
    ft.manual_seed(3)
    a = F.rrelu(x, training=True)
    ft.manual_seed(3)
    b = F.rrelu(x, training=True)
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_rrelu_inplace_and_errors(rng):
    t = -ft.ones(20)
    v0 = t._version
    assert F.rrelu(t, 0.2, 0.4, training=True, inplace=True) is t
    arr = to_numpy(t)
    assert t._version > v0 and ((arr <= -0.2) & (arr >= -0.4)).all()
    x = leaf((6,), rng)
    y = x * 1.0
    F.rrelu_(y, 0.1, 0.3, training=True)
    assert y.grad_fn.name() == "RreluWithNoiseBackward1"
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal to the upper bound"):
        F.rrelu(ft.ones(2), 0.5, 0.1, True)
    with pytest.raises(NotImplementedError, match="leaky_relu_cpu"):
        F.rrelu(ft.tensor([1]))


def test_rrelu_gradcheck_in_eval(rng):
    assert gradcheck(lambda t: F.rrelu(t, 0.1, 0.3), (leaf((2, 3), rng),))


# ---- glu ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu_values(dtype, dim, rng):
    t, arr = make((4, 6, 2), dtype, rng, "transposed")
    a, b = np.split(arr.astype(np.float64), 2, axis=dim)
    rtol, atol = LOOSE[dtype]
    assert_close(F.glu(t, dim), a * _sigmoid(b), dtype=dtype, rtol=rtol, atol=atol)


def test_glu_errors_and_empty():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 3"):
        F.glu(ft.ones(2, 3))
    with pytest.raises(RuntimeError, match="glu does not support scalars because halving size must be even"):
        F.glu(ft.tensor(1.0))
    assert tuple(F.glu(ft.ones(3, 0)).shape) == (3, 0)


def test_glu_gradcheck_and_gradgradcheck(rng):
    x = leaf((2, 4, 3), rng, "strided")
    assert gradcheck(lambda t: F.glu(t, 1), (x,))
    assert gradgradcheck(lambda t: F.glu(t, 1), (x,))
    assert F.glu(x, 1).grad_fn.name() == "GluBackward0"


# ---- softmax family -------------------------------------------------------------------------

def _softmax_ref(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


@pytest.mark.parametrize("shape,implicit", [((5,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 2, 2), 1)])
def test_softmax_family_implicit_dim_follows_legacy_rule(shape, implicit, rng):
    t, arr = make(shape, ft.float64, rng)
    assert_close(F.softmax(t), _softmax_ref(arr, implicit))
    assert_close(F.softmin(t), _softmax_ref(-arr, implicit))
    assert_close(F.log_softmax(t), np.log(_softmax_ref(arr, implicit)))


def test_softmax_family_dtype_and_gradcheck(rng):
    t, arr = make((3, 4), ft.float32, rng)
    assert_close(F.softmin(t, 1, dtype=ft.float64), _softmax_ref(-arr.astype(np.float64), 1), dtype=ft.float64)
    x = leaf((3, 4), rng, "transposed")
    for fn in (F.softmax, F.softmin, F.log_softmax):
        assert gradcheck(lambda v: fn(v, 0), (x,))


def test_gumbel_softmax_soft_samples_are_distributions(rng):
    logits = leaf((4, 5), rng)
    y = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(to_numpy(y.detach()).sum(-1), 1.0)
    assert (to_numpy(y.detach()) > 0).all()


def test_gumbel_softmax_hard_is_one_hot_with_straight_through_gradient(rng):
    logits = leaf((4, 5), rng)
    ft.manual_seed(0)
    y = F.gumbel_softmax(logits, tau=0.5, hard=True, dim=0)
    arr = to_numpy(y.detach())
    np.testing.assert_array_equal(arr.sum(0), 1.0)
    assert set(np.unique(arr)) <= {0.0, 1.0}
    w = ft.tensor(rng.normal(size=(4, 5)))
    (g,) = ft.autograd.grad((y * w).sum(), logits)
    ft.manual_seed(0)
    soft = F.gumbel_softmax(logits, tau=0.5, hard=False, dim=0)
    (g_soft,) = ft.autograd.grad((soft * w).sum(), logits)
    assert_close(g, to_numpy(g_soft))


# ---- modules --------------------------------------------------------------------------------

REPRS = [
    (nn.ReLU(), "ReLU()"), (nn.ReLU(inplace=True), "ReLU(inplace=True)"), (nn.ReLU6(True), "ReLU6(inplace=True)"),
    (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"), (nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
    (nn.ELU(alpha=0.5, inplace=True), "ELU(alpha=0.5, inplace=True)"), (nn.SELU(True), "SELU(inplace=True)"),
    (nn.CELU(0.5), "CELU(alpha=0.5)"), (nn.GELU("tanh"), "GELU(approximate='tanh')"), (nn.GELU(), "GELU(approximate='none')"),
    (nn.SiLU(True), "SiLU(inplace=True)"), (nn.Mish(), "Mish()"), (nn.Softplus(2, 10), "Softplus(beta=2, threshold=10)"),
    (nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"), (nn.Softsign(), "Softsign()"),
    (nn.Hardtanh(-2, 2), "Hardtanh(min_val=-2, max_val=2)"), (nn.Hardtanh(inplace=True), "Hardtanh(min_val=-1.0, max_val=1.0, inplace=True)"),
    (nn.Hardsigmoid(True), "Hardsigmoid()"), (nn.Hardswish(True), "Hardswish()"), (nn.PReLU(3), "PReLU(num_parameters=3)"),
    (nn.RReLU(0.1, 0.3, inplace=True), "RReLU(lower=0.1, upper=0.3, inplace=True)"),
    (nn.RReLU(), "RReLU(lower=0.125, upper=0.3333333333333333)"), (nn.GLU(0), "GLU(dim=0)"), (nn.LogSigmoid(), "LogSigmoid()"),
    (nn.Tanhshrink(), "Tanhshrink()"), (nn.Softshrink(1.0), "Softshrink(1.0)"), (nn.Hardshrink(0.3), "Hardshrink(0.3)"),
    (nn.Threshold(0.1, 20.0), "Threshold(threshold=0.1, value=20.0)"),
    (nn.Threshold(0.1, 20.0, True), "Threshold(threshold=0.1, value=20.0, inplace=True)"), (nn.Sigmoid(), "Sigmoid()"),
    (nn.Tanh(), "Tanh()"), (nn.Softmax(dim=1), "Softmax(dim=1)"), (nn.Softmax(), "Softmax(dim=None)"),
    (nn.Softmin(0), "Softmin(dim=0)"), (nn.LogSoftmax(1), "LogSoftmax(dim=1)"), (nn.Softmax2d(), "Softmax2d()"),
]


@pytest.mark.parametrize("module,expected", REPRS, ids=[r[1] for r in REPRS])
def test_module_reprs_are_pytorchs(module, expected):
    assert repr(module) == expected


MODULES = [
    (nn.ReLU(), "relu"), (nn.ReLU6(), "relu6"), (nn.LeakyReLU(0.2), "leaky_relu"), (nn.ELU(0.7), "elu"),
    (nn.SELU(), "selu"), (nn.CELU(1.5), "celu"), (nn.GELU(), "gelu"), (nn.GELU("tanh"), "gelu_tanh"),
    (nn.SiLU(), "silu"), (nn.Mish(), "mish"), (nn.Softplus(2.0, 3.0), "softplus"), (nn.Softsign(), "softsign"),
    (nn.Hardtanh(-0.5, 1.5), "hardtanh"), (nn.Hardsigmoid(), "hardsigmoid"), (nn.Hardswish(), "hardswish"),
    (nn.LogSigmoid(), "logsigmoid"), (nn.Tanhshrink(), "tanhshrink"), (nn.Softshrink(0.7), "softshrink"),
    (nn.Hardshrink(0.7), "hardshrink"), (nn.Threshold(0.3, -2.0), "threshold"), (nn.Sigmoid(), "sigmoid"),
    (nn.Tanh(), "tanh"),
]


@pytest.mark.parametrize("module,spec", MODULES, ids=[m[1] for m in MODULES])
def test_modules_apply_their_function(module, spec, rng):
    t, arr = make((3, 4), ft.float64, rng)
    assert_close(module(t), SPECS[spec][1](arr))
    assert module.state_dict() == {} or isinstance(module, nn.PReLU)


def test_inplace_module_writes_its_input(rng):
    t, arr = make((3, 4), ft.float32, rng)
    assert nn.ReLU(inplace=True)(t) is t
    assert_close(t, np.maximum(arr, 0))


def test_prelu_module_parameter_and_init(rng):
    m = nn.PReLU(3, init=0.1, dtype=ft.float64)
    assert list(m.state_dict()) == ["weight"]
    assert tuple(m.weight.shape) == (3,) and m.weight.dtype == ft.float64
    np.testing.assert_array_equal(to_numpy(m.weight.detach()), 0.1)
    t, arr = make((2, 3, 2), ft.float64, rng)
    out = m(t)
    assert_close(out, np.where(arr > 0, arr, 0.1 * arr))
    out.sum().backward()
    assert_close(m.weight.grad, np.where(arr > 0, 0, arr).sum(axis=(0, 2)))
    assert tuple(nn.PReLU().weight.shape) == (1,)


def test_rrelu_module_uses_training_flag(rng):
    m = nn.RReLU(0.1, 0.3)
    t, arr = make((50,), ft.float64, rng)
    m.eval()
    assert_close(m(t), np.where(arr > 0, arr, 0.2 * arr))
    m.train()
    out = to_numpy(m(t))
    neg = arr <= 0
    assert not np.allclose(out[neg], 0.2 * arr[neg])


def test_softmax_modules(rng):
    t, arr = make((2, 3, 4, 5), ft.float64, rng)
    assert_close(nn.Softmax(dim=2)(t), _softmax_ref(arr, 2))
    assert_close(nn.Softmin(dim=1)(t), _softmax_ref(-arr, 1))
    assert_close(nn.LogSoftmax(dim=-1)(t), np.log(_softmax_ref(arr, -1)))
    assert_close(nn.Softmax2d()(t), _softmax_ref(arr, 1))
    assert_close(nn.Softmax2d()(t[0]), _softmax_ref(arr[0], 0))
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        nn.Softmax2d()(ft.ones(2, 3))


def test_glu_module_and_hardtanh_module_validation(rng):
    t, arr = make((2, 4), ft.float64, rng)
    a, b = np.split(arr, 2, axis=0)
    assert_close(nn.GLU(0)(t), a * _sigmoid(b))
    with pytest.raises(AssertionError, match=r"max_val \(0\) must be greater than min_val \(1\)"):
        nn.Hardtanh(1, 0)
