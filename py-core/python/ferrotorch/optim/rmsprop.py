"""RMSprop, optionally centered and with momentum."""

from .. import _C
from ._fused import FusedOptimizer, capturable_device, check_hyperparameters, step_counter, zeros_state

__all__ = ["RMSprop"]


class RMSprop(FusedOptimizer):
    """RMSprop (``torch.optim.RMSprop``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the squared-gradient average (default 0.99).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by an estimate of the gradient's variance (default False).
        maximize: maximize the objective instead of minimizing it (default False).
        capturable: step counters on the parameters' CUDA device, so ``step()`` can be captured
            into a CUDA graph (a float ``lr`` is then fixed at capture; a CUDA tensor ``lr`` is
            read at every replay, so schedulers that ``fill_`` it reach the graph).
        foreach, differentiable: accepted for compatibility; updates are always fused.

    State per parameter: ``step`` (0-d float32), ``square_avg``, and ``momentum_buffer`` (with
    momentum) and ``grad_avg`` (when centered).
    """

    _group_defaults = {
        "momentum": 0,
        "centered": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        check_hyperparameters(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    _graph_capture = "capturable"

    def _init_state(self, group, p, state):
        state["step"] = step_counter(capturable_device(group, p))
        state["square_avg"] = zeros_state(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = zeros_state(p)

    def _update(self, group, params, grads, states):
        _C._optim_rmsprop(
            params,
            grads,
            [s["square_avg"] for s in states],
            [s["grad_avg"] for s in states] if group["centered"] else None,
            [s["momentum_buffer"] for s in states] if group["momentum"] > 0 else None,
            [s["step"] for s in states],
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            centered=group["centered"],
            maximize=group["maximize"],
        )
