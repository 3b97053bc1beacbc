"""kl_divergence: closed forms, a Monte-Carlo check and the dispatch rules."""

import warnings

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.distributions as D
from conftest import assert_close
from distributions.reference import digamma, lgamma

RNG = np.random.default_rng(2)
A, B = RNG.uniform(0.5, 2, 3), RNG.uniform(0.5, 2, 3)
C, E = RNG.normal(size=3), RNG.normal(size=3)


def t(a):
    return ft.tensor(a, dtype=ft.float64)


CLOSED_FORMS = {
    "Normal": (D.Normal(t(C), t(A)), D.Normal(t(E), t(B)),
               np.log(B / A) + (A**2 + (C - E) ** 2) / (2 * B**2) - 0.5),
    "Exponential": (D.Exponential(t(A)), D.Exponential(t(B)), np.log(A / B) + B / A - 1),
    "Poisson": (D.Poisson(t(A)), D.Poisson(t(B)), A * np.log(A / B) - A + B),
    "Laplace": (D.Laplace(t(C), t(A)), D.Laplace(t(E), t(B)),
                np.log(B / A) + np.abs(C - E) / B + A / B * np.exp(-np.abs(C - E) / A) - 1),
    "Gamma": (D.Gamma(t(A), t(B)), D.Gamma(t(B), t(A)),
              (A - B) * digamma(A) - lgamma(A) + lgamma(B) + B * (np.log(B) - np.log(A)) + A * (A - B) / B),
    "Bernoulli": (D.Bernoulli(t(A / 3)), D.Bernoulli(t(B / 3)),
                  A / 3 * np.log(A / B) + (1 - A / 3) * np.log((1 - A / 3) / (1 - B / 3))),
    "Uniform": (D.Uniform(t(C), t(C + A)), D.Uniform(t(C - 1), t(C + A + 1)), np.log((A + 2) / A)),
    "Beta": (D.Beta(t(A), t(B)), D.Beta(t(B), t(A)),
             lgamma(B) + lgamma(A) - lgamma(A) - lgamma(B)  # B(q) / B(p) with swapped params cancels
             + (A - B) * digamma(A) + (B - A) * digamma(B)),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_kl_matches_closed_form(name):
    p, q, ref = CLOSED_FORMS[name]
    assert_close(D.kl_divergence(p, q), ref, rtol=1e-8, atol=1e-12)


def test_kl_of_distribution_with_itself_is_zero():
    for p, _, _ in CLOSED_FORMS.values():
        assert_close(D.kl_divergence(p, p), np.zeros(3), atol=1e-12)


def test_categorical_and_one_hot_kl():
    pp, qq = RNG.dirichlet(np.ones(4), 2), RNG.dirichlet(np.ones(4), 2)
    ref = (pp * np.log(pp / qq)).sum(-1)
    assert_close(D.kl_divergence(D.Categorical(t(pp)), D.Categorical(t(qq))), ref, rtol=1e-10)
    assert_close(D.kl_divergence(D.OneHotCategorical(t(pp)), D.OneHotCategorical(t(qq))), ref, rtol=1e-10)


def test_categorical_kl_is_infinite_where_q_has_zero_mass():
    p = D.Categorical(t(np.array([0.5, 0.5])))
    q = D.Categorical(t(np.array([1.0, 0.0])))
    assert D.kl_divergence(p, q).item() == float("inf")
    assert np.isfinite(D.kl_divergence(q, p).item())


def test_multivariate_normal_kl_matches_formula():
    a, b = RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3))
    s1, s2 = a @ a.T + np.eye(3), b @ b.T + np.eye(3)
    m1, m2 = RNG.normal(size=3), RNG.normal(size=3)
    inv2 = np.linalg.inv(s2)
    ref = 0.5 * (np.trace(inv2 @ s1) + (m2 - m1) @ inv2 @ (m2 - m1) - 3
                 + np.linalg.slogdet(s2)[1] - np.linalg.slogdet(s1)[1])
    p, q = D.MultivariateNormal(t(m1), t(s1)), D.MultivariateNormal(t(m2), t(s2))
    assert_close(D.kl_divergence(p, q), ref, rtol=1e-9)
    w = RNG.normal(size=(3, 1))
    low = D.LowRankMultivariateNormal(t(m2), t(w), t(np.ones(3)))
    dense = D.MultivariateNormal(t(m2), t(w @ w.T + np.eye(3)))
    assert_close(D.kl_divergence(p, low), D.kl_divergence(p, dense).numpy(), rtol=1e-9)
    assert_close(D.kl_divergence(low, p), D.kl_divergence(dense, p).numpy(), rtol=1e-9)


def test_dirichlet_kl_matches_monte_carlo():
    ft.manual_seed(0)
    p = D.Dirichlet(t(np.array([2.0, 3.0, 4.0])))
    q = D.Dirichlet(t(np.array([1.0, 2.0, 2.0])))
    x = p.sample((40000,))
    mc = (p.log_prob(x) - q.log_prob(x)).numpy()
    assert abs(D.kl_divergence(p, q).item() - mc.mean()) < 6 * mc.std() / np.sqrt(len(mc))


def test_exponential_family_fallback_matches_specialised_formula():
    from ferrotorch.distributions.kl import _kl_expfamily_expfamily

    p, q, ref = CLOSED_FORMS["Poisson"]
    assert_close(_kl_expfamily_expfamily(p, q), ref, rtol=1e-9)
    p, q, ref = CLOSED_FORMS["Normal"]
    assert_close(_kl_expfamily_expfamily(p, q), ref, rtol=1e-9)


def test_independent_kl_sums_over_reinterpreted_dims():
    p, q, ref = CLOSED_FORMS["Normal"]
    got = D.kl_divergence(D.Independent(p, 1), D.Independent(q, 1))
    assert_close(got, np.array(ref.sum()), rtol=1e-10)


def test_cross_family_kl_is_infinite_for_mismatched_support():
    got = D.kl_divergence(D.Normal(t(C), t(A)), D.Exponential(t(B)))
    assert_close(got, np.full(3, np.inf))


def test_unregistered_pair_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Cauchy and q type Normal"):
        D.kl_divergence(D.Cauchy(t(C), t(A)), D.Normal(t(C), t(A)))


def test_cross_exponential_family_without_formula_raises():
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(D.Poisson(t(A)), D.Normal(t(C), t(A)))


def test_register_kl_dispatches_on_most_specific_pair():
    class MyNormal(D.Normal):
        pass

    p, q = MyNormal(t(C), t(A)), D.Normal(t(E), t(B))
    assert_close(D.kl_divergence(p, q), CLOSED_FORMS["Normal"][2], rtol=1e-10)  # inherits (Normal, Normal)

    @D.register_kl(MyNormal, D.Normal)
    def _kl_mine(p, q):
        return ft.zeros(3, dtype=ft.float64)

    try:
        assert_close(D.kl_divergence(p, q), np.zeros(3))
        assert_close(D.kl_divergence(q, D.Normal(t(C), t(A))), D.kl_divergence(q, p.expand((3,))).numpy())
    finally:
        from ferrotorch.distributions.kl import _KL_MEMOIZE, _KL_REGISTRY
        del _KL_REGISTRY[MyNormal, D.Normal]
        _KL_MEMOIZE.clear()


def test_ambiguous_registration_warns():
    class P(D.Normal):
        pass

    class Q(D.Normal):
        pass

    from ferrotorch.distributions.kl import _KL_MEMOIZE, _KL_REGISTRY
    D.register_kl(P, D.Normal)(lambda p, q: ft.zeros(()))
    D.register_kl(D.Normal, Q)(lambda p, q: ft.ones(()))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            D.kl_divergence(P(0.0, 1.0), Q(0.0, 1.0))
        assert any("Ambiguous kl_divergence(P, Q)" in str(w.message) for w in caught)
    finally:
        del _KL_REGISTRY[P, D.Normal], _KL_REGISTRY[D.Normal, Q]
        _KL_MEMOIZE.clear()


def test_register_kl_rejects_non_distribution_types():
    with pytest.raises(TypeError, match="Distribution subclasses"):
        D.register_kl(int, D.Normal)
