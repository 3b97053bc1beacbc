"""nn.init: statistics against the formulas, shapes of structured inits, error messages."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.nn import init


def big(*shape):
    return ft.empty(*shape, requires_grad=True)


def values(t):
    return t.detach().numpy().astype(np.float64)


@pytest.mark.parametrize("name, param, expected", [
    ("linear", None, 1), ("conv2d", None, 1), ("sigmoid", None, 1), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("selu", None, 0.75),
])
def test_calculate_gain(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(ft.empty(8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ft.empty(3))


def test_inits_do_not_record_history_and_return_the_tensor():
    t = big(10, 10)
    for fn in [init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_]:
        assert fn(t) is t and t.grad_fn is None and t.requires_grad


def test_uniform_and_normal_statistics():
    u = values(init.uniform_(big(200, 500), -2.0, 3.0))
    assert u.min() >= -2.0 and u.max() <= 3.0 and abs(u.mean() - 0.5) < 0.02
    n = values(init.normal_(big(200, 500), 1.0, 2.0))
    assert abs(n.mean() - 1.0) < 0.04 and abs(n.std() - 2.0) < 0.03


def test_trunc_normal_wide_interval_matches_truncated_moments():
    t = values(init.trunc_normal_(big(200, 500), mean=0.0, std=1.0, a=-1.0, b=2.0))
    assert t.min() >= -1.0 and t.max() <= 2.0
    # Truncated N(0,1) on [a, b]: mean = (phi(a) - phi(b)) / Z.
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    z = 0.5 * (math.erf(2 / math.sqrt(2)) - math.erf(-1 / math.sqrt(2)))
    assert abs(t.mean() - (phi(-1) - phi(2)) / z) < 0.015


def test_trunc_normal_narrow_interval_uses_rejection_on_uniform_proposals():
    t = values(init.trunc_normal_(big(100, 500), mean=0.0, std=1.0, a=2.0, b=3.0))
    assert t.min() >= 2.0 and t.max() <= 3.0
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    z = 0.5 * (math.erf(3 / math.sqrt(2)) - math.erf(2 / math.sqrt(2)))
    assert abs(t.mean() - (phi(2) - phi(3)) / z) < 0.01


def test_constant_ones_zeros_eye():
    t = ft.empty(3, 4)
    np.testing.assert_array_equal(init.constant_(t, 2.5).numpy(), np.full((3, 4), 2.5))
    np.testing.assert_array_equal(init.ones_(t).numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(init.zeros_(t).numpy(), np.zeros((3, 4)))
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(ft.empty(2, 2, 2))


def test_dirac_preserves_identity_per_group():
    w = init.dirac_(ft.empty(4, 2, 3, 3), groups=2).numpy()
    expected = np.zeros((4, 2, 3, 3))
    for out, inp in [(0, 0), (1, 1), (2, 0), (3, 1)]:
        expected[out, inp, 1, 1] = 1
    np.testing.assert_array_equal(w, expected)
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(ft.empty(3, 2, 3), groups=2)


@pytest.mark.parametrize("fn, gain_kw, var", [
    (init.xavier_uniform_, {"gain": 2.0}, 4.0 * 2 / (400 + 600)),
    (init.xavier_normal_, {"gain": 2.0}, 4.0 * 2 / (400 + 600)),
    (init.kaiming_uniform_, {"nonlinearity": "relu"}, 2.0 / 400),
    (init.kaiming_normal_, {"nonlinearity": "relu", "mode": "fan_out"}, 2.0 / 600),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, 2.0 / 6 / 400),
])
def test_variance_is_gain_squared_over_fan(fn, gain_kw, var):
    # Shape (600, 400): fan_in 400, fan_out 600.
    t = values(fn(big(600, 400), **gain_kw))
    assert abs(t.var() / var - 1) < 0.02 and abs(t.mean()) < 0.01 * math.sqrt(var) * 10


def test_kaiming_uniform_bound():
    t = values(init.kaiming_uniform_(big(50, 80), nonlinearity="relu"))
    assert np.abs(t).max() <= math.sqrt(6 / 80)


def test_kaiming_bad_mode():
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_normal_(big(3, 3), mode="fan_avg")


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    q = values(init.orthogonal_(ft.empty(*shape, dtype=ft.float64), gain=2.0)).reshape(shape[0], -1)
    small = min(q.shape)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)


def test_orthogonal_needs_two_dims():
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(ft.empty(3))


def test_sparse_zeroes_a_fraction_of_each_column():
    t = values(init.sparse_(ft.empty(10, 30), sparsity=0.3, std=0.5))
    zeros_per_column = (t == 0).sum(0)
    assert (zeros_per_column == 3).all()
    assert abs(t[t != 0].std() - 0.5) < 0.1


def test_generator_makes_results_reproducible():
    results = []
    for _ in range(2):
        g = ft.Generator()
        g.manual_seed(7)
        results.append(values(init.kaiming_uniform_(ft.empty(5, 5), generator=g)))
    np.testing.assert_array_equal(results[0], results[1])
    g = ft.Generator()
    g.manual_seed(8)
    assert not np.array_equal(results[0], values(init.kaiming_uniform_(ft.empty(5, 5), generator=g)))
