"""The one mechanism behind every backend's ``flags()`` context manager."""

from contextlib import contextmanager


def set_flags(module, **values):
    """Sets the module attributes given (``None`` leaves one alone); returns the old values."""
    previous = {name: getattr(module, name) for name in values}
    for name, value in values.items():
        if value is not None:
            setattr(module, name, value)
    return previous


@contextmanager
def flags_context(module, **values):
    """Sets flags for the body of a ``with`` block and restores them after it, even on error."""
    previous = set_flags(module, **values)
    try:
        yield
    finally:
        set_flags(module, **previous)
