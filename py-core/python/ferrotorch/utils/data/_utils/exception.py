"""ExceptionWrapper: carries an exception and its traceback text from a worker to the main process."""

import pickle
import sys
import traceback


class KeyErrorMessage(str):
    """A str whose repr is itself, so a re-raised KeyError shows the traceback text unquoted."""

    __slots__ = ()

    def __repr__(self):
        return self


class ExceptionWrapper:
    """The exception being handled (type and formatted traceback), picklable; :meth:`reraise` raises it
    again with ``Caught <Type> <where>.`` and the original traceback in the message."""

    def __init__(self, exc_info=None, where="in background"):
        # Only the type and the text are kept: traceback objects neither pickle nor should be kept alive.
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where
        try:
            pickle.dumps(self.exc_type)
        except Exception:
            # A class the main process could not import (defined in a function, say): re-raise as RuntimeError.
            self.exc_type = RuntimeError

    def reraise(self):
        """Raises the wrapped exception type with the worker's traceback in the message."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception
