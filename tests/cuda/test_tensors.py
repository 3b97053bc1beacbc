"""CUDA tensors against the CPU: moving data, element-wise ops, reductions, matrix products and
their gradients give the CPU's results (float tolerances) on a GPU. Marked `cuda`: skipped
without a GPU, run by `make gpu-check`."""

import numpy as np
import pytest

import ferrotorch as ft

pytestmark = pytest.mark.cuda

from cuda_helpers import ALL_DTYPES, FLOATS, TOL, same, sample


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_round_trip_keeps_every_value(dtype):
    x = sample((3, 5), dtype)
    g = x.cuda()
    assert g.is_cuda and g.get_device() == 0 and g.device == ft.device("cuda", 0)
    assert ft.equal(g.cpu(), x)
    assert g.to("cpu").tolist() == x.tolist()


def test_factories_create_on_the_device():
    for t in (ft.zeros(2, 3, device="cuda"), ft.ones(4, device="cuda:0"), ft.full((2,), 7.0, device="cuda"),
              ft.arange(5, device="cuda"), ft.randn(3, device="cuda"), ft.tensor([1, 2], device="cuda")):
        assert t.is_cuda
    assert ft.zeros(3, device="cuda").tolist() == [0.0, 0.0, 0.0]
    assert ft.full((2, 2), 2.5, device="cuda").sum().item() == 10.0
    g = ft.ones(2, device="cuda")
    assert ft.zeros_like(g).is_cuda and g.new_zeros(3).is_cuda and ft.empty_like(g, device="cpu").is_cpu


@pytest.mark.parametrize("src,dst", [(ft.float32, ft.int64), (ft.float64, ft.float16), (ft.int32, ft.bfloat16), (ft.bool, ft.float32), (ft.float16, ft.bool)])
def test_dtype_conversions_match_the_cpu(src, dst):
    x = sample((4, 6), src)
    same(x.cuda().to(dst), x.to(dst))


def test_strided_and_broadcast_copies():
    x = sample((4, 6), ft.float32)
    g = x.cuda()
    same(g.t().contiguous(), x.t().contiguous())
    same(g[:, ::2].contiguous(), x[:, ::2].contiguous())
    same(g[1].expand(3, 6).contiguous(), x[1].expand(3, 6).contiguous())
    # Host to a strided device view, and a device view to the host.
    d = ft.zeros(6, 4, device="cuda")
    d.t().copy_(x)
    same(d, x.t().contiguous())
    assert ft.equal(g.t().cpu(), x.t())


def test_fill_and_zero_in_place():
    g = ft.empty(3, 4, device="cuda")
    g.fill_(1.5)
    g[:, 1].zero_()
    expected = ft.full((3, 4), 1.5)
    expected[:, 1] = 0
    same(g, expected)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "erf", "reciprocal", "neg", "abs", "floor"])
def test_unary_ops_match_the_cpu(op, dtype):
    x = sample((5, 7), dtype).abs() + 0.5
    same(getattr(x.cuda().t(), op)(), getattr(x.t(), op)())


@pytest.mark.parametrize("dtype", [ft.int8, ft.int32, ft.int64, ft.uint8])
def test_integer_unary_ops_stay_integers(dtype):
    x = sample((9,), dtype)
    for op in ("neg", "abs", "sign", "square"):
        if dtype == ft.uint8 and op == "neg":
            continue
        same(getattr(x.cuda(), op)(), getattr(x, op)())
    same(x.cuda().exp(), x.exp())  # integers promote to the default float


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_arithmetic_and_comparisons_with_broadcasting(dtype):
    a, b = sample((3, 1, 4), dtype, 1), sample((5, 4), dtype, 2)
    ga, gb = a.cuda(), b.cuda()
    ops = ["eq", "ne", "lt", "ge", "maximum", "minimum", "mul"]
    if dtype != ft.bool:
        ops += ["add", "sub"]
    for op in ops:
        same(getattr(ga, op)(gb), getattr(a, op)(b))


def test_numbers_and_cpu_scalars_join_gpu_operands():
    x = sample((4, 4), ft.float32)
    g = x.cuda()
    same(g * 2 + 1, x * 2 + 1)
    same(2 ** g, 2 ** x)
    same(g + ft.tensor(3.0), x + ft.tensor(3.0))
    same(g.int() // 3, x.int() // 3)
    same(g / g.abs().add(1), x / x.abs().add(1))


def test_type_promotion_matches_the_cpu():
    a, b = sample((6,), ft.int32), sample((6,), ft.float16)
    same(a.cuda() + b.cuda(), a + b)
    same(a.cuda() / 2, a / 2)
    same(a.cuda().to(ft.bfloat16) * b.cuda(), a.to(ft.bfloat16) * b)


def test_in_place_ops_write_the_device_tensor():
    x = sample((3, 4), ft.float32)
    g = x.cuda()
    view = g.t()
    view.mul_(2).add_(g.t(), alpha=-0.5)
    x.t().mul_(2).add_(x.t(), alpha=-0.5)
    same(g, x)
    g += 1
    x += 1
    same(g, x)


def test_nan_and_inf_survive_the_device():
    x = ft.tensor([float("nan"), float("inf"), -float("inf"), 1.0])
    same(x.cuda() * 2, x * 2)
    same(x.cuda().exp(), x.exp())
    assert ft.isnan(x.cuda().sum().cpu())
    assert x.cuda().amax().cpu().isnan()


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_sum_max_min_match_the_cpu(dtype):
    x = sample((7, 300), dtype)
    g = x.cuda()
    same(g.sum(), x.sum())
    same(g.sum(1), x.sum(1))
    same(g.sum(0, keepdim=True), x.sum(0, keepdim=True))
    same(g.amax(1), x.amax(1))
    same(g.amin(0), x.amin(0))
    same(g.max(), x.max())
    same(g.t().sum(1), x.t().sum(1))


def test_large_sum_uses_two_passes():
    x = ft.ones(1 << 22)
    assert x.cuda().sum().item() == float(1 << 22)
    assert ft.zeros(0, device="cuda").sum().item() == 0.0


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_matches_the_cpu(dtype):
    a, b = sample((2, 33, 17), ft.float64), sample((17, 9), ft.float64)
    expected = (a @ b).to(dtype)
    ga, gb = a.to(dtype).cuda(), b.to(dtype).cuda()
    tol = {ft.float16: 3e-2, ft.bfloat16: 2e-1, ft.float32: 1e-4, ft.float64: 1e-12}[dtype]
    for got in (ga @ gb, ga @ gb.t().contiguous().t(), (gb.t() @ ga.transpose(1, 2)).transpose(1, 2)):
        np.testing.assert_allclose(got.cpu().double().numpy(), expected.double().numpy(), rtol=tol, atol=tol)
    c = sample((33, 9), ft.float64)
    np.testing.assert_allclose(
        ft.addmm(c.cuda(), a[0].cuda(), b.cuda(), beta=0.5, alpha=2).cpu().numpy(), ft.addmm(c, a[0], b, beta=0.5, alpha=2).numpy(), rtol=1e-12)


def test_tf32_follows_the_matmul_precision():
    a, b = ft.randn(256, 256, dtype=ft.float64), ft.randn(256, 256, dtype=ft.float64)
    exact = (a @ b).numpy()
    ga, gb = a.float().cuda(), b.float().cuda()
    try:
        ft.set_float32_matmul_precision("highest")
        err_full = np.abs((ga @ gb).cpu().double().numpy() - exact).max()
        ft.backends.cuda.matmul.allow_tf32 = True
        err_tf32 = np.abs((ga @ gb).cpu().double().numpy() - exact).max()
    finally:
        ft.set_float32_matmul_precision("highest")
    assert err_full < 1e-3 < err_tf32


def test_gradients_flow_on_the_device_and_back_to_the_host():
    x = sample((4, 3), ft.float64).requires_grad_()
    w = sample((3, 2), ft.float64, 5).cuda().requires_grad_()
    y = (x.cuda() @ w).tanh().sum()
    y.backward()
    assert x.grad.is_cpu and w.grad.is_cuda
    xc, wc = x.detach().clone().requires_grad_(), w.detach().cpu().requires_grad_()
    (xc @ wc).tanh().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xc.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.cpu().numpy(), wc.grad.numpy(), rtol=1e-10)


def test_gradcheck_through_device_ops():
    x = sample((3, 4), ft.float64).cuda().requires_grad_()
    assert ft.autograd.gradcheck(lambda t: (t * t.exp()).sum(0) / 3, (x,))


def test_mixing_devices_raises_pytorchs_error():
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"):
        ft.ones(3, device="cuda") + ft.ones(3)
    with pytest.raises(RuntimeError, match="same device"):
        ft.ones(2, 2, device="cuda") @ ft.ones(2, 2)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float16, ft.bfloat16])
def test_linear_adds_its_bias_in_the_products_epilogue(dtype):
    # cuBLASLt's bias epilogue where PyTorch takes it (one matrix, a 16-byte aligned bias vector,
    # every size above 1); the cuBLAS route otherwise; both equal the float64 product.
    x, w, b = (sample(shape, ft.float64, seed=s).to(dtype) for s, shape in enumerate([(37, 24), (40, 24), (41,)]))
    runs, bc = ft._C._cublaslt_runs(), b.cuda()
    for at in (0, 1):  # the first takes the epilogue; a view one element in is not 16-byte aligned
        got = ft.nn.functional.linear(x.cuda(), w.cuda(), bc[at:at + 40])
        expected = (x.double() @ w.double().t() + b[at:at + 40].double()).to(dtype)
        same(got, expected)
        assert ft._C._cublaslt_runs() == runs + 1, "the epilogue route was (not) taken"
    one_row = ft.nn.functional.linear(x[:1].cuda(), w.cuda(), b[:40].cuda())
    same(one_row, (x[:1].double() @ w.double().t() + b[:40].double()).to(dtype))
    assert ft._C._cublaslt_runs() == runs + 1
    # The gradients through the fused node.
    xg, wg, bg = (t.cuda().requires_grad_() for t in (x, w, b[:40]))
    ft.nn.functional.linear(xg, wg, bg).sum().backward()
    same(bg.grad, ft.full((40,), 37.0, dtype=dtype))
    same(xg.grad, w.double().sum(0).expand(37, 24).to(dtype))


def test_products_with_matrix_and_batched_biases_take_the_cublas_route():
    a, b = sample((3, 5, 6), ft.float64), sample((3, 6, 4), ft.float64)
    c, m, row = sample((3, 5, 4), ft.float64, seed=1), sample((5, 4), ft.float64, seed=2), sample((1, 4), ft.float64, seed=3)
    runs = ft._C._cublaslt_runs()
    same(c.cuda().baddbmm(a.cuda(), b.cuda()), c.baddbmm(a, b))
    same(m.cuda().addmm(a[0].cuda(), b[0].cuda(), beta=0.5), m.addmm(a[0], b[0], beta=0.5))
    same(row.cuda().addmm(a[0].cuda(), b[0].cuda()), row.addmm(a[0], b[0]))  # float64: cuBLAS
    assert ft._C._cublaslt_runs() == runs


def test_numpy_needs_the_host():
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        ft.ones(2, device="cuda").numpy()
    assert "cuda:0" in repr(ft.ones(2, device="cuda"))


def test_allocator_counts_reuses_and_releases():
    ft.cuda.empty_cache()
    before = ft.cuda.memory_allocated()
    t = ft.empty(16 << 20, device="cuda")  # 64 MiB: a segment of its own, unsplit
    assert ft.cuda.memory_allocated() == before + (64 << 20)
    reserved = ft.cuda.memory_reserved()
    del t
    assert ft.cuda.memory_allocated() == before and ft.cuda.memory_reserved() == reserved
    ft.cuda.empty_cache()
    assert ft.cuda.memory_reserved() <= reserved - (64 << 20)


def test_empty_tensors_take_no_block():
    # PyTorch: a zero-byte CUDA tensor has a null data pointer and allocates nothing.
    before = ft.cuda.memory_allocated()
    e = ft.empty(0, 3, device="cuda")
    assert e.data_ptr() == 0 and ft.cuda.memory_allocated() == before
    # Every kind of op takes empty operands: kernels, cuBLAS, copies, reductions, cuDNN.
    w = ft.ones(3, 4, device="cuda", requires_grad=True)
    y = (e.exp() + 1) @ w
    assert y.shape == (0, 4) and y.sum().item() == 0.0
    y.sum().backward()
    assert w.grad.abs().sum().item() == 0.0
    assert e.cpu().shape == (0, 3) and ft.zeros(0, 3).cuda().shape == (0, 3)
    assert ft.cat([e, ft.ones(1, 3, device="cuda")]).sum().item() == 3.0
    conv = ft.nn.Conv2d(2, 4, 3).cuda()
    assert conv(ft.empty(0, 2, 8, 8, device="cuda")).shape == (0, 4, 6, 6)
    e.record_stream(ft.cuda.Stream())
    del e
    assert ft.empty(0, device="cuda").data_ptr() == 0


def test_allocator_splits_segments_and_reports_pytorchs_counters():
    ft.cuda.empty_cache()
    stats = ft.cuda.memory_stats()
    for key in ("allocation.all.current", "segment.all.current", "inactive_split_bytes.all.current",
                "num_device_alloc", "num_device_free", "num_alloc_retries", "num_ooms"):
        assert key in stats, key
    small = [ft.empty(1000, dtype=ft.uint8, device="cuda") for _ in range(64)]
    after = ft.cuda.memory_stats()
    assert after["allocation.all.current"] == stats["allocation.all.current"] + 64
    # 64 blocks of 1 KiB are cut from at most one new 2 MiB segment.
    assert after["segment.all.current"] <= stats["segment.all.current"] + 1
    assert after["allocated_bytes.all.current"] == stats["allocated_bytes.all.current"] + 64 * 1024
    del small


def test_mem_get_info_and_the_snapshot_see_a_new_tensor():
    free, total = ft.cuda.mem_get_info()
    assert total == ft.cuda.get_device_properties(0).total_memory and 0 < free <= total
    t = ft.empty(3 << 20, dtype=ft.uint8, device="cuda")
    found = [b for s in ft.cuda.memory_snapshot() for b in s["blocks"] if b["address"] == t.data_ptr()]
    assert len(found) == 1 and found[0]["state"] == "active_allocated" and found[0]["size"] == 3 << 20
    for s in ft.cuda.memory_snapshot():
        assert sum(b["size"] for b in s["blocks"]) == s["total_size"]
        assert s["segment_type"] in ("small", "large")


def test_memory_fraction_caps_the_allocator():
    with pytest.raises(TypeError, match="must be `float`"):
        ft.cuda.set_per_process_memory_fraction(1)
    with pytest.raises(ValueError, match="Allowed range: 0~1"):
        ft.cuda.set_per_process_memory_fraction(1.5)
    ft.cuda.empty_cache()
    total = ft.cuda.mem_get_info()[1]
    ft.cuda.set_per_process_memory_fraction(0.1)
    try:
        with pytest.raises(RuntimeError, match="CUDA out of memory"):
            ft.empty(total // 8, dtype=ft.uint8, device="cuda")
        assert ft.ones(10, device="cuda").sum().item() == 10.0
    finally:
        ft.cuda.set_per_process_memory_fraction(1.0)
    t = ft.empty(total // 8, dtype=ft.uint8, device="cuda")
    del t


def test_out_of_memory_raises_and_the_allocator_recovers():
    total = ft.cuda.get_device_properties(0).total_memory
    with pytest.raises(RuntimeError, match="CUDA out of memory. Tried to allocate"):
        ft.empty(2 * total // 4 + (1 << 20), dtype=ft.float32, device="cuda")
    assert ft.ones(10, device="cuda").sum().item() == 10.0


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_where_cat_and_stack_match_the_cpu(dtype):
    a, b = sample((3, 4), dtype, 1), sample((1, 4), dtype, 2)
    cond = sample((3, 1), ft.bool, 3)
    same(ft.where(cond.cuda(), a.cuda(), b.cuda()), ft.where(cond, a, b))
    same(ft.cat([a.cuda(), b.cuda()], 0), ft.cat([a, b], 0))
    same(ft.stack([a.cuda().t(), a.cuda().t()], 1), ft.stack([a.t(), a.t()], 1))
    with pytest.raises(RuntimeError, match="same device"):
        ft.cat([a.cuda(), b])


@pytest.mark.parametrize("dtype", FLOATS)
def test_mean_and_clamp_match_the_cpu(dtype):
    x = sample((6, 50), dtype)
    g = x.cuda()
    same(g.mean(), x.mean())
    same(g.mean(1, keepdim=True), x.mean(1, keepdim=True))
    same(g.clamp(-0.5, 0.5), x.clamp(-0.5, 0.5))
    assert ft.zeros(0, 3, device="cuda", dtype=dtype).mean().cpu().isnan()


def test_in_place_random_fills_and_dropout_on_the_device():
    ft.manual_seed(0)
    u = ft.empty(20_000, device="cuda").uniform_(2.0, 3.0)
    assert u.is_cuda and 2.0 <= u.min().item() and u.max().item() < 3.0
    assert abs(u.mean().item() - 2.5) < 0.01
    n = ft.empty(200, 100, device="cuda").t().normal_(1.0, 2.0)  # a strided destination
    assert abs(n.mean().item() - 1.0) < 0.05 and abs(n.cpu().numpy().std() - 2.0) < 0.05
    b = ft.zeros(20_000, device="cuda").bernoulli_(ft.full((20_000,), 0.25, device="cuda"))
    assert abs(b.mean().item() - 0.25) < 0.015
    x = ft.ones(20_000, device="cuda")
    y = ft.nn.functional.dropout(x, 0.5, training=True)
    kept = (y != 0).float().mean().item()
    assert y.is_cuda and abs(kept - 0.5) < 0.015 and set(np.unique(y.cpu().numpy())) <= {0.0, 2.0}
