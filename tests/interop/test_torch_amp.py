"""PyTorch's autocast and GradScaler as the reference, where PyTorch is installed (skipped
otherwise): the same programs give the same dtypes under `autocast('cpu')`, a small MLP the same
values and gradients, and GradScaler the same scale sequence."""

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")


def _inputs(L, specs, seed=0):
    """Tensors of library `L` from one random NumPy stream: specs are (shape, dtype name)."""
    rng = np.random.default_rng(seed)
    out = []
    for shape, dtype in specs:
        arr = rng.standard_normal(shape)
        if dtype == "spd":
            arr = arr @ arr.T + np.eye(shape[0]) * shape[0]
            dtype = "bfloat16"
        out.append(L.tensor(arr, dtype=getattr(L, dtype)))
    return out


F32, BF16 = "float32", "bfloat16"

# name -> (program taking the library and its inputs, input specs)
PROGRAMS = {
    "mm": (lambda L, a, b: a.mm(b), [((3, 4), F32), ((4, 2), F32)]),
    "matmul_batched": (lambda L, a, b: a @ b, [((2, 3, 4), F32), ((4, 2), F32)]),
    "matmul_dot": (lambda L, a, b: a @ b, [((4,), F32), ((4,), F32)]),
    "mv": (lambda L, a, b: a.mv(b), [((3, 4), F32), ((4,), F32)]),
    "dot": (lambda L, a, b: a.dot(b), [((4,), F32), ((4,), F32)]),
    "bmm": (lambda L, a, b: a.bmm(b), [((2, 3, 4), F32), ((2, 4, 2), F32)]),
    "addmm": (lambda L, c, a, b: c.addmm(a, b), [((2,), F32), ((3, 4), F32), ((4, 2), F32)]),
    "baddbmm": (lambda L, c, a, b: c.baddbmm(a, b), [((2, 3, 2), F32), ((2, 3, 4), F32), ((2, 4, 2), F32)]),
    "addbmm": (lambda L, c, a, b: c.addbmm(a, b), [((3, 2), F32), ((2, 3, 4), F32), ((2, 4, 2), F32)]),
    "vecdot": (lambda L, a, b: L.linalg.vecdot(a, b), [((3, 4), F32), ((3, 4), F32)]),
    "tensordot": (lambda L, a, b: L.tensordot(a, b, dims=1), [((3, 4), F32), ((4, 2), F32)]),
    "inner": (lambda L, a, b: L.inner(a, b), [((3, 4), F32), ((2, 4), F32)]),
    "matrix_power": (lambda L, a: L.linalg.matrix_power(a, 3), [((3, 3), F32)]),
    "multi_dot": (lambda L, a, b, c: L.linalg.multi_dot([a, b, c]), [((2, 3), F32), ((3, 4), F32), ((4, 2), F32)]),
    "linear_bias": (lambda L, x, w, b: L.nn.functional.linear(x, w, b), [((3, 4), F32), ((2, 4), F32), ((2,), F32)]),
    "linear": (lambda L, x, w: L.nn.functional.linear(x, w), [((2, 3, 4), F32), ((2, 4), F32)]),
    "conv1d": (lambda L, x, w, b: L.nn.functional.conv1d(x, w, b), [((1, 2, 6), F32), ((3, 2, 3), F32), ((3,), F32)]),
    "conv2d": (lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1), [((1, 2, 4, 4), F32), ((3, 2, 3, 3), F32)]),
    "conv_transpose2d": (lambda L, x, w: L.nn.functional.conv_transpose2d(x, w), [((1, 2, 3, 3), F32), ((2, 3, 2, 2), F32)]),
    "prelu": (lambda L, x, w: L.nn.functional.prelu(x, w), [((2, 3), F32), ((3,), F32)]),
    "prod": (lambda L, x: x.prod(), [((5,), BF16)]),
    "trace": (lambda L, x: x.trace(), [((3, 3), BF16)]),
    "quantile": (lambda L, x: x.quantile(0.25), [((6,), BF16)]),
    "inv": (lambda L, x: L.linalg.inv(x), [((3, 3), "spd")]),
    "cholesky": (lambda L, x: L.linalg.cholesky(x), [((3, 3), "spd")]),
    "eigvalsh": (lambda L, x: L.linalg.eigvalsh(x), [((3, 3), "spd")]),
    "svdvals": (lambda L, x: L.linalg.svdvals(x), [((3, 3), "spd")]),
    "qr": (lambda L, x: L.linalg.qr(x)[1].abs(), [((3, 3), "spd")]),  # signs are a convention
    "solve": (lambda L, a, b: L.linalg.solve(a, b), [((3, 3), "spd"), ((3, 2), F32)]),
    "avg_pool3d": (lambda L, x: L.nn.functional.avg_pool3d(x, 2), [((1, 1, 2, 2, 2), BF16)]),
    "max_pool3d": (lambda L, x: L.nn.functional.max_pool3d(x, 2), [((1, 1, 2, 2, 2), BF16)]),
    "adaptive_avg_pool3d": (lambda L, x: L.nn.functional.adaptive_avg_pool3d(x, 1), [((1, 1, 2, 2, 2), BF16)]),
    "adaptive_max_pool3d": (lambda L, x: L.nn.functional.adaptive_max_pool3d(x, 1), [((1, 1, 2, 2, 2), BF16)]),
    "max_pool2d": (lambda L, x: L.nn.functional.max_pool2d(x, 2), [((1, 1, 2, 2), BF16)]),
    "max_unpool1d": (lambda L, x: L.nn.functional.max_unpool1d(*L.nn.functional.max_pool1d(x, 2, return_indices=True), 2), [((1, 1, 4), BF16)]),
    "max_unpool2d": (lambda L, x: L.nn.functional.max_unpool2d(*L.nn.functional.max_pool2d(x, 2, return_indices=True), 2), [((1, 1, 2, 2), BF16)]),
    "cat_mixed": (lambda L, a, b: L.cat([a, b]), [((2,), BF16), ((2,), F32)]),
    "cat_low": (lambda L, a, b: L.cat([a, b]), [((2,), BF16), ((2,), BF16)]),
    "stack_mixed": (lambda L, a, b: L.stack([a, b]), [((2,), BF16), ((2,), F32)]),
    "stack_double": (lambda L, a, b: L.stack([a, b]), [((2,), BF16), ((2,), "float64")]),
    "index_copy": (lambda L, x, s: x.index_copy(0, L.tensor([1]), s), [((3, 2), BF16), ((1, 2), F32)]),
    "add_mixed": (lambda L, a, b: a + b, [((2,), BF16), ((2,), F32)]),
    "sum": (lambda L, x: x.sum(), [((3,), BF16)]),
    "softmax": (lambda L, x: x.softmax(0), [((3,), BF16)]),
    "exp": (lambda L, x: x.exp(), [((3,), F32)]),
    "mm_double": (lambda L, a, b: a.mm(b), [((2, 2), "float64"), ((2, 2), "float64")]),
    "mm_half": (lambda L, a, b: a.mm(b), [((2, 2), "float16"), ((2, 2), "float16")]),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_dtypes_match_pytorch(name):
    program, specs = PROGRAMS[name]
    with torch.autocast("cpu"):
        expected = program(torch, *_inputs(torch, specs))
    with ft.autocast("cpu"):
        got = program(ft, *_inputs(ft, specs))
    assert str(got.dtype) == str(expected.dtype)
    np.testing.assert_allclose(got.float().numpy(), expected.float().numpy(), rtol=2e-2, atol=2e-2)


def _mlp(L, seed=0):
    rng = np.random.default_rng(seed)
    model = L.nn.Sequential(L.nn.Linear(6, 16), L.nn.ReLU(), L.nn.Linear(16, 4))
    with L.no_grad():
        for p in model.parameters():
            p.copy_(L.tensor(rng.standard_normal(tuple(p.shape)) * 0.3, dtype=L.float32))
    x = L.tensor(rng.standard_normal((8, 6)), dtype=L.float32)
    return model, x


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_mlp_forward_backward_matches_pytorch(dtype):
    results = {}
    for L in (torch, ft):
        model, x = _mlp(L)
        with L.autocast("cpu", dtype=getattr(L, dtype)):
            out = model(x)
            loss = (out.float() ** 2).mean()
        loss.backward()
        results[L.__name__] = (out.detach(), [p.grad for p in model.parameters()])
    (t_out, t_grads), (f_out, f_grads) = results["torch"], results["ferrotorch"]
    assert str(f_out.dtype) == str(t_out.dtype) == f"torch.{dtype}"
    np.testing.assert_allclose(f_out.float().numpy(), t_out.float().numpy(), rtol=3e-2, atol=3e-2)
    for f, t in zip(f_grads, t_grads):
        assert str(f.dtype) == str(t.dtype) == "torch.float32"
        np.testing.assert_allclose(f.numpy(), t.numpy(), rtol=5e-2, atol=5e-2)


class _SGD(ft.optim.Optimizer):
    """Plain gradient descent (ferrotorch's optimizers are another package's work)."""

    def __init__(self, params, lr):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        with ft.no_grad():
            for p in self.param_groups[0]["params"]:
                p.sub_(p.grad * self.param_groups[0]["lr"])


def _scale_sequence(L, pattern, **kwargs):
    scaler = L.amp.GradScaler("cpu", **kwargs)
    w = L.ones(3, requires_grad=True)
    opt = _SGD([w], lr=0.1) if L is ft else torch.optim.SGD([w], lr=0.1)
    scales, trackers = [], []
    for factor in pattern:
        opt.zero_grad()
        scaler.scale((w * factor).sum()).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        trackers.append(scaler._get_growth_tracker())
    return scales, trackers, scaler.state_dict(), w.tolist()


def test_grad_scaler_sequence_matches_pytorch():
    inf, nan = float("inf"), float("nan")
    pattern = [1.0, 1.0, 1.0, inf, 1.0, 1.0, nan, 1.0, 1.0, 1.0, 1.0, -inf, 1.0]
    kwargs = {"init_scale": 1024.0, "growth_factor": 3.0, "backoff_factor": 0.25, "growth_interval": 3}
    assert _scale_sequence(ft, pattern, **kwargs) == _scale_sequence(torch, pattern, **kwargs)


def test_unscale_kernel_matches_pytorch():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal(5)]
    arrays[1][2] = np.inf
    out = {}
    for L, kernel in ((torch, torch._amp_foreach_non_finite_check_and_unscale_), (ft, ft._C._amp_foreach_non_finite_check_and_unscale_)):
        grads = [L.tensor(arrays[0], dtype=L.float32).t(), L.tensor(arrays[1], dtype=L.bfloat16)]
        found = L.zeros(())
        kernel(grads, found, L.full((), 1 / 3))
        out[L.__name__] = [g.float().numpy() for g in grads] + [found.numpy()]
    for f, t in zip(out["ferrotorch"], out["torch"]):
        np.testing.assert_array_equal(f, t)
