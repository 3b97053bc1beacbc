"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each is a context manager and a decorator; the mode itself is thread-local and lives in the
Rust core, so ops check it without a Python frame.
"""

import functools

from .. import _C


class _Mode:
    """Base for the modes: subclasses say what to set in ``_enter`` and undo it in ``_exit``."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()

    def __enter__(self):
        self._enter()
        return None

    def __exit__(self, *exc):
        self._exit()
        return False

    def clone(self):
        return self.__class__(*self._args())


class no_grad(_Mode):
    """Ops inside record no history (``with ferrotorch.no_grad():``)."""

    def _enter(self):
        self._prev = _C._set_grad_enabled(False)

    def _exit(self):
        _C._set_grad_enabled(self._prev)


class enable_grad(_Mode):
    """Turns recording back on inside ``no_grad``."""

    def _enter(self):
        self._prev = _C._set_grad_enabled(True)

    def _exit(self):
        _C._set_grad_enabled(self._prev)


class set_grad_enabled(_Mode):
    """``set_grad_enabled(mode)``: sets the mode at once, and restores it when used with ``with``."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = _C._set_grad_enabled(self.mode)

    def _args(self):
        return (self.mode,)

    def _enter(self):
        pass

    def _exit(self):
        _C._set_grad_enabled(self._prev)


class inference_mode(_Mode):
    """``inference_mode(mode=True)``: no history and no version bookkeeping for autograd."""

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __call__(self, fn=None):
        if isinstance(fn, bool) or fn is None:
            return inference_mode(True if fn is None else fn)
        return super().__call__(fn)

    def _args(self):
        return (self.mode,)

    def _enter(self):
        self._prev = (_C._set_inference_mode(self.mode), _C._set_grad_enabled(not self.mode and _C.is_grad_enabled()))

    def _exit(self):
        _C._set_inference_mode(self._prev[0])
        _C._set_grad_enabled(self._prev[1])


is_grad_enabled = _C.is_grad_enabled
is_inference_mode_enabled = _C.is_inference_mode_enabled
