"""GradScaler: scaling, unscaling, skipped steps with scale backoff, growth, state dicts,
and its two fused kernels against NumPy."""

import pickle

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.amp import GradScaler

from conftest import assert_close, make


class SGD(ft.optim.Optimizer):
    """Plain gradient descent, enough to drive the scaler (tests only)."""

    def __init__(self, params, lr=0.5):
        super().__init__(params, {"lr": lr})
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        with ft.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.sub_(p.grad * group["lr"])
        return "stepped"


def _model(value=1.0):
    w = ft.full((3,), value, requires_grad=True)
    return w, SGD([w])


def _iteration(scaler, w, opt, factor):
    """One training step whose gradient is `factor` per element (inf/NaN factors overflow)."""
    opt.zero_grad()
    scaler.scale((w * factor).sum()).backward()
    result = scaler.step(opt)
    scaler.update()
    return result


# ----- the fused kernels ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.bfloat16, ft.float16])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_unscale_kernel_multiplies_in_place(rng, dtype, layout):
    g, gn = make((3, 4), dtype, rng, layout)
    found = ft.zeros(())
    ft._C._amp_foreach_non_finite_check_and_unscale_([g], found, ft.full((), 0.25))
    assert_close(g, gn.astype(np.float64) * 0.25, dtype=dtype)
    assert found.item() == 0.0


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_unscale_kernel_finds_non_finite(bad):
    grads = [ft.tensor([1.0, 2.0]), ft.tensor([[4.0, bad]]).t(), ft.zeros(0)]
    found = ft.zeros(())
    ft._C._amp_foreach_non_finite_check_and_unscale_(grads, found, ft.full((), 0.5))
    assert found.item() == 1.0
    assert grads[0].tolist() == [0.5, 1.0]
    assert grads[1][0, 0].item() == 2.0  # unscaled even when a non-finite value is found


def test_unscale_kernel_keeps_found_flag_set():
    found = ft.ones(())
    ft._C._amp_foreach_non_finite_check_and_unscale_([ft.ones(2)], found, ft.ones(()))
    assert found.item() == 1.0


@pytest.mark.parametrize(
    "found, inv, message",
    [
        (ft.zeros(()), ft.ones(2), "inv_scale must be a 1-element tensor."),
        (ft.zeros(2), ft.ones(()), "found_inf must be a 1-element tensor."),
        (ft.zeros(()), ft.ones((), dtype=ft.float64), "inv_scale must be a float tensor."),
        (ft.zeros((), dtype=ft.float64), ft.ones(()), "found_inf must be a float tensor."),
    ],
)
def test_unscale_kernel_checks_state_tensors(found, inv, message):
    with pytest.raises(RuntimeError, match=message):
        ft._C._amp_foreach_non_finite_check_and_unscale_([ft.ones(2)], found, inv)


def test_unscale_kernel_rejects_integer_grads():
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        ft._C._amp_foreach_non_finite_check_and_unscale_([ft.ones(2, dtype=ft.int64)], ft.zeros(()), ft.ones(()))


def _update(scale, tracker, found, interval=2):
    s, t = ft.full((), scale), ft.full((), tracker, dtype=ft.int32)
    out = ft._C._amp_update_scale_(s, t, ft.full((), found), 2.0, 0.5, interval)
    assert out is s
    return s.item(), t.item()


def test_update_kernel_rule():
    assert _update(4.0, 0, 0.0) == (4.0, 1)
    assert _update(4.0, 1, 0.0) == (8.0, 0)
    assert _update(4.0, 1, 1.0) == (2.0, 0)
    assert _update(3e38, 1, 0.0) == (pytest.approx(3e38), 0)  # growth that overflows is skipped


@pytest.mark.parametrize(
    "args, message",
    [
        ((ft.ones(()), ft.zeros((), dtype=ft.int64), ft.zeros(())), "growth_tracker must be an int tensor."),
        ((ft.ones((), dtype=ft.float64), ft.zeros((), dtype=ft.int32), ft.zeros(())), "current_scale must be a float tensor."),
        ((ft.ones(()), ft.zeros((), dtype=ft.int32), ft.zeros((), dtype=ft.float64)), "found_inf must be a float tensor."),
        ((ft.ones(2), ft.zeros((), dtype=ft.int32), ft.zeros(())), "current_scale must be a 1-element tensor."),
        ((ft.ones(()), ft.zeros(2, dtype=ft.int32), ft.zeros(())), "growth_tracker must be a 1-element tensor."),
    ],
)
def test_update_kernel_checks_state_tensors(args, message):
    with pytest.raises(RuntimeError, match=message):
        ft._C._amp_update_scale_(*args, 2.0, 0.5, 2)


# ----- GradScaler ----------------------------------------------------------------------------
def test_constructor_defaults_and_state_dict():
    scaler = GradScaler("cpu")
    assert scaler.is_enabled() and scaler.get_scale() == 65536.0
    assert scaler.state_dict() == {
        "scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000, "_growth_tracker": 0,
    }


def test_cuda_scaler_without_cuda_warns_and_disables():
    with pytest.warns(UserWarning, match="torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling."):
        scaler = GradScaler()
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}


@pytest.mark.parametrize(
    "kwargs, message",
    [({"growth_factor": 1.0}, "The growth factor must be > 1.0."), ({"backoff_factor": 1.0}, "The backoff factor must be < 1.0.")],
)
def test_bad_factors(kwargs, message):
    with pytest.raises(AssertionError, match=message):
        GradScaler("cpu", **kwargs)


def test_scale_multiplies_tensors_and_nested_containers():
    scaler = GradScaler("cpu", init_scale=4.0)
    assert scaler.scale(ft.tensor([1.0, 2.0])).tolist() == [4.0, 8.0]
    out = scaler.scale([ft.ones(1), (ft.ones(1) * 3,)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert out[0].tolist() == [4.0] and out[1][0].tolist() == [12.0]
    with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
        scaler.scale([ft.ones(1), 3])


def test_scale_follows_type_promotion():
    # The scale is a 0-d float32 tensor: it promotes a 0-d loss but not a 1-d one (as PyTorch).
    assert GradScaler("cpu").scale(ft.ones((), dtype=ft.bfloat16)).dtype == ft.float32
    assert GradScaler("cpu").scale(ft.ones(2, dtype=ft.bfloat16)).dtype == ft.bfloat16


def test_disabled_scaler_is_a_pass_through():
    scaler = GradScaler("cpu", enabled=False)
    w, opt = _model()
    loss = (w * 2).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    assert scaler.step(opt) == "stepped"
    scaler.update()
    assert w.tolist() == [0.0, 0.0, 0.0]


def test_step_unscales_before_stepping():
    scaler = GradScaler("cpu", init_scale=8.0)
    w, opt = _model()
    assert _iteration(scaler, w, opt, 2.0) == "stepped"
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    assert w.tolist() == [0.0, 0.0, 0.0]


def test_step_is_skipped_on_inf_and_scale_backs_off():
    scaler = GradScaler("cpu", init_scale=8.0)
    w, opt = _model()
    assert _iteration(scaler, w, opt, float("inf")) is None
    assert opt.steps == 0 and w.tolist() == [1.0, 1.0, 1.0]
    assert scaler.get_scale() == 4.0 and scaler._get_growth_tracker() == 0


def test_scale_grows_after_growth_interval():
    scaler = GradScaler("cpu", init_scale=2.0, growth_interval=3)
    w, opt = _model()
    scales = []
    for factor in [1.0, 1.0, 1.0, 1.0, float("nan"), 1.0, 1.0, 1.0]:
        _iteration(scaler, w, opt, factor)
        scales.append(scaler.get_scale())
    assert scales == [2.0, 2.0, 4.0, 4.0, 2.0, 2.0, 2.0, 4.0]
    assert opt.steps == 7


def test_unscale_then_step():
    scaler = GradScaler("cpu", init_scale=4.0)
    w, opt = _model()
    scaler.scale((w * 3).sum()).backward()
    scaler.unscale_(opt)
    assert w.grad.tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this optimizer since the last update\(\)."):
        scaler.unscale_(opt)
    scaler.step(opt)
    assert w.grad.tolist() == [3.0, 3.0, 3.0]  # not unscaled twice
    with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step\(\)."):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update\(\)."):
        scaler.step(opt)
    scaler.update()


def test_float16_grads_cannot_be_unscaled():
    scaler = GradScaler("cpu")
    w = ft.ones(2, dtype=ft.float16, requires_grad=True)
    scaler.scale(w.sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        scaler.step(SGD([w]))


def test_methods_before_scale_raise():
    scaler = GradScaler("cpu")
    with pytest.raises(AssertionError, match="Attempted update but _scale is None."):
        scaler.update()
    with pytest.raises(AssertionError, match="Attempted step but _scale is None."):
        scaler.step(_model()[1])


def test_closure_is_refused():
    scaler = GradScaler("cpu")
    w, opt = _model()
    scaler.scale(w.sum()).backward()
    with pytest.raises(RuntimeError, match="Closure use is not currently supported if GradScaler is enabled."):
        scaler.step(opt, closure=lambda: None)


def test_update_with_explicit_scale():
    scaler = GradScaler("cpu")
    w, opt = _model()
    _iteration(scaler, w, opt, 1.0)
    scaler.update(128.0)
    assert scaler.get_scale() == 128.0
    scaler.update(ft.full((), 32.0))
    assert scaler.get_scale() == 32.0
    with pytest.raises(AssertionError, match="new_scale should be a float or a 1-element"):
        scaler.update(ft.ones(2))


def test_update_without_inf_checks_raises():
    scaler = GradScaler("cpu")
    scaler.scale(ft.ones(()))
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update."):
        scaler.update()


def test_two_optimizers_share_the_skip_decision():
    scaler = GradScaler("cpu", init_scale=4.0)
    (w1, opt1), (w2, opt2) = _model(), _model()
    scaler.scale((w1 * float("inf")).sum() + (w2 * 1.0).sum()).backward()
    scaler.step(opt1)
    scaler.step(opt2)
    scaler.update()
    assert opt1.steps == 0 and opt2.steps == 1
    assert scaler.get_scale() == 2.0


def test_state_dict_round_trip():
    scaler = GradScaler("cpu", init_scale=16.0, growth_factor=3.0, backoff_factor=0.25, growth_interval=5)
    w, opt = _model()
    for factor in [1.0, 1.0, float("inf"), 1.0]:
        _iteration(scaler, w, opt, factor)
    state = scaler.state_dict()
    assert state == {"scale": 4.0, "growth_factor": 3.0, "backoff_factor": 0.25, "growth_interval": 5, "_growth_tracker": 1}
    fresh = GradScaler("cpu")
    fresh.load_state_dict(state)
    assert fresh.state_dict() == state
    used = GradScaler("cpu")
    used.scale(ft.ones(()))
    used.load_state_dict(state)
    assert used.get_scale() == 4.0 and used._get_growth_tracker() == 1


def test_load_empty_state_dict_raises():
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        GradScaler("cpu").load_state_dict({})


def test_pickle_between_iterations():
    scaler = GradScaler("cpu", init_scale=8.0)
    w, opt = _model()
    _iteration(scaler, w, opt, 1.0)
    copy = pickle.loads(pickle.dumps(scaler))
    assert copy.state_dict() == scaler.state_dict()
    scaler.scale((w * 1.0).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(AssertionError, match="may only be pickled at the beginning"):
        pickle.dumps(scaler)


class _FusedSGD(SGD):
    """An optimizer that unscales and skips by itself, as PyTorch's fused optimizers do."""

    _step_supports_amp_scaling = True

    def step(self, closure=None):
        self.seen = (self.grad_scale.item(), self.found_inf.item())
        if self.found_inf.item() == 0:
            with ft.no_grad():
                for p in self.param_groups[0]["params"]:
                    p.sub_(p.grad / self.grad_scale * self.param_groups[0]["lr"])
        return "fused"


def test_optimizer_that_unscales_itself_gets_scale_and_found_inf():
    scaler = GradScaler("cpu", init_scale=4.0)
    w = ft.ones(3, requires_grad=True)
    opt = _FusedSGD([w])
    scaler.scale((w * 2).sum()).backward()
    assert scaler.step(opt) == "fused"
    assert opt.seen == (4.0, 0.0) and w.tolist() == [0.0, 0.0, 0.0]
    assert w.grad.tolist() == [8.0, 8.0, 8.0]  # left scaled for the optimizer
    assert not hasattr(opt, "grad_scale") and not hasattr(opt, "found_inf")
    scaler.update()
