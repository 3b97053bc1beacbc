"""Selection, order statistics, unique, histograms, searching, linear algebra and sampling on
CUDA tensors against the CPU, with gradients where they have them. Sorting, running extremes,
logcumsumexp, medians, modes, quantiles, unique, histograms, searchsorted and bincount run on
the device; linear algebra and sampling on a host copy of their input, handing the results back
on the device. Marked `cuda`: skipped without a GPU."""

import numpy as np
import pytest

import ferrotorch as ft

from cuda_helpers import same, sample

pytestmark = pytest.mark.cuda


def on_gpu(result):
    """Every tensor of `result` lives on the GPU."""
    tensors = result if isinstance(result, (tuple, list)) else [result]
    return all(t.device.type == "cuda" for t in tensors if isinstance(t, ft.Tensor))


@pytest.mark.parametrize("name,call", [
    ("sort", lambda t: t.sort(1, descending=True)),
    ("argsort", lambda t: t.argsort(0)),
    ("topk", lambda t: t.topk(3, 1)),
    ("kthvalue", lambda t: t.kthvalue(2, 1)),
    ("cummax", lambda t: t.cummax(1)),
    ("cummin", lambda t: t.cummin(0)),
    ("logcumsumexp", lambda t: t.logcumsumexp(1)),
    ("logsumexp", lambda t: t.logsumexp(1)),
    ("logsumexp_all", lambda t: t.logsumexp((0, 1), keepdim=True)),
    ("median", lambda t: t.median(1)),
    ("nanmedian", lambda t: t.nanmedian()),
    ("mode", lambda t: t.round().mode(1)),
    ("quantile", lambda t: t.quantile(ft.tensor([0.25, 0.5], dtype=t.dtype, device=t.device), dim=1)),
    ("histc", lambda t: t.histc(5, -3.0, 3.0)),
])
def test_selection_and_order_statistics(name, call):
    x = sample((4, 6), ft.float64)
    x[1, 2] = float("nan")
    got, want = call(x.cuda()), call(x)
    assert on_gpu(got)
    for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
        same(g, w)


def test_quantiles_of_every_interpolation_and_empty_q():
    x = sample((5, 40), ft.float64)
    x[2, 7] = float("nan")
    q = ft.tensor([0.0, 0.1, 0.5, 0.99, 1.0], dtype=ft.float64)
    for how in ("linear", "lower", "higher", "midpoint", "nearest"):
        for fn in (ft.quantile, ft.nanquantile):
            same(fn(x.cuda(), q.cuda(), dim=1, interpolation=how), fn(x, q, dim=1, interpolation=how))
            same(fn(x.cuda(), 0.3, dim=0, keepdim=True, interpolation=how), fn(x, 0.3, dim=0, keepdim=True, interpolation=how))
    same(ft.quantile(x.cuda(), ft.tensor([], dtype=ft.float64).cuda(), dim=1), ft.quantile(x, ft.tensor([], dtype=ft.float64), dim=1))
    same(ft.median(x.cuda(), 0)[1], ft.median(x, 0)[1])


def test_gradients_flow_back_to_the_device():
    x = sample((3, 5), ft.float64)
    for call in (lambda t: t.sort(1)[0], lambda t: t.topk(2, 1)[0], lambda t: t.cummax(1)[0], lambda t: t.median(1)[0],
                 lambda t: t.quantile(0.3, dim=1), lambda t: ft.linalg.det(t[:, :3])):
        xc, xg = x.clone().requires_grad_(), x.cuda().requires_grad_()
        call(xc).sum().backward()
        call(xg).sum().backward()
        same(xg.grad, xc.grad)


def test_unique_searching_and_counting():
    x = ft.tensor([[3, 1, 3], [2, 1, 5]])
    for got, want in zip(ft.unique(x.cuda(), return_inverse=True, return_counts=True), ft.unique(x, return_inverse=True, return_counts=True)):
        same(got, want)
    same(ft.unique(x.cuda(), dim=1), ft.unique(x, dim=1))
    same(ft.bincount(x.flatten().cuda(), minlength=7), ft.bincount(x.flatten(), minlength=7))
    for w in (ft.tensor([0.5, 1.0, -2.0, 3.0, 0.25, 1.5]), ft.tensor([0.5, 1.0, -2.0, 3.0, 0.25, 1.5], dtype=ft.float16)):
        same(ft.bincount(x.flatten().cuda(), w.cuda()), ft.bincount(x.flatten(), w))
    with pytest.raises(RuntimeError, match="non-negative"):
        ft.bincount(ft.tensor([1, -1]).cuda())
    edges = ft.tensor([0.0, 1.5, 2.5, 4.0])
    same(ft.searchsorted(edges.cuda(), x.double().cuda(), right=True), ft.searchsorted(edges, x.double(), right=True))
    same(ft.bucketize(x.double().cuda(), edges.cuda()), ft.bucketize(x.double(), edges))
    rows = ft.tensor([[4.0, 1.0, 2.5], [0.5, 3.0, 9.0]])
    sorter = rows.argsort(1)
    needles = ft.tensor([[2.0, float("nan"), 4.0, -1.0], [3.0, 3.0, 10.0, 0.0]])
    for kw in ({"sorter": sorter}, {"sorter": sorter, "side": "right"}):
        gpu_kw = {k: (v.cuda() if isinstance(v, ft.Tensor) else v) for k, v in kw.items()}
        same(ft.searchsorted(rows.cuda(), needles.cuda(), **gpu_kw), ft.searchsorted(rows, needles, **kw))
    same(ft.searchsorted(edges.cuda(), 2.0), ft.searchsorted(edges, 2.0))
    with pytest.raises(RuntimeError, match="same device"):
        ft.searchsorted(edges, x.double().cuda())


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.float16, ft.int64, ft.int16, ft.uint8, ft.bool])
def test_mode_and_unique_in_every_dtype(dtype):
    """Ties between runs (the smallest wins), NaN runs, both zeros, every dim and keepdim; unique
    sorted and consecutive, over elements and over slices, with inverse and counts."""
    x = sample((5, 8), dtype, seed=4)
    if dtype in (ft.float32, ft.float64, ft.float16):
        x = x.round()
        x[1, :3] = float("nan")
        x[2, 4], x[2, 5] = 0.0, -0.0
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            for g, w in zip(x.cuda().mode(dim, keepdim), x.mode(dim, keepdim)):
                same(g, w)
    for kw in ({}, {"return_inverse": True, "return_counts": True}, {"dim": 0, "return_inverse": True, "return_counts": True},
               {"dim": 1, "return_counts": True}):
        for fn in (ft.unique, ft.unique_consecutive):
            got, want = fn(x.cuda(), **kw), fn(x, **kw)
            assert on_gpu(got)
            for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
                same(g, w)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.float16])
def test_histograms_on_the_device(dtype):
    """histc over the data's range and a given one; histogram with equal bins (the rounded-edge
    correction), with given edges, weights and density; values on the edges, outside, NaN."""
    x = ft.tensor(np.random.default_rng(5).uniform(-2, 3, 300)).to(dtype)
    x[:6] = ft.tensor([-2.0, 3.0, 0.0, 0.5, 10.0, float("inf")]).to(dtype)
    w = ft.tensor(np.random.default_rng(6).uniform(0, 2, 300)).to(dtype)
    # The data's own range must be finite, as in PyTorch: with the infinity, both devices refuse.
    for device in ("cpu", "cuda"):
        with pytest.raises(RuntimeError, match=r"range of \[-2, inf\] is not finite"):
            x.to(device).histc(7)
    finite = x.nan_to_num(posinf=3.0)
    same(finite.cuda().histc(7), finite.histc(7))
    same(finite.cuda().histc(10, 0.5, 0.5), finite.histc(10, 0.5, 0.5))  # min == max: the data's range
    same(x.cuda().histc(4, -1.0, 1.0), x.histc(4, -1.0, 1.0))
    for kw in ({}, {"range": (-1.0, 2.0)}, {"weight": w, "density": True}, {"density": True}):
        gkw = {k: (v.cuda() if isinstance(v, ft.Tensor) else v) for k, v in kw.items()}
        data = x if "range" in kw else finite  # the data's own range must be finite
        for g, e in zip(ft.histogram(data.cuda(), 12, **gkw), ft.histogram(data, 12, **kw)):
            same(g, e)
    edges = ft.tensor([-2.0, -0.5, 0.0, 0.0, 1.25, 3.0]).to(dtype)
    for g, e in zip(ft.histogram(x.cuda(), edges.cuda(), weight=w.cuda()), ft.histogram(x, edges, weight=w)):
        same(g, e)
    same(ft.tensor([3, 1, 3, 9]).cuda().histc(4, 0, 8), ft.tensor([3.0, 1, 3, 9]).histc(4, 0, 8).long())


def test_nll_loss_reads_its_targets_on_the_device():
    """cross_entropy and nll_loss on the device against the CPU: class weights, ignored targets,
    every reduction, spatial targets, gradients; a target out of range raises the CPU's
    IndexError at the next wait."""
    logits = sample((6, 5, 3), ft.float32)
    target = ft.tensor(np.random.default_rng(7).integers(0, 5, (6, 3)))
    target[2, 1] = -100
    weight = ft.tensor([0.5, 2.0, 1.0, 0.25, 1.5])
    for reduction in ("none", "sum", "mean"):
        for w in (None, weight):
            xc, xg = logits.clone().requires_grad_(), logits.cuda().requires_grad_()
            lc = ft.nn.functional.cross_entropy(xc, target, weight=w, reduction=reduction)
            lg = ft.nn.functional.cross_entropy(xg, target.cuda(), weight=None if w is None else w.cuda(), reduction=reduction)
            same(lg, lc)
            lc.sum().backward()
            lg.sum().backward()
            same(xg.grad, xc.grad)
    bad = target.clone()
    bad[0, 0] = 7
    loss = ft.nn.functional.cross_entropy(logits.cuda(), bad.cuda())
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        loss.item()
    same(ft.nn.functional.nll_loss(logits.cuda(), target.cuda()), ft.nn.functional.nll_loss(logits, target))


def test_linear_algebra():
    a = sample((2, 4, 4), ft.float64) + 4 * ft.eye(4, dtype=ft.float64)
    b = sample((2, 4, 3), ft.float64)
    spd = a @ a.transpose(1, 2)
    same(ft.linalg.det(a.cuda()), ft.linalg.det(a))
    same(ft.linalg.inv(a.cuda()), ft.linalg.inv(a))
    same(ft.linalg.solve(a.cuda(), b.cuda()), ft.linalg.solve(a, b))
    same(ft.linalg.cholesky(spd.cuda()), ft.linalg.cholesky(spd))
    same(ft.linalg.eigvalsh(spd.cuda()), ft.linalg.eigvalsh(spd))
    same(ft.linalg.svdvals(a.cuda()), ft.linalg.svdvals(a))
    q, r = ft.linalg.qr(a.cuda())
    assert on_gpu((q, r))
    same(q @ r, a)
    same(ft.linalg.matrix_rank(a.cuda()), ft.linalg.matrix_rank(a))
    same(ft.linalg.pinv(b.cuda()), ft.linalg.pinv(b))
    same(ft.linalg.matrix_norm(a.cuda(), "nuc"), ft.linalg.matrix_norm(a, "nuc"))
    same(ft.linalg.matrix_norm(a.cuda(), 1), ft.linalg.matrix_norm(a, 1))
    sol = ft.linalg.lstsq(a.cuda(), b.cuda()).solution
    same(sol, ft.linalg.lstsq(a, b).solution)
    with pytest.raises(RuntimeError, match="same device"):
        ft.linalg.solve(a.cuda(), b)


def test_sampling_stays_on_the_device():
    p = ft.tensor([[0.1, 0.0, 0.9], [0.5, 0.5, 0.0]], device="cuda")
    ft.manual_seed(0)
    s = ft.multinomial(p, 2)
    assert s.device.type == "cuda" and s.shape == (2, 2)
    assert bool((s.cpu()[0] != 1).all()) and bool((s.cpu()[1] != 2).all())
    rates = ft.full((1000,), 3.0, device="cuda")
    draws = ft.poisson(rates)
    assert draws.device.type == "cuda"
    assert abs(float(draws.mean()) - 3.0) < 0.3
