"""Cauchy (Lorentz) distribution."""

import math
from numbers import Number

import ferrotorch as ft

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    """Cauchy distribution: density ``1 / (π scale (1 + ((x - loc) / scale)^2))``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, Number) and isinstance(scale, Number):
            batch_shape = ft.Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Cauchy, batch_shape, _instance, ("loc", "scale"))

    def _full(self, value):
        return ft.full(tuple(self._extended_shape()), value, dtype=self.loc.dtype, device=self.loc.device)

    @property
    def mean(self):
        return self._full(float("nan"))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._full(float("inf"))

    def rsample(self, sample_shape=ft.Size()):
        shape = tuple(self._extended_shape(sample_shape))
        eps = ft.empty(shape, dtype=self.loc.dtype, device=self.loc.device).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ft.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return ft.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
