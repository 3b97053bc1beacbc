"""ferrotorch.optim.swa_utils: AveragedModel (SWA and EMA) against hand-computed averages,
update_bn against NumPy batch statistics, SWALR against its annealing formula."""

import copy
import math

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.optim import swa_utils


PlainSGD = ft.optim.SGD


def small_model():
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).double()


def snapshots(model, rng, count):
    """Set the model's tensors to ``count`` random states; yield each state as NumPy arrays."""
    for _ in range(count):
        state = {}
        with ft.no_grad():
            for name, t in list(model.named_parameters()) + list(model.named_buffers()):
                if t.is_floating_point():
                    values = rng.standard_normal(tuple(t.shape))
                    t.copy_(ft.from_numpy(values))
                    state[name] = values
        yield state


def averaged(avg_model):
    return {name: t.detach().numpy().copy() for name, t in avg_model.module.named_parameters()}


# ---- AveragedModel -------------------------------------------------------------------------------


def test_swa_is_the_mean_of_the_snapshots(rng):
    model = small_model()
    swa = swa_utils.AveragedModel(model)
    states = []
    for state in snapshots(model, rng, 4):
        swa.update_parameters(model)
        states.append(state)
        for name, value in averaged(swa).items():
            np.testing.assert_allclose(value, np.mean([s[name] for s in states], axis=0), rtol=1e-12)
    assert int(swa.n_averaged) == 4 and swa.n_averaged.dtype == ft.int64


def test_buffers_are_copied_unless_averaged(rng):
    model = small_model()
    copied = swa_utils.AveragedModel(model)
    averaged_buffers = swa_utils.AveragedModel(model, use_buffers=True)
    states = []
    for state in snapshots(model, rng, 3):
        copied.update_parameters(model)
        averaged_buffers.update_parameters(model)
        states.append(state)
    np.testing.assert_array_equal(copied.module[1].running_mean.numpy(), states[-1]["1.running_mean"])
    np.testing.assert_allclose(averaged_buffers.module[1].running_var.numpy(),
                               np.mean([s["1.running_var"] for s in states], axis=0), rtol=1e-12)


@pytest.mark.parametrize("kind", ["avg_fn", "multi_avg_fn"])
def test_ema_follows_the_recursion(rng, kind):
    decay = 0.8
    model = small_model()
    fn = swa_utils.get_ema_avg_fn(decay) if kind == "avg_fn" else swa_utils.get_ema_multi_avg_fn(decay)
    ema = swa_utils.AveragedModel(model, **{kind: fn})
    want = None
    for state in snapshots(model, rng, 4):
        ema.update_parameters(model)
        want = dict(state) if want is None else {k: decay * want[k] + (1 - decay) * state[k] for k in state}
        for name, value in averaged(ema).items():
            np.testing.assert_allclose(value, want[name], rtol=1e-12)


def test_swa_multi_avg_fn_over_mixed_dtypes(rng):
    model = nn.Sequential(nn.Linear(2, 2).double(), nn.Linear(2, 2))
    swa = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    weights = []
    for _ in range(3):
        with ft.no_grad():
            for p in model.parameters():
                p.copy_(ft.from_numpy(rng.standard_normal(tuple(p.shape))).to(p.dtype))
        weights.append([p.detach().double().numpy().copy() for p in model.parameters()])
        swa.update_parameters(model)
    # The lerp weight 1 / (n + 1) comes from an int64 count, so it is float32 (as in PyTorch).
    for i, p in enumerate(swa.module.parameters()):
        np.testing.assert_allclose(p.detach().double().numpy(), np.mean([w[i] for w in weights], axis=0), rtol=1e-6,
                                   atol=1e-6)
    assert [p.dtype for p in swa.module.parameters()] == [ft.float64, ft.float64, ft.float32, ft.float32]


def test_custom_avg_fn_sees_the_count(rng):
    seen = []

    def keep_last(avg, current, n_averaged):
        seen.append(int(n_averaged))
        return current

    model = nn.Linear(2, 1).double()
    avg = swa_utils.AveragedModel(model, avg_fn=keep_last)
    for _ in range(3):
        avg.update_parameters(model)
    assert seen == [1, 1, 2, 2]  # weight and bias, from the second update on


def test_integer_tensors_take_the_explicit_formulas():
    ema = swa_utils.get_ema_multi_avg_fn(0.5)
    target = [ft.tensor([10, 20])]
    ema(target, [ft.tensor([20, 40])], 1)
    assert target[0].tolist() == [15, 30]
    swa = swa_utils.get_swa_multi_avg_fn()
    target = [ft.tensor([10, 20])]
    swa(target, [ft.tensor([40, 50])], ft.tensor(2))
    assert target[0].tolist() == [20, 30]


def test_plain_avg_fns_return_new_values():
    avg, cur = ft.tensor([1.0, 2.0], dtype=ft.float64), ft.tensor([4.0, 8.0], dtype=ft.float64)
    assert swa_utils.get_swa_avg_fn()(avg, cur, 2).tolist() == [2.0, 4.0]
    assert swa_utils.get_ema_avg_fn(0.75)(avg, cur, 2).tolist() == [1.75, 3.5]
    assert avg.tolist() == [1.0, 2.0]


def test_state_dict_keys_and_forward(rng):
    model = small_model()
    swa = swa_utils.AveragedModel(model)
    assert list(swa.state_dict()) == ["n_averaged"] + ["module." + k for k in model.state_dict()]
    x = ft.from_numpy(rng.standard_normal((4, 3)))
    model.eval()
    swa.eval()
    swa.update_parameters(model)
    np.testing.assert_allclose(swa(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-12)
    with ft.no_grad():
        model[0].weight.add_(1.0)
    assert not np.allclose(swa.module[0].weight.detach().numpy(), model[0].weight.detach().numpy())
    other = swa_utils.AveragedModel(small_model())
    other.load_state_dict(swa.state_dict())
    assert int(other.n_averaged) == 1


def test_averaged_model_argument_errors():
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        swa_utils.AveragedModel(small_model(), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    for make in (swa_utils.get_ema_avg_fn, swa_utils.get_ema_multi_avg_fn):
        with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\]"):
            make(1.5)


# ---- update_bn -----------------------------------------------------------------------------------


def test_update_bn_recomputes_cumulative_statistics(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=0.3)).double()
    model.eval()
    batches = [rng.standard_normal((n, 3)) for n in (5, 3, 7)]
    loader = [(ft.from_numpy(x), ft.zeros(len(x))) for x in batches]
    swa_utils.update_bn(loader, model)

    weight, bias = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
    hidden = [x @ weight.T + bias for x in batches]
    bn = model[1]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([h.mean(0) for h in hidden], axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([h.var(0, ddof=1) for h in hidden], axis=0),
                               rtol=1e-12)
    assert int(bn.num_batches_tracked) == 3
    assert bn.momentum == 0.3 and not model.training and not bn.training


def test_update_bn_resets_stale_statistics(rng):
    model = nn.BatchNorm1d(2).double()
    with ft.no_grad():
        model.running_mean.fill_(100.0)
    x = rng.standard_normal((6, 2))
    swa_utils.update_bn([ft.from_numpy(x)], model)
    np.testing.assert_allclose(model.running_mean.numpy(), x.mean(0), rtol=1e-12)
    assert model.training


def test_update_bn_without_batchnorm_does_not_read_the_loader():
    class Unreadable:
        def __iter__(self):
            raise AssertionError("loader read")

    swa_utils.update_bn(Unreadable(), nn.Linear(2, 2))


# ---- SWALR ---------------------------------------------------------------------------------------


def _alpha(t, strategy):
    return (1 - math.cos(math.pi * t)) / 2 if strategy == "cos" else t


@pytest.mark.parametrize("strategy,anneal_epochs", [("cos", 5), ("linear", 5), ("cos", 1), ("linear", 0)])
def test_swalr_anneals_to_swa_lr(strategy, anneal_epochs):
    params = [{"params": [ft.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.5, 0.1)]
    optimizer = PlainSGD(params)
    scheduler = swa_utils.SWALR(optimizer, swa_lr=[0.05, 0.2], anneal_epochs=anneal_epochs,
                                anneal_strategy=strategy)
    for step in range(12):
        t = 1.0 if anneal_epochs == 0 else min(1.0, step / anneal_epochs)
        alpha = _alpha(t, strategy)
        want = [swa * alpha + base * (1 - alpha) for swa, base in ((0.05, 0.5), (0.2, 0.1))]
        assert [g["lr"] for g in optimizer.param_groups] == pytest.approx(want, rel=1e-12), step
        optimizer.step()
        scheduler.step()
    assert [g["swa_lr"] for g in optimizer.param_groups] == [0.05, 0.2]


def test_swalr_state_dict_round_trip():
    optimizer = PlainSGD([ft.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = swa_utils.SWALR(optimizer, 0.1, anneal_epochs=6, anneal_strategy="linear")
    for _ in range(2):
        optimizer.step()
        scheduler.step()
    state = copy.deepcopy(scheduler.state_dict())
    assert "anneal_func" not in state and state["_anneal_strategy"] == "linear"
    other_opt = PlainSGD([ft.zeros(1, requires_grad=True)], lr=1.0)
    other = swa_utils.SWALR(other_opt, 0.1, anneal_epochs=6)
    other_opt.load_state_dict(optimizer.state_dict())
    other.load_state_dict(state)
    for _ in range(3):
        optimizer.step(), scheduler.step()
        other_opt.step(), other.step()
    assert other.get_last_lr() == scheduler.get_last_lr() == pytest.approx([1.0 + (0.1 - 1.0) * 5 / 6])


def test_swalr_argument_errors():
    optimizer = PlainSGD([ft.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
        swa_utils.SWALR(optimizer, 0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        swa_utils.SWALR(optimizer, 0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="swa_lr must have the same length as optimizer.param_groups"):
        swa_utils.SWALR(optimizer, [0.1, 0.2])
