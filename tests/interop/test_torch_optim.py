"""ferrotorch.optim against torch.optim: same parameters after several steps from the same
start and gradients, and state dicts that load across both ways and continue identically."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ferrotorch as ft  # noqa: E402

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, decoupled_weight_decay=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.2)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.5), weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.5), weight_decay=0.1, decoupled_weight_decay=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
]
IDS = [name + "-" + "-".join(f"{k}={v}" for k, v in o.items()) for name, o in CASES]
SHAPES = [(3, 4), (4, 3), (257,)]  # (4, 3) is a transposed view; 257 covers vector tails
TOL = {np.float32: dict(rtol=1e-6, atol=1e-7), np.float64: dict(rtol=1e-13, atol=1e-14)}


def to_ft(value):
    """A torch state (nested dicts/lists of tensors) as ferrotorch's, through NumPy."""
    if isinstance(value, torch.Tensor):
        return ft.from_numpy(value.detach().numpy().copy())
    if isinstance(value, dict):
        return {k: to_ft(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_ft(v) for v in value)
    return value


def to_torch(value):
    if isinstance(value, ft.Tensor):
        return torch.from_numpy(np.array(value.numpy(), copy=True))
    if isinstance(value, dict):
        return {k: to_torch(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch(v) for v in value)
    return value


def make_pair(rng, dtype):
    """The same parameters in both libraries (the second a transposed view)."""
    arrays = [rng.uniform(-1, 1, size=s[::-1] if i == 1 else s).astype(dtype) for i, s in enumerate(SHAPES)]
    ours, theirs = [], []
    for i, a in enumerate(arrays):
        f, t = ft.from_numpy(a.copy()), torch.from_numpy(a.copy())
        if i == 1:
            f, t = f.t(), t.t()
        ours.append(f.requires_grad_())
        theirs.append(t.requires_grad_())
    return ours, theirs


def step_all(opts, param_lists, rng, dtype):
    """Give the i-th parameter of every list the same fresh gradient, then step every optimizer."""
    for i, p in enumerate(param_lists[0]):
        g = rng.uniform(-1, 1, size=tuple(p.shape)).astype(dtype)
        for params in param_lists:
            lib = ft if isinstance(params[i], ft.Tensor) else torch
            params[i].grad = lib.from_numpy(g.copy())
    for o in opts:
        o.step()


def assert_same(ours, theirs, dtype):
    for f, t in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(f.detach().numpy()), t.detach().numpy(), **TOL[dtype])


@pytest.mark.parametrize("name,options", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_parameters_as_torch_after_five_steps(name, options, dtype, rng):
    ours, theirs = make_pair(rng, dtype)
    opts = [getattr(ft.optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)]
    for _ in range(5):
        step_all(opts, [ours, theirs], rng, dtype)
    assert_same(ours, theirs, dtype)


@pytest.mark.parametrize("name,options", CASES, ids=IDS)
def test_state_dicts_load_across_and_continue_identically(name, options, rng):
    ours, theirs = make_pair(rng, np.float32)
    ft_opt, torch_opt = getattr(ft.optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for _ in range(2):
        step_all([ft_opt, torch_opt], [ours, theirs], rng, np.float32)
    torch_sd, ft_sd = torch_opt.state_dict(), ft_opt.state_dict()
    assert ft_sd["param_groups"] == torch_sd["param_groups"]
    assert {k: set(v) for k, v in ft_sd["state"].items()} == {k: set(v) for k, v in torch_sd["state"].items()}

    # Swap: ferrotorch continues from torch's state and torch from ferrotorch's.
    ours2 = [ft.from_numpy(t.detach().numpy().copy()) for t in theirs]
    theirs2 = [torch.from_numpy(np.array(f.detach().numpy(), copy=True)) for f in ours]
    ours2 = [p.requires_grad_() for p in ours2]
    theirs2 = [p.requires_grad_() for p in theirs2]
    ft_from_torch = getattr(ft.optim, name)(ours2, **options)
    ft_from_torch.load_state_dict(to_ft(copy.deepcopy(torch_sd)))
    torch_from_ft = getattr(torch.optim, name)(theirs2, **options)
    torch_from_ft.load_state_dict(to_torch(ft_sd))
    for key, value in ft_from_torch.state[ours2[0]].items():
        if isinstance(value, ft.Tensor):
            assert value.dtype == getattr(ft, str(torch_sd["state"][0][key].dtype).split(".")[1])
    for _ in range(3):
        step_all([ft_opt, torch_opt, ft_from_torch, torch_from_ft], [ours, theirs, ours2, theirs2], rng, np.float32)
    assert_same(ours2, theirs, np.float32)
    assert_same(ours, theirs2, np.float32)


def test_lbfgs_matches_torch_on_rosenbrock():
    results = []
    for lib in (ft, torch):
        x = lib.tensor([-1.5, 2.0], dtype=lib.float64).requires_grad_()
        opt = lib.optim.LBFGS([x], line_search_fn="strong_wolfe", history_size=10, max_iter=10)

        def closure():
            opt.zero_grad()
            loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
            loss.backward()
            return loss

        for _ in range(2):
            opt.step(closure)
        results.append((np.array(x.detach().numpy(), copy=True), opt.state_dict()["state"][0]["func_evals"]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-9, atol=1e-12)
    assert results[0][1] == results[1][1]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta", "LBFGS"])
def test_defaults_and_repr_match_torch(name):
    ours = getattr(ft.optim, name)([ft.zeros(2).requires_grad_()])
    theirs = getattr(torch.optim, name)([torch.zeros(2).requires_grad_()])
    assert ours.defaults == theirs.defaults
    assert repr(ours) == repr(theirs)
