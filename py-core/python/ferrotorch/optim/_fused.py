"""What the fused optimizers share: argument checks, the step loop and lazily created state.

Each optimizer's update is one ``ferrotorch._C._optim_<name>`` call per parameter group, taking
lists of tensors (parameters, gradients, state buffers, step counters): the arithmetic runs in
Rust, in one pass over memory. Python only gathers the lists, as PyTorch's ``_init_group`` does.
"""

from .. import _C
from .._C import Tensor, float32
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer

_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


def check_hyperparameters(**values):
    """Raise PyTorch's ``ValueError`` for the first invalid hyper-parameter, in the order given.

    ``betas`` must lie in ``[0, 1)``, ``rho`` in ``[0, 1]``, everything else be ``>= 0``; a tensor
    ``lr`` must have one element.
    """
    for name, value in values.items():
        if name == "betas":
            for i, beta in enumerate(value):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
            continue
        if name == "lr" and isinstance(value, Tensor) and value.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        valid = 0.0 <= value <= 1.0 if name == "rho" else 0.0 <= value
        if not valid:
            raise ValueError(f"Invalid {_LABELS.get(name, name + ' value')}: {value}")


def scalar(value):
    """A hyper-parameter as a Python float (a one-element tensor ``lr`` included)."""
    return float(value.item()) if isinstance(value, Tensor) else float(value)


def step_counter(device=None):
    """A fresh ``step`` state: a 0-d float32 tensor, as PyTorch keeps it (on the parameter's
    device for ``capturable`` groups)."""
    return _C.zeros((), dtype=float32, device=device)


def capturable_device(group, p):
    """Where ``p``'s step state lives: its device when its group is ``capturable`` and it is a
    CUDA parameter (the kernels then advance the counters there, so ``step()`` can be captured
    into a CUDA graph), else None (the host)."""
    return p.device if group.get("capturable") and p.is_cuda else None


def zeros_state(p):
    """A zero state buffer shaped and typed like parameter ``p``."""
    return _C.zeros_like(p)


class FusedOptimizer(Optimizer):
    """An optimizer whose update is one fused multi-tensor kernel call per parameter group.

    Subclasses set ``_group_defaults`` (keys older state dicts may lack), ``_scalar_state``
    (0-d state entries that older checkpoints saved as Python numbers) and implement
    ``_init_state(group, p, state)`` and ``_update(group, params, grads, states)``.
    ``differentiable=True`` is not supported (updates never record autograd history);
    ``foreach`` and ``fused`` are accepted and kept in the groups so state dicts match
    PyTorch's, and change nothing: every update is fused. ``_graph_capture`` says whether
    ``step()`` may be captured into a CUDA graph: ``"always"`` (no host state that a replay
    would have to advance: SGD), ``"capturable"`` (when every group has ``capturable=True``,
    the step counters living on the device: Adam, AdamW, Adamax, NAdam, RAdam, RMSprop,
    Adadelta) or ``"never"`` (Adagrad, which PyTorch does not capture either).
    """

    _group_defaults = {}
    _scalar_state = ("step",)
    _graph_capture = "never"

    def __init__(self, params, defaults):
        super().__init__(params, defaults)
        fused, foreach = defaults.get("fused"), defaults.get("foreach")
        if fused and defaults.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        if defaults.get("differentiable"):
            raise NotImplementedError(
                f"{type(self).__name__}: differentiable=True is not supported by ferrotorch (updates are fused kernels)"
            )

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in self._group_defaults.items():
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                for key in self._scalar_state:
                    if key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = _C.tensor(float(p_state[key]), dtype=float32)

    def _param_state(self, group, p):
        """The state of ``p``, created on its first step."""
        state = self.state[p]
        if len(state) == 0:
            self._init_state(group, p, state)
        return state

    def _refuse_graph_capture(self):
        """PyTorch's check: a step captured into a CUDA graph needs ``capturable`` state (step
        counts on the device); a step without it is refused rather than replayed with the step
        count of its capture."""
        from .. import cuda

        if self._graph_capture == "always":
            return
        if cuda.is_initialized() and cuda.is_current_stream_capturing():
            if self._graph_capture == "capturable" and all(group.get("capturable") for group in self.param_groups):
                # State made while the parameters were on the host keeps host counters, which a
                # replay would not advance (PyTorch refuses them too).
                steps = [s["step"] for s in self.state.values() if isinstance(s.get("step"), Tensor)]
                if any(not step.is_cuda for step in steps):
                    raise RuntimeError("If capturable=True, params and state_steps must be on supported devices: ['cuda'].")
                return
            name = type(self).__name__
            if all(group.get("capturable") is False for group in self.param_groups):
                raise RuntimeError(f"Attempting CUDA graph capture of step() for an instance of {name} but param_groups' capturable is False.")
            raise RuntimeError(f"{name}.step() inside a CUDA graph capture is not supported by ferrotorch yet (its step state lives on the host)")

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        self._refuse_graph_capture()
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    grads = [p.grad for p in params]
                    states = [self._param_state(group, p) for p in params]
                    self._update(group, params, grads, states)
        return loss

    def _init_state(self, group, p, state):
        raise NotImplementedError

    def _update(self, group, params, grads, states):
        raise NotImplementedError
