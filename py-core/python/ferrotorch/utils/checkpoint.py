"""Activation checkpointing (``torch.utils.checkpoint``): run part of a model without keeping its
intermediate activations, and run it again during backward to get them back.

Two variants, as in PyTorch:

- reentrant (``use_reentrant=True``): the forward runs under ``no_grad``; backward recomputes it
  with grad enabled and calls ``autograd.backward`` on the recomputed graph (a backward inside
  the backward), so parameters the function uses get their ``.grad`` directly. Like PyTorch's, it
  does not work with ``autograd.grad`` for those parameters and takes no keyword arguments.
- non-reentrant (``use_reentrant=False``): PyTorch builds it on saved-tensor hooks, which
  ferrotorch's engine does not have. Here the forward runs once with grad enabled so that the
  graph shows which leaf tensors (parameters the function closes over) it depends on; that graph
  is dropped at once, keeping only the outputs, and one node standing for the whole function
  takes the inputs and those leaves. Its backward recomputes the function and calls
  ``autograd.grad``, so gradients flow through the outer graph like any other node's:
  ``autograd.grad`` works, keyword arguments work. Peak memory during the forward is that of one
  un-checkpointed call of the function, the same as during its recomputation in backward.

``preserve_rng_state`` stashes the default generator's state before the forward and restores it
for the recomputation, so dropout masks come out the same.
"""

import contextlib
import functools
import warnings

from .. import _C
from .._C import Tensor
from ..autograd import grad as autograd_grad, backward as autograd_backward
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad
from ..random import fork_rng, get_rng_state, set_rng_state

__all__ = [
    "checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "check_backward_validity",
    "detach_variable", "noop_context_fn", "set_checkpoint_debug_enabled",
]

_USE_REENTRANT_WARNING = (
    "the use_reentrant parameter should be passed explicitly. In a future release, calling checkpoint "
    "without use_reentrant will raise an exception. use_reentrant=False is recommended, but if you need to "
    "preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more details "
    "on the differences between the two variants."
)


class CheckpointError(RuntimeError):
    """The recomputation did not reproduce the forward (different output shapes, dtypes or devices)."""


_checkpoint_debug_enabled = None


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Overrides every checkpoint's ``debug`` flag inside the block (``None`` defers to it)."""
    global _checkpoint_debug_enabled
    previous, _checkpoint_debug_enabled = _checkpoint_debug_enabled, enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = previous


def noop_context_fn():
    """The default ``context_fn``: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """The tensors of the tuple ``inputs`` detached, each keeping its ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    return tuple(_detach(a) for a in inputs)


def _detach(value):
    if not isinstance(value, Tensor):
        return value
    detached = value.detach()
    detached.requires_grad_(value.requires_grad)
    return detached


def check_backward_validity(inputs):
    """Warns when no input requires grad: the reentrant variant then produces no gradients."""
    if not any(isinstance(a, Tensor) and a.requires_grad for a in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


@contextlib.contextmanager
def _replayed_rng(state):
    """Runs the block from the generator ``state`` (``None``: as is), then puts back the state it
    found, so recomputing leaves no trace on the random stream."""
    with fork_rng(enabled=state is not None):
        if state is not None:
            set_rng_state(state)
        yield


def _as_tuple(outputs):
    """A function's result as a tuple of its outputs (a tuple or list is several outputs)."""
    return tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)


class CheckpointFunction(Function):
    """The reentrant variant: forward without a graph, backward by recomputing and backpropagating
    through the recomputed graph."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_indices))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        inputs = list(ctx.inputs)
        for i, tensor in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = tensor
        with _replayed_rng(ctx.rng_state):
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = _as_tuple(ctx.run_function(*detached))
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd_backward([o for o, _ in pairs], [g for _, g in pairs])
        grads = tuple(a.grad if isinstance(a, Tensor) else None for a in detached)
        return (None, None) + grads


def _output_metadata(outputs):
    return [{"shape": o.shape, "dtype": o.dtype, "device": o.device} if isinstance(o, Tensor) else None
            for o in outputs]


_METADATA_CHECKS = {"default": _output_metadata, "none": lambda outputs: None}


def _accumulator(leaf):
    """The graph node that accumulates into ``leaf``'s ``.grad``."""
    with enable_grad():
        return leaf.view_as(leaf).grad_fn.next_functions[0][0]


def _graph_leaves(outputs, exclude):
    """The leaf tensors requiring grad that ``outputs``' graph reaches, other than the leaves
    ``exclude``: the parameters a checkpointed function closes over."""
    seen = {_accumulator(t) for t in exclude if t.requires_grad}
    leaves, stack = [], []
    for o in outputs:
        if isinstance(o, Tensor) and o.requires_grad:
            stack.append(o.grad_fn if o.grad_fn is not None else _accumulator(o))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.name() == "AccumulateGrad":
            leaves.append(node.variable)
        else:
            stack.extend(next_node for next_node, _ in node.next_functions if next_node is not None)
    return leaves


class _NonReentrantCheckpoint(Function):
    """One node standing for a checkpointed call: its inputs are the call's tensor arguments and
    the leaves it closes over; its backward recomputes the call and differentiates it."""

    @staticmethod
    def forward(ctx, call, outputs, *tensors):
        ctx.call = call
        ctx.save_for_backward(*tensors)
        detached = tuple(o.detach() if isinstance(o, Tensor) else o for o in outputs)
        ctx.mark_non_differentiable(*(d for d, o in zip(detached, outputs) if isinstance(o, Tensor) and not o.requires_grad))
        return detached

    @staticmethod
    def backward(ctx, *grad_outputs):
        call = ctx.call
        tensors = ctx.saved_tensors
        # Grad mode is on in a backward only when it builds a graph (create_graph=True): then the
        # recomputation must hang off the real inputs so that the gradients can be differentiated
        # again; otherwise fresh leaves keep the recomputed graph to itself. The closed-over leaves
        # are differentiated as they are, since the function reaches them through its closure.
        create_graph = _C.is_grad_enabled()
        explicit = tensors[:call.n_inputs]
        inputs = list(explicit) if create_graph else [_detach(t) for t in explicit]
        wrt = inputs + list(tensors[call.n_inputs:])
        outputs = call.recompute(inputs)
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        wanted = [t for t in wrt if t.requires_grad]
        grads = iter(autograd_grad([o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True,
                                   create_graph=create_graph)
                     if pairs and wanted else [None] * len(wanted))
        return (None, None) + tuple(next(grads) if t.requires_grad else None for t in wrt)


class _Call:
    """What the recomputation needs to replay one checkpointed call."""

    def __init__(self, function, args, kwargs, rng_state, recompute_context, metadata_fn, metadata):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(self.tensor_indices)
        self.rng_state, self.recompute_context = rng_state, recompute_context
        self.metadata_fn, self.metadata = metadata_fn, metadata

    def recompute(self, inputs):
        """The function's outputs, computed again from ``inputs`` (its tensor arguments)."""
        args = list(self.args)
        for i, tensor in zip(self.tensor_indices, inputs):
            args[i] = tensor
        with _replayed_rng(self.rng_state), enable_grad(), self.recompute_context:
            outputs = _as_tuple(self.function(*args, **self.kwargs))
        recomputed = self.metadata_fn(outputs)
        if recomputed != self.metadata:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have different metadata "
                f"than during the forward pass.\nsaved metadata: {self.metadata}\nrecomputed metadata: {recomputed}"
            )
        return outputs


def _checkpoint_without_reentrant(function, args, kwargs, preserve_rng_state, context_fn, determinism_check):
    if determinism_check not in _METADATA_CHECKS:
        raise ValueError(
            f"determinism_check should be one of {list(_METADATA_CHECKS)}, but got {determinism_check}"
        )
    forward_context, recompute_context = context_fn()
    rng_state = get_rng_state() if preserve_rng_state else None
    inputs = tuple(_detach(a) for a in args)
    with forward_context:
        result = function(*inputs, **kwargs)
    if not _C.is_grad_enabled():
        return result
    outputs = _as_tuple(result)
    tensor_args = [a for a in args if isinstance(a, Tensor)]
    leaves = _graph_leaves(outputs, exclude=[a for a in inputs if isinstance(a, Tensor)])
    metadata_fn = _METADATA_CHECKS[determinism_check]
    call = _Call(function, args, kwargs, rng_state, recompute_context, metadata_fn, metadata_fn(outputs))
    # Every tensor of the recorded graph but the outputs' storage is released here.
    detached = _NonReentrantCheckpoint.apply(call, outputs, *tensor_args, *leaves)
    if isinstance(result, list):
        return list(detached)
    return detached if isinstance(result, tuple) else detached[0]


def checkpoint(function=None, *args, use_reentrant=None, preserve_rng_state=True, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, respect_saved_tensors_hooks=None,
               **kwargs):
    """Runs ``function(*args, **kwargs)`` without keeping its intermediate activations; backward
    runs it again to get them. Returns what ``function`` returns.

    Called with no function (``@checkpoint(use_reentrant=False)``), returns a decorator.
    ``context_fn`` returns two context managers, entered around the forward and around the
    recomputation; ``determinism_check="default"`` compares the shapes, dtypes and devices of the
    recomputed outputs with the forward's (``"none"`` skips it). ``debug``, ``early_stop`` and
    ``respect_saved_tensors_hooks`` are accepted for compatibility and change nothing here.
    """
    if function is None and not args:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        options = dict(use_reentrant=use_reentrant, preserve_rng_state=preserve_rng_state, context_fn=context_fn,
                       determinism_check=determinism_check, debug=debug)
        return lambda fn: functools.wraps(fn)(lambda *a, **k: checkpoint(fn, *a, **options, **k))
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: " + _USE_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        debug = _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug
        if context_fn is not noop_context_fn or debug is not False or respect_saved_tensors_hooks is not None:
            raise ValueError(
                "Passing `context_fn`, `debug`, or `respect_saved_tensors_hooks` "
                "is only supported when use_reentrant=False."
            )
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_without_reentrant(function, args, kwargs, preserve_rng_state, context_fn, determinism_check)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs ``functions`` (an ``nn.Sequential`` or a list of callables) in order, split into
    ``segments`` chunks; every chunk but the last is checkpointed. One tensor flows through."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: " + _USE_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run(start, end):
        def forward(x):
            for f in functions[start:end]:
                x = f(x)
            return x
        return forward

    segment_size = len(functions) // segments
    end = 0
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end, len(functions))(input)
