"""Stochastic gradient descent, optionally with (Nesterov) momentum."""

from .. import _C
from ._fused import FusedOptimizer, check_hyperparameters, scalar

__all__ = ["SGD"]


class SGD(FusedOptimizer):
    """Stochastic gradient descent (``torch.optim.SGD``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: use Nesterov momentum (default False).
        maximize: maximize the objective instead of minimizing it (default False).
        foreach, differentiable, fused: accepted for compatibility; updates are always fused.

    State per parameter: ``momentum_buffer`` (only with momentum, from the first step on).
    """

    _group_defaults = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False, "fused": False}
    # No step counter: a captured step replays as it was captured (warm up first, so that the
    # momentum buffers exist), as PyTorch's.
    _graph_capture = "always"

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _param_state(self, group, p):
        # Without momentum SGD keeps no state at all, not even an empty entry (as PyTorch).
        return self.state[p] if group["momentum"] != 0 else None

    def _update(self, group, params, grads, states):
        buffers, new = None, []
        if group["momentum"] != 0:
            new = ["momentum_buffer" not in s or s["momentum_buffer"] is None for s in states]
            for p, s, fresh in zip(params, states, new):
                if fresh:
                    s["momentum_buffer"] = _C.empty_like(p)
            buffers = [s["momentum_buffer"] for s in states]
        _C._optim_sgd(
            params,
            grads,
            buffers,
            new,
            lr=scalar(group["lr"]),
            momentum=group["momentum"],
            dampening=group["dampening"],
            weight_decay=scalar(group["weight_decay"]),
            nesterov=group["nesterov"],
            maximize=group["maximize"],
        )
