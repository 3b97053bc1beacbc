"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from .. import _C
from ._fused import FusedOptimizer, check_hyperparameters, scalar, step_counter

__all__ = ["Adagrad"]


class Adagrad(FusedOptimizer):
    """Adagrad (``torch.optim.Adagrad``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of the sums of squares (default 0).
        eps: added to the denominator for numerical stability (default 1e-10).
        maximize: maximize the objective instead of minimizing it (default False).
        foreach, differentiable, fused: accepted for compatibility; updates are always fused.

    State per parameter, created with the optimizer: ``step`` (0-d float32) and ``sum``.
    """

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        fused=None,
    ):
        check_hyperparameters(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p, self.state[p])

    def _init_state(self, group, p, state):
        state["step"] = step_counter()
        state["sum"] = _C.full_like(p, self.defaults["initial_accumulator_value"])

    def _update(self, group, params, grads, states):
        _C._optim_adagrad(
            params,
            grads,
            [s["sum"] for s in states],
            [s["step"] for s in states],
            lr=scalar(group["lr"]),
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
        )
