"""Stochastic weight averaging (``torch.optim.swa_utils``): ``AveragedModel`` (SWA or EMA of a
model's weights), ``SWALR`` (anneal to a constant SWA learning rate) and ``update_bn``
(recompute BatchNorm statistics for the averaged weights)."""

import itertools
import math
from copy import deepcopy

from .. import _C
from ..autograd import no_grad
from ..nn import Module
from ..nn.modules.batchnorm import _BatchNorm
from .lr_scheduler.scheduler import LRScheduler, _format_param, _warn_get_lr_called_within_step

__all__ = [
    "AveragedModel",
    "update_bn",
    "SWALR",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _lerps(t):
    """Whether ``lerp_`` applies (floating or complex); other dtypes take the explicit formula."""
    return t.is_floating_point() or t.is_complex()


def get_ema_multi_avg_fn(decay=0.999):
    """An in-place ``multi_avg_fn`` for exponential moving averages: ``ema = decay * ema + (1 - decay) * p``."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
            if _lerps(p_ema):
                p_ema.lerp_(p_model, 1 - decay)
            else:
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An in-place ``multi_avg_fn`` for the running mean: ``avg += (p - avg) / (n + 1)``."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        # A tensor count gives a default-dtype (float32) weight, as in PyTorch.
        weight = float(1 / (num_averaged + 1))
        for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
            if _lerps(p_avg):
                p_avg.lerp_(p_model, weight)
            else:
                p_avg.copy_(p_avg + (p_model - p_avg) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An ``avg_fn`` returning ``decay * ema + (1 - decay) * p``."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """An ``avg_fn`` returning the running mean ``avg + (p - avg) / (n + 1)``."""

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_device_and_dtype(averaged, current):
    """Pairs of lists, one pair per (device, dtype), as ``multi_avg_fn`` receives them."""
    groups = {}
    for p_avg, p_model in zip(averaged, current):
        lists = groups.setdefault((str(p_avg.device), p_avg.dtype), ([], [], p_avg.device))
        lists[0].append(p_avg)
        lists[1].append(p_model)
    return groups.values()


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are averaged over ``update_parameters`` calls.

    The first update copies the model; later ones apply ``avg_fn(avg, p, n_averaged)`` (returns the
    new value) or ``multi_avg_fn(avg_list, p_list, n_averaged)`` (in place, per device and dtype),
    by default the equal-weight running mean (SWA). Buffers are averaged too with ``use_buffers``,
    otherwise copied from the model. The state dict holds ``n_averaged`` and ``module.*``.

    Args:
        model: the model to average (deep-copied).
        device: where to keep the copy. Default: the model's.
        avg_fn: per-tensor averaging function. Default: None.
        multi_avg_fn: in-place averaging of lists of tensors. Default: None.
        use_buffers: average buffers as well as parameters. Default: False.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _C.tensor(0, dtype=_C.long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy."""
        return self.module(*args, **kwargs)

    def _averaged_tensors(self, model):
        if self.use_buffers:
            return (itertools.chain(self.module.parameters(), self.module.buffers()),
                    itertools.chain(model.parameters(), model.buffers()))
        return self.parameters(), model.parameters()

    def update_parameters(self, model):
        """Fold ``model``'s current parameters (and buffers with ``use_buffers``) into the average."""
        self_tensors, model_tensors = self._averaged_tensors(model)
        averaged, current = [], []
        first = bool(self.n_averaged == 0)
        for p_avg, p_model in zip(self_tensors, model_tensors):
            p_model = p_model.detach().to(p_avg.device)
            averaged.append(p_avg.detach())
            current.append(p_model)
            if first:
                p_avg.detach().copy_(p_model)
        if not first:
            if self.avg_fn is not None:
                for p_avg, p_model in zip(averaged, current, strict=True):
                    p_avg.copy_(self.avg_fn(p_avg, p_model, self.n_averaged.to(p_avg.device)))
            else:
                multi_avg_fn = self.multi_avg_fn
                if multi_avg_fn is None:
                    multi_avg_fn = _per_tensor(get_swa_avg_fn())
                for avg_list, model_list, device in _group_by_device_and_dtype(averaged, current):
                    multi_avg_fn(avg_list, model_list, self.n_averaged.to(device))
        if not self.use_buffers:
            # Buffers are not averaged: keep them in sync with the model.
            for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_swa.detach().copy_(b_model.detach().to(b_swa.device))
        self.n_averaged += 1


def _per_tensor(avg_fn):
    """A ``multi_avg_fn`` applying ``avg_fn`` tensor by tensor (PyTorch's CPU default, same rounding)."""

    @no_grad()
    def update(averaged_list, current_list, num_averaged):
        for p_avg, p_model in zip(averaged_list, current_list, strict=True):
            p_avg.copy_(avg_fn(p_avg, p_model, num_averaged))

    return update


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute the running statistics of every BatchNorm in ``model`` with one pass over ``loader``.

    The statistics are reset and accumulated as a cumulative average (``momentum=None``) over the
    batches, with the model in training mode; momenta and the training flag are restored after.
    Batches that are lists or tuples contribute their first element.

    Args:
        loader: an iterable of input batches.
        model: the model (typically an ``AveragedModel``).
        device: where to move each batch first. Default: None.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


def _linear_anneal(t):
    return t


def _cosine_anneal(t):
    return (1 - math.cos(math.pi * t)) / 2


class SWALR(LRScheduler):
    """Anneal each group's learning rate to its ``swa_lr`` over ``anneal_epochs``, then hold it.

    Args:
        optimizer: wrapped optimizer.
        swa_lr: the target rate, one for all groups or a list, one per group.
        anneal_epochs: epochs of the annealing (int >= 0). Default: 10.
        anneal_strategy: ``"cos"`` or ``"linear"``. Default: ``"cos"``.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = _cosine_anneal if anneal_strategy == "cos" else _linear_anneal

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        """The rate the annealing started from, given the current rate at progress ``alpha``."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        """``swa_lr * alpha + start_lr * (1 - alpha)`` with ``alpha`` the annealed progress; the
        start rate is recovered from the current one, so other schedulers may run before SWALR."""
        _warn_get_lr_called_within_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [
            group["swa_lr"] * alpha + lr * (1 - alpha)
            for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)
        ]

    def state_dict(self):
        """Attributes except the optimizer and the annealing function (rebuilt from its name on load)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        """Restore attributes and the annealing function."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
