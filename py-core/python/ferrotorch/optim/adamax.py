"""Adamax: Adam with the infinity norm of past gradients."""

from .. import _C
from ._fused import FusedOptimizer, capturable_device, check_hyperparameters, step_counter, zeros_state

__all__ = ["Adamax"]


class Adamax(FusedOptimizer):
    """Adamax (``torch.optim.Adamax``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running average of the gradient and of the infinity norm (default (0.9, 0.999)).
        eps: added to the infinity norm for numerical stability (default 1e-8).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective instead of minimizing it (default False).
        capturable: step counters on the parameters' CUDA device, so ``step()`` can be captured
            into a CUDA graph (a float ``lr`` is then fixed at capture; a CUDA tensor ``lr`` is
            read at every replay, so schedulers that ``fill_`` it reach the graph).
        foreach, differentiable: accepted for compatibility; updates are always fused.

    State per parameter: ``step`` (0-d float32), ``exp_avg``, ``exp_inf``.
    """

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        capturable=False,
    ):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    _graph_capture = "capturable"

    def _init_state(self, group, p, state):
        state["step"] = step_counter(capturable_device(group, p))
        state["exp_avg"] = zeros_state(p)
        state["exp_inf"] = zeros_state(p)

    def _update(self, group, params, grads, states):
        beta1, beta2 = group["betas"]
        _C._optim_adamax(
            params,
            grads,
            [s["exp_avg"] for s in states],
            [s["exp_inf"] for s in states],
            [s["step"] for s in states],
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            maximize=group["maximize"],
        )
