"""nn on CUDA tensors against the CPU: every activation of the table (forward, backward,
in place), prelu/rrelu/glu, layer_norm, batch_norm, convolutions (normal and transposed,
grouped, strided, padded, dilated; F.unfold/F.fold), pooling (max with indices, average,
adaptive, unpooling), the fused optimizer steps and whole modules moved with `.cuda()`.
Marked `cuda`: skipped without a GPU, run by `make gpu-check`."""

import copy

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F

from cuda_helpers import FLOATS, TOL, same, sample

pytestmark = pytest.mark.cuda

ACTIVATIONS = [
    ("relu", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 0.75}),
    ("threshold", {"threshold": 0.1, "value": -2.0}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {"alpha": 1.3}),
    ("celu", {"alpha": 0.7}),
    ("selu", {}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("silu", {}),
    ("mish", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("hardsigmoid", {}),
    ("hardswish", {}),
    ("logsigmoid", {}),
    ("softshrink", {"lambd": 0.3}),
    ("hardshrink", {"lambd": 0.3}),
    ("softsign", {}),
    ("tanhshrink", {}),
]


def grads_match(fn, *cpu_inputs, tol=None):
    """fn on CUDA copies and on the CPU inputs: the outputs and every input's gradient agree."""
    cpu = [t.detach().clone().requires_grad_() for t in cpu_inputs]
    gpu = [t.detach().cuda().requires_grad_() for t in cpu_inputs]
    want, got = fn(*cpu), fn(*gpu)
    same(got, want)
    probe = sample(tuple(want.shape), want.dtype, seed=7)
    (want * probe).sum().backward()
    (got * probe.cuda()).sum().backward()
    for g, c in zip(gpu, cpu):
        same(g.grad, c.grad)


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", FLOATS)
def test_activation_forward_and_backward(name, kwargs, dtype):
    fn = getattr(F, name)
    x = (sample((5, 7), dtype) * 3).to(dtype)
    same(fn(x.cuda(), **kwargs), fn(x, **kwargs))
    # Strided and non-finite inputs.
    special = ft.tensor([[float("nan"), float("inf"), -float("inf"), 0.0], [3.0, -3.0, 1e-3, -20.0]], dtype=dtype)
    same(fn(special.cuda().t(), **kwargs), fn(special.t(), **kwargs))
    if dtype == ft.float64:
        grads_match(lambda t: fn(t, **kwargs), x)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "hardtanh", "silu"])
def test_in_place_activations(name):
    x = sample((4, 6), ft.float32)
    a, b = x.cuda(), x.clone()
    getattr(F, name)(a, inplace=True)
    getattr(F, name)(b, inplace=True)
    same(a, b)


def test_parametric_activations():
    x = sample((3, 4, 5), ft.float64)
    w = ft.tensor([0.1, -0.2, 0.3, 0.5], dtype=ft.float64)
    grads_match(lambda t, s: F.prelu(t, s), x, w)
    same(F.rrelu(x.cuda(), 0.1, 0.3, training=False), F.rrelu(x, 0.1, 0.3, training=False))
    grads_match(lambda t: F.glu(t, 1), x)
    noisy = F.rrelu(x.cuda(), 0.1, 0.3, training=True).cpu()
    ratio = (noisy / x)[x < 0]
    assert bool(((ratio >= 0.1 - 1e-12) & (ratio <= 0.3 + 1e-12)).all())


@pytest.mark.parametrize("dtype", FLOATS)
def test_layer_norm(dtype):
    x = sample((4, 3, 33), dtype) * 2 + 1
    w, b = sample((3, 33), dtype, seed=1), sample((3, 33), dtype, seed=2)
    same(F.layer_norm(x.cuda(), (3, 33), w.cuda(), b.cuda()), F.layer_norm(x, (3, 33), w, b))
    same(F.layer_norm(x.cuda(), (33,)), F.layer_norm(x, (33,)))
    if dtype == ft.float64:
        grads_match(lambda t, ww, bb: F.layer_norm(t, (33,), ww, bb), x, w[0], b[0])
        grads_match(lambda t: F.layer_norm(t, (3, 33)), x)


def test_layer_norm_long_rows_and_nan():
    x = ft.tensor(np.random.default_rng(0).standard_normal((3, 5000)))
    same(F.layer_norm(x.cuda(), (5000,)), F.layer_norm(x, (5000,)))
    x[1, 7] = float("nan")
    same(F.layer_norm(x.cuda(), (5000,)), F.layer_norm(x, (5000,)))


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_batch_norm_training_eval_and_running_stats(dtype):
    x = sample((6, 3, 5, 4), dtype) * 2 + 0.5
    cpu, gpu = nn.BatchNorm2d(3).to(dtype), nn.BatchNorm2d(3).to(dtype).cuda()
    for _ in range(2):
        same(gpu(x.cuda()), cpu(x))
    same(gpu.running_mean, cpu.running_mean)
    same(gpu.running_var, cpu.running_var)
    cpu.eval(), gpu.eval()
    same(gpu(x.cuda()), cpu(x))
    if dtype == ft.float64:
        w, b = sample((3,), dtype, seed=3), sample((3,), dtype, seed=4)
        grads_match(lambda t, ww, bb: F.batch_norm(t, None, None, ww, bb, training=True), x, w, b)


@pytest.mark.parametrize("dtype", FLOATS)
def test_conv2d_forward(dtype):
    x, w, b = sample((2, 4, 9, 8), dtype), sample((6, 2, 3, 2), dtype, seed=1), sample((6,), dtype, seed=2)
    for kwargs in ({}, {"stride": 2, "padding": 1}, {"dilation": (2, 1), "groups": 2, "padding": (2, 0)}):
        ww = w if kwargs.get("groups", 1) == 2 else sample((6, 4, 3, 2), dtype, seed=1)
        got = F.conv2d(x.cuda(), ww.cuda(), b.cuda(), **kwargs)
        want = F.conv2d(x, ww, b, **kwargs)
        same(got, want, dtype)


def test_float32_convolutions_use_tf32_as_cudnn_allow_tf32_says():
    x, w = sample((8, 64, 16, 16), ft.float32), sample((64, 64, 3, 3), ft.float32, 1)
    exact = F.conv2d(x.double(), w.double(), padding=1)

    def error(allow):
        with ft.backends.cudnn.flags(enabled=True, allow_tf32=allow):
            got = F.conv2d(x.cuda(), w.cuda(), padding=1).cpu().double()
        return float((got - exact).abs().max() / exact.abs().max())

    full, tf32 = error(False), error(True)
    assert full < 1e-5
    # TF32 keeps 10 bits of mantissa: errors near 1e-3 of the largest value, not 1e-7.
    assert full < tf32 < 1e-2


def test_conv_gradients_1d_2d_3d_and_transposed():
    grads_match(lambda t, w, b: F.conv1d(t, w, b, stride=2, padding=1), sample((2, 3, 11), ft.float64), sample((4, 3, 3), ft.float64, 1), sample((4,), ft.float64, 2))
    grads_match(lambda t, w: F.conv2d(t, w, groups=2, dilation=2, padding=2), sample((2, 4, 7, 6), ft.float64), sample((6, 2, 3, 3), ft.float64, 1))
    grads_match(lambda t, w: F.conv3d(t, w, padding=1), sample((1, 2, 4, 5, 3), ft.float64), sample((3, 2, 2, 3, 2), ft.float64, 1))
    grads_match(lambda t, w, b: F.conv_transpose2d(t, w, b, stride=2, padding=1, output_padding=1), sample((2, 4, 5, 4), ft.float64), sample((4, 3, 3, 3), ft.float64, 1), sample((3,), ft.float64, 2))


def test_unfold_and_fold():
    x = sample((2, 3, 6, 7), ft.float32)
    same(F.unfold(x.cuda(), (2, 3), dilation=(1, 2), padding=1, stride=2), F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=2))
    cols = sample((2, 3 * 4, 12), ft.float32)
    same(F.fold(cols.cuda(), (5, 6), (2, 2), padding=1, stride=2), F.fold(cols, (5, 6), (2, 2), padding=1, stride=2))


@pytest.mark.parametrize("dtype", FLOATS)
def test_pooling_forward(dtype):
    x = sample((2, 3, 9, 8), dtype)
    same(F.max_pool2d(x.cuda(), 3, 2, 1), F.max_pool2d(x, 3, 2, 1))
    gv, gi = F.max_pool2d(x.cuda(), 2, return_indices=True, ceil_mode=True)
    cv, ci = F.max_pool2d(x, 2, return_indices=True, ceil_mode=True)
    same(gv, cv)
    same(gi, ci)
    same(F.avg_pool2d(x.cuda(), 3, 2, 1), F.avg_pool2d(x, 3, 2, 1))
    same(F.avg_pool2d(x.cuda(), 3, 2, 1, count_include_pad=False, ceil_mode=True), F.avg_pool2d(x, 3, 2, 1, count_include_pad=False, ceil_mode=True))
    same(F.adaptive_avg_pool2d(x.cuda(), (4, 3)), F.adaptive_avg_pool2d(x, (4, 3)))
    same(F.adaptive_max_pool2d(x.cuda(), (4, 3)), F.adaptive_max_pool2d(x, (4, 3)))
    same(F.max_pool1d(x[0].cuda(), 3, dilation=2), F.max_pool1d(x[0], 3, dilation=2))
    same(F.avg_pool3d(x.cuda()[None], 2), F.avg_pool3d(x[None], 2))


def test_max_pool_nan_and_integer_inputs():
    x = ft.tensor([[[[1.0, float("nan"), 3.0, 2.0], [0.0, 5.0, float("nan"), 1.0]]]])
    gv, gi = F.max_pool2d(x.cuda(), 2, return_indices=True)
    cv, ci = F.max_pool2d(x, 2, return_indices=True)
    same(gv, cv)
    same(gi, ci)


def test_pooling_gradients_and_unpool():
    x = sample((2, 3, 7, 6), ft.float64)
    grads_match(lambda t: F.max_pool2d(t, 3, 2, 1), x)
    grads_match(lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False), x)
    grads_match(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), x)
    grads_match(lambda t: F.adaptive_max_pool2d(t, (3, 4)), x)
    v, i = F.max_pool2d(x, 2, return_indices=True)
    same(F.max_unpool2d(v.cuda(), i.cuda(), 2, output_size=(7, 6)), F.max_unpool2d(v, i, 2, output_size=(7, 6)))


OPTIMIZERS = [
    (ft.optim.SGD, {"lr": 0.1}),
    (ft.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (ft.optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "maximize": True}),
    (ft.optim.Adam, {"lr": 0.01}),
    (ft.optim.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    (ft.optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}),
    (ft.optim.Adam, {"lr": 0.01, "capturable": True}),
    (ft.optim.AdamW, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "capturable": True}),
    (ft.optim.Adagrad, {"lr": 0.1}),
    (ft.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
    (ft.optim.RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5}),
    (ft.optim.RMSprop, {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    (ft.optim.NAdam, {"lr": 0.01}),
    (ft.optim.NAdam, {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    (ft.optim.RAdam, {"lr": 0.01, "betas": (0.9, 0.9)}),
    (ft.optim.Adamax, {"lr": 0.02, "weight_decay": 0.1}),
    (ft.optim.Adadelta, {"lr": 1.0}),
    (ft.optim.RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5, "capturable": True}),
    (ft.optim.NAdam, {"lr": 0.01, "capturable": True}),
    (ft.optim.RAdam, {"lr": 0.01, "betas": (0.9, 0.9), "capturable": True}),
    (ft.optim.Adamax, {"lr": 0.02, "capturable": True}),
    (ft.optim.Adadelta, {"lr": 1.0, "capturable": True}),
]


@pytest.mark.parametrize("opt,kwargs", OPTIMIZERS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.bfloat16])
def test_optimizer_steps_match_the_cpu(opt, kwargs, dtype):
    start = [sample((5, 3), dtype), sample((7,), dtype, seed=1), sample((4, 4), dtype, seed=2).t()]
    cpu = [p.clone().requires_grad_() for p in start]
    gpu = [p.cuda().requires_grad_() for p in start]
    oc, og = opt(cpu, **kwargs), opt(gpu, **kwargs)
    for step in range(6):  # RAdam's rectified branch starts at step 6 with betas (0.9, 0.9)
        for c, g in zip(cpu, gpu):
            grad = sample(tuple(c.shape), dtype, seed=10 + step)
            c.grad, g.grad = grad.clone(), grad.cuda()
        oc.step()
        og.step()
    for c, g in zip(cpu, gpu):
        assert g.device.type == "cuda"
        tol = max(TOL[dtype], 1e-5) * 10
        np.testing.assert_allclose(g.detach().cpu().double().numpy(), c.detach().double().numpy(), rtol=tol, atol=tol)
    for state in og.state.values():
        for key, value in state.items():
            # PyTorch keeps the scalar states (step, NAdam's mu_product) on the host unless capturable.
            if isinstance(value, ft.Tensor) and (key not in ("step", "mu_product") or kwargs.get("capturable")):
                assert value.device.type == "cuda", key


@pytest.mark.parametrize("capturable", [False, True])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_nadam_steps_on_after_its_state_dict_is_reloaded(capturable, dtype):
    """Loading moves mu_product to the parameter's device and dtype (PyTorch's policy); the
    update still finds it where it needs it, and the reloaded optimizer steps as its twin."""
    params = [sample((5, 3), dtype).cuda().requires_grad_() for _ in range(2)]
    opts = [ft.optim.NAdam([p], lr=0.01, capturable=capturable) for p in params]
    for step in range(3):
        if step == 2:
            opts[1].load_state_dict(opts[1].state_dict())
        for p, opt in zip(params, opts):
            p.grad = sample((5, 3), dtype, seed=step + 20).cuda()
            opt.step()
    np.testing.assert_allclose(params[1].detach().cpu().numpy(), params[0].detach().cpu().numpy(), rtol=1e-6)


def test_a_small_cnn_trains_on_cuda_like_on_the_cpu():
    ft.manual_seed(0)
    cpu = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 4 * 4, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 3)).double()
    gpu = copy.deepcopy(cpu).cuda()
    assert all(p.device.type == "cuda" for p in gpu.parameters())
    assert all(b.device.type == "cuda" for b in gpu.buffers())
    x, y = sample((8, 1, 8, 8), ft.float64), ft.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    oc, og = ft.optim.Adam(cpu.parameters(), lr=0.01), ft.optim.Adam(gpu.parameters(), lr=0.01)
    losses = []
    for _ in range(5):
        lc = F.cross_entropy(cpu(x), y)
        lg = F.cross_entropy(gpu(x.cuda()), y.cuda())
        oc.zero_grad(), og.zero_grad()
        lc.backward(), lg.backward()
        oc.step(), og.step()
        assert abs(lc.item() - lg.item()) < 1e-9
        losses.append(lg.item())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU, nn.RNN])
def test_recurrent_layers_match_the_cpu(kind):
    ft.manual_seed(1)
    cpu = kind(4, 6, num_layers=2, bidirectional=True, batch_first=True).double()
    gpu = copy.deepcopy(cpu).cuda()
    x = sample((3, 5, 4), ft.float64)
    xc, xg = x.clone().requires_grad_(), x.cuda().requires_grad_()
    (oc, _), (og, _) = cpu(xc), gpu(xg)
    same(og, oc)
    probe = sample(tuple(oc.shape), ft.float64, seed=5)
    (oc * probe).sum().backward()
    (og * probe.cuda()).sum().backward()
    same(xg.grad, xc.grad)
    for pc, pg in zip(cpu.parameters(), gpu.parameters()):
        same(pg.grad, pc.grad)


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU])
def test_recurrent_layers_over_packed_sequences_match_the_cpu(kind):
    # The native layer ops on the device: packed sequences of three lengths, both directions,
    # gradients through the outputs and the final states.
    ft.manual_seed(4)
    cpu = kind(3, 5, num_layers=2, bidirectional=True).double()
    gpu = copy.deepcopy(cpu).cuda()
    seqs = [sample((n, 3), ft.float64, seed=n).requires_grad_() for n in (6, 4, 1)]
    seqs_gpu = [s.detach().cuda().requires_grad_() for s in seqs]
    states = [sample((4, 3, 5), ft.float64, seed=20 + k).requires_grad_() for k in range(2 if kind is nn.LSTM else 1)]
    states_gpu = [s.detach().cuda().requires_grad_() for s in states]
    hx, hx_gpu = (tuple(states), tuple(states_gpu)) if kind is nn.LSTM else (states[0], states_gpu[0])
    (oc, sc), (og, sg) = cpu(nn.utils.rnn.pack_sequence(seqs), hx), gpu(nn.utils.rnn.pack_sequence(seqs_gpu), hx_gpu)
    sc, sg = (sc, sg) if kind is nn.LSTM else ((sc,), (sg,))
    for g, c in zip((og.data, *sg), (oc.data, *sc)):
        same(g, c)
    probe = sample(tuple(oc.data.shape), ft.float64, seed=9)
    ((oc.data * probe).sum() + sum((k + 1) * s.sum() for k, s in enumerate(sc))).backward()
    ((og.data * probe.cuda()).sum() + sum((k + 1) * s.sum() for k, s in enumerate(sg))).backward()
    for pc, pg in zip(cpu.parameters(), gpu.parameters()):
        same(pg.grad, pc.grad)
    for xc, xg in zip(seqs + states, seqs_gpu + states_gpu):
        same(xg.grad, xc.grad)
    # One native node per layer and direction on the device too.
    one = kind(3, 5).cuda()
    out = one(nn.utils.rnn.pack_sequence(seqs_gpu))[0].data
    assert out.grad_fn.name() == ("LstmLayerBackward0" if kind is nn.LSTM else "GruLayerBackward0")


def test_lstm_cell_module():
    ft.manual_seed(2)
    cpu = nn.LSTMCell(3, 5).double()
    gpu = copy.deepcopy(cpu).cuda()
    x = sample((4, 3), ft.float64)
    hc, cc = cpu(x)
    hg, cg = gpu(x.cuda())
    same(hg, hc)
    same(cg, cc)


def test_autocast_and_grad_scaler_on_cuda():
    ft.manual_seed(3)
    model = nn.Linear(4, 3).cuda()
    opt = ft.optim.SGD(model.parameters(), lr=0.1)
    scaler = ft.amp.GradScaler("cuda")
    x = sample((5, 4), ft.float32).cuda()
    with ft.autocast("cuda", dtype=ft.bfloat16):
        out = model(x)
    assert out.dtype == ft.bfloat16 and out.device.type == "cuda"
    before = model.weight.detach().cpu().clone()
    scaler.scale(out.float().sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2.0**16
    assert not bool((model.weight.detach().cpu() == before).all())
    # An overflowing gradient: the step is skipped and the scale backs off.
    opt.zero_grad()
    with ft.autocast("cuda", dtype=ft.bfloat16):
        out = model(x)
    scaler.scale(out.float().sum()).backward()
    model.weight.grad.fill_(float("inf"))
    kept = model.weight.detach().cpu().clone()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2.0**15
    same(model.weight.detach(), kept)


@pytest.mark.parametrize("dtype", FLOATS)
def test_vector_norms_and_clip_grad_norm(dtype):
    x = sample((4, 6), dtype)
    for ord in (2, 1, 0, 3.5, float("inf"), -float("inf")):
        same(ft.linalg.vector_norm(x.cuda(), ord), ft.linalg.vector_norm(x, ord))
        same(ft.linalg.vector_norm(x.cuda(), ord, dim=1), ft.linalg.vector_norm(x, ord, dim=1))
    params_c = [sample((3, 2), ft.float32, seed=s).requires_grad_() for s in range(3)]
    params_g = [p.detach().cuda().requires_grad_() for p in params_c]
    for pc, pg in zip(params_c, params_g):
        pc.grad = sample(tuple(pc.shape), ft.float32, seed=9) * 5
        pg.grad = pc.grad.cuda()
    same(nn.utils.clip_grad_norm_(params_g, 1.0), nn.utils.clip_grad_norm_(params_c, 1.0))
    for pc, pg in zip(params_c, params_g):
        same(pg.grad, pc.grad)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_statistics_group_norm_and_rms_norm(dtype):
    x = sample((4, 6, 5), dtype) * 2 + 1
    for dim, correction in ((None, 1), (1, 0), ((0, 2), 1)):
        gv, gm = ft.var_mean(x.cuda(), dim, correction=correction)
        cv, cm = ft.var_mean(x, dim, correction=correction)
        same(gv, cv)
        same(gm, cm)
    same(x.cuda().std(1, keepdim=True), x.std(1, keepdim=True))
    same(F.group_norm(x.cuda(), 3), F.group_norm(x, 3))
    same(F.rms_norm(x.cuda(), (5,)), F.rms_norm(x, (5,)))
    same(F.instance_norm(x.cuda()), F.instance_norm(x))


def test_checkpoints_move_across_devices(tmp_path):
    ft.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).cuda()
    opt = ft.optim.Adam(model.parameters(), lr=0.1)
    model(sample((5, 3), ft.float32).cuda()).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    ft.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    on_gpu = ft.load(path)
    assert all(t.device.type == "cuda" for t in on_gpu["model"].values())
    on_cpu = ft.load(path, map_location="cpu")
    assert all(t.device.type == "cpu" for t in on_cpu["model"].values())
    for key, value in model.state_dict().items():
        same(value, on_cpu["model"][key])
    # A CPU model restored onto the GPU, and its optimizer's state moved to the parameters.
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).cuda()
    fresh.load_state_dict(on_cpu["model"])
    fresh_opt = ft.optim.Adam(fresh.parameters(), lr=0.1)
    fresh_opt.load_state_dict(on_cpu["opt"])
    for state in fresh_opt.state.values():
        assert state["exp_avg"].device.type == "cuda" and state["step"].device.type == "cpu"
    mapped = ft.load(path, map_location={"cuda:0": "cpu"})
    assert all(t.device.type == "cpu" for t in mapped["model"].values())
