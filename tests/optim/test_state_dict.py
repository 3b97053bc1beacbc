"""State dicts: PyTorch's structure, state names and types, and save/load/continue round trips."""

import copy

import numpy as np
import pytest

import ferrotorch as ft
from conftest import to_numpy
from optim_cases import cases

O = ft.optim

STATE_KEYS = {
    O.SGD: {"momentum_buffer"},
    O.Adam: {"step", "exp_avg", "exp_avg_sq"},
    O.AdamW: {"step", "exp_avg", "exp_avg_sq"},
    O.Adamax: {"step", "exp_avg", "exp_inf"},
    O.NAdam: {"step", "mu_product", "exp_avg", "exp_avg_sq"},
    O.RAdam: {"step", "exp_avg", "exp_avg_sq"},
    O.RMSprop: {"step", "square_avg"},
    O.Adagrad: {"step", "sum"},
    O.Adadelta: {"step", "square_avg", "acc_delta"},
}

# The group keys PyTorch 2.x writes (besides "params"), checked against torch in the interop tests.
GROUP_KEYS = {
    O.SGD: {"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "foreach", "differentiable", "fused"},
    O.Adam: {"lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "foreach", "capturable", "differentiable",
             "fused", "decoupled_weight_decay"},
    O.Adamax: {"lr", "betas", "eps", "weight_decay", "foreach", "maximize", "differentiable", "capturable"},
    O.NAdam: {"lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay", "maximize", "foreach",
              "capturable", "differentiable"},
    O.RAdam: {"lr", "betas", "eps", "weight_decay", "maximize", "foreach", "capturable", "decoupled_weight_decay",
              "differentiable"},
    O.RMSprop: {"lr", "momentum", "alpha", "eps", "centered", "weight_decay", "capturable", "foreach", "maximize",
                "differentiable"},
    O.Adagrad: {"lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value", "foreach", "maximize",
                "differentiable", "fused"},
    O.Adadelta: {"lr", "rho", "eps", "weight_decay", "maximize", "capturable", "foreach", "differentiable"},
}
GROUP_KEYS[O.AdamW] = GROUP_KEYS[O.Adam]


def params_and_grads(rng, n=3):
    # float32: loading casts floating state (NAdam's float32 mu_product too) to the parameter's dtype.
    params = [ft.tensor(rng.uniform(-1, 1, size=(2, 3)), dtype=ft.float32).requires_grad_() for _ in range(n)]
    grads = [[rng.uniform(-1, 1, size=(2, 3)) for _ in range(n)] for _ in range(4)]
    return params, grads


def step_with(opt, params, grads):
    for p, g in zip(params, grads):
        p.grad = ft.tensor(g, dtype=p.dtype)
    opt.step()


@pytest.mark.parametrize("cls,options,reference", cases())
def test_load_state_dict_continues_identically(cls, options, reference, rng):
    params, grads = params_and_grads(rng)
    opt = cls(params, **options)
    for g in grads[:2]:
        step_with(opt, params, g)
    saved = copy.deepcopy(opt.state_dict())
    clones = [p.detach().clone().requires_grad_() for p in params]
    resumed = cls(clones, **options)
    resumed.load_state_dict(saved)
    for g in grads[2:]:
        step_with(opt, params, g)
        step_with(resumed, clones, g)
    for p, c in zip(params, clones):
        np.testing.assert_array_equal(to_numpy(p), to_numpy(c))


@pytest.mark.parametrize("cls,options,reference", cases("first"))
def test_state_dict_structure_matches_pytorch(cls, options, reference, rng):
    params, grads = params_and_grads(rng, n=2)
    opt = cls([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], **options)
    step_with(opt, params, grads[0])
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert set(sd["param_groups"][0]) - {"params"} == GROUP_KEYS[cls]
    assert sd["param_groups"][1]["lr"] == 0.5
    has_state = cls is not O.SGD or options.get("momentum")
    assert sorted(sd["state"]) == ([0, 1] if has_state else [])
    for state in sd["state"].values():
        assert set(state) == STATE_KEYS[cls]
        if "step" in state:
            assert state["step"].dtype == ft.float32 and state["step"].shape == ()
            assert state["step"].item() == 1.0
        if "mu_product" in state:
            assert state["mu_product"].dtype == ft.float32 and state["mu_product"].shape == ()


def test_sgd_without_momentum_keeps_no_state(rng):
    params, grads = params_and_grads(rng)
    opt = O.SGD(params, lr=0.1)
    step_with(opt, params, grads[0])
    assert opt.state_dict()["state"] == {}


def test_sgd_momentum_buffer_appears_at_first_step(rng):
    params, grads = params_and_grads(rng, n=1)
    opt = O.SGD(params, lr=0.1, momentum=0.9)
    assert opt.state[params[0]].get("momentum_buffer") is None
    step_with(opt, params, grads[0])
    np.testing.assert_array_equal(to_numpy(opt.state[params[0]]["momentum_buffer"]), grads[0][0].astype(np.float32))


def test_adam_amsgrad_adds_max_exp_avg_sq(rng):
    params, grads = params_and_grads(rng, n=1)
    opt = O.Adam(params, amsgrad=True)
    step_with(opt, params, grads[0])
    assert set(opt.state[params[0]]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}


def test_rmsprop_optional_buffers(rng):
    params, grads = params_and_grads(rng, n=1)
    opt = O.RMSprop(params, momentum=0.5, centered=True)
    step_with(opt, params, grads[0])
    assert set(opt.state[params[0]]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}


def test_adagrad_state_exists_before_the_first_step(rng):
    params, _ = params_and_grads(rng, n=1)
    opt = O.Adagrad(params, initial_accumulator_value=0.25)
    state = opt.state[params[0]]
    assert state["step"].item() == 0.0
    np.testing.assert_array_equal(to_numpy(state["sum"]), np.full((2, 3), 0.25))


def test_python_number_steps_from_old_checkpoints_become_tensors(rng):
    params, grads = params_and_grads(rng, n=1)
    opt = O.NAdam(params)
    step_with(opt, params, grads[0])
    sd = opt.state_dict()
    sd["state"][0]["step"] = 1
    sd["state"][0]["mu_product"] = float(sd["state"][0]["mu_product"].item())
    fresh = O.NAdam(params)
    fresh.load_state_dict(sd)
    state = fresh.state[params[0]]
    assert isinstance(state["step"], ft.Tensor) and state["step"].dtype == ft.float32
    assert isinstance(state["mu_product"], ft.Tensor)
    step_with(fresh, params, grads[1])
    assert state["step"].item() == 2.0


def test_loaded_state_is_cast_to_the_parameter_dtype(rng):
    params, grads = params_and_grads(rng, n=1)
    opt = O.Adam(params)
    step_with(opt, params, grads[0])
    sd = opt.state_dict()
    p32 = [params[0].detach().double().requires_grad_()]
    fresh = O.Adam(p32)
    fresh.load_state_dict(sd)
    assert fresh.state[p32[0]]["exp_avg"].dtype == ft.float64
    assert fresh.state[p32[0]]["step"].dtype == ft.float32
