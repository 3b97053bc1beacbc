"""Schedulers that scale the learning rate by a fixed rule of the epoch: step, milestone,
constant, linear, exponential and polynomial decay.

Each has the chainable ``get_lr`` (from the current rates, so it composes with other
schedulers) and the closed form ``_get_closed_form_lr`` (from ``base_lrs``), as in PyTorch.
"""

from bisect import bisect_right
from collections import Counter

from .scheduler import LRScheduler, _param_groups_val_list, _warn_get_lr_called_within_step

__all__ = ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR"]


class _FactorScheduler(LRScheduler):
    """Shared shape of the decay schedulers: the current rates times ``_factor()``, or unchanged
    where ``_factor()`` returns ``None``."""

    def _factor(self):
        raise NotImplementedError

    def get_lr(self):
        """The current rates times this epoch's factor."""
        _warn_get_lr_called_within_step(self)
        factor = self._factor()
        if factor is None:
            return _param_groups_val_list(self.optimizer, "lr")
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _closed_form(self, factor):
        return [base_lr * factor for base_lr in self.base_lrs]


class StepLR(_FactorScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    Args:
        optimizer: wrapped optimizer.
        step_size: period of the decay, in epochs.
        gamma: multiplicative factor. Default: 0.1.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1, verbose="deprecated"):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, verbose)

    def _factor(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return None
        return self.gamma

    def _get_closed_form_lr(self):
        return self._closed_form(self.gamma ** (self.last_epoch // self.step_size))


class MultiStepLR(_FactorScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone (repeated milestones compound).

    Args:
        optimizer: wrapped optimizer.
        milestones: epoch indices.
        gamma: multiplicative factor. Default: 0.1.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1, verbose="deprecated"):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, verbose)

    def _factor(self):
        if self.last_epoch not in self.milestones:
            return None
        return self.gamma ** self.milestones[self.last_epoch]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return self._closed_form(self.gamma ** bisect_right(milestones, self.last_epoch))


class ConstantLR(_FactorScheduler):
    """Multiply the learning rate by ``factor`` until epoch ``total_iters``, then restore it.

    Args:
        optimizer: wrapped optimizer.
        factor: in [0, 1]. Default: 1/3.
        total_iters: epochs at the reduced rate. Default: 5.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1, verbose="deprecated"):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch, verbose)

    def _factor(self):
        if self.last_epoch == 0:
            return self.factor
        if self.last_epoch != self.total_iters:
            return None
        return 1.0 / self.factor

    def _get_closed_form_lr(self):
        return self._closed_form(self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))


class LinearLR(_FactorScheduler):
    """Scale the learning rate by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` epochs.

    Args:
        optimizer: wrapped optimizer.
        start_factor: in (0, 1]. Default: 1/3.
        end_factor: in [0, 1]. Default: 1.0.
        total_iters: epochs of the ramp. Default: 5.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1,
                 verbose="deprecated"):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch, verbose)

    def _factor(self):
        if self.last_epoch == 0:
            return self.start_factor
        if self._is_initial or self.last_epoch > self.total_iters:
            return None
        # Ratio of the factor at this epoch to the factor at the previous one.
        slope = self.end_factor - self.start_factor
        return 1.0 + slope / (self.total_iters * self.start_factor + (self.last_epoch - 1) * slope)

    def _get_closed_form_lr(self):
        done = min(self.total_iters, self.last_epoch)
        return self._closed_form(self.start_factor + (self.end_factor - self.start_factor) * done / self.total_iters)


class ExponentialLR(_FactorScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    Args:
        optimizer: wrapped optimizer.
        gamma: multiplicative factor.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer, gamma, last_epoch=-1, verbose="deprecated"):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, verbose)

    def _factor(self):
        # At construction (also when resuming) the rate is already the one of ``last_epoch``.
        return None if self._is_initial else self.gamma

    def _get_closed_form_lr(self):
        return self._closed_form(self.gamma ** self.last_epoch)


class PolynomialLR(_FactorScheduler):
    """``lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power``.

    Args:
        optimizer: wrapped optimizer.
        total_iters: epochs until the rate reaches 0. Default: 5.
        power: exponent of the polynomial. Default: 1.0.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1, verbose="deprecated"):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch, verbose)

    def _factor(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return None
        return ((1.0 - self.last_epoch / self.total_iters) / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power

    def _get_closed_form_lr(self):
        return self._closed_form((1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power)
