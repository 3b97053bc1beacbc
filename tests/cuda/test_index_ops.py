"""Index ops, arg-reductions and products on CUDA tensors against the CPU: gather/scatter in
every combine rule (duplicates accumulate through atomics), index_select/index_add_/index_put_,
boolean masks, nonzero, argmax/argmin and max/min along a dim (NaN and ties), prod, all/any,
cumsum/cumprod, cummax/cummin; index values out of range, raised at the next wait.
Marked `cuda`: skipped without a GPU, run by `make gpu-check`."""

import numpy as np
import pytest

import ferrotorch as ft

from cuda_helpers import ALL_DTYPES, FLOATS, same, sample

pytestmark = pytest.mark.cuda

NUMERIC = [d for d in ALL_DTYPES if d != ft.bool]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_gather_and_index_select(dtype):
    x = sample((5, 7), dtype)
    idx = ft.tensor([[0, 4, 4], [2, 1, 0]])
    same(x.cuda().gather(1, idx.cuda()), x.gather(1, idx))
    same(x.cuda().t().gather(0, idx.t().contiguous().cuda()), x.t().gather(0, idx.t().contiguous()))
    rows = ft.tensor([4, 0, 4, 2])
    same(x.cuda().index_select(0, rows.cuda()), x.index_select(0, rows))
    same(x.cuda()[rows.cuda()], x[rows])
    same(x.cuda()[:, [6, 1]], x[:, [6, 1]])
    same(x.cuda().take(ft.tensor([0, 34, 12]).cuda()), x.take(ft.tensor([0, 34, 12])))


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("reduce", ["sum", "prod", "amax", "amin", "mean"])
def test_scatter_reduce_with_duplicates(dtype, reduce):
    if reduce == "mean" and not dtype.is_floating_point:
        pytest.skip("integer mean rounds; covered by the float dtypes")
    base = sample((3, 6), dtype, seed=1)
    src = sample((3, 8), dtype, seed=2)
    idx = ft.tensor(np.random.default_rng(3).integers(0, 6, size=(3, 8)))
    for include_self in (True, False):
        want = base.scatter_reduce(1, idx, src, reduce, include_self=include_self)
        got = base.cuda().scatter_reduce(1, idx.cuda(), src.cuda(), reduce, include_self=include_self)
        same(got, want)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_scatter_and_scatter_add(dtype):
    base = sample((4, 5), dtype)
    src = sample((2, 5), dtype, seed=4)
    idx = ft.tensor([[0, 1, 2, 3, 0], [3, 2, 1, 0, 1]])  # one destination per column: no race
    same(base.cuda().scatter(0, idx.cuda(), src.cuda()), base.scatter(0, idx, src))
    same(base.cuda().scatter(0, idx.cuda(), 3), base.scatter(0, idx, 3))
    dup = ft.tensor([[0, 0, 2, 2, 0], [0, 0, 2, 2, 0]])
    same(base.cuda().scatter_add(0, dup.cuda(), src.cuda()), base.scatter_add(0, dup, src))


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16, ft.float32, ft.float64, ft.int32, ft.int64, ft.uint8])
def test_index_add_and_index_put_accumulate_duplicates(dtype):
    base = sample((6, 3), dtype)
    src = sample((5, 3), dtype, seed=5)
    idx = ft.tensor([1, 4, 1, 1, 0])
    same(base.cuda().index_add(0, idx.cuda(), src.cuda()), base.index_add(0, idx, src))
    g, c = base.cuda(), base.clone()
    g.index_put_((idx.cuda(),), src.cuda(), accumulate=True)
    c.index_put_((idx,), src, accumulate=True)
    same(g, c)


def test_many_atomic_adds_to_one_place_lose_nothing():
    # 100,000 float64 ones into 3 slots: exact in float64 whatever the order.
    idx = ft.tensor(np.arange(100_000) % 3)
    out = ft.zeros(3, dtype=ft.float64, device="cuda").index_add(0, idx.cuda(), ft.ones(100_000, dtype=ft.float64, device="cuda"))
    assert out.tolist() == [33334.0, 33333.0, 33333.0]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_boolean_masks(dtype):
    x = sample((4, 6), dtype)
    mask = sample((4, 6), ft.bool, seed=7)
    g, m = x.cuda(), mask.cuda()
    same(g[m], x[mask])
    same(g.masked_select(m[0]), x.masked_select(mask[0]))  # broadcast mask
    same(g.masked_fill(m, 1), x.masked_fill(mask, 1))
    source = sample((24,), dtype, seed=8)
    same(g.masked_scatter(m, source.cuda()), x.masked_scatter(mask, source))
    t = g.t()  # a strided destination
    t.masked_fill_(m.t(), 0)
    same(g, x.masked_fill(mask, 0))
    same(ft.nonzero(x.cuda()), ft.nonzero(x))


def test_masked_fill_of_a_view_writes_through():
    g = ft.zeros(3, 4, device="cuda")
    g[:, 1:3].masked_fill_(ft.tensor([True, False], device="cuda"), 5.0)
    assert g.cpu().tolist() == [[0, 5, 0, 0]] * 3


@pytest.mark.parametrize("dtype", NUMERIC)
def test_argmax_argmin_and_max_dim(dtype):
    x = sample((6, 9), dtype)
    g = x.cuda()
    for dim in (0, 1, -1):
        same(g.argmax(dim), x.argmax(dim))
        same(g.argmin(dim, keepdim=True), x.argmin(dim, keepdim=True))
        for got, want in zip(g.max(dim), x.max(dim)):
            same(got, want)
        for got, want in zip(g.t().min(dim), x.t().min(dim)):
            same(got, want)
    same(g.argmax(), x.argmax())


def test_arg_reductions_pick_the_first_of_ties_and_of_nans():
    x = ft.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, float("nan"), 5.0, float("nan")], [-1.0, -1.0, -1.0, -1.0]])
    g = x.cuda()
    assert g.argmax(1).tolist() == [1, 1, 0]
    assert g.argmin(1).tolist() == [3, 1, 0]
    values, indices = g.max(1)
    assert indices.tolist() == [1, 1, 0] and np.isnan(values.cpu().numpy()[1])
    long_row = ft.zeros(100_000, device="cuda")
    long_row[77_777] = 1.0
    long_row[88_888] = 1.0
    assert long_row.argmax().item() == 77_777


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_prod_all_any_count_nonzero(dtype):
    x = sample((3, 5), dtype)
    g = x.cuda()
    same(g.prod(), x.prod())
    same(g.prod(1), x.prod(1))
    same(g.prod(0, keepdim=True), x.prod(0, keepdim=True))
    same(g.all(), x.all())
    same(g.any(1), x.any(1))
    same(g.all(0), x.all(0))
    same(ft.count_nonzero(g, 1), ft.count_nonzero(x, 1))
    empty = ft.zeros(3, 0, dtype=dtype)
    same(empty.cuda().all(1), empty.all(1))
    same(empty.cuda().any(1), empty.any(1))


@pytest.mark.parametrize("dtype", FLOATS)
def test_gradients_through_gather_index_select_and_max(dtype):
    x = sample((4, 5), dtype)
    idx = ft.tensor([[0, 2], [1, 1], [4, 0], [3, 3]])
    for op in (lambda t: t.gather(1, idx.to(t.device)), lambda t: t.index_select(1, idx[0].to(t.device)),
               lambda t: t.max(1)[0], lambda t: t[idx[:, 1].to(t.device)]):
        gx, cx = x.cuda().requires_grad_(), x.clone().requires_grad_()
        (op(gx) * 2).sum().backward()
        (op(cx) * 2).sum().backward()
        same(gx.grad, cx.grad)


def test_embedding_forward_and_backward():
    weight = sample((10, 4), ft.float32)
    ids = ft.tensor([[1, 3, 3], [9, 0, 1]])
    gw, cw = weight.cuda().requires_grad_(), weight.clone().requires_grad_()
    go = ft.nn.functional.embedding(ids.cuda(), gw)
    co = ft.nn.functional.embedding(ids, cw)
    same(go, co)
    go.pow(2).sum().backward()
    co.pow(2).sum().backward()
    same(gw.grad, cw.grad)


def test_index_on_another_device_and_out_of_range():
    g = ft.arange(6.0, device="cuda")
    with pytest.raises(IndexError, match="index 6 is out of bounds for dimension 0 with size 6"):
        g[ft.tensor([6])]  # a host index: checked at once
    with pytest.raises(IndexError, match="index 6 is out of bounds for dimension 0 with size 6"):
        g[ft.tensor([6], device="cuda")].cpu()  # a device index: at the next wait
    with pytest.raises(RuntimeError, match="same device"):
        ft.zeros(3, device="cuda").scatter_(0, ft.tensor([0, 1]), ft.ones(2))


OUT_OF_RANGE = [
    ("gather", lambda x, i: x.gather(1, i.view(1, 2).expand(4, 2)), RuntimeError, "index 9 is out of bounds for dimension 1 with size 5"),
    ("scatter_add", lambda x, i: x.scatter_add(1, i.view(1, 2), ft.ones(1, 2, device=x.device)), RuntimeError,
     "index 9 is out of bounds for dimension 1 with size 5"),
    ("index_select", lambda x, i: x.index_select(1, i), IndexError, "index out of range in self"),
    ("index_add", lambda x, i: x.index_add(1, i, ft.ones(4, 2, device=x.device)), IndexError, "index out of range in self"),
    ("index_copy", lambda x, i: x.index_copy(1, i, ft.ones(4, 2, device=x.device)), IndexError,
     r"index_copy_\(\): index 9 is out of bounds for dimension 1 with size 5"),
    ("index_fill", lambda x, i: x.index_fill(1, i, 2.0), IndexError, "index 9 is out of bounds for dimension 1 with size 5"),
    ("getitem", lambda x, i: x[:, i], IndexError, "index 9 is out of bounds for dimension 1 with size 5"),
    ("setitem", lambda x, i: _setitem(x, i), IndexError,
     "index 9 is out of bounds for dimension 1 with size 5"),
    ("take", lambda x, i: x.take(i + 11), IndexError, "out of range: tried to access index 20 on a tensor of 20 elements."),
    ("put", lambda x, i: x.clone().put_(i + 11, ft.ones(2, device=x.device), accumulate=True), IndexError,
     "out of range: tried to access index 20 on a tensor of 20 elements."),
    ("getitem_two", lambda x, i: x[i.view(2, 1) % 4, i], IndexError, "index 9 is out of bounds for dimension 1 with size 5"),
    ("setitem_two", lambda x, i: x.clone().index_put_((i % 4, i), ft.ones(2, device=x.device)), IndexError,
     "index 9 is out of bounds for dimension 1 with size 5"),
    ("index_put_accumulate", lambda x, i: x.t().index_put((i,), ft.ones(2, 4, device=x.device), accumulate=True), IndexError,
     "index 9 is out of bounds for dimension 0 with size 5"),
]


def _setitem(x, i):
    y = x.clone()
    y[:, i] = ft.tensor([[1.0, -2.0]], device=x.device)
    return y


@pytest.mark.parametrize("name,op,error,message", OUT_OF_RANGE, ids=[c[0] for c in OUT_OF_RANGE])
@pytest.mark.parametrize("wait", ["synchronize", "cpu", "item"])
def test_index_values_out_of_range_raise_at_the_next_wait(name, op, error, message, wait):
    """One-dim index ops read their index on the device (no wait): a value out of range is
    raised, with the CPU's error, by the next call that waits for the device; the device then
    keeps working and the fault is not raised twice."""
    x = sample((4, 5), ft.float32).cuda()
    with pytest.raises(error, match=message):
        op(x, ft.tensor([9, 1]))  # the CPU index is checked on the host, at once
    out = op(x, ft.tensor([9, 1], device="cuda"))  # queued; nothing waits
    with pytest.raises(error, match=message):
        if wait == "synchronize":
            ft.cuda.synchronize()
        elif wait == "cpu":
            out.cpu()
        else:
            out.sum().item()
    ft.cuda.synchronize()  # reported once
    same(op(x, ft.tensor([4, 1], device="cuda")), op(x.cpu(), ft.tensor([4, 1])))


def test_negative_index_fill_positions_count_from_the_end_on_the_device():
    x = sample((3, 6), ft.float64)
    idx = ft.tensor([-1, 0, -6])
    same(x.cuda().index_fill(1, idx.cuda(), -7.0), x.index_fill(1, idx, -7.0))
    with pytest.raises(IndexError, match="index -7 is out of bounds for dimension 1 with size 6"):
        x.cuda().index_fill(1, ft.tensor([-7], device="cuda"), 0.0).cpu()


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_cumsum_and_cumprod_along_every_dim(dtype):
    x = sample((3, 4, 5), dtype)
    if dtype.is_floating_point:
        x = x * 0.5  # keeps products of 5 factors well inside float16
    g = x.cuda()
    for dim in (0, 1, 2, -1):
        same(g.cumsum(dim), x.cumsum(dim))
        same(g.cumprod(dim), x.cumprod(dim))
    same(g.t().cumsum(0) if g.ndim == 2 else g.transpose(0, 2).cumsum(1), x.transpose(0, 2).cumsum(1))


def test_cumsum_of_a_long_row_carries_between_chunks():
    x = ft.ones(10_000, dtype=ft.float64)
    got = x.cuda().cumsum(0).cpu().numpy()
    np.testing.assert_array_equal(got, np.arange(1, 10_001, dtype=np.float64))
    ints = ft.arange(3000, dtype=ft.int32)
    assert ints.cuda().cumsum(0).cpu().tolist() == np.cumsum(np.arange(3000)).tolist()
    assert ints.cuda().cumsum(0).dtype == ft.int64


def test_cumsum_gradient():
    x = sample((4, 6), ft.float64)
    g, c = x.cuda().requires_grad_(), x.clone().requires_grad_()
    (g.cumsum(1) ** 2).sum().backward()
    (c.cumsum(1) ** 2).sum().backward()
    same(g.grad, c.grad)


def test_zero_d_host_operands_join_cuda_index_ops():
    # A 0-d CPU mask, and a 0-d CPU value that is a view at an offset into a larger tensor.
    g = ft.arange(6.0, device="cuda")
    g.masked_fill_(ft.tensor(True), 7.0)
    assert g.cpu().tolist() == [7.0] * 6
    values = ft.tensor([0.5, 1.5, 2.5, 3.5])
    g[ft.tensor([1, 4], device="cuda")] = values[3]
    assert g.cpu().tolist() == [7.0, 3.5, 7.0, 7.0, 3.5, 7.0]
    x = ft.zeros(4, device="cuda")
    x.index_fill_(0, ft.tensor([0, 2], device="cuda"), values[2])
    assert x.cpu().tolist() == [2.5, 0.0, 2.5, 0.0]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_running_extremes_on_the_device(dtype, op):
    """cummax/cummin run on the device (scan.cu): values and positions equal the CPU's, ties
    moving the position forward and NaN sticking, along a contiguous and a strided dim."""
    x = (sample((6, 1500), dtype) if dtype == ft.bool else sample((6, 1500), dtype).clamp(-2, 2))
    if dtype.is_floating_point:
        x[1, 700], x[2, 3], x[3, 900] = float("nan"), float("inf"), -float("inf")
    for dim in (1, 0):
        for got, want in zip(getattr(x.cuda(), op)(dim), getattr(x, op)(dim)):
            same(got, want)


def test_masks_and_index_values_on_a_user_stream():
    """Large masked ops and index ops queue on the current stream (not on a worker thread's),
    and a fault on a user stream is raised when that stream is waited for."""
    x = sample((400, 100), ft.float32)
    m = x > 0.3
    s = ft.cuda.Stream()
    with ft.cuda.stream(s):
        gx, gm = x.cuda(), m.cuda()
        selected, indexed = gx.masked_select(gm), gx[gm]
        scattered = gx.clone().masked_scatter_(gm, -gx)
        picked = gx.index_select(1, ft.tensor([99, 0, 5], device="cuda"))
        bad = gx.index_select(1, ft.tensor([100], device="cuda"))
        with pytest.raises(IndexError, match="index out of range in self"):
            s.synchronize()
    same(selected, x.masked_select(m))
    same(indexed, x[m])
    same(scattered, x.clone().masked_scatter_(m, -x))
    same(picked, x.index_select(1, ft.tensor([99, 0, 5])))
    del bad


@pytest.mark.parametrize("dtype", [ft.float32, ft.int64, ft.bfloat16])
def test_many_index_tensors_on_the_device(dtype):
    """t[rows, cols] and its writes with index tensors on the device (checked there, their deltas
    summed in device ops): broadcasting, negative values, separated index dims, duplicates
    accumulating."""
    x = sample((5, 6, 7), dtype)
    rows, cols = ft.tensor([[0], [-1], [3]]), ft.tensor([6, -7, 2, 2])
    g = (x.cuda(), rows.cuda(), cols.cuda())
    same(g[0][g[1], :, g[2]], x[rows, :, cols])
    same(g[0][g[1], 1:4, g[2]], x[rows, 1:4, cols])
    same(g[0][:, g[1].view(-1), g[2][:3]], x[:, rows.view(-1), cols[:3]])
    vals = sample((3, 4, 6), dtype, seed=3)
    same(g[0].index_put((g[1], g[1] * 0, g[2]), vals[:, :, 0].cuda(), accumulate=True),
         x.index_put((rows, rows * 0, cols), vals[:, :, 0], accumulate=True))
    distinct = ft.tensor([6, -7, 2, 3])  # plain writes to one place twice keep either value on CUDA
    y, yc = x.clone(), x.cuda().clone()
    y[rows, :, distinct] = vals
    yc[g[1], :, distinct.cuda()] = vals.cuda()
    same(yc, y)
