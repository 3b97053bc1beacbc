"""Ops that CUDA runs as compositions of other device ops (or on the host, moved back), and the
gradients whose formulas make fresh tensors: each result must live on the GPU and equal the CPU's,
in every dtype the op takes. The first GPU run found each of these failing (a host-only loop, or
a fresh CPU tensor meeting a CUDA one). Marked `cuda`: skipped without a GPU."""

import numpy as np
import pytest

import ferrotorch as ft

pytestmark = pytest.mark.cuda

from cuda_helpers import ALL_DTYPES, FLOATS, same, sample


def special_values(dtype):
    """A (3, 4) float sample with NaN, both infinities and both zeros."""
    x = sample((3, 4), dtype)
    x[0, 0], x[0, 1], x[1, 2], x[2, 3], x[2, 0] = float("nan"), float("inf"), float("-inf"), -0.0, 0.0
    return x


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "logical_not", "nan_to_num", "frac"])
def test_float_tests_and_fixes(op, dtype):
    x = special_values(dtype)
    got, want = getattr(x.cuda(), op)(), getattr(x, op)()
    assert got.is_cuda
    same(got, want)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_logical_and_bitwise_not_every_dtype(dtype):
    x = sample((3, 5), dtype)
    same(x.cuda().logical_not(), x.logical_not())
    if not dtype.is_floating_point:
        same(~x.cuda(), ~x)
    if dtype != ft.bool:
        for name in ("isnan", "isinf", "isfinite", "signbit"):
            same(getattr(x.cuda(), name)(), getattr(x, name)())


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.int64, ft.bool])
def test_triangles_flips_repeats_and_diagonals(dtype):
    x = sample((2, 4, 5), dtype)
    g = x.cuda()
    for k in (-1, 0, 2):
        same(g.tril(k), x.tril(k))
        same(g.triu(k), x.triu(k))
    same(g[:, ::2].triu(), x[:, ::2].triu())  # a strided input
    same(g.flip(0, 2), x.flip(0, 2))
    same(g[0].fliplr(), x[0].fliplr())
    same(g[0].rot90(1, (0, 1)), x[0].rot90(1, (0, 1)))
    same(g.repeat(2, 1, 3), x.repeat(2, 1, 3))
    same(g.repeat_interleave(2, 1), x.repeat_interleave(2, 1))
    same(g[0, 0].diag(), x[0, 0].diag())
    same(ft.diag_embed(g[:, 0]), ft.diag_embed(x[:, 0]))
    same(ft.block_diag(g[0, :2], g[1, :1, :3]), ft.block_diag(x[0, :2], x[1, :1, :3]))
    same(g[0].t().trace(), x[0].t().trace())


@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_reductions_rounding_and_logit(dtype):
    x = special_values(dtype)
    x[1, 2] = 2.5  # no infinities for the sums
    x[0, 1] = -1.5
    g = x.cuda()
    for dims in (None, 0, 1):
        same(g.nansum(dims), x.nansum(dims))
        same(g.nanmean(dims), x.nanmean(dims))
    same(g.round(), x.round())
    same(g.round(decimals=1), x.round(decimals=1))
    p = ft.tensor([0.0, 0.1, 0.5, 0.9, 1.0]).to(dtype)
    same(p.cuda().logit(), p.logit())
    same(p.cuda().logit(1e-3), p.logit(1e-3))


def test_einsum_vecdot_matrix_power_and_vander():
    a, b = sample((3, 4), ft.float64), sample((3, 4), ft.float64, seed=1)
    same(ft.einsum("ij->i", a.cuda()), ft.einsum("ij->i", a))
    same(ft.einsum("ij,ij->j", a.cuda(), b.cuda()), ft.einsum("ij,ij->j", a, b))
    same(ft.linalg.vecdot(a.cuda(), b.cuda()), ft.linalg.vecdot(a, b))
    n = sample((3, 4), ft.int64)
    same(ft.einsum("ij->i", n.cuda()), ft.einsum("ij->i", n))
    m = sample((3, 3), ft.float64)
    same(ft.linalg.matrix_power(m.cuda(), 0), ft.linalg.matrix_power(m, 0))
    v = ft.tensor([1.0, 2.0, -0.5])
    same(ft.vander(v.cuda(), 4), ft.vander(v, 4))


def grads_match(fn, x):
    """fn's gradient at x (float64) on the GPU equals the CPU's, and lives on the GPU."""
    xc, xg = x.clone().requires_grad_(), x.cuda().requires_grad_()
    probe = sample(tuple(fn(xc.detach()).shape), ft.float64, seed=9)
    (fn(xc) * probe).sum().backward()
    (fn(xg) * probe.cuda()).sum().backward()
    assert xg.grad.is_cuda
    same(xg.grad, xc.grad)


@pytest.mark.parametrize("name,fn", [
    ("in-place through a view", lambda t: (lambda y: (y[:, 1].mul_(3.0), y)[1])(t * 1.0)),
    ("index_put_ accumulate", lambda t: (t * 1.0).index_put_((ft.tensor([0, 2, 0]),), ft.ones(3, 4, dtype=ft.float64).to(t.device), accumulate=True)),
    ("scatter of a value", lambda t: t.scatter(1, ft.tensor([[0], [2], [1]]).to(t.device), 5.0)),
    ("max along a dim", lambda t: t.max(1)[0]),
    ("cummax", lambda t: t.cummax(1)[0]),
    ("gather", lambda t: t.gather(1, ft.tensor([[0, 3], [1, 1], [2, 0]]).to(t.device))),
    ("index_select", lambda t: t.index_select(1, ft.tensor([3, 0, 3]).to(t.device))),
    ("overlapping view", lambda t: t.as_strided((3, 3), (1, 1))),
    ("trace", lambda t: t[:, :3].trace()),
    ("tril", lambda t: t.tril()),
    ("flip", lambda t: t.flip(1)),
    ("repeat", lambda t: t.repeat(2, 1)),
    ("digamma", lambda t: (t.abs() + 0.5).digamma()),
    ("an unused output", lambda t: t.sort(1)[0][:, :2]),
    ("det", lambda t: ft.linalg.det(t[:, :3])),
    ("qr", lambda t: ft.linalg.qr(t[:, :3])[1]),
])
def test_gradients_stay_on_the_device(name, fn):
    grads_match(fn, sample((3, 4), ft.float64, seed=3))


def test_embedding_and_lstm_backward_on_the_device():
    ft.manual_seed(0)
    emb, lstm = ft.nn.Embedding(7, 4), ft.nn.LSTM(4, 5, batch_first=True)
    idx = ft.tensor([[1, 3, 3, 6], [0, 1, 2, 1]])
    grads = []
    for device in ("cpu", "cuda"):
        e, l = emb.to(device), lstm.to(device)
        for p in list(e.parameters()) + list(l.parameters()):
            p.grad = None
        out, _ = l(e(idx.to(device)))
        out[:, -1].sum().backward()  # h_n and c_n get no gradient: zeros made on the device
        grads.append([p.grad.cpu() for p in list(e.parameters()) + list(l.parameters())])
    for g, c in zip(grads[1], grads[0]):
        np.testing.assert_allclose(g.double().numpy(), c.double().numpy(), rtol=1e-4, atol=1e-5)


def test_cuda_autocast_casts_by_pytorchs_cuda_lists():
    x, w = sample((4, 8), ft.float32).cuda(), sample((3, 8), ft.float32, seed=1).cuda()
    y = ft.tensor([0, 2, 1, 1], device="cuda")
    with ft.autocast("cuda"):  # float16 by default on CUDA
        assert (x @ w.t()).dtype == ft.float16
        assert ft.nn.functional.linear(x, w).dtype == ft.float16
        logits = ft.nn.functional.linear(x, w)
        assert ft.nn.functional.cross_entropy(logits, y).dtype == ft.float32
        assert (x.cpu() @ w.cpu().t()).dtype == ft.float32  # the CPU region is off
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            ft.nn.functional.binary_cross_entropy(x.sigmoid(), x.sigmoid())
    with ft.autocast("cuda", dtype=ft.bfloat16):
        assert ft.nn.functional.conv2d(x.view(1, 1, 4, 8), w[:1, :4].reshape(1, 1, 2, 2)).dtype == ft.bfloat16
    with ft.autocast("cpu"):
        assert (x @ w.t()).dtype == ft.float32  # the CUDA region is off


def test_cuda_autocast_runs_the_float32_list_in_float32():
    """PyTorch's CUDA float32 list: a float16 activation into softmax, sum, exp, pow, layer_norm
    and the norms comes out float32 (the values of float32 maths on it); an explicit dtype wins."""
    F = ft.nn.functional
    x = sample((4, 8), ft.float32).cuda()
    h = x.half()
    with ft.autocast("cuda"):
        for name, op in [("softmax", lambda t: t.softmax(-1)), ("log_softmax", lambda t: F.log_softmax(t, -1)),
                         ("sum", lambda t: t.sum(0)), ("exp", ft.exp), ("pow", lambda t: t ** 2),
                         ("layer_norm", lambda t: F.layer_norm(t, (8,))), ("norm", lambda t: t.norm()),
                         ("cumsum", lambda t: t.cumsum(1)), ("logsumexp", lambda t: t.logsumexp(1))]:
            got = op(h)
            assert got.dtype == ft.float32, name
            np.testing.assert_allclose(got.cpu().numpy(), op(h.float()).cpu().numpy(), rtol=1e-6, atol=1e-6, err_msg=name)
        # A number first keeps the tensor's cast (pow.Scalar is listed); out= forms are not cast.
        assert (2 ** h).dtype == ft.float32 and ft.pow(2, h).dtype == ft.float32
        assert ft.atan2(h, h).dtype == ft.float16  # promote: the widest input
        out = ft.empty(4, 8, dtype=ft.float16, device="cuda")
        assert ft.pow(h, 2, out=out) is out and out.dtype == ft.float16
        assert h.sum(0, dtype=ft.float16).dtype == ft.float16
        assert (h + h).dtype == ft.float16  # not listed
        assert ft.dot(h[0], x[1]).dtype == ft.float32  # promote


@pytest.mark.parametrize("opt", [ft.optim.SGD, ft.optim.Adam])
def test_one_optimizer_over_parameters_on_both_devices(opt):
    """PyTorch's foreach groups parameters by device: a CPU and a CUDA parameter in one list each
    take their device's update."""
    start = [sample((4, 3), ft.float32), sample((5,), ft.float32, seed=1)]
    mixed = [start[0].clone().requires_grad_(), start[1].cuda().requires_grad_()]
    ref = [p.clone().requires_grad_() for p in start]
    om, orf = opt(mixed, lr=0.1), opt(ref, lr=0.1)
    for step in range(3):
        for m, r in zip(mixed, ref):
            g = sample(tuple(r.shape), ft.float32, seed=10 + step)
            m.grad, r.grad = g.to(m.device), g.clone()
        om.step()
        orf.step()
    assert mixed[0].is_cpu and mixed[1].is_cuda
    for m, r in zip(mixed, ref):
        np.testing.assert_allclose(m.detach().cpu().numpy(), r.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.int64])
def test_reductions_read_strided_inputs_in_place(dtype):
    """Every shape of reduction the kernels pick between: rows folded by blocks (split when few
    and long), a thread per row when rows are neighbours in memory (chunked when columns are
    long), batch norm's statistics, transposed and broadcast views, and more dims than the
    kernels take (copied into rows)."""
    cases = [
        (sample((384, 2000), dtype), (1,)),  # dense rows
        (sample((2000, 384), dtype), (0,)),  # neighbours, long columns: chunks
        (sample((40, 600), dtype), (0,)),  # neighbours, short columns
        (sample((8, 16, 6, 5), dtype), (0, 2, 3)),  # batch norm: channels of strided runs
        (sample((300, 70), dtype).t(), (1,)),  # a transposed view
        (sample((5, 1, 7), dtype).expand(5, 9, 7), (0, 2)),  # an expanded (stride 0) view
        (sample((2,) * 10, dtype).permute(*range(9, -1, -1)), tuple(range(9))),  # 9 reduced dims
        (sample((3, 0, 4), dtype), (1,)),  # empty rows
    ]
    for x, dims in cases:
        if dtype.is_floating_point:
            # Sums in another order: within the float error bound of the sum of magnitudes.
            got, ref = x.cuda().sum(dims).cpu().double(), x.double().sum(dims)
            bound = x.double().abs().sum(dims) * (1e-6 if dtype == ft.float32 else 1e-14) + 1e-30
            assert got.shape == ref.shape and bool(((got - ref).abs() <= bound).all())
        else:
            same(x.cuda().sum(dims), x.sum(dims))
            same(x.cuda().sum(dims, keepdim=True), x.sum(dims, keepdim=True))
        if x.numel():
            same(x.cuda().amax(dims), x.amax(dims))
    if dtype.is_floating_point:
        x = sample((64, 3, 9, 9), dtype)
        same(x.cuda().mean((0, 2, 3)), x.mean((0, 2, 3)))
        same(x.cuda().var((0, 2, 3)), x.var((0, 2, 3)))


def test_flip_without_flipped_dims_copies():
    g = ft.tensor(3.5, device="cuda")
    out = g.flip(0)
    assert out.is_cuda and out.item() == 3.5
    g.fill_(1.0)
    assert out.item() == 3.5  # a copy, not a view
