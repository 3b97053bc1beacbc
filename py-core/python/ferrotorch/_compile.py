"""``ferrotorch.compile``: accepted so PyTorch code that calls ``torch.compile`` runs unchanged.

ferrotorch runs every op eagerly in its Rust core, so there is no graph to capture: compiling
returns the model or function itself, and ``ferrotorch.compiler.is_compiling()`` is always
``False``. The arguments are checked as PyTorch checks them, so a script that passes something
PyTorch would refuse fails here too.
"""

from . import compiler  # noqa: F401  (the torch.compiler namespace)

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, name=None,
            disable=False, recompile_limit=None, isolate_recompiles=False, dynamic_shapes=None):
    """Returns ``model`` unchanged (``nn.Module`` or callable). Without ``model``, returns a
    decorator doing the same, as in ``@torch.compile(mode="max-autotune")``."""
    if model is None:
        def decorate(fn):
            if fn is None:
                raise RuntimeError("Model can't be None")
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options,
                           name=name, disable=disable, recompile_limit=recompile_limit,
                           isolate_recompiles=isolate_recompiles, dynamic_shapes=dynamic_shapes)
        return decorate
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if backend in (None, "inductor") and mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model
