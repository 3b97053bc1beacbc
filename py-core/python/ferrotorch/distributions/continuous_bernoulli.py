"""Continuous Bernoulli distribution on ``[0, 1]`` (Loaiza-Ganem & Cunningham, 2019)."""

import math
from numbers import Number

import ferrotorch as ft
import ferrotorch.nn.functional as F

from . import constraints
from .categorical import _check_one_parametrization
from .exp_family import ExponentialFamily
from .utils import broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """Density ``C(λ) λ^x (1 - λ)^(1 - x)`` on ``[0, 1]``; near ``λ = 0.5`` (inside ``lims``) the
    closed forms cancel catastrophically and Taylor expansions are used instead."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        _check_one_parametrization(probs, logits)
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
            if validate_args is not None and not bool(self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = ft.Size() if is_scalar else self._param.size()
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(ContinuousBernoulli, batch_shape, _instance, ("probs", "logits"))
        new._lims = self._lims
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        return new

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        return ft.where(self._outside_unstable_region(), self.probs, self._lims[0] * ft.ones_like(self.probs))

    def _log_prob_ratio(self, cut_probs):
        return ft.log1p(-cut_probs) - ft.log(cut_probs)

    def _cont_bern_log_norm(self):
        """The log normalizing constant ``log C(λ)``."""
        cut_probs = self._cut_probs()
        below_half = ft.where(cut_probs <= 0.5, cut_probs, ft.zeros_like(cut_probs))
        above_half = ft.where(cut_probs >= 0.5, cut_probs, ft.ones_like(cut_probs))
        log_norm = ft.log(ft.abs(self._log_prob_ratio(cut_probs))) - ft.where(
            cut_probs <= 0.5, ft.log1p(-2.0 * below_half), ft.log(2.0 * above_half - 1.0)
        )
        x = ft.pow(self.probs - 0.5, 2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ft.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut_probs = self._cut_probs()
        mus = cut_probs / (2.0 * cut_probs - 1.0) + 1.0 / self._log_prob_ratio(cut_probs)
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * ft.pow(x, 2)) * x
        return ft.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self):
        return ft.sqrt(self.variance)

    @property
    def variance(self):
        cut_probs = self._cut_probs()
        var = cut_probs * (cut_probs - 1.0) / ft.pow(1.0 - 2.0 * cut_probs, 2) + 1.0 / ft.pow(
            self._log_prob_ratio(cut_probs), 2
        )
        x = ft.pow(self.probs - 0.5, 2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ft.where(self._outside_unstable_region(), var, taylor)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        return self._param.size()

    def sample(self, sample_shape=ft.Size()):
        with ft.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=ft.Size()):
        shape = tuple(self._extended_shape(sample_shape))
        u = ft.rand(shape, dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none") + self._cont_bern_log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut_probs = self._cut_probs()
        cdfs = (ft.pow(cut_probs, value) * ft.pow(1.0 - cut_probs, 1.0 - value) + cut_probs - 1.0) / (
            2.0 * cut_probs - 1.0
        )
        unbounded = ft.where(self._outside_unstable_region(), cdfs, value)
        return ft.where(value <= 0.0, ft.zeros_like(value), ft.where(value >= 1.0, ft.ones_like(value), unbounded))

    def icdf(self, value):
        cut_probs = self._cut_probs()
        inverted = (ft.log1p(-cut_probs + value * (2.0 * cut_probs - 1.0)) - ft.log1p(-cut_probs)) / (
            ft.log(cut_probs) - ft.log1p(-cut_probs)
        )
        return ft.where(self._outside_unstable_region(), inverted, value)

    def entropy(self):
        log_probs0 = ft.log1p(-self.probs)
        log_probs1 = ft.log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        out_unst_reg = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut_nat_params = ft.where(out_unst_reg, x, (self._lims[0] - 0.5) * ft.ones_like(x))
        log_norm = ft.log(ft.abs(ft.expm1(cut_nat_params))) - ft.log(ft.abs(cut_nat_params))
        taylor = 0.5 * x + ft.pow(x, 2) / 24.0 - ft.pow(x, 4) / 2880.0
        return ft.where(out_unst_reg, log_norm, taylor)
