"""CUDA graphs (ferrotorch.cuda.CUDAGraph, graph) on a GPU: replays recompute static outputs
from static inputs, as eager execution does; capture needs a side stream; the graph's memory
is private until reset; random ops draw afresh at each replay; whole training steps replay with
capturable optimizers (step counters on the device) and SGD; other optimizer steps and host
sampling refuse to be captured. The allocator's
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


def test_random_ops_draw_fresh_numbers_at_each_replay_as_eager_draws_would():
    """A replay after manual_seed(s) draws what the same ops draw eagerly after manual_seed(s),
    and the next replay what they would draw next; a second generator keeps its own stream."""
    x = ft.ones(1000, device="cuda")
    other = ft.Generator(device="cuda")

    def step():
        return F.dropout(x, 0.5) + ft.rand(1000, device="cuda") + ft.randn(7, device="cuda", generator=other).sum()

    warm_up(step)
    g = ft.cuda.CUDAGraph()
    with ft.cuda.graph(g):
        out = step()
    for seed in (0, 5):
        ft.manual_seed(seed)
        other.manual_seed(seed + 1)
        eager = [step().cpu() for _ in range(2)]
        ft.manual_seed(seed)
        other.manual_seed(seed + 1)
        replays = []
        for _ in range(2):
            g.replay()
            replays.append(out.cpu())
        for got, want in zip(replays, eager):
            assert ft.equal(got, want)
        assert not ft.equal(replays[0], replays[1])
    # Eager draws after replays continue the generator's stream past them.
    ft.manual_seed(3)
    g.replay()
    after_replay = ft.rand(5, device="cuda").cpu()
    ft.manual_seed(3)
    step()
    assert ft.equal(after_replay, ft.rand(5, device="cuda").cpu())


def test_a_stream_joined_to_a_capture_allocates_from_the_graphs_pool():
    """Work forked onto a side stream during a capture (wait_stream in and out) is captured too;
    the memory it takes belongs to the graph, so eager work on that stream afterwards never gets
    an address a replay writes (PyTorch keys its pools by capture id for this)."""
    x = sample((256, 256), ft.float32).cuda()
    side = ft.cuda.Stream()
    warm_up(lambda: (x * 2 + 1).sum())
    g = ft.cuda.CUDAGraph()
    with ft.cuda.graph(g):
        main = ft.cuda.current_stream()
        side.wait_stream(main)
        with ft.cuda.stream(side):
            t = x * 2
            address = t.data_ptr()
            noise = ft.rand(256, 256, device="cuda")  # a draw on the joined stream
        main.wait_stream(side)
        out = t + 1 + noise * 0
        del t
    with ft.cuda.stream(side):
        eager = [ft.empty(256, 256, device="cuda") for _ in range(4)]
    assert address not in [e.data_ptr() for e in eager]
    x.copy_(sample((256, 256), ft.float32, seed=9).cuda())
    g.replay()
    np.testing.assert_allclose(out.cpu().numpy(), (x * 2 + 1).cpu().numpy(), rtol=1e-6)


def test_host_sampling_refuses_to_be_captured():
    x = ft.ones(16, device="cuda")
    warm_up(lambda: x + 1)
    g = ft.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="CUDA graph capture"):
        with ft.cuda.graph(g):
            ft.randperm(16, device="cuda")
    assert not ft.cuda.is_current_stream_capturing()
    ft.rand(16, device="cuda")  # eager random draws work again


def test_optimizer_steps_without_capturable_state_refuse_to_be_captured():
    p = nn.Parameter(ft.ones(4, device="cuda"))
    opt = ft.optim.Adam([p], lr=0.1)
    p.grad = ft.ones(4, device="cuda")
    opt.step()
    g = ft.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="capturable is False"):
        with ft.cuda.graph(g):
            opt.step()


def train_pair(make_opt):
    """Two copies of one model and their optimizers, with the inputs of a training step."""
    ft.manual_seed(0)
    models = [nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4)).cuda() for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    return models, [make_opt(m.parameters()) for m in models]


@pytest.mark.parametrize("make_opt", [
    lambda ps: ft.optim.Adam(ps, lr=0.01, capturable=True),
    lambda ps: ft.optim.AdamW(ps, lr=0.01, weight_decay=0.1, amsgrad=True, capturable=True),
    lambda ps: ft.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: ft.optim.NAdam(ps, lr=0.01, capturable=True),
    lambda ps: ft.optim.RAdam(ps, lr=0.01, betas=(0.9, 0.9), capturable=True),
    lambda ps: ft.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True, capturable=True),
], ids=["Adam", "AdamW-amsgrad", "SGD-momentum", "NAdam", "RAdam", "RMSprop"])
def test_a_whole_training_step_replays_as_eager_steps(make_opt):
    """Forward, backward and optimizer step captured once, replayed on new batches: the same
    parameters as eager steps on a twin model (the step counters advancing on the device)."""
    (eager_model, graph_model), (eager_opt, graph_opt) = train_pair(make_opt)
    x, y = ft.zeros(8, 16, device="cuda"), ft.zeros(8, 4, device="cuda")

    def step(model, opt):
        opt.zero_grad(set_to_none=False)
        F.mse_loss(model(x), y).backward()
        opt.step()

    batches = [(sample((8, 16), ft.float32, seed=s).cuda(), sample((8, 4), ft.float32, seed=s + 50).cuda()) for s in range(6)]
    # Warm-up steps (state buffers made) on a side stream, for both twins alike.
    for bx, by in batches[:2]:
        x.copy_(bx), y.copy_(by)
        step(eager_model, eager_opt)
        warm_up(lambda: step(graph_model, graph_opt), times=1)
    g = ft.cuda.CUDAGraph()
    x.copy_(batches[2][0]), y.copy_(batches[2][1])
    with ft.cuda.graph(g):
        step(graph_model, graph_opt)  # captured, not run
    for bx, by in batches[2:]:
        x.copy_(bx), y.copy_(by)
        step(eager_model, eager_opt)
        g.replay()
    for pe, pg in zip(eager_model.parameters(), graph_model.parameters()):
        np.testing.assert_allclose(pg.detach().cpu().numpy(), pe.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    if "step" in graph_opt.state[next(graph_model.parameters())]:
        counter = graph_opt.state[next(graph_model.parameters())]["step"]
        assert counter.is_cuda and counter.item() == 6.0


@pytest.mark.parametrize("kind, options", [
    (ft.optim.AdamW, dict(weight_decay=0.1)),
    (ft.optim.NAdam, dict(decoupled_weight_decay=True, weight_decay=0.1)),
    (ft.optim.RAdam, dict(betas=(0.9, 0.9))),
    (ft.optim.RMSprop, dict(momentum=0.5)),
    (ft.optim.Adamax, {}),
    (ft.optim.Adadelta, {}),
])
def test_a_tensor_lr_changed_by_a_scheduler_reaches_the_replays(kind, options):
    """capturable=True with a CUDA tensor lr: the captured step reads it at every replay, so an
    lr scheduler (which fill_s a tensor lr) steers the graph as it steers eager steps."""
    (eager_model, graph_model), _ = train_pair(lambda ps: None)
    lr = ft.tensor(0.02, device="cuda")
    eager_opt = kind(eager_model.parameters(), lr=0.02, capturable=True, **options)
    graph_opt = kind(graph_model.parameters(), lr=lr, capturable=True, **options)
    schedules = [ft.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5) for o in (eager_opt, graph_opt)]
    x = sample((8, 16), ft.float32).cuda()

    def step(model, opt):
        opt.zero_grad(set_to_none=False)
        model(x).square().mean().backward()
        opt.step()

    step(eager_model, eager_opt)
    warm_up(lambda: step(graph_model, graph_opt), times=1)
    g = ft.cuda.CUDAGraph()
    with ft.cuda.graph(g):
        step(graph_model, graph_opt)
    for _ in range(5):  # RAdam's variance becomes tractable at its sixth step
        for sched in schedules:
            sched.step()
        step(eager_model, eager_opt)
        g.replay()
    assert graph_opt.param_groups[0]["lr"] is lr and abs(lr.item() - 0.02 * 0.5 ** 5) < 1e-9
    for pe, pg in zip(eager_model.parameters(), graph_model.parameters()):
        np.testing.assert_allclose(pg.detach().cpu().numpy(), pe.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_capturable_adam_steps_eagerly_as_host_steps():
    """capturable=True keeps the counters on the device; the parameters step as with host steps."""
    (host_model, dev_model), (host_opt, dev_opt) = train_pair(lambda ps: ft.optim.Adam(ps, lr=0.01))
    dev_opt = ft.optim.Adam(dev_model.parameters(), lr=0.01, capturable=True)
    x = sample((8, 16), ft.float32).cuda()
    for _ in range(3):
        for model, opt in ((host_model, host_opt), (dev_model, dev_opt)):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
    for ph, pd in zip(host_model.parameters(), dev_model.parameters()):
        np.testing.assert_allclose(pd.detach().cpu().numpy(), ph.detach().cpu().numpy(), rtol=1e-6, atol=1e-7)
    state = dev_opt.state[next(dev_model.parameters())]
    assert state["step"].is_cuda and state["step"].dtype == ft.float32 and state["step"].item() == 3.0
