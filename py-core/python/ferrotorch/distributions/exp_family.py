"""``ExponentialFamily``: entropy through the Bregman divergence of the log normalizer."""

import ferrotorch as ft

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class for exponential-family distributions
    ``p(x; θ) = exp(<t(x), θ> - F(θ) + k(x))``: subclasses give the natural parameters ``θ``,
    the log normalizer ``F`` and the mean carrier measure ``E[k(x)]``; entropy and the generic
    same-family KL divergence then follow by automatic differentiation of ``F``."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """Entropy ``F(θ) - <θ, ∇F(θ)> - E[k(x)]``."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = ft.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for nparam, g in zip(nparams, gradients):
            result = result - (nparam * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
