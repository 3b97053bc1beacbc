"""ferrotorch.distributions against torch.distributions on the same parameters."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ferrotorch as ft  # noqa: E402
import ferrotorch.distributions as D  # noqa: E402
import torch.distributions as TD  # noqa: E402

R = np.random.default_rng(0)
POS = R.uniform(0.5, 2.0, (3,))
POS2 = R.uniform(0.5, 2.0, (3,))
REAL = R.normal(size=(3,))
PROB = R.uniform(0.1, 0.9, (3,))
SIMPLEX = R.dirichlet(np.ones(4), size=2)
A = R.normal(size=(2, 3, 3))
COV = A @ A.transpose(0, 2, 1) + 3 * np.eye(3)
LOWRANK_W = R.normal(size=(2, 3, 2))


def _args(lib, spec):
    """Builds constructor args in ``lib``: arrays become float64 tensors."""
    out = {}
    for k, v in spec.items():
        out[k] = lib.tensor(v, dtype=lib.float64) if isinstance(v, np.ndarray) else v
    return out


# name: (constructor kwargs, a value in the support with batch shape, what to compare)
CASES = {
    "Normal": (dict(loc=REAL, scale=POS), REAL + 0.3),
    "Laplace": (dict(loc=REAL, scale=POS), REAL - 0.3),
    "Cauchy": (dict(loc=REAL, scale=POS), REAL + 1.0),
    "Gumbel": (dict(loc=REAL, scale=POS), REAL + 0.5),
    "Uniform": (dict(low=REAL, high=REAL + POS), REAL + 0.4 * POS),
    "Exponential": (dict(rate=POS), POS2),
    "Gamma": (dict(concentration=POS, rate=POS2), POS2),
    "Chi2": (dict(df=POS), POS2),
    "Beta": (dict(concentration1=POS, concentration0=POS2), PROB),
    "Dirichlet": (dict(concentration=SIMPLEX * 3 + 0.5), SIMPLEX),
    "LogNormal": (dict(loc=REAL, scale=POS), POS2),
    "HalfNormal": (dict(scale=POS), POS2),
    "StudentT": (dict(df=POS * 3, loc=REAL, scale=POS2), REAL),
    "Bernoulli": (dict(probs=PROB), np.array([0.0, 1.0, 1.0])),
    "Geometric": (dict(probs=PROB), np.array([0.0, 3.0, 1.0])),
    "Poisson": (dict(rate=POS * 3), np.array([0.0, 3.0, 1.0])),
    "Binomial": (dict(total_count=np.array([5.0, 5.0, 5.0]), probs=PROB), np.array([0.0, 3.0, 5.0])),
    "NegativeBinomial": (dict(total_count=POS * 3, probs=PROB), np.array([0.0, 3.0, 1.0])),
    "Categorical": (dict(probs=SIMPLEX), np.array([1.0, 3.0])),
    "OneHotCategorical": (dict(logits=np.log(SIMPLEX)), np.eye(4)[[1, 3]]),
    "Multinomial": (dict(total_count=4, probs=SIMPLEX), np.array([[1.0, 0, 3, 0], [0, 2, 1, 1]])),
    "ContinuousBernoulli": (dict(probs=np.array([0.2, 0.5, 0.8])), PROB),
    "MultivariateNormal": (dict(loc=REAL, covariance_matrix=COV), R.normal(size=(2, 3))),
    "LowRankMultivariateNormal": (dict(loc=REAL, cov_factor=LOWRANK_W, cov_diag=POS), R.normal(size=(2, 3))),
    "RelaxedBernoulli": (dict(temperature=np.array(0.7), probs=PROB), PROB),
    "RelaxedOneHotCategorical": (dict(temperature=np.array(0.7), probs=SIMPLEX), SIMPLEX),
}
STATS = ["mean", "variance", "entropy", "cdf", "icdf"]


def _value(lib, case):
    t = lib.tensor(case[1], dtype=lib.float64)
    return t


def _compare(ours, theirs, rtol=1e-9):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_and_statistics_match_torch(name):
    spec, _ = CASES[name]
    ours = getattr(D, name)(**_args(ft, spec))
    theirs = getattr(TD, name)(**_args(torch, spec))
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    _compare(ours.log_prob(_value(ft, CASES[name])), theirs.log_prob(_value(torch, CASES[name])))
    for stat in ["mean", "variance", "stddev", "mode"]:
        try:
            expected = getattr(theirs, stat)
        except NotImplementedError:
            continue
        _compare(getattr(ours, stat), expected)
    try:
        expected = theirs.entropy()
    except NotImplementedError:
        expected = None
    if expected is not None:
        _compare(ours.entropy(), expected)


CDF_NAMES = ["Normal", "Laplace", "Cauchy", "Gumbel", "Uniform", "Exponential", "LogNormal", "HalfNormal",
             "ContinuousBernoulli"]


@pytest.mark.parametrize("name", CDF_NAMES)
def test_cdf_and_icdf_match_torch(name):
    spec, value = CASES[name]
    ours = getattr(D, name)(**_args(ft, spec))
    theirs = getattr(TD, name)(**_args(torch, spec))
    _compare(ours.cdf(ft.tensor(value, dtype=ft.float64)), theirs.cdf(torch.tensor(value, dtype=torch.float64)))
    q = np.array([0.1, 0.5, 0.8])
    _compare(ours.icdf(ft.tensor(q, dtype=ft.float64)), theirs.icdf(torch.tensor(q, dtype=torch.float64)))


KL_PAIRS = [
    ("Normal", "Normal"), ("Laplace", "Laplace"), ("Exponential", "Exponential"), ("Gamma", "Gamma"),
    ("Beta", "Beta"), ("Dirichlet", "Dirichlet"), ("Poisson", "Poisson"), ("Bernoulli", "Bernoulli"),
    ("Categorical", "Categorical"), ("OneHotCategorical", "OneHotCategorical"), ("Uniform", "Uniform"),
    ("MultivariateNormal", "MultivariateNormal"), ("LowRankMultivariateNormal", "LowRankMultivariateNormal"),
    ("MultivariateNormal", "LowRankMultivariateNormal"), ("LowRankMultivariateNormal", "MultivariateNormal"),
    ("Gumbel", "Gumbel"), ("Geometric", "Geometric"), ("HalfNormal", "HalfNormal"), ("Cauchy", "Cauchy"),
    ("ContinuousBernoulli", "ContinuousBernoulli"), ("LogNormal", "LogNormal"), ("Chi2", "Chi2"),
    ("Normal", "Laplace"), ("Laplace", "Normal"), ("Normal", "Gumbel"), ("Gumbel", "Normal"),
    ("Exponential", "Gamma"), ("Gamma", "Exponential"), ("Exponential", "Normal"), ("Gamma", "Normal"),
    ("Beta", "Normal"), ("Beta", "Gamma"), ("Beta", "Exponential"), ("Uniform", "Normal"),
    ("Uniform", "Gumbel"), ("Exponential", "Gumbel"), ("Gamma", "Gumbel"), ("Bernoulli", "Poisson"),
    ("Normal", "Uniform"),
]


def _perturbed(spec, scale):
    return {k: (v * scale if isinstance(v, np.ndarray) and k not in ("total_count",) else v) for k, v in spec.items()}


@pytest.mark.parametrize("p_name,q_name", KL_PAIRS)
def test_kl_divergence_matches_torch(p_name, q_name):
    p_spec = CASES[p_name][0]
    q_spec = _perturbed(CASES[q_name][0], 1.1) if p_name == q_name else CASES[q_name][0]
    if q_name in ("Categorical", "OneHotCategorical", "Dirichlet"):
        q_spec = {k: v[::-1].copy() for k, v in q_spec.items()}
    ours = D.kl_divergence(getattr(D, p_name)(**_args(ft, p_spec)), getattr(D, q_name)(**_args(ft, q_spec)))
    theirs = TD.kl_divergence(getattr(TD, p_name)(**_args(torch, p_spec)), getattr(TD, q_name)(**_args(torch, q_spec)))
    _compare(ours, theirs, rtol=1e-8)


def test_independent_kl_and_log_prob_match_torch():
    spec = CASES["Normal"][0]
    ours = D.Independent(D.Normal(**_args(ft, spec)), 1)
    theirs = TD.Independent(TD.Normal(**_args(torch, spec)), 1)
    _compare(ours.log_prob(ft.tensor(REAL, dtype=ft.float64)), theirs.log_prob(torch.tensor(REAL, dtype=torch.float64)))
    q_spec = _perturbed(spec, 1.3)
    _compare(
        D.kl_divergence(ours, D.Independent(D.Normal(**_args(ft, q_spec)), 1)),
        TD.kl_divergence(theirs, TD.Independent(TD.Normal(**_args(torch, q_spec)), 1)),
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_matches_torch(name):
    spec, _ = CASES[name]
    ours = repr(getattr(D, name)(**_args(ft, spec)))
    theirs = repr(getattr(TD, name)(**_args(torch, spec)))
    assert ours == theirs


def test_scalar_parameter_repr_matches_torch():
    assert repr(D.Normal(0.0, 1.0)) == repr(TD.Normal(0.0, 1.0))


TRANSFORMS = [
    ("ExpTransform", ()), ("SigmoidTransform", ()), ("TanhTransform", ()), ("SoftplusTransform", ()),
    ("AffineTransform", (0.5, 2.0)), ("PowerTransform", (2.0,)), ("StickBreakingTransform", ()),
    ("CorrCholeskyTransform", ()),
]


@pytest.mark.parametrize("name,args", TRANSFORMS)
def test_transforms_match_torch(name, args):
    x = R.normal(size=(2, 3)) * 0.5
    if name == "PowerTransform":
        x = np.abs(x) + 0.5
    ours = getattr(D, name)(*[ft.tensor(a, dtype=ft.float64) if name == "PowerTransform" else a for a in args])
    theirs = getattr(TD, name)(*[torch.tensor(a, dtype=torch.float64) if name == "PowerTransform" else a for a in args])
    xo, xt = ft.tensor(x, dtype=ft.float64), torch.tensor(x, dtype=torch.float64)
    yo, yt = ours(xo), theirs(xt)
    _compare(yo, yt)
    _compare(ours.log_abs_det_jacobian(xo, yo), theirs.log_abs_det_jacobian(xt, yt))
    _compare(ours.inv(yo), theirs.inv(yt), rtol=1e-7)
    assert repr(ours) == repr(theirs)


def test_validation_message_matches_torch():
    with pytest.raises(ValueError) as ours:
        D.Normal(ft.zeros(3), ft.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError) as theirs:
        TD.Normal(torch.zeros(3), torch.tensor([1.0, -1.0, 1.0]))
    assert str(ours.value).replace("ferrotorch", "torch") == str(theirs.value)
