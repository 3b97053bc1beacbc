"""log_prob / entropy / moments / cdf of the main families against float64 NumPy formulas."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.distributions as D
from conftest import assert_close
from distributions.reference import digamma, erf, lgamma

RNG = np.random.default_rng(1)
LOC = RNG.normal(size=(2, 3))
SCALE = RNG.uniform(0.5, 2, (2, 3))
POS = RNG.uniform(0.5, 3, (2, 3))
X = RNG.normal(size=(2, 3))
XPOS = RNG.uniform(0.2, 3, (2, 3))
XUNIT = RNG.uniform(0.05, 0.95, (2, 3))
KS = np.array([[0.0, 1, 4], [2, 0, 7]])


def t(a, dtype=ft.float64, layout="contiguous"):
    """A tensor of ``a``; 'transposed' builds it as a transposed view (non-contiguous)."""
    if layout == "transposed":
        return ft.tensor(np.ascontiguousarray(a.T), dtype=dtype).T
    return ft.tensor(a, dtype=dtype)


# name -> (constructor(layout, dtype), value, log_prob ref, mean ref, variance ref, entropy ref or None)
FAMILIES = {
    "Normal": (
        lambda L, d: D.Normal(t(LOC, d, L), t(SCALE, d, L)), X,
        -((X - LOC) ** 2) / (2 * SCALE**2) - np.log(SCALE) - 0.5 * np.log(2 * np.pi),
        LOC, SCALE**2, 0.5 + 0.5 * np.log(2 * np.pi) + np.log(SCALE),
    ),
    "Laplace": (
        lambda L, d: D.Laplace(t(LOC, d, L), t(SCALE, d, L)), X,
        -np.log(2 * SCALE) - np.abs(X - LOC) / SCALE, LOC, 2 * SCALE**2, 1 + np.log(2 * SCALE),
    ),
    "Exponential": (
        lambda L, d: D.Exponential(t(POS, d, L)), XPOS,
        np.log(POS) - POS * XPOS, 1 / POS, 1 / POS**2, 1 - np.log(POS),
    ),
    "Gamma": (
        lambda L, d: D.Gamma(t(POS, d, L), t(SCALE, d, L)), XPOS,
        POS * np.log(SCALE) + (POS - 1) * np.log(XPOS) - SCALE * XPOS - lgamma(POS),
        POS / SCALE, POS / SCALE**2, POS - np.log(SCALE) + lgamma(POS) + (1 - POS) * digamma(POS),
    ),
    "Beta": (
        lambda L, d: D.Beta(t(POS, d, L), t(SCALE, d, L)), XUNIT,
        (POS - 1) * np.log(XUNIT) + (SCALE - 1) * np.log1p(-XUNIT) + lgamma(POS + SCALE) - lgamma(POS) - lgamma(SCALE),
        POS / (POS + SCALE), POS * SCALE / ((POS + SCALE) ** 2 * (POS + SCALE + 1)),
        lgamma(POS) + lgamma(SCALE) - lgamma(POS + SCALE) - (POS - 1) * digamma(POS) - (SCALE - 1) * digamma(SCALE)
        + (POS + SCALE - 2) * digamma(POS + SCALE),
    ),
    "Poisson": (
        lambda L, d: D.Poisson(t(POS, d, L)), KS,
        KS * np.log(POS) - POS - lgamma(KS + 1), POS, POS, None,
    ),
    "Bernoulli": (
        lambda L, d: D.Bernoulli(t(XUNIT, d, L)), (KS > 1).astype(float),
        np.where(KS > 1, np.log(XUNIT), np.log1p(-XUNIT)), XUNIT, XUNIT * (1 - XUNIT),
        -(XUNIT * np.log(XUNIT) + (1 - XUNIT) * np.log1p(-XUNIT)),
    ),
    "Geometric": (
        lambda L, d: D.Geometric(t(XUNIT, d, L)), KS,
        KS * np.log1p(-XUNIT) + np.log(XUNIT), 1 / XUNIT - 1, (1 / XUNIT - 1) / XUNIT,
        -((1 - XUNIT) * np.log1p(-XUNIT) + XUNIT * np.log(XUNIT)) / XUNIT,
    ),
    "Binomial": (
        lambda L, d: D.Binomial(7, t(XUNIT, d, L)), KS,
        lgamma(8) - lgamma(KS + 1) - lgamma(8 - KS) + KS * np.log(XUNIT) + (7 - KS) * np.log1p(-XUNIT),
        7 * XUNIT, 7 * XUNIT * (1 - XUNIT), None,
    ),
    "Cauchy": (
        lambda L, d: D.Cauchy(t(LOC, d, L), t(SCALE, d, L)), X,
        -np.log(np.pi * SCALE) - np.log1p(((X - LOC) / SCALE) ** 2), None, None, np.log(4 * np.pi * SCALE),
    ),
    "LogNormal": (
        lambda L, d: D.LogNormal(t(LOC, d, L), t(SCALE, d, L)), XPOS,
        -((np.log(XPOS) - LOC) ** 2) / (2 * SCALE**2) - np.log(SCALE * XPOS) - 0.5 * np.log(2 * np.pi),
        np.exp(LOC + SCALE**2 / 2), np.expm1(SCALE**2) * np.exp(2 * LOC + SCALE**2),
        0.5 + 0.5 * np.log(2 * np.pi) + np.log(SCALE) + LOC,
    ),
    "StudentT": (
        lambda L, d: D.StudentT(t(POS + 2, d, L), t(LOC, d, L), t(SCALE, d, L)), X,
        lgamma((POS + 3) / 2) - lgamma((POS + 2) / 2) - 0.5 * np.log((POS + 2) * np.pi) - np.log(SCALE)
        - (POS + 3) / 2 * np.log1p(((X - LOC) / SCALE) ** 2 / (POS + 2)),
        LOC, SCALE**2 * (POS + 2) / POS, None,
    ),
}


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_log_prob_matches_numpy(name, layout):
    make, value, ref = FAMILIES[name][:3]
    dist = make(layout, ft.float64)
    assert_close(dist.log_prob(t(value, ft.float64, layout)), ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_log_prob_float32_matches_numpy(name):
    make, value, ref = FAMILIES[name][:3]
    out = make("contiguous", ft.float32).log_prob(t(value, ft.float32))
    assert out.dtype == ft.float32
    assert_close(out, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_moments_and_entropy_match_numpy(name):
    make, _, _, mean, var, entropy = FAMILIES[name]
    dist = make("contiguous", ft.float64)
    if mean is not None:
        assert_close(dist.mean, mean, rtol=1e-10, atol=1e-12)
        assert_close(dist.variance, var, rtol=1e-10, atol=1e-12)
        assert_close(dist.stddev, np.sqrt(var), rtol=1e-10, atol=1e-12)
    if entropy is not None:
        assert_close(dist.entropy(), entropy, rtol=1e-9, atol=1e-9)


def test_normal_cdf_and_icdf_match_numpy():
    dist = D.Normal(t(LOC), t(SCALE))
    cdf = 0.5 * (1 + erf((X - LOC) / (SCALE * np.sqrt(2))))
    assert_close(dist.cdf(t(X)), cdf, rtol=1e-12, atol=1e-12)
    assert_close(dist.icdf(dist.cdf(t(X))), X, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("make,cdf", [
    (lambda: D.Exponential(t(POS)), lambda x: 1 - np.exp(-POS * x)),
    (lambda: D.Laplace(t(LOC), t(SCALE)), lambda x: np.where(x < LOC, 0.5 * np.exp((x - LOC) / SCALE), 1 - 0.5 * np.exp(-(x - LOC) / SCALE))),
    (lambda: D.Cauchy(t(LOC), t(SCALE)), lambda x: np.arctan((x - LOC) / SCALE) / np.pi + 0.5),
    (lambda: D.Gumbel(t(LOC), t(SCALE)), lambda x: np.exp(-np.exp(-(x - LOC) / SCALE))),
    (lambda: D.Uniform(t(LOC), t(LOC + SCALE)), lambda x: np.clip((x - LOC) / SCALE, 0, 1)),
], ids=["Exponential", "Laplace", "Cauchy", "Gumbel", "Uniform"])
def test_cdf_matches_numpy_and_icdf_inverts_it(make, cdf):
    dist = make()
    x = XPOS if isinstance(dist, D.Exponential) else LOC + SCALE * RNG.uniform(0.1, 0.9, (2, 3))
    assert_close(dist.cdf(t(x)), cdf(x), rtol=1e-10, atol=1e-12)
    assert_close(dist.icdf(dist.cdf(t(x))), x, rtol=1e-8, atol=1e-8)


def test_categorical_log_prob_entropy_and_broadcast_value():
    probs = RNG.dirichlet(np.ones(4), size=3)
    dist = D.Categorical(probs=t(probs))
    value = np.array([[0, 3, 1], [2, 2, 0]])
    assert_close(dist.log_prob(ft.tensor(value)), np.log(probs[np.arange(3), value]), rtol=1e-12)
    assert_close(dist.entropy(), -(probs * np.log(probs)).sum(-1), rtol=1e-12)


def test_categorical_logits_are_normalized():
    logits = RNG.normal(size=(2, 5))
    dist = D.Categorical(logits=t(logits))
    ref = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert_close(dist.logits, ref, rtol=1e-12)
    assert_close(dist.probs, np.exp(ref), rtol=1e-12)


def test_dirichlet_log_prob_and_entropy():
    conc = RNG.uniform(0.5, 3, (2, 4))
    x = RNG.dirichlet(np.ones(4), size=2)
    dist = D.Dirichlet(t(conc))
    ref = ((conc - 1) * np.log(x)).sum(-1) + lgamma(conc.sum(-1)) - lgamma(conc).sum(-1)
    assert_close(dist.log_prob(t(x)), ref, rtol=1e-10)
    a0 = conc.sum(-1)
    ent = lgamma(conc).sum(-1) - lgamma(a0) - (4 - a0) * digamma(a0) - ((conc - 1) * digamma(conc)).sum(-1)
    assert_close(dist.entropy(), ent, rtol=1e-9)


def test_multivariate_normal_parametrizations_agree_with_numpy():
    a = RNG.normal(size=(3, 3))
    cov = a @ a.T + 2 * np.eye(3)
    loc = RNG.normal(size=3)
    x = RNG.normal(size=(4, 3))
    diff = x - loc
    ref = -0.5 * (3 * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1] + np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff))
    for kwargs in (dict(covariance_matrix=t(cov)), dict(precision_matrix=t(np.linalg.inv(cov))),
                   dict(scale_tril=t(np.linalg.cholesky(cov)))):
        dist = D.MultivariateNormal(t(loc), **kwargs)
        assert_close(dist.log_prob(t(x)), ref, rtol=1e-9)
        assert_close(dist.covariance_matrix, cov, rtol=1e-9, atol=1e-12)
        assert_close(dist.entropy(), 0.5 * (3 * (1 + np.log(2 * np.pi)) + np.linalg.slogdet(cov)[1]), rtol=1e-10)


def test_lowrank_multivariate_normal_matches_dense():
    w = RNG.normal(size=(4, 2))
    diag = RNG.uniform(0.5, 1.5, 4)
    loc = RNG.normal(size=4)
    x = RNG.normal(size=(3, 4))
    low = D.LowRankMultivariateNormal(t(loc), t(w), t(diag))
    dense = D.MultivariateNormal(t(loc), covariance_matrix=t(w @ w.T + np.diag(diag)))
    assert_close(low.log_prob(t(x)), dense.log_prob(t(x)).numpy(), rtol=1e-10)
    assert_close(low.entropy(), dense.entropy().numpy(), rtol=1e-10)
    assert_close(low.precision_matrix, np.linalg.inv(w @ w.T + np.diag(diag)), rtol=1e-9, atol=1e-12)


def test_multinomial_log_prob():
    probs = np.array([0.2, 0.5, 0.3])
    value = np.array([[1.0, 2, 1], [0, 4, 0]])
    dist = D.Multinomial(4, probs=t(probs))
    ref = lgamma(5) - lgamma(value + 1).sum(-1) + (value * np.log(probs)).sum(-1)
    assert_close(dist.log_prob(t(value)), ref, rtol=1e-12)


def test_mixture_same_family_log_prob_and_moments():
    weights = np.array([0.3, 0.7])
    loc, scale = np.array([-1.0, 2.0]), np.array([0.5, 1.5])
    mix = D.MixtureSameFamily(D.Categorical(probs=t(weights)), D.Normal(t(loc), t(scale)))
    x = np.array([-1.0, 0.0, 3.0])
    comp = np.exp(-((x[:, None] - loc) ** 2) / (2 * scale**2)) / (scale * np.sqrt(2 * np.pi))
    assert_close(mix.log_prob(t(x)), np.log((comp * weights).sum(-1)), rtol=1e-12)
    mean = (weights * loc).sum()
    assert_close(mix.mean, mean, rtol=1e-12)
    assert_close(mix.variance, (weights * (scale**2 + (loc - mean) ** 2)).sum(), rtol=1e-12)


def test_log_prob_of_empty_batch_is_empty():
    dist = D.Normal(ft.zeros(0, 3, dtype=ft.float64), ft.ones(0, 3, dtype=ft.float64))
    assert tuple(dist.log_prob(ft.zeros(0, 3, dtype=ft.float64)).shape) == (0, 3)


def test_log_prob_outside_support_without_validation():
    dist = D.Exponential(ft.tensor([1.0]), validate_args=False)
    assert dist.log_prob(ft.tensor([-1.0])).item() == -(-1.0) + 0.0  # formula value, no error
    half = D.HalfNormal(ft.tensor([1.0]), validate_args=False)
    assert half.log_prob(ft.tensor([-1.0])).item() == float("-inf")


def test_normal_log_prob_propagates_nan_and_inf():
    dist = D.Normal(ft.tensor([0.0, 0.0]), ft.tensor([1.0, 1.0]), validate_args=False)
    out = dist.log_prob(ft.tensor([float("nan"), float("inf")])).numpy()
    assert np.isnan(out[0]) and out[1] == -np.inf
