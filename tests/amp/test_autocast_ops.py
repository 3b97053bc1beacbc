"""What autocast does to ops: the lower-precision list computes in the fast dtype (the same
values as on inputs cast by hand), the float32 list in float32, the promote list in the widest
input type; other ops, float64 and integer inputs are left alone; casts are differentiable and
cached for weights within a region; `autocast_op` lists Python composites."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn.functional as F
from ferrotorch.amp import autocast, autocast_op

from conftest import assert_close, make


def _randn(*shape, dtype=ft.float32, seed=0):
    rng = np.random.default_rng(seed + sum(shape))
    return ft.tensor(rng.standard_normal(shape), dtype=dtype)


def _spd(n, dtype):
    a = _randn(n, n, dtype=ft.float64)
    return (a @ a.t() + ft.eye(n, dtype=ft.float64) * n).to(dtype)


def _first(r):
    """The first output of an op that may return several."""
    return r[0] if isinstance(r, (tuple, list)) else r


# Ops on PyTorch's CPU lower-precision list: name -> (op, input maker).
LOWER = {
    "mm": (lambda a, b: a.mm(b), lambda: (_randn(3, 4), _randn(4, 5))),
    "matmul": (lambda a, b: a @ b, lambda: (_randn(2, 3, 4), _randn(4, 5))),
    "matmul_vector": (lambda a, b: a @ b, lambda: (_randn(3, 4), _randn(4))),
    "bmm": (lambda a, b: a.bmm(b), lambda: (_randn(2, 3, 4), _randn(2, 4, 5))),
    "addmm": (lambda c, a, b: c.addmm(a, b), lambda: (_randn(5), _randn(3, 4), _randn(4, 5))),
    "baddbmm": (lambda c, a, b: c.baddbmm(a, b), lambda: (_randn(2, 3, 5), _randn(2, 3, 4), _randn(2, 4, 5))),
    "addbmm": (lambda c, a, b: c.addbmm(a, b), lambda: (_randn(3, 5), _randn(2, 3, 4), _randn(2, 4, 5))),
    "linalg_vecdot": (lambda a, b: ft.linalg.vecdot(a, b), lambda: (_randn(3, 4), _randn(3, 4))),
    "tensordot": (lambda a, b: ft.tensordot(a, b, dims=1), lambda: (_randn(3, 4), _randn(4, 2))),
    "inner": (lambda a, b: ft.inner(a, b), lambda: (_randn(3, 4), _randn(2, 4))),
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b), lambda: (_randn(1, 2, 6), _randn(3, 2, 3), _randn(3))),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda: (_randn(1, 2, 5, 5), _randn(3, 2, 3, 3), _randn(3))),
    "conv3d": (lambda x, w: F.conv3d(x, w), lambda: (_randn(1, 1, 3, 3, 3), _randn(2, 1, 2, 2, 2))),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b), lambda: (_randn(1, 2, 3, 3), _randn(2, 3, 2, 2), _randn(3))),
    "prelu": (lambda x, w: F.prelu(x, w), lambda: (_randn(2, 3), _randn(3))),
    "linear_2d": (lambda x, w, b: F.linear(x, w, b), lambda: (_randn(3, 4), _randn(5, 4), _randn(5))),
}


@pytest.mark.parametrize("name", list(LOWER))
def test_lower_precision_ops_compute_in_bfloat16(name):
    op, inputs = LOWER[name]
    args = inputs()
    with autocast("cpu"):
        out = op(*args)
    expected = op(*[a.bfloat16() for a in args])
    assert out.dtype == ft.bfloat16
    assert ft.equal(out, expected)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_mm_values_on_noncontiguous_inputs(rng, layout):
    a, an = make((4, 3), ft.float32, rng, layout)
    b, bn = make((3, 5), ft.float32, rng, layout)
    with autocast("cpu"):
        out = a @ b
    # The reference rounds the inputs to bfloat16 as autocast does, then multiplies in float64.
    a16 = a.bfloat16().float().numpy().astype(np.float64)
    b16 = b.bfloat16().float().numpy().astype(np.float64)
    assert_close(out, a16 @ b16, dtype=ft.bfloat16, rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(a16, an, rtol=1e-2)


def test_float16_fast_dtype():
    a, b = _randn(3, 4), _randn(4, 2)
    with autocast("cpu", dtype=ft.float16):
        out = a @ b
    assert out.dtype == ft.float16 and ft.equal(out, a.half() @ b.half())


def test_float16_inputs_cast_to_bfloat16():
    a = _randn(3, 3, dtype=ft.float16)
    with autocast("cpu"):
        assert (a @ a).dtype == ft.bfloat16


@pytest.mark.parametrize("dtype", [ft.float64, ft.int64])
def test_float64_and_integer_inputs_are_not_cast(dtype):
    a = _randn(3, 3).to(dtype)
    with autocast("cpu"):
        out = a @ a
    assert out.dtype == dtype and ft.equal(out, a @ a)


def test_mixed_float64_input_fails_like_pytorch():
    # Only the float32 side is cast, so mm sees bfloat16 against float64.
    with autocast("cpu"):
        with pytest.raises(RuntimeError, match="same dtype"):
            _randn(2, 2, dtype=ft.float64).mm(_randn(2, 2))


# Ops on the CPU float32 list: name -> (op, input maker producing bfloat16 inputs).
FP32 = {
    "prod": (lambda x: x.prod(), lambda: (_randn(5, dtype=ft.bfloat16),)),
    "prod_dim": (lambda x: x.prod(1), lambda: (_randn(2, 3, dtype=ft.bfloat16),)),
    "trace": (lambda x: x.trace(), lambda: (_randn(3, 3, dtype=ft.bfloat16),)),
    "quantile": (lambda x: x.quantile(0.3), lambda: (_randn(7, dtype=ft.bfloat16),)),
    "nanquantile": (lambda x: x.nanquantile(0.3), lambda: (_randn(7, dtype=ft.bfloat16),)),
    "inv": (lambda x: ft.linalg.inv(x), lambda: (_spd(3, ft.bfloat16),)),
    "cholesky": (lambda x: ft.linalg.cholesky(x), lambda: (_spd(3, ft.bfloat16),)),
    "pinv": (lambda x: ft.linalg.pinv(x), lambda: (_spd(3, ft.bfloat16),)),
    "eigh": (lambda x: ft.linalg.eigh(x)[0], lambda: (_spd(3, ft.bfloat16),)),
    "eigvalsh": (lambda x: ft.linalg.eigvalsh(x), lambda: (_spd(3, ft.bfloat16),)),
    "svd": (lambda x: ft.linalg.svd(x)[1], lambda: (_spd(3, ft.bfloat16),)),
    "svdvals": (lambda x: ft.linalg.svdvals(x), lambda: (_spd(3, ft.bfloat16),)),
    "qr": (lambda x: ft.linalg.qr(x)[1], lambda: (_spd(3, ft.bfloat16),)),
    "solve": (lambda a, b: ft.linalg.solve(a, b), lambda: (_spd(3, ft.bfloat16), _randn(3, 2))),
    "lstsq": (lambda a, b: ft.linalg.lstsq(a, b)[0], lambda: (_spd(3, ft.bfloat16), _randn(3, 2, dtype=ft.bfloat16))),
    "avg_pool3d": (lambda x: F.avg_pool3d(x, 2), lambda: (_randn(1, 1, 2, 4, 4, dtype=ft.bfloat16),)),
    "max_pool3d": (lambda x: F.max_pool3d(x, 2), lambda: (_randn(1, 1, 2, 4, 4, dtype=ft.bfloat16),)),
    "adaptive_avg_pool3d": (lambda x: F.adaptive_avg_pool3d(x, 1), lambda: (_randn(1, 1, 2, 2, 2, dtype=ft.bfloat16),)),
    "adaptive_max_pool3d": (lambda x: F.adaptive_max_pool3d(x, 1), lambda: (_randn(1, 1, 2, 2, 2, dtype=ft.bfloat16),)),
    "max_unpool1d": (lambda x: F.max_unpool1d(*F.max_pool1d(x, 2, return_indices=True), 2), lambda: (_randn(1, 1, 4, dtype=ft.bfloat16),)),
    "max_unpool2d": (lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2), lambda: (_randn(1, 1, 4, 4, dtype=ft.bfloat16),)),
}


@pytest.mark.parametrize("name", list(FP32))
def test_float32_ops_compute_in_float32(name):
    op, inputs = FP32[name]
    args = inputs()
    with autocast("cpu"):
        out = _first(op(*args))
    expected = _first(op(*[a.float() for a in args]))
    assert out.dtype == ft.float32
    assert ft.equal(out, expected)


def test_prod_value_against_numpy(rng):
    x, xn = make((3, 4), ft.bfloat16, rng, "transposed", low=0.5, high=1.5)
    with autocast("cpu"):
        out = x.prod(0)
    assert_close(out, xn.astype(np.float64).prod(0), dtype=ft.float32, rtol=1e-5)


def test_pools_below_3d_keep_their_dtype():
    x = _randn(1, 1, 4, 4, dtype=ft.bfloat16)
    with autocast("cpu"):
        assert F.max_pool2d(x, 2).dtype == ft.bfloat16
        assert F.avg_pool2d(x, 2).dtype == ft.bfloat16


@pytest.mark.parametrize(
    "dtypes, expected",
    [
        ((ft.bfloat16, ft.float32), ft.float32),
        ((ft.bfloat16, ft.bfloat16), ft.bfloat16),
        ((ft.float32, ft.float32), ft.float32),
        ((ft.bfloat16, ft.float64), ft.float64),
        ((ft.int64, ft.bfloat16), ft.bfloat16),
        ((ft.int64, ft.int64), ft.int64),
    ],
)
@pytest.mark.parametrize("join", [ft.cat, ft.stack])
def test_promote_ops_use_the_widest_input(join, dtypes, expected):
    parts = [_randn(2, 3).to(d) for d in dtypes]
    with autocast("cpu"):
        out = join(parts)
    assert out.dtype == expected
    assert ft.equal(out, join([p.to(expected) for p in parts]))


def test_promote_of_the_two_half_types_raises():
    with autocast("cpu"):
        with pytest.raises(RuntimeError, match="Unexpected floating ScalarType in at::autocast::prioritize"):
            ft.cat([_randn(2, dtype=ft.float16), _randn(2, dtype=ft.bfloat16)])


def test_index_copy_promotes():
    x, src = _randn(3, 2, dtype=ft.bfloat16), _randn(1, 2)
    with autocast("cpu"):
        out = x.index_copy(0, ft.tensor([1]), src)
    assert out.dtype == ft.float32
    assert ft.equal(out, x.float().index_copy(0, ft.tensor([1]), src))


def test_unlisted_ops_are_unchanged():
    a, b = _randn(3, 3), _randn(3, 3, dtype=ft.bfloat16)
    with autocast("cpu"):
        assert (a + b).dtype == ft.float32
        assert a.exp().dtype == ft.float32
        assert a.mv(a[0]).dtype == ft.float32
        assert b.sum().dtype == ft.bfloat16
        assert b.softmax(0).dtype == ft.bfloat16


def test_disabled_region_is_unchanged():
    a = _randn(3, 3)
    with autocast("cpu", enabled=False):
        assert (a @ a).dtype == ft.float32
    with autocast("cpu"):
        with autocast("cpu", enabled=False):
            assert (a @ a).dtype == ft.float32


@pytest.mark.parametrize("name", ["mm", "addmm", "conv2d", "linear_2d"])
def test_gradients_reach_float32_leaves_in_float32(name):
    op, inputs = LOWER[name]
    leaves = [a.requires_grad_() for a in inputs()]
    with autocast("cpu"):
        out = op(*leaves)
    (out.float() ** 2).sum().backward()
    # Reference: the same program on inputs cast by hand, differentiated in bfloat16.
    cast = [a.detach().bfloat16().requires_grad_() for a in leaves]
    (op(*cast).float() ** 2).sum().backward()
    for leaf, ref in zip(leaves, cast):
        assert leaf.grad.dtype == ft.float32
        assert ft.equal(leaf.grad, ref.grad.float())


def test_gradient_reaches_bfloat16_leaf_through_float32_op():
    x = _randn(4, dtype=ft.bfloat16).requires_grad_()
    with autocast("cpu"):
        y = x.prod()
    assert y.dtype == ft.float32
    y.backward()
    ref = x.detach().float().requires_grad_()
    ref.prod().backward()
    assert x.grad.dtype == ft.bfloat16 and ft.equal(x.grad, ref.grad.bfloat16())


def test_cast_is_recorded_as_to_copy():
    w = _randn(3, 3).requires_grad_()
    with autocast("cpu"):
        y = _randn(2, 3) @ w
    assert y.grad_fn.name() == "MmBackward0"
    assert y.grad_fn.next_functions[1][0].name() == "ToCopyBackward0"


def _weight_cast_node(x, w):
    """The node of the cast of `w` in `x @ w`."""
    return (x @ w).grad_fn.next_functions[1][0]


def test_weight_cast_is_cached_within_a_region():
    x, w = _randn(2, 3), _randn(3, 3).requires_grad_()
    with autocast("cpu"):
        first = _weight_cast_node(x, w)
        with autocast("cpu"):
            assert _weight_cast_node(x, w) == first
        assert _weight_cast_node(x, w) == first
    with autocast("cpu"):
        assert _weight_cast_node(x, w) != first


def test_cached_cast_gradient_sums_both_uses():
    x, w = _randn(2, 3), _randn(3, 3).requires_grad_()
    with autocast("cpu"):
        y = (x @ w).float().sum() + (x @ w).float().sum()
    y.backward()
    assert ft.equal(w.grad, (x.bfloat16().t() @ ft.ones(2, 3, dtype=ft.bfloat16)).float() * 2)


@pytest.mark.parametrize(
    "make_weight, region",
    [
        (lambda w: w, {"cache_enabled": False}),
        (lambda w: w * 1, {}),
        (lambda w: w[:, :], {}),
    ],
    ids=["cache_disabled", "non_leaf", "view"],
)
def test_uncached_casts(make_weight, region):
    x, w = _randn(2, 3), _randn(3, 3).requires_grad_()
    with autocast("cpu", **region):
        weight = make_weight(w)
        assert _weight_cast_node(x, weight) != _weight_cast_node(x, weight)


def test_no_cache_under_no_grad():
    x, w = _randn(2, 3), _randn(3, 3).requires_grad_()
    with autocast("cpu"):
        with ft.no_grad():
            assert (x @ w).grad_fn is None
        # A cast made without history must not be reused where the gradient is needed.
        assert (x @ w).grad_fn is not None


def test_backward_outside_region_is_not_cast():
    x, w = _randn(2, 3), _randn(3, 3).requires_grad_()
    with autocast("cpu"):
        y = (x @ w).sum()
    y.backward()
    assert w.grad.dtype == ft.float32


@autocast_op("linear")
def _composite_linear(x, w, b=None):
    out = x.matmul(w.t())
    return out if b is None else out + b


@autocast_op("mse_loss")
def _composite_mse(input, target):
    seen = (input.dtype, target.dtype, (input @ target.t()).dtype)
    return ((input - target) ** 2).mean(), seen


def test_autocast_op_lower_precision_composite():
    x, w, b = _randn(2, 3, 4), _randn(5, 4).requires_grad_(), _randn(5).requires_grad_()
    with autocast("cpu"):
        out = _composite_linear(x, w, b=b)
    assert out.dtype == ft.bfloat16
    assert ft.equal(out, x.bfloat16().matmul(w.detach().bfloat16().t()) + b.detach().bfloat16())
    out.float().sum().backward()
    assert w.grad.dtype == ft.float32 and b.grad.dtype == ft.float32


def test_autocast_op_float32_composite_runs_its_body_without_autocast():
    a, b = _randn(2, 3, dtype=ft.bfloat16), _randn(2, 3)
    with autocast("cpu"):
        loss, seen = _composite_mse(a, b)
        assert ft.is_autocast_enabled("cpu") and (b @ b.t()).dtype == ft.bfloat16
    # Inputs arrived in float32 and the inner matmul was not cast down again.
    assert seen == (ft.float32, ft.float32, ft.float32)
    assert loss.dtype == ft.float32


def test_autocast_op_outside_region_is_transparent():
    a = _randn(2, 3, dtype=ft.bfloat16)
    loss, seen = _composite_mse(a, a)
    assert seen[:2] == (ft.bfloat16, ft.bfloat16) and loss.dtype == ft.bfloat16


def test_listed_ops_in_a_small_model():
    model = ft.nn.Sequential(ft.nn.Linear(4, 8), ft.nn.ReLU(), ft.nn.Linear(8, 3))
    x = _randn(5, 4)
    with autocast("cpu"):
        out = model(x)
        loss = ft.cat([out, out.float()]).float().pow(2).mean()
    assert out.dtype == ft.bfloat16
    loss.backward()
    assert all(p.grad is not None and p.grad.dtype == ft.float32 for p in model.parameters())


def test_python_losses_run_in_float32_and_linear_in_bfloat16():
    # The composite nn functions are on PyTorch's lists through amp.autocast_op.
    x = ft.randn(4, 3, 5)
    w, b = ft.randn(6, 5), ft.randn(6)
    with ft.autocast("cpu"):
        y = F.linear(x, w, b)
        assert y.dtype == ft.bfloat16 and tuple(y.shape) == (4, 3, 6)
        assert F.mse_loss(y, y.detach() * 0).dtype == ft.float32
        logits = F.linear(x[:, 0], w, b)
        assert logits.dtype == ft.bfloat16
        assert F.cross_entropy(logits, ft.tensor([0, 5, 2, 1])).dtype == ft.float32
        assert F.nll_loss(logits.log_softmax(1), ft.tensor([0, 5, 2, 1])).dtype == ft.float32
    expected = (x.to(ft.bfloat16).float() @ w.to(ft.bfloat16).float().t() + b.to(ft.bfloat16).float()).to(ft.bfloat16)
    with ft.autocast("cpu"):
        assert ft.equal(F.linear(x, w, b), expected)
