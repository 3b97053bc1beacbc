"""ferrotorch.optim.lr_scheduler and SWALR against PyTorch: learning-rate and momentum sequences
over 50 steps, state dicts (keys and values), loading PyTorch's state dicts mid-schedule."""

import copy
import warnings

import pytest

torch = pytest.importorskip("torch")

import ferrotorch as ft  # noqa: E402
from ferrotorch.optim import Optimizer  # noqa: E402

STEPS = 50
BASE_LRS = (0.1, 0.03)


class PlainSGD(Optimizer):
    """Gradient descent with SGD's options; stands in until ``ferrotorch.optim.SGD`` is merged."""

    def __init__(self, params, lr=0.1, momentum=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @ft.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(p.grad * group["lr"])


class PlainAdamOptions(PlainSGD):
    """Adam's option layout (``betas``) on the same update."""

    def __init__(self, params, lr=0.1, betas=(0.9, 0.999)):
        Optimizer.__init__(self, params, dict(lr=lr, betas=betas))


def make_optimizer(lib, lrs=BASE_LRS, adam=False):
    if lib is torch:
        groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
        return torch.optim.Adam(groups) if adam else torch.optim.SGD(groups, lr=0.1, momentum=0.5)
    groups = [{"params": [ft.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return PlainAdamOptions(groups) if adam else PlainSGD(groups, momentum=0.5)


def modules(lib):
    if lib is torch:
        return torch.optim.lr_scheduler, torch.optim.swa_utils
    return ft.optim.lr_scheduler, ft.optim.swa_utils


class Decay:
    """A callable object (its attributes are saved in state dicts)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate**epoch


# name -> (build(sched_module, swa_module, optimizer), uses Adam's betas)
CASES = {
    "LambdaLR": lambda L, S, o: L.LambdaLR(o, lambda e: 1 / (1 + 0.3 * e)),
    "LambdaLR-objects": lambda L, S, o: L.LambdaLR(o, [Decay(0.9), Decay(0.8)]),
    "MultiplicativeLR": lambda L, S, o: L.MultiplicativeLR(o, lambda e: 0.97),
    "StepLR": lambda L, S, o: L.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda L, S, o: L.MultiStepLR(o, milestones=[3, 10, 10, 31], gamma=0.3),
    "ConstantLR": lambda L, S, o: L.ConstantLR(o, factor=0.25, total_iters=6),
    "LinearLR": lambda L, S, o: L.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=12),
    "LinearLR-decay": lambda L, S, o: L.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=40),
    "ExponentialLR": lambda L, S, o: L.ExponentialLR(o, gamma=0.93),
    "PolynomialLR": lambda L, S, o: L.PolynomialLR(o, total_iters=37, power=1.7),
    "CosineAnnealingLR": lambda L, S, o: L.CosineAnnealingLR(o, T_max=9, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda L, S, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.002),
    "CosineAnnealingWarmRestarts-Tmult1": lambda L, S, o: L.CosineAnnealingWarmRestarts(o, T_0=7),
    "CyclicLR-triangular": lambda L, S, o: L.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=5, step_size_down=3),
    "CyclicLR-triangular2": lambda L, S, o: L.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=4, mode="triangular2"),
    "CyclicLR-exp_range": lambda L, S, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=6, mode="exp_range", gamma=0.97),
    "CyclicLR-scale_fn": lambda L, S, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 0.9**x,
                                                    scale_mode="iterations", cycle_momentum=False),
    "CyclicLR-betas": lambda L, S, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4, base_momentum=0.7),
    "OneCycleLR": lambda L, S, o: L.OneCycleLR(o, [0.5, 1.0], total_steps=STEPS),
    "OneCycleLR-linear-3phase": lambda L, S, o: L.OneCycleLR(o, 1.0, epochs=5, steps_per_epoch=10,
                                                             anneal_strategy="linear", three_phase=True,
                                                             div_factor=10.0, final_div_factor=100.0),
    "OneCycleLR-betas": lambda L, S, o: L.OneCycleLR(o, 0.4, total_steps=STEPS, pct_start=0.4,
                                                     base_momentum=[0.8, 0.7], max_momentum=0.9),
    "OneCycleLR-no-momentum": lambda L, S, o: L.OneCycleLR(o, 0.4, total_steps=STEPS, cycle_momentum=False),
    "SequentialLR": lambda L, S, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=5), L.CosineAnnealingLR(o, T_max=20)], milestones=[5]),
    "SequentialLR-three": lambda L, S, o: L.SequentialLR(
        o, [L.ConstantLR(o, 0.5, 3), L.StepLR(o, 4), L.ExponentialLR(o, 0.9)], milestones=[6, 20]),
    "ChainedScheduler": lambda L, S, o: L.ChainedScheduler([L.ConstantLR(o, 0.5, 4), L.ExponentialLR(o, 0.9)]),
    "ChainedScheduler-cosine": lambda L, S, o: L.ChainedScheduler(
        [L.LinearLR(o, 0.3, total_iters=8), L.CosineAnnealingLR(o, T_max=25, eta_min=0.001)]),
    "SWALR-cos": lambda L, S, o: S.SWALR(o, swa_lr=0.05, anneal_epochs=7),
    "SWALR-linear": lambda L, S, o: S.SWALR(o, swa_lr=[0.05, 0.2], anneal_epochs=0, anneal_strategy="linear"),
}


def uses_betas(name):
    return name.endswith("-betas")


def momentum_of(group):
    if "betas" in group:
        return group["betas"][0]
    return group["momentum"]


def run(lib, name, steps=STEPS):
    optimizer = make_optimizer(lib, adam=uses_betas(name))
    scheduler = CASES[name](*modules(lib), optimizer)
    seq = []
    for _ in range(steps):
        seq.append([(g["lr"], momentum_of(g)) for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return optimizer, scheduler, seq


def scheduler_keys(optimizer):
    """The group options a scheduler adds or changes (not the optimizer's own)."""
    return [{k: v for k, v in g.items() if k in ("lr", "initial_lr", "max_lr", "min_lr", "max_momentum",
                                                  "base_momentum", "swa_lr", "momentum")} for g in optimizer.param_groups]


@pytest.mark.parametrize("name", CASES)
def test_sequences_and_state_dicts_match_torch(name):
    t_opt, t_sched, t_seq = run(torch, name)
    f_opt, f_sched, f_seq = run(ft, name)
    assert f_seq == t_seq
    assert f_sched.get_last_lr() == t_sched.get_last_lr()
    assert f_sched.state_dict() == t_sched.state_dict()
    assert list(f_sched.state_dict()) == list(t_sched.state_dict())
    assert scheduler_keys(f_opt) == scheduler_keys(t_opt)


@pytest.mark.parametrize("name", [n for n in CASES if "scale_fn" not in n])
def test_torch_state_dicts_load_mid_schedule(name):
    t_opt = make_optimizer(torch, adam=uses_betas(name))
    t_sched = CASES[name](*modules(torch), t_opt)
    for _ in range(17):
        t_opt.step()
        t_sched.step()
    f_opt = make_optimizer(ft, adam=uses_betas(name))
    f_sched = CASES[name](*modules(ft), f_opt)
    saved_groups = copy.deepcopy(t_opt.state_dict()["param_groups"])
    # Only the options both optimizers share (PlainSGD lacks SGD's others).
    for group, saved in zip(f_opt.param_groups, saved_groups):
        group.update({k: v for k, v in saved.items() if k != "params" and (k in group or k in scheduler_keys(t_opt)[0])})
    f_sched.load_state_dict(copy.deepcopy(t_sched.state_dict()))
    for _ in range(STEPS - 18):
        t_opt.step(), t_sched.step()
        f_opt.step(), f_sched.step()
        assert f_sched.get_last_lr() == t_sched.get_last_lr()


@pytest.mark.parametrize("name,epochs", [
    ("StepLR", [3, 15, 7]), ("MultiStepLR", [11, 2, 30]), ("ConstantLR", [2, 9]), ("LinearLR", [7, 30, 1]),
    ("ExponentialLR", [9, 4]), ("PolynomialLR", [20, 40]), ("CosineAnnealingLR", [13, 5, 27]),
    ("CosineAnnealingWarmRestarts", [0.5, 2.25, 9.5, 30, 4.75]),
    ("CosineAnnealingWarmRestarts-Tmult1", [3.5, 15.2, 7]), ("LambdaLR", [8, 3]),
])
def test_step_with_epoch_matches_torch(name, epochs):
    results = []
    for lib in (torch, ft):
        optimizer = make_optimizer(lib)
        scheduler = CASES[name](*modules(lib), optimizer)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in epochs:
                optimizer.step()
                scheduler.step(epoch)
                lrs.append((scheduler.last_epoch, scheduler.get_last_lr()))
        results.append((lrs, scheduler.state_dict()))
    assert results[1] == results[0]


PLATEAU_METRICS = [1.0, 0.9, 0.9, 0.95, 0.91, 0.899, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.49, 0.7] * 3


@pytest.mark.parametrize("kwargs", [
    dict(factor=0.5, patience=1),
    dict(mode="max", factor=0.3, patience=2, threshold=0.05),
    dict(threshold_mode="abs", threshold=0.02, patience=0, cooldown=2, factor=0.7),
    dict(mode="max", threshold_mode="abs", patience=1, min_lr=[0.02, 0.001], eps=1e-3),
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    results = []
    for lib in (torch, ft):
        optimizer = make_optimizer(lib)
        scheduler = modules(lib)[0].ReduceLROnPlateau(optimizer, **kwargs)
        lrs = []
        for metric in PLATEAU_METRICS:
            optimizer.step()
            scheduler.step(metric)
            lrs.append(scheduler.get_last_lr())
        results.append((lrs, scheduler.state_dict()))
    assert results[1] == results[0]


def test_resuming_with_last_epoch_matches_torch():
    results = []
    for lib in (torch, ft):
        optimizer = make_optimizer(lib)
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"] * 2
        L = modules(lib)[0]
        schedulers = [L.CosineAnnealingLR(optimizer, 10, last_epoch=4), L.StepLR(optimizer, 3, last_epoch=4)]
        for _ in range(8):
            optimizer.step()
            for s in schedulers:
                s.step()
        results.append([s.state_dict() for s in schedulers])
    assert results[1] == results[0]


def test_tensor_learning_rates_match_torch():
    seqs = []
    for lib in (torch, ft):
        groups = [{"params": [lib.zeros(1, requires_grad=True)], "lr": lib.tensor(lr, dtype=lib.float64)}
                  for lr in BASE_LRS]
        optimizer = torch.optim.SGD(groups, foreach=False) if lib is torch else PlainSGD(groups)
        L = modules(lib)[0]
        scheduler = L.ChainedScheduler([L.ExponentialLR(optimizer, 0.9), L.CosineAnnealingLR(optimizer, 12)])
        seq = []
        for _ in range(20):
            optimizer.step()
            scheduler.step()
            seq.extend(float(v) for v in scheduler.get_last_lr())
        assert all(isinstance(g["lr"], lib.Tensor) for g in optimizer.param_groups)
        seqs.append(seq)
    assert seqs[1] == pytest.approx(seqs[0], rel=1e-14)


@pytest.mark.parametrize("order", ["scheduler-first", "optimizer-first"])
def test_call_order_warnings_match_torch(order):
    messages = []
    for lib in (torch, ft):
        optimizer = make_optimizer(lib)
        scheduler = modules(lib)[0].StepLR(optimizer, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if order == "optimizer-first":
                optimizer.step()
            scheduler.step()
            scheduler.get_lr()
        messages.append([str(w.message) for w in caught])
    assert messages[1] == messages[0]


@pytest.mark.parametrize("build", [
    lambda L, o: L.ConstantLR(o, factor=2.0),
    lambda L, o: L.LinearLR(o, start_factor=0.0),
    lambda L, o: L.LambdaLR(o, [lambda e: 1.0]),
    lambda L, o: L.MultiplicativeLR(o, 3),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=-1),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5),
    lambda L, o: L.CyclicLR(o, 0.1, 1.0, mode="bad"),
    lambda L, o: L.CyclicLR(o, [0.1], 1.0),
    lambda L, o: L.OneCycleLR(o, 1.0),
    lambda L, o: L.OneCycleLR(o, 1.0, total_steps=10, pct_start=2.0),
    lambda L, o: L.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="x"),
    lambda L, o: L.OneCycleLR(o, 1.0, epochs=3, steps_per_epoch=0),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2)], [3]),
    lambda L, o: L.SequentialLR(o, [L.ReduceLROnPlateau(o)], []),
    lambda L, o: L.ChainedScheduler([]),
    lambda L, o: L.ReduceLROnPlateau(o, factor=1.5),
    lambda L, o: L.ReduceLROnPlateau(o, mode="x"),
    lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1, 0.2, 0.3]),
    lambda L, o: L.StepLR(o, 2, last_epoch=3),
])
def test_constructor_errors_match_torch(build):
    errors = []
    for lib in (torch, ft):
        with pytest.raises(Exception) as info:
            build(modules(lib)[0], make_optimizer(lib))
        errors.append((type(info.value), str(info.value)))
    assert errors[1] == errors[0]
