"""RAdam: Adam with a rectified adaptive learning rate."""

from .. import _C
from ._fused import FusedOptimizer, capturable_device, check_hyperparameters, step_counter, zeros_state

__all__ = ["RAdam"]


class RAdam(FusedOptimizer):
    """RAdam (``torch.optim.RAdam``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: weight decay (default 0).
        decoupled_weight_decay: decay the weights directly, as AdamW (default False).
        maximize: maximize the objective instead of minimizing it (default False).
        capturable: step counters on the parameters' CUDA device, so ``step()`` can be captured
            into a CUDA graph (a float ``lr`` is then fixed at capture; a CUDA tensor ``lr`` is
            read at every replay, so schedulers that ``fill_`` it reach the graph).
        foreach, differentiable: accepted for compatibility; updates are always fused.

    State per parameter: ``step`` (0-d float32), ``exp_avg``, ``exp_avg_sq``.
    """

    _group_defaults = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "capturable": False,
    }

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    _graph_capture = "capturable"

    def _init_state(self, group, p, state):
        state["step"] = step_counter(capturable_device(group, p))
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def _update(self, group, params, grads, states):
        beta1, beta2 = group["betas"]
        _C._optim_radam(
            params,
            grads,
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [s["step"] for s in states],
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
            maximize=group["maximize"],
        )
