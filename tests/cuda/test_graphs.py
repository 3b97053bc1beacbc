"""CUDA graphs (ferrotorch.cuda.CUDAGraph, graph) on a GPU: replays recompute static outputs
from static inputs, as eager execution does; capture needs a side stream; the graph's memory
is private until reset; random ops and optimizer steps refuse to be captured. The allocator's
private pools are tested without a GPU in core-rs/src/cuda/allocator.rs."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F

from cuda_helpers import sample

pytestmark = pytest.mark.cuda


def warm_up(fn, times=3):
    """Runs `fn` on a side stream first, as PyTorch's recipe does: kernels compile and load, and
    the allocator caches, before the capture."""
    side = ft.cuda.Stream()
    side.wait_stream(ft.cuda.current_stream())
    with ft.cuda.stream(side):
        for _ in range(times):
            fn()
    ft.cuda.current_stream().wait_stream(side)


def test_replay_recomputes_the_static_output_from_the_static_input():
    x = sample((64, 32), ft.float32).cuda()
    w = sample((32, 16), ft.float32, seed=1).cuda()

    def step():
        return (x @ w).relu() * 2 + 1

    warm_up(step)
    g = ft.cuda.CUDAGraph()
    with ft.cuda.graph(g):
        assert ft.cuda.is_current_stream_capturing()
        out = step()
    assert not ft.cuda.is_current_stream_capturing()
    for seed in (5, 6):
        x.copy_(sample((64, 32), ft.float32, seed=seed).cuda())
        g.replay()
        np.testing.assert_allclose(out.cpu().numpy(), step().cpu().numpy(), rtol=1e-6, atol=1e-6)


def test_capture_on_the_default_stream_is_refused():
    g = ft.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="non-default stream"):
        g.capture_begin()
    assert not ft.cuda.is_current_stream_capturing()


def test_a_second_capture_into_one_graph_is_refused():
    x = ft.ones(8, device="cuda")
    warm_up(lambda: x + 1)
    g = ft.cuda.CUDAGraph()
    with ft.cuda.graph(g):
        x + 1
    with pytest.raises(RuntimeError, match="already owns a captured graph"):
        with ft.cuda.graph(g):
            x + 1


def test_whole_forward_and_backward_replay_as_eager():
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).cuda()
    x, y = sample((8, 16), ft.float32).cuda(), sample((8, 4), ft.float32, seed=1).cuda()

    def step():
        for p in model.parameters():
            p.grad = None
        loss = F.mse_loss(model(x), y)
        loss.backward()
        return loss

    warm_up(step)
    g = ft.cuda.CUDAGraph()
    with ft.cuda.graph(g):
        static_loss = step()
    static_grads = [p.grad for p in model.parameters()]
    for seed in (3, 4):
        x.copy_(sample((8, 16), ft.float32, seed=seed).cuda())
        g.replay()
        captured = [static_loss.cpu()] + [t.cpu() for t in static_grads]
        eager_loss = step()
        eager = [eager_loss.cpu()] + [p.grad.cpu() for p in model.parameters()]
        for c, e in zip(captured, eager):
            np.testing.assert_allclose(c.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)


def test_graphs_share_a_pool_and_replay_on_any_stream():
    x = ft.arange(1024, dtype=ft.float32, device="cuda")
    warm_up(lambda: (x * 2).sum())
    first, second = ft.cuda.CUDAGraph(), ft.cuda.CUDAGraph()
    with ft.cuda.graph(first):
        doubled = x * 2
    assert first.pool() is not None
    with ft.cuda.graph(second, pool=first.pool()):
        total = doubled.sum()
    x.fill_(1.0)
    first.replay()
    second.replay()
    assert total.item() == 2048.0
    side = ft.cuda.Stream()
    side.wait_stream(ft.cuda.current_stream())
    x.fill_(2.0)
    side.wait_stream(ft.cuda.current_stream())
    with ft.cuda.stream(side):
        first.replay()
        second.replay()
    ft.cuda.current_stream().wait_stream(side)
    assert total.item() == 4096.0


def test_the_pool_is_kept_until_reset():
    big = 64 << 20
    x = ft.ones(big // 4, device="cuda")
    warm_up(lambda: x * 3)
    g = ft.cuda.CUDAGraph()
    with ft.cuda.graph(g):
        out = x * 3
    del out
    ft.cuda.empty_cache()
    kept = ft.cuda.memory_reserved()
    assert kept >= 2 * big  # x and the graph's output block
    g.reset()
    ft.cuda.empty_cache()
    assert ft.cuda.memory_reserved() <= kept - big


def test_random_ops_refuse_to_be_captured():
    x = ft.ones(16, device="cuda")
    warm_up(lambda: x + 1)
    g = ft.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="CUDA graph capture"):
        with ft.cuda.graph(g):
            ft.rand(16, device="cuda")
    assert not ft.cuda.is_current_stream_capturing()
    ft.rand(16, device="cuda")  # eager random draws work again


def test_optimizer_steps_refuse_to_be_captured():
    p = nn.Parameter(ft.ones(4, device="cuda"))
    opt = ft.optim.Adam([p], lr=0.1)
    p.grad = ft.ones(4, device="cuda")
    opt.step()
    g = ft.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="capturable is False"):
        with ft.cuda.graph(g):
            opt.step()
