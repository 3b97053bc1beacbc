"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from .. import _C
from ._fused import FusedOptimizer, capturable_device, check_hyperparameters, step_counter, zeros_state

__all__ = ["Adadelta"]


class Adadelta(FusedOptimizer):
    """Adadelta (``torch.optim.Adadelta``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: coefficient scaling the update (default 1.0).
        rho: coefficient of the running averages (default 0.9).
        eps: added inside the square roots for numerical stability (default 1e-6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective instead of minimizing it (default False).
        capturable: step counters on the parameters' CUDA device, so ``step()`` can be captured
            into a CUDA graph (a float ``lr`` is then fixed at capture; a CUDA tensor ``lr`` is
            read at every replay, so schedulers that ``fill_`` it reach the graph).
        foreach, differentiable: accepted for compatibility; updates are always fused.

    State per parameter: ``step`` (0-d float32), ``square_avg``, ``acc_delta``.
    """

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(
        self,
        params,
        lr=1.0,
        rho=0.9,
        eps=1e-6,
        weight_decay=0,
        foreach=None,
        *,
        capturable=False,
        maximize=False,
        differentiable=False,
    ):
        check_hyperparameters(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    _graph_capture = "capturable"

    def _init_state(self, group, p, state):
        state["step"] = step_counter(capturable_device(group, p))
        state["square_avg"] = zeros_state(p)
        state["acc_delta"] = zeros_state(p)

    def _update(self, group, params, grads, states):
        _C._optim_adadelta(
            params,
            grads,
            [s["square_avg"] for s in states],
            [s["acc_delta"] for s in states],
            [s["step"] for s in states],
            lr=group["lr"],
            rho=group["rho"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            maximize=group["maximize"],
        )
