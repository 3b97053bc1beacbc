"""Adam, with AMSGrad and optional decoupled weight decay."""

from .. import _C
from ._fused import FusedOptimizer, capturable_device, check_hyperparameters, scalar, step_counter, zeros_state

__all__ = ["Adam"]


class Adam(FusedOptimizer):
    """Adam (``torch.optim.Adam``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty (default 0).
        amsgrad: use the maximum of past second moments (AMSGrad, default False).
        maximize: maximize the objective instead of minimizing it (default False).
        decoupled_weight_decay: decay the weights directly, as AdamW (default False).
        capturable: step counters on the parameters' CUDA device, advanced there, so that
            ``step()`` can be captured into a CUDA graph (a float ``lr`` and the betas are
            then fixed at capture, as in PyTorch; a CUDA tensor ``lr`` is read at every replay,
            so schedulers that ``fill_`` it reach the graph).
        foreach, differentiable, fused: accepted for compatibility; updates are always fused.

    State per parameter: ``step`` (0-d float32), ``exp_avg``, ``exp_avg_sq`` and, with amsgrad,
    ``max_exp_avg_sq``.
    """

    _group_defaults = {
        "amsgrad": False,
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "fused": None,
    }

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=False,
    ):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        betas = (scalar(betas[0]), scalar(betas[1]))
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    _graph_capture = "capturable"

    def _init_state(self, group, p, state):
        # capturable: the counter lives on the parameter's device and the kernels advance it
        # there, so a step can be captured into a CUDA graph.
        state["step"] = step_counter(capturable_device(group, p))
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(p)

    def _update(self, group, params, grads, states):
        beta1, beta2 = group["betas"]
        _C._optim_adam(
            params,
            grads,
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [s["max_exp_avg_sq"] for s in states] if group["amsgrad"] else None,
            [s["step"] for s in states],
            lr=group["lr"],
            beta1=scalar(beta1),
            beta2=scalar(beta2),
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            amsgrad=group["amsgrad"],
            maximize=group["maximize"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
        )
