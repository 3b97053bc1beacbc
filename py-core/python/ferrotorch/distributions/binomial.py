"""Binomial distribution: successes in ``total_count`` Bernoulli trials."""

import ferrotorch as ft

from . import constraints
from ._gamma import _standard_gamma
from .categorical import _check_one_parametrization
from .distribution import Distribution
from .utils import broadcast_all, finfo, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Binomial"]

# Counts at or below this are finished by summing Bernoulli draws.
_DIRECT_TRIALS = 16


def _clamp_by_zero(x):
    # clamp(min=0) with gradient 0.5 at x == 0, as PyTorch's.
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


def _sample_binomial(count, probs):
    """Binomial(count, probs) draws, vectorized and exact (float64 work).

    Large counts are halved per round by the order-statistic recursion: the i-th smallest of n
    uniforms is ``Y ~ Beta(i, n + 1 - i)``; if ``Y < p`` the i smallest are successes and the rest
    are Binomial(n - i, (p - Y) / (1 - Y)), else Binomial(i - 1, p / Y). Small counts are summed
    Bernoulli draws."""
    n = count.double().contiguous()
    p = probs.double().contiguous()
    successes = ft.zeros_like(n)
    eps = finfo(ft.float64).eps
    while bool((n > _DIRECT_TRIALS).any()):
        active = n > _DIRECT_TRIALS
        i = ft.where(active, ((n + 1) / 2).floor(), ft.ones_like(n))
        g1 = _standard_gamma(i)
        g2 = _standard_gamma(ft.where(active, n + 1 - i, ft.ones_like(n)))
        y = (g1 / (g1 + g2)).clamp(min=eps, max=1 - eps)
        below = y < p
        successes = ft.where(active & below, successes + i, successes)
        n = ft.where(active, ft.where(below, n - i, i - 1), n)
        p = ft.where(active, ft.where(below, (p - y) / (1 - y), p / y), p).clamp(min=0, max=1)
    trials = ft.arange(_DIRECT_TRIALS, dtype=ft.float64)
    u = ft.rand(tuple(n.shape) + (_DIRECT_TRIALS,), dtype=ft.float64)
    hits = (u < p.unsqueeze(-1)) & (trials < n.unsqueeze(-1))
    return (successes + hits.double().sum(-1)).to(probs.dtype)


class Binomial(Distribution):
    """Binomial distribution with ``total_count`` trials of success probability ``probs``
    (or ``sigmoid(logits)``); ``total_count`` broadcasts with the probabilities."""

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _check_one_parametrization(probs, logits)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.type_as(self.probs)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.type_as(self.logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(Binomial, batch_shape, _instance, ("total_count", "probs", "logits"))
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def sample(self, sample_shape=ft.Size()):
        shape = tuple(self._extended_shape(sample_shape))
        with ft.no_grad():
            return _sample_binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        log_factorial_n = ft.lgamma(n + 1)
        log_factorial_k = ft.lgamma(value + 1)
        log_factorial_nmk = ft.lgamma(n - value + 1)
        # n * log(1 + exp(logits)), stable for logits of either sign.
        normalize_term = (
            n * _clamp_by_zero(self.logits) + n * ft.log1p(ft.exp(-ft.abs(self.logits))) - log_factorial_n
        )
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(ft.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by `enumerate_support`.")
        values = ft.arange(1 + total_count, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
