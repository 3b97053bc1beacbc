"""The first nn kernels on CUDA tensors against the CPU: softmax/log_softmax along any dim and
nll_loss/cross_entropy (weights, ignore_index, every reduction, spatial targets), with their
gradients. Marked `cuda`: skipped without a GPU, run by `make gpu-check`."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn.functional as F

from ferrotorch.nn.attention import SDPBackend, sdpa_kernel

from cuda_helpers import FLOATS, same, sample

pytestmark = pytest.mark.cuda


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_along_every_dim(dtype, log):
    x = sample((3, 4, 50), dtype) * 3
    fn = F.log_softmax if log else F.softmax
    for dim in (0, 1, 2, -1):
        same(fn(x.cuda(), dim), fn(x, dim))
    same(fn(x.cuda().transpose(0, 2), 1), fn(x.transpose(0, 2), 1))


def test_softmax_of_long_rows_extremes_and_nan():
    x = ft.tensor(np.random.default_rng(0).standard_normal((2, 5000)) * 30)
    same(F.softmax(x.cuda(), 1), F.softmax(x, 1))
    special = ft.tensor([[1000.0, 0.0, -1000.0], [float("nan"), 1.0, 2.0], [-float("inf"), 0.0, 1.0]])
    same(F.log_softmax(special.cuda(), 1), F.log_softmax(special, 1))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_its_gradient(reduction):
    x = sample((6, 5), ft.float64)
    target = ft.tensor([0, 4, 2, 2, 1, 3])
    weight = ft.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=ft.float64)
    for kwargs in ({}, {"weight": weight}, {"ignore_index": 2}):
        gx, cx = x.cuda().requires_grad_(), x.clone().requires_grad_()
        kw_gpu = {k: (v.cuda() if isinstance(v, ft.Tensor) else v) for k, v in kwargs.items()}
        got = F.cross_entropy(gx, target.cuda(), reduction=reduction, **kw_gpu)
        want = F.cross_entropy(cx, target, reduction=reduction, **kwargs)
        same(got, want)
        (got * 3).sum().backward()
        (want * 3).sum().backward()
        same(gx.grad, cx.grad)


def test_nll_loss_with_spatial_targets_and_half_inputs():
    x = sample((2, 3, 4, 5), ft.float32)
    target = ft.tensor(np.random.default_rng(1).integers(0, 3, size=(2, 4, 5)))
    same(F.nll_loss(F.log_softmax(x.cuda(), 1), target.cuda(), reduction="none"), F.nll_loss(F.log_softmax(x, 1), target, reduction="none"))
    h = x.to(ft.bfloat16)
    same(F.cross_entropy(h.cuda(), target.cuda()), F.cross_entropy(h, target))


def test_targets_out_of_range_raise_index_error():
    """Targets are read on the device: the error comes at the next wait, as PyTorch's assert."""
    loss = F.cross_entropy(ft.zeros(2, 3, device="cuda"), ft.tensor([0, 3], device="cuda"))
    with pytest.raises(IndexError, match="Target 3 is out of bounds."):
        loss.item()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("dims", [(64, 64), (40, 72), (200, 136), (300, 16)])
@pytest.mark.parametrize("backend", ["fused", "math"])
def test_scaled_dot_product_attention_forward_and_backward(dtype, causal, dims, backend):
    """The fused kernels (heads up to 256 wide; 300 takes the tensor-op path on the device) and
    the tensor ops on the device against the CPU's tensor-op path, grouped heads and a
    transposed query included."""
    e, ev = dims
    q, k, v = sample((2, 4, 70, e), dtype, 1), sample((2, 2, 90, e), dtype, 2), sample((2, 2, 90, ev), dtype, 3)
    dout = sample((2, 4, 70, ev), dtype, 4)
    results = []
    allowed = [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH] if backend == "fused" else [SDPBackend.MATH]
    for device in ("cuda", "cpu"):
        leaves = [t.to(device).requires_grad_() for t in (q, k, v)]
        query = leaves[0].transpose(1, 2).contiguous().transpose(1, 2)
        with sdpa_kernel(allowed, set_priority=True):
            if device == "cuda":
                assert ft._C._sdp_choice(query, leaves[1], leaves[2], True) == (backend if max(dims) <= 256 else "math")
            out = F.scaled_dot_product_attention(query, leaves[1], leaves[2], is_causal=causal, enable_gqa=True)
            out.backward(dout.to(device))
        results.append([out] + [t.grad for t in leaves])
    for gpu, cpu in zip(*results):
        same(gpu, cpu)
    assert results[0][0].grad_fn.name() == "ScaledDotProductFlashAttentionBackward0"


def test_scaled_dot_product_attention_chooses_by_the_scores_size():
    """Both allowed, the tensor ops take scores up to the budget (cuBLAS products), the fused
    kernels longer ones (memory linear in the keys)."""
    small = ft.zeros(2, 6, 256, 64, device="cuda", dtype=ft.bfloat16)
    assert ft._C._sdp_choice(small, small, small) == "math"
    long = ft.zeros(1, 8, 8192, 64, device="cuda", dtype=ft.bfloat16)
    assert ft._C._sdp_choice(long, long, long) == "fused"
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        assert ft._C._sdp_choice(small, small, small) == "fused"
        with pytest.raises(RuntimeError, match="No available kernel"):
            F.scaled_dot_product_attention(small.float(), small.float(), small.float())


@pytest.mark.parametrize("backend", [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH])
def test_scaled_dot_product_attention_rows_without_keys_and_nan(backend):
    q = ft.tensor(np.random.default_rng(0).standard_normal((1, 3, 8)))
    q[0, 1, 0] = float("nan")
    kv = ft.zeros(1, 0, 8, dtype=ft.float64)
    k = ft.tensor(np.random.default_rng(1).standard_normal((1, 5, 8)))
    want = [F.scaled_dot_product_attention(q, kv, kv), F.scaled_dot_product_attention(q, k, k)]
    with sdpa_kernel(backend):  # (the CPU has no EFFICIENT_ATTENTION: references made before)
        got = [F.scaled_dot_product_attention(q.cuda(), kv.cuda(), kv.cuda()), F.scaled_dot_product_attention(q.cuda(), k.cuda(), k.cuda())]
    for g, w in zip(got, want):
        same(g, w)
