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


class _Scoped(_Mode):
    """Sets a thread-local flag (through ``_set``, a ``_C`` setter returning the previous value)
    on entering, and restores it on leaving."""

    _set = None
    _value = None

    def _enter(self):
        self._prev = type(self)._set(self._value)

    def _exit(self):
        type(self)._set(self._prev)


class _Immediate(_Mode):
    """Like ``_Scoped``, but the flag is set when the object is made, so a plain call works
    too (``set_grad_enabled(False)``); leaving a ``with`` block restores it."""

    _set = None

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = type(self)._set(self.mode)

    def _args(self):
        return (self.mode,)

    def _enter(self):
        pass

    def _exit(self):
        type(self)._set(self._prev)


class no_grad(_Scoped):
    """Ops inside record no history (``with ferrotorch.no_grad():``)."""

    _set, _value = staticmethod(_C._set_grad_enabled), False


class enable_grad(_Scoped):
    """Turns recording back on inside ``no_grad``."""

    _set, _value = staticmethod(_C._set_grad_enabled), True


class set_grad_enabled(_Immediate):
    """``set_grad_enabled(mode)``: sets the mode at once, and restores it when used with ``with``."""

    _set = staticmethod(_C._set_grad_enabled)


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
