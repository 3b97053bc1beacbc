"""L-BFGS minimizes the Rosenbrock function to its optimum, with and without line search."""

import numpy as np
import pytest

import ferrotorch as ft
from conftest import to_numpy

O = ft.optim


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def minimize(line_search_fn, steps, **options):
    x = ft.tensor([-1.5, 2.0], dtype=ft.float64).requires_grad_()
    opt = O.LBFGS([x], line_search_fn=line_search_fn, **options)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    losses = [float(opt.step(closure)) for _ in range(steps)]
    return x, losses, opt


@pytest.mark.parametrize("line_search_fn,steps,lr", [("strong_wolfe", 5, 1), (None, 60, 0.2)])
def test_lbfgs_finds_rosenbrock_minimum(line_search_fn, steps, lr):
    x, losses, _ = minimize(line_search_fn, steps, lr=lr, history_size=10, max_iter=20)
    np.testing.assert_allclose(to_numpy(x), [1.0, 1.0], atol=1e-4)
    assert losses[0] > losses[-1]


def test_lbfgs_state_matches_pytorch_keys():
    _, _, opt = minimize("strong_wolfe", 1, max_iter=4, max_eval=20)
    state = opt.state_dict()["state"][0]
    assert {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
            "prev_loss", "al"} <= set(state)
    assert state["n_iter"] == 4


def test_lbfgs_stops_at_a_stationary_point():
    x = ft.tensor([1.0, 1.0], dtype=ft.float64).requires_grad_()
    opt = O.LBFGS([x])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    assert len(calls) == 1 and to_numpy(x).tolist() == [1.0, 1.0]


def test_lbfgs_maximize_finds_maximum():
    x = ft.tensor([0.3, -0.2], dtype=ft.float64).requires_grad_()
    opt = O.LBFGS([x], line_search_fn="strong_wolfe", maximize=True)

    def closure():
        opt.zero_grad()
        loss = -((x - 2.0) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(to_numpy(x), [2.0, 2.0], atol=1e-6)
