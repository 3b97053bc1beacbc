"""NAdam: Adam with Nesterov momentum."""

from .. import _C
from .._C import float32
from ._fused import FusedOptimizer, capturable_device, check_hyperparameters, step_counter, zeros_state

__all__ = ["NAdam"]


class NAdam(FusedOptimizer):
    """NAdam (``torch.optim.NAdam``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running averages of the gradient and its square (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: weight decay (default 0).
        momentum_decay: momentum decay psi (default 4e-3).
        decoupled_weight_decay: decay the weights directly, as AdamW (default False).
        maximize: maximize the objective instead of minimizing it (default False).
        capturable: step counters on the parameters' CUDA device, so ``step()`` can be captured
            into a CUDA graph (a float ``lr`` is then fixed at capture; a CUDA tensor ``lr`` is
            read at every replay, so schedulers that ``fill_`` it reach the graph).
        foreach, differentiable: accepted for compatibility; updates are always fused.

    State per parameter: ``step`` and ``mu_product`` (0-d float32), ``exp_avg``, ``exp_avg_sq``.
    """

    _group_defaults = {
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
    }
    _scalar_state = ("step", "mu_product")

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    _graph_capture = "capturable"

    def _init_state(self, group, p, state):
        state["step"] = step_counter(capturable_device(group, p))
        state["mu_product"] = _C.ones((), dtype=float32, device=capturable_device(group, p))
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def _update(self, group, params, grads, states):
        beta1, beta2 = group["betas"]
        for p, s in zip(params, states):
            # A loaded state dict moves mu_product to the parameter's device and dtype (as
            # PyTorch's does): the device kernels of capturable groups take a float32 on the
            # device, the host's update any dtype on the host.
            device, mu = capturable_device(group, p), s["mu_product"]
            if device is not None and (mu.dtype != float32 or not mu.is_cuda):
                s["mu_product"] = mu.to(dtype=float32, device=device)
            elif device is None and mu.is_cuda:
                s["mu_product"] = mu.cpu()
        _C._optim_nadam(
            params,
            grads,
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [s["mu_product"] for s in states],
            [s["step"] for s in states],
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum_decay=group["momentum_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
            maximize=group["maximize"],
        )
