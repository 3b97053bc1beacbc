"""``ferrotorch.compiler``: the queries and markers of ``torch.compiler``. Nothing is ever being
compiled (see ``ferrotorch.compile``), so each marker returns what it marks."""


def is_compiling():
    """Whether code is being traced by the compiler: never, in ferrotorch."""
    return False


def is_dynamo_compiling():
    """Whether code is being traced by Dynamo: never, in ferrotorch."""
    return False


def reset():
    """Clears compilation caches: there are none."""


def disable(fn=None, recursive=True, *, reason=None):
    """Marks ``fn`` as not to be compiled; returns it (or, without ``fn``, a decorator)."""
    return fn if fn is not None else (lambda f: f)


def allow_in_graph(fn):
    """Marks ``fn`` as traceable into the graph; returns it."""
    return fn


def assume_constant_result(fn):
    """Marks ``fn``'s result as a constant for tracing; returns it."""
    return fn


__all__ = ["is_compiling", "is_dynamo_compiling", "reset", "disable", "allow_in_graph", "assume_constant_result"]
