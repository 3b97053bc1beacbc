"""The Distribution API: validation, repr, expand, Independent/Transformed shapes, gradcheck."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.distributions as D
from conftest import assert_close

F64 = ft.float64


def t(a):
    return ft.tensor(np.asarray(a, dtype=np.float64))


def test_invalid_parameter_raises_torch_message():
    with pytest.raises(ValueError) as err:
        D.Normal(ft.zeros(3), ft.tensor([1.0, -1.0, 1.0]))
    msg = str(err.value)
    assert msg.startswith(
        "Expected parameter scale (Tensor of shape (3,)) of distribution "
        "Normal(loc: torch.Size([3]), scale: torch.Size([3])) to satisfy the constraint "
        "GreaterThan(lower_bound=0.0), but found invalid values:\n"
    )


@pytest.mark.parametrize("make,param", [
    (lambda: D.Bernoulli(t([0.5, 1.5])), "probs"),
    (lambda: D.Gamma(t([1.0]), t([0.0])), "rate"),
    (lambda: D.Categorical(t([[0.5, -0.5]])), "probs"),
    (lambda: D.Dirichlet(t([1.0, -1.0])), "concentration"),
    (lambda: D.Poisson(t([-1.0])), "rate"),
    (lambda: D.Binomial(t([2.5]), t([0.5])), "total_count"),
    (lambda: D.MultivariateNormal(t([0.0, 0.0]), t([[1.0, 2.0], [2.0, 1.0]])), "covariance_matrix"),
    (lambda: D.Uniform(t([1.0]), t([0.0])), "low"),
], ids=["Bernoulli", "Gamma", "Categorical", "Dirichlet", "Poisson", "Binomial", "MVN", "Uniform"])
def test_each_family_validates_its_parameters(make, param):
    with pytest.raises(ValueError, match=f"Expected parameter {param} "):
        make()


def test_validation_can_be_disabled_per_instance_and_globally():
    D.Normal(t([0.0]), t([-1.0]), validate_args=False)
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(t([0.0]), t([-1.0]))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_sample_validation_checks_support_and_shape():
    dist = D.Exponential(t([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"Expected value argument \(Tensor of shape \(2,\)\) to be within the support \(GreaterThanEq\(lower_bound=0.0\)\)"):
        dist.log_prob(t([1.0, -1.0]))
    with pytest.raises(ValueError, match="Value is not broadcastable with batch_shape\\+event_shape"):
        dist.log_prob(t([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        dist.log_prob(1.0)
    mvn = D.MultivariateNormal(ft.zeros(3, dtype=F64), ft.eye(3, dtype=F64))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        mvn.log_prob(ft.zeros(2, dtype=F64))


def test_parametrization_errors():
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Bernoulli()
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Categorical(t([0.5, 0.5]), t([0.0, 0.0]))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.MultivariateNormal(t([0.0]))
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional."):
        D.Categorical(t(0.5))
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= len\\(base_distribution.batch_shape\\), actual 2 vs 1"):
        D.Independent(D.Normal(t([0.0]), t([1.0])), 2)


def test_repr_uses_shapes_or_scalar_values():
    assert repr(D.Normal(ft.zeros(3), ft.ones(3))) == "Normal(loc: torch.Size([3]), scale: torch.Size([3]))"
    assert repr(D.Bernoulli(logits=ft.zeros(2, 2))) == "Bernoulli(logits: torch.Size([2, 2]))"
    assert repr(D.Independent(D.Normal(ft.zeros(3), ft.ones(3)), 1)) == \
        "Independent(Normal(loc: torch.Size([3]), scale: torch.Size([3])), 1)"


def test_probs_and_logits_are_lazily_derived():
    dist = D.Bernoulli(logits=t([0.0, 2.0]))
    assert "probs" not in dist.__dict__
    assert_close(dist.probs, 1 / (1 + np.exp(-np.array([0.0, 2.0]))), rtol=1e-12)
    assert "probs" in dist.__dict__


@pytest.mark.parametrize("make", [
    lambda: D.Normal(t([0.0]), t([1.0])),
    lambda: D.Bernoulli(logits=t([0.3])),
    lambda: D.Categorical(t([[0.2, 0.8]])),
    lambda: D.Gamma(t([2.0]), t([1.0])),
    lambda: D.Beta(t([2.0]), t([1.0])),
    lambda: D.Dirichlet(t([[1.0, 2.0]])),
    lambda: D.MultivariateNormal(t([[0.0, 0.0]]), t(np.eye(2))),
    lambda: D.LogNormal(t([0.0]), t([1.0])),
    lambda: D.Binomial(t([4.0]), t([0.3])),
    lambda: D.StudentT(t([3.0])),
    lambda: D.OneHotCategorical(t([[0.2, 0.8]])),
    lambda: D.Independent(D.Normal(t([[0.0, 1.0]]), t([[1.0, 1.0]])), 1),
    lambda: D.MixtureSameFamily(D.Categorical(t([[0.2, 0.8]])), D.Normal(t([[0.0, 1.0]]), t([[1.0, 1.0]]))),
], ids=["Normal", "Bernoulli", "Categorical", "Gamma", "Beta", "Dirichlet", "MVN", "LogNormal", "Binomial",
        "StudentT", "OneHot", "Independent", "Mixture"])
def test_expand_broadcasts_batch_shape_and_keeps_log_prob(make):
    dist = make()
    expanded = dist.expand((4, 1))
    assert tuple(expanded.batch_shape) == (4, 1)
    assert tuple(expanded.event_shape) == tuple(dist.event_shape)
    x = dist.sample()
    assert_close(expanded.log_prob(x), np.broadcast_to(dist.log_prob(x).numpy(), (4, 1)), rtol=1e-12)
    assert tuple(expanded.sample((2,)).shape) == (2, 4, 1) + tuple(dist.event_shape)


def test_independent_reinterprets_batch_dims():
    base = D.Normal(ft.zeros(2, 3, 4, dtype=F64), ft.ones(2, 3, 4, dtype=F64))
    ind = D.Independent(base, 2)
    assert tuple(ind.batch_shape) == (2,) and tuple(ind.event_shape) == (3, 4)
    x = ind.sample()
    assert_close(ind.log_prob(x), base.log_prob(x).sum((-1, -2)).numpy(), rtol=1e-12)
    assert_close(ind.entropy(), base.entropy().sum((-1, -2)).numpy(), rtol=1e-12)
    assert repr(ind.support) == "IndependentConstraint(Real(), 2)"


def test_transformed_distribution_log_prob_uses_jacobian():
    base = D.Normal(t([0.0, 1.0]), t([1.0, 0.5]))
    td = D.TransformedDistribution(base, [D.AffineTransform(1.0, 2.0), D.ExpTransform()])
    y = np.array([0.7, 3.0])
    x = (np.log(y) - 1.0) / 2.0
    ref = base.log_prob(t(x)).numpy() - np.log(2.0) - np.log(y)
    assert_close(td.log_prob(t(y)), ref, rtol=1e-12)
    assert_close(td.cdf(t(y)), base.cdf(t(x)).numpy(), rtol=1e-12)


def test_transformed_distribution_with_event_transform_has_vector_event():
    td = D.TransformedDistribution(D.Normal(ft.zeros(3, dtype=F64), ft.ones(3, dtype=F64)), D.StickBreakingTransform())
    assert tuple(td.batch_shape) == () and tuple(td.event_shape) == (4,)
    y = td.sample((5,))
    assert tuple(y.shape) == (5, 4) and tuple(td.log_prob(y).shape) == (5,)


def test_enumerate_support():
    assert D.Bernoulli(t([0.2, 0.5])).enumerate_support().tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert D.Categorical(t([[0.2, 0.3, 0.5]])).enumerate_support(expand=False).tolist() == [[0], [1], [2]]
    assert D.Binomial(3, t([0.5])).enumerate_support().tolist() == [[0.0], [1.0], [2.0], [3.0]]
    assert tuple(D.OneHotCategorical(t([0.5, 0.5])).enumerate_support().shape) == (2, 2)


def _gradcheck(fn, *params):
    leaves = [t(p).requires_grad_() for p in params]
    assert ft.autograd.gradcheck(fn, leaves)


X = np.array([0.3, 1.7])


@pytest.mark.parametrize("name,fn,params", [
    ("Normal", lambda m, s: D.Normal(m, s).log_prob(t(X)), ([0.1, -0.2], [1.2, 0.7])),
    ("Laplace", lambda m, s: D.Laplace(m, s).log_prob(t(X)), ([0.1, -0.2], [1.2, 0.7])),
    ("Gamma", lambda a, b: D.Gamma(a, b).log_prob(t(X)), ([1.5, 2.5], [0.7, 1.3])),
    ("Beta", lambda a, b: D.Beta(a, b).log_prob(t(X / 2)), ([1.5, 2.5], [0.7, 1.3])),
    ("StudentT", lambda df, m: D.StudentT(df, m).log_prob(t(X)), ([3.0, 5.0], [0.1, 0.2])),
    ("Dirichlet", lambda c: D.Dirichlet(c).log_prob(t([0.2, 0.3, 0.5])), ([1.5, 2.0, 0.7],)),
    ("Categorical", lambda lg: D.Categorical(logits=lg).log_prob(ft.tensor([0, 2])), ([0.1, 0.5, -0.3],)),
    ("Binomial", lambda p: D.Binomial(5, p).log_prob(t([1.0, 4.0])), ([0.3, 0.6],)),
    ("Poisson", lambda r: D.Poisson(r).log_prob(t([1.0, 4.0])), ([0.3, 2.6],)),
    ("MVN", lambda m, L: D.MultivariateNormal(m, scale_tril=L.tril()).log_prob(t([0.3, -0.4])),
     ([0.1, 0.2], [[1.2, 0.0], [0.3, 0.8]])),
    ("Normal entropy", lambda s: D.Normal(0.0, s).entropy(), ([0.5, 2.0],)),
    ("Gamma-Gamma KL", lambda a, b: D.kl_divergence(D.Gamma(a, b), D.Gamma(t([2.0, 1.0]), t([1.0, 3.0]))),
     ([1.5, 2.5], [0.7, 1.3])),
])
def test_gradcheck_float64(name, fn, params):
    _gradcheck(fn, *params)
