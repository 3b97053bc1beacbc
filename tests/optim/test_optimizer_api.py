"""Constructor checks, reprs, step semantics (closure, hooks, no graph, versions) and zero_grad."""

import numpy as np
import pytest

import ferrotorch as ft
from conftest import to_numpy
from optim_cases import cases

O = ft.optim


def leaf(rng, shape=(2, 3)):
    return ft.tensor(rng.uniform(-1, 1, size=shape)).requires_grad_()


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: O.SGD(p, lr=-1.0), "Invalid learning rate: -1.0"),
        (lambda p: O.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: O.SGD(p, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda p: O.SGD(p, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (lambda p: O.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
        (lambda p: O.Adam(p, lr=-1.0), "Invalid learning rate: -1.0"),
        (lambda p: O.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (lambda p: O.Adam(p, betas=(1.0, 0.999)), r"Invalid beta parameter at index 0: 1.0"),
        (lambda p: O.AdamW(p, betas=(0.9, -0.1)), r"Invalid beta parameter at index 1: -0.1"),
        (lambda p: O.AdamW(p, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (lambda p: O.Adamax(p, lr=-2.0), "Invalid learning rate: -2.0"),
        (lambda p: O.NAdam(p, momentum_decay=-1.0), "Invalid momentum_decay value: -1.0"),
        (lambda p: O.RAdam(p, betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
        (lambda p: O.RMSprop(p, alpha=-0.1), "Invalid alpha value: -0.1"),
        (lambda p: O.RMSprop(p, momentum=-0.1), "Invalid momentum value: -0.1"),
        (lambda p: O.Adagrad(p, lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
        (lambda p: O.Adagrad(p, initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
        (lambda p: O.Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
        (lambda p: O.LBFGS(p, lr=-1.0), "Invalid learning rate: -1.0"),
        (lambda p: O.Adam(p, lr=ft.tensor([0.1, 0.2])), "Tensor lr must be 1-element"),
    ],
)
def test_invalid_hyperparameters_raise_value_error(make, message, rng):
    with pytest.raises(ValueError, match=message):
        make([leaf(rng)])


def test_fused_flag_conflicts_raise_runtime_error(rng):
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
        O.Adam([leaf(rng)], fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        O.SGD([leaf(rng)], fused=True, differentiable=True)


def test_differentiable_is_not_supported(rng):
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        O.Adam([leaf(rng)], differentiable=True)


def test_empty_parameter_list_raises(rng):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        O.Adam([])


def test_lbfgs_rejects_parameter_groups(rng):
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        O.LBFGS([{"params": [leaf(rng)]}, {"params": [leaf(rng)]}])


def test_repr_lists_group_options_sorted(rng):
    text = repr(O.SGD([leaf(rng)], lr=0.1, momentum=0.9))
    assert text == (
        "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n"
        "    fused: None\n    lr: 0.1\n    maximize: False\n    momentum: 0.9\n    nesterov: False\n"
        "    weight_decay: 0\n)"
    )


def test_adamw_defaults(rng):
    group = O.AdamW([leaf(rng)]).param_groups[0]
    assert group["weight_decay"] == 0.01 and group["decoupled_weight_decay"] is True
    assert group["betas"] == (0.9, 0.999) and group["eps"] == 1e-8 and group["lr"] == 1e-3


def test_step_returns_closure_loss_computed_with_grad_enabled(rng):
    p = leaf(rng)
    opt = O.Adam([p])
    seen = {}

    def closure():
        opt.zero_grad()
        seen["grad_enabled"] = ft.is_grad_enabled()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ft.no_grad():
        loss = opt.step(closure)
    assert seen["grad_enabled"] is True
    assert isinstance(loss, ft.Tensor) and loss.grad_fn is not None
    assert opt.state[p]["step"].item() == 1.0


@pytest.mark.parametrize("cls,options,reference", cases("first"))
def test_step_records_no_graph_and_bumps_versions(cls, options, reference, rng):
    p = leaf(rng)
    opt = cls([p], **options)
    p.grad = ft.ones_like(p)
    version = p._version
    opt.step()
    assert p._version > version
    assert p.grad_fn is None and p.is_leaf and p.requires_grad
    np.testing.assert_array_equal(to_numpy(p.grad), np.ones((2, 3)))  # the gradient is never written


def test_bad_state_shape_raises_runtime_error(rng):
    p = leaf(rng)
    opt = O.Adam([p])
    opt.state[p] = {"step": ft.tensor(0.0), "exp_avg": ft.zeros(3), "exp_avg_sq": ft.zeros(2, 3)}
    p.grad = ft.ones_like(p)
    with pytest.raises(RuntimeError, match=r"shape \[3\].*shape \[2, 3\]"):
        opt.step()


def test_zero_grad_sets_to_none_or_zeros(rng):
    a, b = leaf(rng), leaf(rng)
    opt = O.SGD([a, b], lr=0.1)
    a.grad, b.grad = ft.ones_like(a), ft.ones_like(b)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(to_numpy(a.grad), np.zeros((2, 3)))
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_step_hooks_run_around_step_and_can_be_removed(rng):
    p = leaf(rng)
    opt = O.SGD([p], lr=0.1)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o.state_dict()["state"] == {})))
    post = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", to_numpy(p).copy())))
    before = to_numpy(p).copy()
    p.grad = ft.ones_like(p)
    opt.step()
    assert calls[0] == ("pre", True)
    np.testing.assert_allclose(calls[1][1], before - 0.1)
    pre.remove()
    post.remove()
    opt.step()
    assert len(calls) == 2


def test_global_step_hooks_apply_to_every_optimizer(rng):
    calls = []
    handle = ft.optim.optimizer.register_optimizer_step_post_hook(lambda o, a, k: calls.append(type(o).__name__))
    try:
        for cls in (O.Adam, O.RMSprop):
            p = leaf(rng)
            p.grad = ft.ones_like(p)
            cls([p]).step()
    finally:
        handle.remove()
    assert calls == ["Adam", "RMSprop"]


def test_tensor_lr_is_used_as_its_value(rng):
    a, b = leaf(rng), None
    b = a.detach().clone().requires_grad_()
    for p in (a, b):
        p.grad = ft.ones_like(p)
    O.SGD([a], lr=ft.tensor(0.25)).step()
    O.SGD([b], lr=0.25).step()
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_add_param_group_gets_defaults_and_is_updated(rng):
    a, b = leaf(rng), leaf(rng)
    opt = O.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    b.grad = ft.ones_like(b)
    before = to_numpy(b).copy()
    opt.step()
    # Adam's first step moves every coordinate by lr (m_hat / sqrt(v_hat) = 1).
    np.testing.assert_allclose(to_numpy(b), before - 0.01, rtol=1e-6)
