"""ferrotorch.optim.lr_scheduler: learning-rate sequences against closed-form float64 formulas
(PyTorch's documented ones), state-dict round trips, composition, ReduceLROnPlateau, momentum
cycling, warnings and constructor validation."""

import copy
import math
import warnings

import pytest

import ferrotorch as ft
from ferrotorch.optim import lr_scheduler as sched

BASE_LRS = (0.1, 0.02)
STEPS = 30


# The schedulers read and write group options: SGD carries ``momentum``, Adam ``betas``, and
# Adagrad neither (for the cycling schedulers' errors).
PlainSGD, PlainBetas, Plainless = ft.optim.SGD, ft.optim.Adam, ft.optim.Adagrad


def make_optimizer(lrs=BASE_LRS, cls=PlainSGD, **defaults):
    groups = [{"params": [ft.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, **defaults)


def trace(optimizer, scheduler, steps=STEPS, read=lambda group: group["lr"]):
    """``read(group)`` of every group at epochs 0..steps-1 (epoch 0 set by the constructor);
    tensor values are read out as floats."""

    def row():
        return [float(v) if isinstance(v, ft.Tensor) else v for v in map(read, optimizer.param_groups)]

    seq = [row()]
    for _ in range(steps - 1):
        optimizer.step()
        scheduler.step()
        seq.append(row())
    return seq


def run(optimizer, scheduler, steps=STEPS, key="lr"):
    """The groups' ``key`` at epochs 0..steps-1."""
    return trace(optimizer, scheduler, steps, lambda group: group[key])


def expected(formula, base_lrs=BASE_LRS, steps=STEPS):
    return [[formula(base, epoch) for base in base_lrs] for epoch in range(steps)]


def assert_seq(actual, wanted):
    assert len(actual) == len(wanted)
    for epoch, (got, want) in enumerate(zip(actual, wanted)):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), f"epoch {epoch}"


# ---- each scheduler against its documented formula ------------------------------------------


def _cosine(base, epoch, t_max, eta_min):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2


def _warm_restart(base, epoch, t_0, t_mult, eta_min):
    t_cur, t_i = epoch, t_0
    while t_cur >= t_i:
        t_cur -= t_i
        t_i *= t_mult
    return _cosine(base, t_cur, t_i, eta_min)


CASES = {
    "LambdaLR": (
        lambda o: sched.LambdaLR(o, lambda e: 1.0 / (1 + e)),
        lambda base, e: base / (1 + e),
    ),
    "MultiplicativeLR": (
        lambda o: sched.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 0.95),
        lambda base, e: base * math.prod(0.9 if k % 2 else 0.95 for k in range(1, e + 1)),
    ),
    "StepLR": (lambda o: sched.StepLR(o, step_size=7, gamma=0.5), lambda base, e: base * 0.5 ** (e // 7)),
    "MultiStepLR": (
        lambda o: sched.MultiStepLR(o, milestones=[3, 10, 10, 21], gamma=0.3),
        lambda base, e: base * 0.3 ** sum(m <= e for m in (3, 10, 10, 21)),
    ),
    "ConstantLR": (
        lambda o: sched.ConstantLR(o, factor=0.25, total_iters=6),
        lambda base, e: base * (0.25 if e < 6 else 1.0),
    ),
    "LinearLR": (
        lambda o: sched.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=12),
        lambda base, e: base * (0.2 + (0.9 - 0.2) * min(e, 12) / 12),
    ),
    "ExponentialLR": (lambda o: sched.ExponentialLR(o, gamma=0.93), lambda base, e: base * 0.93**e),
    "PolynomialLR": (
        lambda o: sched.PolynomialLR(o, total_iters=17, power=2.0),
        lambda base, e: base * (1 - min(e, 17) / 17) ** 2.0,
    ),
    "CosineAnnealingLR": (
        lambda o: sched.CosineAnnealingLR(o, T_max=9, eta_min=0.001),
        lambda base, e: _cosine(base, e, 9, 0.001),
    ),
    "CosineAnnealingWarmRestarts": (
        lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
        lambda base, e: _warm_restart(base, e, 3, 2, 0.001),
    ),
    "CosineAnnealingWarmRestarts-Tmult1": (
        lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=4),
        lambda base, e: _warm_restart(base, e, 4, 1, 0.0),
    ),
    "SequentialLR": (
        lambda o: sched.SequentialLR(
            o, [sched.LinearLR(o, start_factor=0.1, total_iters=5), sched.ExponentialLR(o, gamma=0.9)], milestones=[5]
        ),
        lambda base, e: base * (0.1 + 0.9 * e / 5) if e < 5 else base * 0.9 ** (e - 5),
    ),
    "ChainedScheduler": (
        lambda o: sched.ChainedScheduler([sched.ConstantLR(o, factor=0.5, total_iters=4), sched.ExponentialLR(o, 0.9)]),
        lambda base, e: base * (0.5 if e < 4 else 1.0) * 0.9**e,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_learning_rates_follow_the_documented_formula(name):
    build, formula = CASES[name]
    optimizer = make_optimizer()
    assert_seq(run(optimizer, build(optimizer)), expected(formula))


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "CosineAnnealingLR", "ChainedScheduler"])
def test_get_last_lr_is_a_copy_of_the_groups_rates(name):
    optimizer = make_optimizer()
    scheduler = CASES[name][0](optimizer)
    run(optimizer, scheduler, steps=5)
    assert scheduler.get_last_lr() == [g["lr"] for g in optimizer.param_groups]
    scheduler.get_last_lr()[0] = 123.0
    assert optimizer.param_groups[0]["lr"] != 123.0


def test_initial_lr_is_recorded_and_base_lrs_read_from_it():
    optimizer = make_optimizer()
    scheduler = sched.StepLR(optimizer, 2)
    assert [g["initial_lr"] for g in optimizer.param_groups] == list(BASE_LRS)
    assert scheduler.base_lrs == list(BASE_LRS)
    assert scheduler.last_epoch == 0 and scheduler._step_count == 1


def test_resuming_needs_initial_lr():
    optimizer = make_optimizer()
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        sched.StepLR(optimizer, 2, last_epoch=4)


def test_resuming_with_last_epoch_continues_from_the_current_rates():
    # As after loading a checkpoint: the groups already hold the rates of epoch 4.
    optimizer = make_optimizer([_cosine(b, 4, 10, 0.0) for b in BASE_LRS])
    for group, base in zip(optimizer.param_groups, BASE_LRS):
        group["initial_lr"] = base
    scheduler = sched.CosineAnnealingLR(optimizer, T_max=10, last_epoch=3)
    assert scheduler.last_epoch == 4 and scheduler.base_lrs == list(BASE_LRS)
    assert scheduler.get_last_lr() == pytest.approx([_cosine(b, 4, 10, 0.0) for b in BASE_LRS])
    optimizer.step()
    scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([_cosine(b, 5, 10, 0.0) for b in BASE_LRS], rel=1e-12)


# ---- state dicts --------------------------------------------------------------------------------


class Halving:
    """A callable object: its attributes go into LambdaLR's state dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate**epoch


STATEFUL = dict(CASES)
STATEFUL["CyclicLR"] = (lambda o: sched.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=4, mode="triangular2"), None)
STATEFUL["OneCycleLR"] = (lambda o: sched.OneCycleLR(o, [0.5, 1.0], total_steps=40, three_phase=True), None)
STATEFUL["LambdaLR-object"] = (lambda o: sched.LambdaLR(o, Halving(0.9)), None)


@pytest.mark.parametrize("name", STATEFUL)
def test_state_dict_round_trip_mid_schedule_continues_identically(name):
    build = STATEFUL[name][0]
    reference_opt = make_optimizer(momentum=0.9)
    reference = run(reference_opt, build(reference_opt), steps=STEPS)

    optimizer = make_optimizer(momentum=0.9)
    scheduler = build(optimizer)
    first = run(optimizer, scheduler, steps=12)
    saved_opt = copy.deepcopy(optimizer.state_dict())
    saved = copy.deepcopy(scheduler.state_dict())
    assert "optimizer" not in saved

    resumed_opt = make_optimizer(momentum=0.9)
    resumed = build(resumed_opt)
    resumed_opt.load_state_dict(saved_opt)
    resumed.load_state_dict(saved)
    rest = run(resumed_opt, resumed, steps=STEPS - 11)[1:]
    assert first + rest == reference


def test_lambda_state_dict_saves_callable_objects_only():
    optimizer = make_optimizer()
    scheduler = sched.LambdaLR(optimizer, [Halving(0.5), lambda e: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    state["lr_lambdas"][0]["rate"] = 0.25
    scheduler.load_state_dict(state)
    assert scheduler.lr_lambdas[0].rate == 0.25
    assert "lr_lambdas" in state  # the caller's dict is left whole


def test_multiplicative_state_dict_saves_callable_objects_only():
    optimizer = make_optimizer()
    scheduler = sched.MultiplicativeLR(optimizer, Halving(0.5))
    assert scheduler.state_dict()["lr_lambdas"] == [{"rate": 0.5}, {"rate": 0.5}]


def test_state_dict_keys_are_the_attributes_but_the_optimizer():
    optimizer = make_optimizer()
    scheduler = sched.StepLR(optimizer, 3)
    assert set(scheduler.state_dict()) == {
        "step_size", "gamma", "base_lrs", "last_epoch", "_step_count", "_is_initial",
        "_get_lr_called_within_step", "_last_lr",
    }


def test_sequential_state_dict_nests_the_children():
    optimizer = make_optimizer()
    scheduler = CASES["SequentialLR"][0](optimizer)
    state = scheduler.state_dict()
    assert set(state) == {"_milestones", "last_epoch", "_last_lr", "_schedulers"}
    assert [s["last_epoch"] for s in state["_schedulers"]] == [0, -1]


# ---- the deprecated closed-form step(epoch) -----------------------------------------------------


@pytest.mark.parametrize("name,epoch", [("StepLR", 15), ("MultiStepLR", 11), ("ConstantLR", 2), ("LinearLR", 7),
                                        ("ExponentialLR", 9), ("PolynomialLR", 20), ("CosineAnnealingLR", 13)])
def test_step_with_epoch_uses_the_closed_form(name, epoch):
    build, formula = CASES[name]
    optimizer = make_optimizer()
    scheduler = build(optimizer)
    optimizer.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        scheduler.step(epoch)
    assert scheduler.last_epoch == epoch
    assert scheduler.get_last_lr() == pytest.approx([formula(b, epoch) for b in BASE_LRS], rel=1e-12)


def test_warm_restarts_accepts_fractional_epochs():
    optimizer = make_optimizer()
    scheduler = sched.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=3, eta_min=0.01)
    # Restarts at 2 and 2 + 6 = 8; epoch 9.5 is 1.5 into a period of 18.
    for epoch, t_cur, t_i in [(0.5, 0.5, 2), (1.25, 1.25, 2), (3.0, 1.0, 6), (9.5, 1.5, 18), (7.75, 5.75, 6)]:
        scheduler.step(epoch)
        assert scheduler.last_epoch == math.floor(epoch)
        assert scheduler.T_i == t_i and scheduler.T_cur == pytest.approx(t_cur)
        assert scheduler.get_last_lr() == pytest.approx([_cosine(b, t_cur, t_i, 0.01) for b in BASE_LRS])
    scheduler = sched.CosineAnnealingWarmRestarts(make_optimizer(), T_0=4)
    scheduler.step(9.5)
    assert scheduler.get_last_lr() == pytest.approx([_cosine(b, 1.5, 4, 0.0) for b in BASE_LRS])
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        scheduler.step(-1)


# ---- warnings ------------------------------------------------------------------------------------


def test_stepping_the_scheduler_before_the_optimizer_warns():
    optimizer = make_optimizer()
    scheduler = sched.StepLR(optimizer, 3)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        scheduler.step()


def test_stepping_in_the_right_order_does_not_warn():
    optimizer = make_optimizer()
    scheduler = sched.StepLR(optimizer, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            optimizer.step()
            scheduler.step()


def test_the_optimizer_step_is_wrapped_once_and_still_steps():
    param = ft.ones(2, requires_grad=True)
    optimizer = PlainSGD([param], lr=0.5)
    sched.StepLR(optimizer, 3)
    sched.ExponentialLR(optimizer, 0.5)
    assert optimizer.step._wrapped_by_lr_sched
    param.grad = ft.ones(2)
    optimizer.step()
    assert optimizer._opt_called
    assert param.tolist() == [0.5, 0.5]  # neither scheduler changes the rate at epoch 0


def test_replacing_optimizer_step_after_construction_warns():
    optimizer = make_optimizer()
    scheduler = sched.StepLR(optimizer, 3)
    optimizer.step = lambda: None
    with pytest.warns(UserWarning, match="Seems like `optimizer.step\\(\\)` has been overridden"):
        scheduler.step()


def test_calling_get_lr_outside_step_warns():
    scheduler = sched.StepLR(make_optimizer(), 3)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        scheduler.get_lr()


def test_verbose_is_accepted_with_a_deprecation_warning():
    with pytest.warns(UserWarning, match="The verbose parameter is deprecated"):
        sched.StepLR(make_optimizer(), 3, verbose=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler = sched.ExponentialLR(make_optimizer(), 0.5, -1, "deprecated")
    assert "verbose" not in scheduler.state_dict()


# ---- tensor learning rates -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR"])
def test_tensor_learning_rates_are_updated_in_place(name):
    build, formula = CASES[name]
    lrs = [ft.tensor(lr, dtype=ft.float64) for lr in BASE_LRS]
    optimizer = make_optimizer(lrs)
    scheduler = build(optimizer)
    seq = run(optimizer, scheduler, steps=12)
    assert all(g["lr"] is lr for g, lr in zip(optimizer.param_groups, lrs))
    assert_seq(seq, expected(formula, steps=12))
    assert all(isinstance(v, ft.Tensor) for v in scheduler.get_last_lr() + scheduler.base_lrs)
    assert scheduler.base_lrs[0] is not optimizer.param_groups[0]["initial_lr"]


# ---- CyclicLR and OneCycleLR ---------------------------------------------------------------------


def _cyclic_fraction(epoch, up, down):
    """Position in the triangle: 0 at the bottom, 1 at the top."""
    pos = epoch % (up + down)
    return pos / up if pos <= up else 1 - (pos - up) / down


@pytest.mark.parametrize("mode,scale", [
    ("triangular", lambda cycle, e: 1.0),
    ("triangular2", lambda cycle, e: 0.5 ** (cycle - 1)),
    ("exp_range", lambda cycle, e: 0.97**e),
])
def test_cyclic_lr_and_momentum_cycle_in_opposite_directions(mode, scale):
    optimizer = make_optimizer(momentum=0.5)
    scheduler = sched.CyclicLR(optimizer, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=5, step_size_down=3,
                               mode=mode, gamma=0.97, base_momentum=0.8, max_momentum=0.9)
    seq = trace(optimizer, scheduler, read=lambda g: (g["lr"], g["momentum"]))
    for e, row in enumerate(seq):
        height = _cyclic_fraction(e, 5, 3) * scale(e // 8 + 1, e)
        lrs, momenta = zip(*row)
        assert lrs == pytest.approx([0.01 + (0.1 - 0.01) * height, 0.02 + (0.3 - 0.02) * height], rel=1e-12)
        assert momenta == pytest.approx([0.9 - 0.1 * height] * 2, rel=1e-12)


def test_cyclic_lr_custom_scale_fn_and_beta1():
    optimizer = make_optimizer(cls=PlainBetas)
    scheduler = sched.CyclicLR(optimizer, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 1.0 / (1 + x),
                               scale_mode="iterations", base_momentum=0.85, max_momentum=0.95)
    betas = run(optimizer, scheduler, steps=10, key="betas")
    for e, row in enumerate(betas):
        height = _cyclic_fraction(e, 2, 2) / (1 + e)
        assert [b[0] for b in row] == pytest.approx([0.95 - 0.1 * height] * 2, rel=1e-12)
        assert [b[1] for b in row] == [0.999, 0.999]
    assert optimizer.param_groups[0]["max_momentum"] == 0.95 and optimizer.param_groups[0]["base_momentum"] == 0.85
    assert scheduler.state_dict()["_scale_fn_custom"] is None


def test_cyclic_lr_without_momentum_cycling_leaves_momentum():
    optimizer = make_optimizer(momentum=0.3)
    scheduler = sched.CyclicLR(optimizer, 0.01, 0.1, step_size_up=2, cycle_momentum=False)
    assert run(optimizer, scheduler, steps=6, key="momentum") == [[0.3, 0.3]] * 6
    assert "base_momentums" not in scheduler.state_dict()


def _anneal(start, end, pct, strategy):
    if strategy == "cos":
        return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2
    return start + (end - start) * pct


def _one_cycle(peak, step, total, pct_start, strategy, three_phase, div=25.0, final_div=1e4):
    """The 1cycle rate (and momentum) at ``step`` from the phase definitions in PyTorch's docs."""
    initial, low = peak / div, peak / div / final_div
    up_end = pct_start * total - 1
    if three_phase:
        ends = [up_end, 2 * pct_start * total - 2, total - 1]
        lrs = [(initial, peak), (peak, initial), (initial, low)]
        moms = [(0.95, 0.85), (0.85, 0.95), (0.95, 0.95)]
    else:
        ends = [up_end, total - 1]
        lrs = [(initial, peak), (peak, low)]
        moms = [(0.95, 0.85), (0.85, 0.95)]
    start = 0.0
    for i, end in enumerate(ends):
        if step <= end or i == len(ends) - 1:
            pct = (step - start) / (end - start)
            return _anneal(*lrs[i], pct, strategy), _anneal(*moms[i], pct, strategy)
        start = end


@pytest.mark.parametrize("strategy,three_phase", [("cos", False), ("linear", False), ("cos", True), ("linear", True)])
def test_one_cycle_lr_and_momentum(strategy, three_phase):
    optimizer = make_optimizer(momentum=0.0)
    scheduler = sched.OneCycleLR(optimizer, max_lr=[0.5, 1.0], epochs=4, steps_per_epoch=10, pct_start=0.25,
                                 anneal_strategy=strategy, three_phase=three_phase)
    seq = trace(optimizer, scheduler, steps=40, read=lambda g: (g["lr"], g["momentum"]))
    for step, row in enumerate(seq):
        for (lr, momentum), peak in zip(row, (0.5, 1.0)):
            want_lr, want_momentum = _one_cycle(peak, step, 40, 0.25, strategy, three_phase)
            assert lr == pytest.approx(want_lr, rel=1e-12, abs=1e-15)
            assert momentum == pytest.approx(want_momentum, rel=1e-12)
    group = optimizer.param_groups[1]
    assert (group["initial_lr"], group["max_lr"], group["min_lr"]) == (1.0 / 25, 1.0, 1.0 / 25 / 1e4)
    scheduler.step()  # like PyTorch, one step past the end is still allowed
    with pytest.raises(ValueError, match="Tried to step 41 times. The specified number of total steps is 40"):
        scheduler.step()


def test_one_cycle_div_factors_and_beta1():
    optimizer = make_optimizer(cls=PlainBetas)
    scheduler = sched.OneCycleLR(optimizer, 0.3, total_steps=10, div_factor=10.0, final_div_factor=100.0,
                                 base_momentum=0.7, max_momentum=0.9)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.03, 0.03])
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.999)
    for _ in range(9):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([0.0003, 0.0003])
    assert optimizer.param_groups[0]["betas"][0] == pytest.approx(0.9)


# ---- composition ---------------------------------------------------------------------------------


def test_sequential_lr_starts_each_scheduler_from_its_epoch_zero():
    optimizer = make_optimizer()
    scheduler = sched.SequentialLR(optimizer, [
        sched.ConstantLR(optimizer, factor=0.5, total_iters=2),
        sched.StepLR(optimizer, step_size=3, gamma=0.1),
        sched.CosineAnnealingLR(optimizer, T_max=10),
    ], milestones=[4, 10])

    def formula(base, e):
        if e < 4:
            return base * (0.5 if e < 2 else 1.0)
        if e < 10:
            return base * 0.1 ** ((e - 4) // 3)
        return _cosine(base, e - 10, 10, 0.0)

    assert_seq(run(optimizer, scheduler), expected(formula))


def test_chained_scheduler_composes_multiplicative_changes():
    optimizer = make_optimizer()
    scheduler = sched.ChainedScheduler([
        sched.StepLR(optimizer, step_size=4, gamma=0.5),
        sched.ExponentialLR(optimizer, gamma=0.95),
        sched.MultiStepLR(optimizer, milestones=[10], gamma=0.2),
    ])
    formula = lambda base, e: base * 0.5 ** (e // 4) * 0.95**e * (0.2 if e >= 10 else 1.0)  # noqa: E731
    assert_seq(run(optimizer, scheduler), expected(formula))
    assert scheduler.get_last_lr() == [g["lr"] for g in optimizer.param_groups]


def test_chained_cosine_with_constant_factor_uses_the_recursive_form():
    # The recursion carries another scheduler's factor, which the closed form would drop.
    optimizer = make_optimizer()
    scheduler = sched.ChainedScheduler([sched.ConstantLR(optimizer, factor=0.5, total_iters=3),
                                        sched.CosineAnnealingLR(optimizer, T_max=20)])
    assert_seq(run(optimizer, scheduler, steps=15),
               expected(lambda b, e: _cosine(b, e, 20, 0.0) * (0.5 if e < 3 else 1.0), steps=15))


# ---- ReduceLROnPlateau ---------------------------------------------------------------------------


def plateau_run(scheduler, optimizer, metrics):
    lrs = []
    for metric in metrics:
        optimizer.step()
        scheduler.step(metric)
        lrs.append([g["lr"] for g in optimizer.param_groups])
    return lrs


def test_plateau_reduces_after_patience_bad_epochs():
    optimizer = make_optimizer()
    scheduler = sched.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    lrs = plateau_run(scheduler, optimizer, [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5])
    # epoch 1 sets the best; epochs 2-4 are bad, the third exceeds patience 2.
    halved = [b * 0.5 for b in BASE_LRS]
    assert lrs == [list(BASE_LRS)] * 3 + [halved] * 4 + [[b * 0.25 for b in BASE_LRS]]
    assert scheduler.best == 0.5 and scheduler.num_bad_epochs == 0
    assert scheduler.get_last_lr() == lrs[-1]


def test_plateau_cooldown_ignores_bad_epochs():
    optimizer = make_optimizer([1.0])
    scheduler = sched.ReduceLROnPlateau(optimizer, factor=0.5, patience=0, cooldown=2)
    lrs = plateau_run(scheduler, optimizer, [1.0] * 8)
    # Reduce at epoch 2, cooldown through epochs 3-4, reduce again at 5, cooldown 6-7, reduce at 8.
    assert [lr[0] for lr in lrs] == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]


@pytest.mark.parametrize("mode,threshold_mode,metrics,improving", [
    ("min", "rel", [1.0, 0.95], False),   # needs < 1.0 * (1 - 0.1)
    ("min", "rel", [1.0, 0.89], True),
    ("min", "abs", [1.0, 0.95], True),    # needs < 1.0 - 0.01
    ("min", "abs", [1.0, 0.995], False),
    ("max", "rel", [1.0, 1.05], False),   # needs > 1.0 * 1.1
    ("max", "rel", [1.0, 1.11], True),
    ("max", "abs", [1.0, 1.005], False),  # needs > 1.0 + 0.01
    ("max", "abs", [1.0, 1.05], True),
])
def test_plateau_threshold_modes(mode, threshold_mode, metrics, improving):
    optimizer = make_optimizer()
    threshold = 0.1 if threshold_mode == "rel" else 0.01
    scheduler = sched.ReduceLROnPlateau(optimizer, mode=mode, threshold=threshold, threshold_mode=threshold_mode,
                                        patience=0, factor=0.5)
    lrs = plateau_run(scheduler, optimizer, metrics)
    assert (lrs[-1] == list(BASE_LRS)) == improving
    assert scheduler.best == (metrics[-1] if improving else metrics[0])


def test_plateau_min_lr_per_group_and_eps():
    optimizer = make_optimizer([1.0, 1.0, 1e-8])
    scheduler = sched.ReduceLROnPlateau(optimizer, factor=0.1, patience=0, min_lr=[0.05, 0.0, 0.0], eps=1e-8)
    lrs = plateau_run(scheduler, optimizer, [1.0, 1.0, 1.0, 1.0])
    # Group 3: the cut 1e-8 -> 1e-9 is below eps, so it is skipped.
    assert [lr[0] for lr in lrs] == pytest.approx([1.0, 0.1, 0.05, 0.05])
    assert [lr[1] for lr in lrs] == pytest.approx([1.0, 0.1, 0.01, 0.001])
    assert [lr[2] for lr in lrs] == [1e-8] * 4


def test_plateau_accepts_tensor_metrics_and_counts_epochs():
    optimizer = make_optimizer()
    scheduler = sched.ReduceLROnPlateau(optimizer)
    scheduler.step(ft.tensor(0.25))
    assert scheduler.best == 0.25 and scheduler.last_epoch == 1
    with pytest.warns(UserWarning, match="The epoch parameter"):
        scheduler.step(0.1, epoch=7)
    assert scheduler.last_epoch == 7


def test_plateau_state_dict_round_trip():
    optimizer = make_optimizer()
    scheduler = sched.ReduceLROnPlateau(optimizer, mode="max", patience=1, cooldown=1)
    plateau_run(scheduler, optimizer, [1.0, 0.5, 0.5])
    state = copy.deepcopy(scheduler.state_dict())
    assert set(state) == {"factor", "default_min_lr", "min_lrs", "patience", "cooldown", "eps", "last_epoch",
                          "_last_lr", "mode_worse", "mode", "threshold", "threshold_mode", "best",
                          "cooldown_counter", "num_bad_epochs"}
    other = sched.ReduceLROnPlateau(make_optimizer())
    other.load_state_dict(state)
    assert other.mode == "max" and other.mode_worse == -math.inf and other.best == 1.0
    assert other.cooldown_counter == 1


def test_plateau_new_param_group():
    optimizer = make_optimizer([1.0])
    fixed = sched.ReduceLROnPlateau(optimizer, patience=0, min_lr=[0.0])
    shared = sched.ReduceLROnPlateau(optimizer, patience=0, min_lr=0.0)
    optimizer.add_param_group({"params": [ft.zeros(1, requires_grad=True)], "lr": 1.0})
    shared.step(1.0)
    shared.step(1.0)
    assert shared.min_lrs == [0.0, 0.0]
    fixed.step(1.0)
    with pytest.raises(RuntimeError, match=r"The number of param groups in the `optimizer` \(2\) differs"):
        fixed.step(1.0)


# ---- validation ----------------------------------------------------------------------------------


def _other_scheduler_optimizer():
    return sched.StepLR(make_optimizer(), 2)


@pytest.mark.parametrize("build,error,match", [
    (lambda o: sched.StepLR(object(), 2), TypeError, "object is not an Optimizer"),
    (lambda o: sched.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda o: sched.MultiplicativeLR(o, 0.5), TypeError, "lr_lambda should be a function, but got float"),
    (lambda o: sched.ConstantLR(o, factor=1.5), ValueError, "Constant multiplicative factor expected to be between"),
    (lambda o: sched.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor expected to be greater"),
    (lambda o: sched.LinearLR(o, end_factor=1.5), ValueError, "Ending multiplicative factor expected to be between"),
    (lambda o: sched.CosineAnnealingWarmRestarts(o, 0), ValueError, "Expected positive integer T_0, but got 0"),
    (lambda o: sched.CosineAnnealingWarmRestarts(o, 2.0), ValueError, "Expected positive integer T_0, but got 2.0"),
    (lambda o: sched.CosineAnnealingWarmRestarts(o, 2, 0), ValueError, "Expected integer T_mult >= 1, but got 0"),
    (lambda o: sched.CosineAnnealingWarmRestarts(o, 2, eta_min="0"), ValueError, "Expected float or int eta_min"),
    (lambda o: sched.CyclicLR(o, 0.1, 1.0, mode="square"), ValueError, "mode is invalid and scale_fn is None"),
    (lambda o: sched.CyclicLR(o, [0.1], 1.0), ValueError, "base_lr must have the same length as optimizer.param_groups"),
    (lambda o: sched.CyclicLR(make_optimizer(cls=Plainless), 0.1, 1.0), ValueError,
     "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"),
    (lambda o: sched.CyclicLR(object(), 0.1, 1.0), TypeError, "object is not an Optimizer"),
    (lambda o: sched.OneCycleLR(o, 1.0), ValueError, "You must define either total_steps OR"),
    (lambda o: sched.OneCycleLR(o, 1.0, total_steps=0), ValueError, "Expected positive integer total_steps, but got 0"),
    (lambda o: sched.OneCycleLR(o, 1.0, epochs=0, steps_per_epoch=3), ValueError,
     "Expected positive integer epochs, but got 0"),
    (lambda o: sched.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=-1), ValueError,
     "Expected positive integer steps_per_epoch, but got -1"),
    (lambda o: sched.OneCycleLR(o, 1.0, 10, pct_start=1), ValueError, "Expected float between 0 and 1 pct_start"),
    (lambda o: sched.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda o: sched.OneCycleLR(o, [1.0, 2.0, 3.0], 10), ValueError, "max_lr must have the same length"),
    (lambda o: sched.SequentialLR(o, [], []), ValueError, "SequentialLR expects at least one scheduler"),
    (lambda o: sched.SequentialLR(o, [sched.StepLR(o, 2)], [1]), ValueError,
     "number of schedulers 1 and the number of milestones to be equal to 1"),
    (lambda o: sched.SequentialLR(o, [sched.ReduceLROnPlateau(o)], []), ValueError,
     "SequentialLR does not support `ReduceLROnPlateau`"),
    (lambda o: sched.SequentialLR(o, [_other_scheduler_optimizer()], []), ValueError,
     "SequentialLR expects all schedulers to belong to the same optimizer"),
    (lambda o: sched.SequentialLR(o, [1], []), TypeError, "SequentialLR at index 0 should have `optimizer`"),
    (lambda o: sched.ChainedScheduler([]), ValueError, "ChainedScheduler expects at least one scheduler to be chained"),
    (lambda o: sched.ChainedScheduler([sched.StepLR(o, 2), _other_scheduler_optimizer()]), ValueError,
     "ChainedScheduler expects all schedulers to belong to the same optimizer, but got scheduler StepLR at index 1"),
    (lambda o: sched.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda o: sched.ReduceLROnPlateau(o, mode="avg"), ValueError, "mode avg is unknown!"),
    (lambda o: sched.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, "threshold mode pct is unknown!"),
    (lambda o: sched.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
])
def test_constructor_validation(build, error, match):
    with pytest.raises(error, match=match):
        build(make_optimizer())


def test_legacy_name_and_all():
    assert issubclass(sched._LRScheduler, sched.LRScheduler)
    assert set(sched.__all__) == {
        "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
        "SequentialLR", "CosineAnnealingLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR",
        "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR", "LRScheduler",
    }
    assert all(hasattr(sched, name) for name in sched.__all__)


def test_base_class_get_lr_is_abstract():
    with pytest.raises(NotImplementedError):
        sched.LRScheduler(make_optimizer())
