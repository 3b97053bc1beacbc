"""The autograd plumbing behind ``Module.register_full_backward_hook`` (hook handles live in
``ferrotorch.utils.hooks``)."""

from ... import _C
from ..._C import Tensor
from ...autograd.function import Function
from ...utils.hooks import RemovableHandle  # noqa: F401  (re-exported: module.py imports it from here)


class _IdentityWithBackwardCallback(Function):
    """Passes its tensors through unchanged; backward hands their gradients to ``callback``,
    which may return replacements. One node for all inputs, so the callback sees them together."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.callback(grads))


class BackwardHook:
    """Calls a module's full backward hooks as ``hook(module, grad_input, grad_output)`` once both
    the gradients of its outputs and (when any input requires grad) of its inputs are known."""

    def __init__(self, module, hooks):
        self.module = module
        self.hooks = hooks
        self.grad_outputs = None
        self.input_positions = []
        self.n_inputs = 0

    def _call_hooks(self, grad_inputs):
        for hook in self.hooks:
            result = hook(self.module, grad_inputs, self.grad_outputs)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_inputs):
                    raise RuntimeError(
                        f"Backward hook returned an invalid number of grad_input, got {len(result)}, but expected {len(grad_inputs)}"
                    )
                grad_inputs = result
        return grad_inputs

    def setup_input_hook(self, args):
        """Routes the tensors of ``args`` that require grad through one identity node."""
        self.n_inputs = sum(isinstance(a, Tensor) for a in args)
        # As in PyTorch: when any tensor input requires grad, all of them pass through the node
        # (so each gets a gradient in grad_input); when none does, none is wrapped.
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            self.input_positions = []
            return args
        self.input_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensor_index = {i: k for k, i in enumerate(i for i, a in enumerate(args) if isinstance(a, Tensor))}

        wants_grad = {i: args[i].requires_grad for i in self.input_positions}

        def on_input_grads(grads):
            # PyTorch's engine skips the gradients of inputs that do not require grad and then
            # materializes them as zeros: the hook sees zeros there.
            full = [None] * self.n_inputs
            for pos, g in zip(self.input_positions, grads):
                full[tensor_index[pos]] = g if wants_grad[pos] or g is None else _C.zeros_like(g)
            full = self._call_hooks(tuple(full))
            return [full[tensor_index[pos]] for pos in self.input_positions]

        passed = _IdentityWithBackwardCallback.apply(on_input_grads, *[args[i] for i in self.input_positions])
        passed = passed if isinstance(passed, tuple) else (passed,)
        args = list(args)
        for pos, t in zip(self.input_positions, passed):
            args[pos] = t
        return tuple(args)

    def setup_output_hook(self, result):
        """Records the gradients of the module's output tensors as they arrive."""
        outputs = result if isinstance(result, tuple) else (result,)
        tensors = [t for t in outputs if isinstance(t, Tensor) and t.requires_grad]
        if not tensors:
            return result

        def on_output_grads(grads):
            self.grad_outputs = tuple(grads)
            if not self.input_positions:
                # No input needs a gradient: PyTorch calls the hooks now, with None grad_inputs.
                self._call_hooks((None,) * max(self.n_inputs, 1))
            return grads

        passed = _IdentityWithBackwardCallback.apply(on_output_grads, *tensors)
        passed = list(passed) if isinstance(passed, tuple) else [passed]
        outputs = [passed.pop(0) if isinstance(t, Tensor) and t.requires_grad else t for t in outputs]
        return tuple(outputs) if isinstance(result, tuple) else outputs[0]
