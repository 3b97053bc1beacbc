"""Sample shapes, sample moments and reparameterized gradients."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.distributions as D
from distributions.reference import digamma, lgamma

F64 = ft.float64


def p(*values):
    return ft.tensor(np.array(values, dtype=np.float64))


# Every distribution with a batch shape of (2,) (or (2,) batch + event shape).
SHAPED = {
    "Normal": lambda: D.Normal(p(0.0, 1.0), p(1.0, 2.0)),
    "Laplace": lambda: D.Laplace(p(0.0, 1.0), p(1.0, 2.0)),
    "Cauchy": lambda: D.Cauchy(p(0.0, 1.0), p(1.0, 2.0)),
    "Gumbel": lambda: D.Gumbel(p(0.0, 1.0), p(1.0, 2.0)),
    "Uniform": lambda: D.Uniform(p(0.0, 1.0), p(1.0, 2.0)),
    "Exponential": lambda: D.Exponential(p(1.0, 2.0)),
    "Gamma": lambda: D.Gamma(p(0.5, 3.0), p(1.0, 2.0)),
    "Chi2": lambda: D.Chi2(p(1.0, 4.0)),
    "Beta": lambda: D.Beta(p(0.5, 3.0), p(1.0, 2.0)),
    "Dirichlet": lambda: D.Dirichlet(ft.tensor(np.array([[0.5, 1.0, 2.0], [1.0, 1.0, 1.0]]))),
    "LogNormal": lambda: D.LogNormal(p(0.0, 1.0), p(0.5, 0.2)),
    "HalfNormal": lambda: D.HalfNormal(p(1.0, 2.0)),
    "StudentT": lambda: D.StudentT(p(3.0, 5.0)),
    "Bernoulli": lambda: D.Bernoulli(p(0.2, 0.7)),
    "Geometric": lambda: D.Geometric(p(0.2, 0.7)),
    "Poisson": lambda: D.Poisson(p(0.5, 4.0)),
    "Binomial": lambda: D.Binomial(p(10.0, 100.0), p(0.2, 0.7)),
    "NegativeBinomial": lambda: D.NegativeBinomial(p(3.0, 5.0), p(0.2, 0.7)),
    "Categorical": lambda: D.Categorical(ft.tensor(np.array([[0.2, 0.8, 0.0], [0.3, 0.3, 0.4]]))),
    "OneHotCategorical": lambda: D.OneHotCategorical(ft.tensor(np.array([[0.2, 0.8, 0.0], [0.3, 0.3, 0.4]]))),
    "Multinomial": lambda: D.Multinomial(5, ft.tensor(np.array([[0.2, 0.8, 0.0], [0.3, 0.3, 0.4]]))),
    "MultivariateNormal": lambda: D.MultivariateNormal(ft.zeros(2, 3, dtype=F64), ft.eye(3, dtype=F64)),
    "LowRankMultivariateNormal": lambda: D.LowRankMultivariateNormal(
        ft.zeros(2, 3, dtype=F64), ft.ones(3, 1, dtype=F64), ft.ones(3, dtype=F64)),
    "RelaxedBernoulli": lambda: D.RelaxedBernoulli(p(0.5), p(0.2, 0.7)),
    "RelaxedOneHotCategorical": lambda: D.RelaxedOneHotCategorical(p(0.5), ft.tensor(np.array([[0.2, 0.8, 0.0], [0.3, 0.3, 0.4]]))),
    "ContinuousBernoulli": lambda: D.ContinuousBernoulli(p(0.2, 0.7)),
    "Independent": lambda: D.Independent(D.Normal(ft.zeros(2, 4, dtype=F64), ft.ones(2, 4, dtype=F64)), 1),
    "MixtureSameFamily": lambda: D.MixtureSameFamily(
        D.Categorical(ft.tensor(np.array([[0.5, 0.5], [0.1, 0.9]]))), D.Normal(ft.zeros(2, 2, dtype=F64), ft.ones(2, 2, dtype=F64))),
}


@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
@pytest.mark.parametrize("name", sorted(SHAPED))
def test_sample_shape_is_sample_batch_event(name, sample_shape):
    dist = SHAPED[name]()
    x = dist.sample(sample_shape)
    assert tuple(x.shape) == tuple(sample_shape) + tuple(dist.batch_shape) + tuple(dist.event_shape)
    assert tuple(dist.batch_shape) == (2,)
    assert bool(dist.support.check(x).all())
    if dist.has_rsample:
        assert tuple(dist.rsample(sample_shape).shape) == tuple(x.shape)


N = 20000


@pytest.mark.parametrize("name", [
    "Normal", "Laplace", "Gumbel", "Uniform", "Exponential", "Gamma", "Chi2", "Beta", "HalfNormal", "LogNormal",
    "Bernoulli", "Geometric", "Poisson", "Binomial", "NegativeBinomial", "Multinomial", "Dirichlet",
    "ContinuousBernoulli", "LowRankMultivariateNormal", "OneHotCategorical", "StudentT", "MixtureSameFamily",
])
def test_sample_mean_and_variance_match_moments(name):
    ft.manual_seed(0)
    dist = SHAPED[name]()
    x = dist.sample((N,)).double().numpy()
    mean, var = dist.mean.numpy(), dist.variance.numpy()
    # 6 standard errors of the mean; the variance estimate gets a 10% band.
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 6 * np.sqrt(var / N) + 1e-12)
    np.testing.assert_allclose(x.var(0), var, rtol=0.1, atol=1e-9)


def test_categorical_sample_frequencies():
    ft.manual_seed(1)
    probs = np.array([0.1, 0.6, 0.3])
    x = D.Categorical(ft.tensor(probs)).sample((N,)).numpy()
    freq = np.bincount(x, minlength=3) / N
    np.testing.assert_allclose(freq, probs, atol=0.015)


def test_manual_seed_makes_samples_reproducible():
    ft.manual_seed(7)
    a = D.Gamma(p(0.5, 2.0), p(1.0, 1.0)).sample((10,))
    ft.manual_seed(7)
    b = D.Gamma(p(0.5, 2.0), p(1.0, 1.0)).sample((10,))
    assert ft.equal(a, b)


def test_normal_rsample_gradient_is_analytic():
    loc = ft.tensor([0.5, -1.0], dtype=F64, requires_grad=True)
    scale = ft.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    x = D.Normal(loc, scale).rsample((7,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [7.0, 7.0])
    np.testing.assert_allclose(scale.grad.numpy(), ((x.detach() - loc.detach()) / scale.detach()).sum(0).numpy())


@pytest.mark.parametrize("make", [
    lambda loc, scale: D.Laplace(loc, scale), lambda loc, scale: D.Cauchy(loc, scale),
    lambda loc, scale: D.Uniform(loc, loc + scale), lambda loc, scale: D.Gumbel(loc, scale),
], ids=["Laplace", "Cauchy", "Uniform", "Gumbel"])
def test_location_scale_rsample_gradient_wrt_loc_is_one(make):
    loc = ft.tensor([0.5, -1.0], dtype=F64, requires_grad=True)
    scale = ft.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    make(loc, scale).rsample((5,)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [5.0, 5.0])


def test_gamma_rsample_gradient_is_unbiased_for_the_mean():
    # E[x] = concentration / rate, so the mean pathwise derivative is 1 / rate and -c / rate^2.
    ft.manual_seed(3)
    conc = ft.tensor([0.3, 1.0, 4.0], dtype=F64, requires_grad=True)
    rate = ft.tensor([1.0, 2.0, 0.5], dtype=F64, requires_grad=True)
    D.Gamma(conc, rate).rsample((N,)).mean(0).sum().backward()
    np.testing.assert_allclose(conc.grad.numpy(), 1 / np.array([1.0, 2.0, 0.5]), rtol=0.05)
    np.testing.assert_allclose(rate.grad.numpy(), -np.array([0.3, 1.0, 4.0]) / np.array([1.0, 2.0, 0.5]) ** 2, rtol=0.05)


def _gamma_cdf_alpha_derivative(a, x, steps=20001):
    """∂P(a, x)/∂a = ∫_0^x pdf(t; a) (log t - ψ(a)) dt, by the trapezoid rule after substituting
    t = x w^(4/a), which leaves a smooth integrand (pdf dt = x^a / Γ(a+1) e^{-t} 4 w^3 dw)."""
    w = np.linspace(0, 1, steps)[1:]
    tt = x * w ** (4 / a)
    integrand = x**a / np.exp(lgamma(a + 1)) * np.exp(-tt) * 4 * w**3 * (np.log(tt) - digamma(np.array(a)))
    return np.trapezoid(np.concatenate([[0.0], integrand]), np.concatenate([[0.0], w]))


@pytest.mark.parametrize("a,x", [(0.5, 0.3), (1.0, 1.0), (2.5, 4.0), (7.0, 5.0)])
def test_standard_gamma_grad_is_implicit_reparameterization(a, x):
    from ferrotorch.distributions._gamma import _standard_gamma_grad

    got = _standard_gamma_grad(ft.tensor([x], dtype=F64), ft.tensor([a], dtype=F64)).item()
    pdf = np.exp((a - 1) * np.log(x) - x - lgamma(a))
    expected = -_gamma_cdf_alpha_derivative(a, x) / pdf
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_dirichlet_and_beta_rsample_have_gradients():
    ft.manual_seed(4)
    conc = ft.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    D.Dirichlet(conc).rsample((N,)).mean(0)[0].backward()
    # d/dc E[x_0] = d/dc c_0 / sum(c): (sum - c_0) / sum^2 for c_0, -c_0 / sum^2 otherwise.
    np.testing.assert_allclose(conc.grad.numpy(), [5 / 36, -1 / 36, -1 / 36], atol=0.01)
    a = ft.tensor(2.0, dtype=F64, requires_grad=True)
    D.Beta(a, ft.tensor(3.0, dtype=F64)).rsample((N,)).mean().backward()
    np.testing.assert_allclose(a.grad.item(), 3 / 25, atol=0.01)


def test_mvn_rsample_gradient_wrt_loc():
    loc = ft.zeros(3, dtype=F64, requires_grad=True)
    D.MultivariateNormal(loc, scale_tril=ft.eye(3, dtype=F64)).rsample((4,)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [4.0, 4.0, 4.0])


def test_sample_carries_no_gradient():
    loc = ft.zeros(2, requires_grad=True)
    assert not D.Normal(loc, 1.0).sample().requires_grad
    assert D.Normal(loc, 1.0).rsample().requires_grad


def test_binomial_sampler_extremes_and_large_counts():
    ft.manual_seed(5)
    x = D.Binomial(p(0.0, 50.0, 10000.0), p(0.5, 1.0, 0.0)).sample((3,)).numpy()
    np.testing.assert_array_equal(x, np.tile([0.0, 50.0, 0.0], (3, 1)))
    big = D.Binomial(ft.tensor(1e6, dtype=F64), ft.tensor(0.3, dtype=F64)).sample((2000,)).numpy()
    assert abs(big.mean() - 3e5) < 6 * np.sqrt(1e6 * 0.21 / 2000)
    assert (big == np.floor(big)).all()
