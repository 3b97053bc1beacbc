"""``autograd.Function``: ops written in Python whose backward runs inside the Rust engine.

``apply`` runs ``forward`` without recording, then asks the core to make the outputs the
results of one graph node whose backward calls the class's ``backward``.
"""

import functools

from .. import _C
from .._C import Tensor
from .grad_mode import no_grad


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward."
)


class FunctionCtx:
    """The ``ctx`` a Function's ``forward`` and ``backward`` share."""

    def __init__(self):
        self._to_save = ()
        self._saved = None
        self._dirty = ()
        self._non_differentiable = ()
        self.materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument 0 is of type " + type(t).__name__)
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        self.save_for_backward(*tensors)

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    def _freeze_saved(self, outputs):
        """Snapshots the saved tensors and their versions once forward is done. Outputs are kept
        as detached aliases so the node they belong to is not kept alive by itself."""
        saved = []
        for t in self._to_save:
            if t is None:
                saved.append(None)
                continue
            if any(t is o for o in outputs):
                t = t.detach()
            saved.append((t, t._version))
        self._saved = saved
        # The originals may include this node's own outputs, whose grad_fn is the node that holds
        # this ctx: a reference cycle through the Rust graph that Python's collector cannot see.
        self._to_save = ()

    @property
    def saved_tensors(self):
        if self._saved is None:
            return tuple(self._to_save)
        out = []
        for item in self._saved:
            if item is None:
                out.append(None)
                continue
            t, version = item
            if t._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{t.type()} {list(t.shape)}], is at version {t._version}; expected version "
                    f"{version} instead. Hint: enable anomaly detection to find the operation that failed to "
                    "compute its gradient, with torch.autograd.set_detect_anomaly(True)."
                )
            out.append(t)
        return tuple(out)

    saved_variables = saved_tensors


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` (or
    ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``), then call ``apply``."""

    def __init__(self, *args, **kwargs):
        pass

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        separate_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate_setup:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if not (_C.is_grad_enabled() and any(ctx.needs_input_grad)):
            return output
        is_tuple = isinstance(output, tuple)
        outputs = list(output) if is_tuple else [output]
        dirty = ctx._dirty
        for d in dirty:
            if d.requires_grad and d.is_leaf:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        for i, o in enumerate(outputs):
            # An input returned unchanged becomes a new tensor with this node's history.
            if isinstance(o, Tensor) and any(o is a for a in args) and not any(o is d for d in dirty):
                outputs[i] = o.detach()
        tensor_outputs = [o for o in outputs if isinstance(o, Tensor)]
        ctx._freeze_saved(tensor_outputs)
        tensor_args = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        n_args = len(args)
        name = cls.__name__ + "Backward"

        def backward(grads):
            result = cls.backward(ctx, *grads)
            if not isinstance(result, tuple):
                result = (result,)
            if len(result) < n_args or any(g is not None for g in result[n_args:]):
                raise RuntimeError(
                    f"function {name} returned an incorrect number of gradients (expected {n_args}, got {len(result)})"
                )
            return [result[i] for i in tensor_args]

        _C._record_function(name, backward, [args[i] for i in tensor_args], tensor_outputs, ctx.materialize_grads)
        for t in ctx._non_differentiable:
            for o in outputs:
                if o is t:
                    o.detach_()
        return tuple(outputs) if is_tuple else outputs[0]


def once_differentiable(fn):
    """Marks a ``backward`` whose result is not differentiable again: it runs without recording."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)

    return wrapper


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class NestedIOFunction(Function):
    pass
