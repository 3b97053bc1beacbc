"""Transforms (values, inverses, log-abs-det-Jacobians against finite differences), constraints
and the constraint registry."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.distributions as D
from ferrotorch.distributions import constraints
from conftest import assert_close

RNG = np.random.default_rng(3)
F64 = ft.float64


def t(a):
    return ft.tensor(a, dtype=F64)


ELEMENTWISE = {
    "Exp": (D.ExpTransform(), lambda x: np.exp(x)),
    "Sigmoid": (D.SigmoidTransform(), lambda x: 1 / (1 + np.exp(-x))),
    "Tanh": (D.TanhTransform(), np.tanh),
    "Softplus": (D.SoftplusTransform(), lambda x: np.log1p(np.exp(x))),
    "Affine": (D.AffineTransform(0.5, -2.0), lambda x: 0.5 - 2.0 * x),
    "AffineTensor": (D.AffineTransform(t(np.array([0.5, 1.0, -1.0])), t(np.array([2.0, -0.5, 3.0]))),
                     lambda x: np.array([0.5, 1.0, -1.0]) + np.array([2.0, -0.5, 3.0]) * x),
    "Power": (D.PowerTransform(t(np.array(2.5))), lambda x: np.abs(x) ** 2.5),
    "Compose": (D.ComposeTransform([D.AffineTransform(1.0, 2.0), D.ExpTransform()]), lambda x: np.exp(1 + 2 * x)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_transform_value_inverse_and_jacobian(name):
    transform, ref = ELEMENTWISE[name]
    x = RNG.uniform(0.2, 1.5, (4, 3)) if name == "Power" else RNG.normal(size=(4, 3))
    y = transform(t(x))
    assert_close(y, ref(x), rtol=1e-12, atol=1e-12)
    assert_close(transform.inv(y), x, rtol=1e-9, atol=1e-9)
    h = 1e-6
    numeric = np.log(np.abs((ref(x + h) - ref(x - h)) / (2 * h)))
    assert_close(transform.log_abs_det_jacobian(t(x), y), numeric, rtol=1e-6, atol=1e-6)
    # the inverse's Jacobian is the negative
    assert_close(transform.inv.log_abs_det_jacobian(y, t(x)), -numeric, rtol=1e-6, atol=1e-6)


def _numeric_jacobian(f, x, h=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(cols, -1)


def test_stick_breaking_maps_to_simplex_with_correct_jacobian():
    transform = D.StickBreakingTransform()
    x = RNG.normal(size=3)
    y = transform(t(x))
    assert tuple(y.shape) == (4,) and abs(y.sum().item() - 1) < 1e-12
    assert_close(transform.inv(y), x, rtol=1e-9, atol=1e-9)
    # Jacobian of the first K coordinates (the last is determined by the simplex).
    jac = _numeric_jacobian(lambda v: transform(t(v)).numpy()[:3], x)
    assert_close(transform.log_abs_det_jacobian(t(x), y), np.linalg.slogdet(jac)[1], rtol=1e-6, atol=1e-6)
    assert transform.forward_shape((2, 3)) == (2, 4) and transform.inverse_shape((2, 4)) == (2, 3)


def test_softmax_transform_projects_to_simplex():
    y = D.SoftmaxTransform()(t(RNG.normal(size=(2, 5))))
    assert bool(constraints.simplex.check(y).all())


def test_abs_transform_inverse_is_identity_on_positive_part():
    transform = D.AbsTransform()
    assert_close(transform(t(np.array([-1.0, 2.0]))), np.array([1.0, 2.0]))
    assert not transform.bijective


def test_independent_and_reshape_transforms():
    x = t(RNG.normal(size=(2, 3)))
    ind = D.IndependentTransform(D.ExpTransform(), 1)
    assert_close(ind.log_abs_det_jacobian(x, ind(x)), x.sum(-1).numpy())
    assert ind.domain.event_dim == 1
    reshape = D.ReshapeTransform((3,), (3, 1))
    assert tuple(reshape(x).shape) == (2, 3, 1)
    assert_close(reshape.log_abs_det_jacobian(x, reshape(x)), np.zeros(2))
    with pytest.raises(ValueError, match="different numbers of elements"):
        D.ReshapeTransform((3,), (2,))


def test_cat_and_stack_transforms_apply_per_slice():
    x = RNG.normal(size=(2, 4))
    cat = D.CatTransform([D.ExpTransform(), D.AffineTransform(1.0, 3.0)], dim=1, lengths=[1, 3])
    y = cat(t(x))
    assert_close(y, np.concatenate([np.exp(x[:, :1]), 1 + 3 * x[:, 1:]], 1), rtol=1e-12)
    assert_close(cat.log_abs_det_jacobian(t(x), y), np.concatenate([x[:, :1], np.full((2, 3), np.log(3.0))], 1))
    stack = D.StackTransform([D.ExpTransform(), D.identity_transform], dim=0)
    assert_close(stack(t(x)), np.stack([np.exp(x[0]), x[1]]), rtol=1e-12)
    assert_close(stack.inv(stack(t(x))), x, rtol=1e-12)


def test_transform_caching_returns_the_same_object():
    transform = D.ExpTransform().with_cache(1)
    x = t(RNG.normal(size=3))
    y = transform(x)
    assert transform(x) is y and transform.inv(y) is x
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        D.ExpTransform(cache_size=2)


def test_transform_equality_and_inverse_identity():
    assert D.ExpTransform() == D.ExpTransform() and D.ExpTransform().inv == D.ExpTransform().inv
    exp = D.ExpTransform()
    assert exp.inv.inv is exp
    assert D.AffineTransform(1.0, 2.0) == D.AffineTransform(1.0, 2.0) != D.AffineTransform(1.0, 3.0)
    assert repr(D.ComposeTransform([D.ExpTransform(), D.TanhTransform()])) == \
        "ComposeTransform(\n    ExpTransform(),\n    TanhTransform()\n)"


def test_corr_cholesky_round_trip():
    transform = D.CorrCholeskyTransform()
    x = t(RNG.normal(size=(2, 3)))
    y = transform(x)
    assert tuple(y.shape) == (2, 3, 3)
    assert bool(constraints.corr_cholesky.check(y).all())
    assert_close(transform.inv(y), x.numpy(), rtol=1e-8, atol=1e-8)


CONSTRAINT_CASES = [
    (constraints.real, [0.0, -np.inf, np.nan], [True, True, False]),
    (constraints.positive, [1.0, 0.0, -1.0], [True, False, False]),
    (constraints.nonnegative, [1.0, 0.0, -1.0], [True, True, False]),
    (constraints.unit_interval, [0.0, 1.0, 1.5], [True, True, False]),
    (constraints.half_open_interval(0.0, 1.0), [0.0, 1.0, 0.5], [True, False, True]),
    (constraints.boolean, [0.0, 1.0, 0.5], [True, True, False]),
    (constraints.nonnegative_integer, [0.0, 2.0, 1.5], [True, True, False]),
    (constraints.positive_integer, [0.0, 2.0, 3.0], [False, True, True]),
    (constraints.integer_interval(0, 3), [0.0, 3.0, 4.0], [True, True, False]),
    (constraints.greater_than(1.0), [1.0, 2.0, 0.0], [False, True, False]),
    (constraints.less_than(1.0), [1.0, 2.0, 0.0], [False, False, True]),
]


@pytest.mark.parametrize("constraint,values,expected", CONSTRAINT_CASES, ids=lambda c: repr(c)[:30])
def test_constraint_checks(constraint, values, expected):
    assert constraint.check(t(np.array(values))).tolist() == expected


def test_event_constraints_reduce_over_event_dims():
    assert constraints.simplex.check(t(np.array([[0.2, 0.8], [0.5, 0.6]]))).tolist() == [True, False]
    assert constraints.one_hot.check(t(np.array([[0.0, 1.0], [1.0, 1.0]]))).tolist() == [True, False]
    lower = np.array([[[1.0, 0.0], [2.0, 1.0]], [[1.0, 1.0], [0.0, 1.0]]])
    assert constraints.lower_cholesky.check(t(lower)).tolist() == [True, False]
    pd = np.array([[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]]])
    assert constraints.positive_definite.check(t(pd)).tolist() == [True, False]
    assert constraints.independent(constraints.positive, 1).check(t(np.array([[1.0, 2.0], [1.0, -1.0]]))).tolist() == [True, False]


def test_constraint_reprs():
    assert repr(constraints.positive) == "GreaterThan(lower_bound=0.0)"
    assert repr(constraints.unit_interval) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert repr(constraints.real_vector) == "IndependentConstraint(Real(), 1)"
    assert repr(constraints.simplex) == "Simplex()"


def test_dependent_constraint_cannot_be_checked():
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        constraints.dependent.check(t(np.zeros(1)))
    assert constraints.is_dependent(constraints.dependent)


@pytest.mark.parametrize("constraint", [
    constraints.real, constraints.positive, constraints.greater_than(2.0), constraints.less_than(-1.0),
    constraints.unit_interval, constraints.interval(-2.0, 3.0), constraints.simplex, constraints.real_vector,
    constraints.lower_cholesky, constraints.positive_definite, constraints.corr_cholesky,
], ids=repr)
def test_transform_to_maps_reals_into_the_constraint(constraint):
    shape = {1: (2, 6), 2: (2, 3, 3)}.get(constraint.event_dim, (2, 3))
    if constraint is constraints.corr_cholesky:
        shape = (2, 3)
    x = t(RNG.normal(size=shape))
    y = D.transform_to(constraint)(x)
    assert bool(constraint.check(y).all())


@pytest.mark.parametrize("constraint", [
    constraints.real, constraints.positive, constraints.greater_than(2.0), constraints.unit_interval,
    constraints.interval(-2.0, 3.0), constraints.simplex,
], ids=repr)
def test_biject_to_is_bijective(constraint):
    transform = D.biject_to(constraint)
    assert transform.bijective
    x = t(RNG.normal(size=(2, 3)))
    assert_close(transform.inv(transform(x)), x.numpy(), rtol=1e-9, atol=1e-9)


def test_registry_raises_for_unknown_constraint():
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        D.biject_to(constraints.boolean)
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint subclass or instance"):
        D.biject_to.register(int, lambda c: None)
