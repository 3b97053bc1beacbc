"""``detect_anomaly`` and ``set_detect_anomaly``: nodes remember the Python stack of their
forward op, and backward raises naming that op when a gradient holds NaN."""

from .. import _C
from .grad_mode import _Mode


class detect_anomaly(_Mode):
    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def _args(self):
        return (self.check_nan,)

    def _enter(self):
        self._prev = _C._set_anomaly_enabled(True)

    def _exit(self):
        _C._set_anomaly_enabled(self._prev)


class set_detect_anomaly(_Mode):
    def __init__(self, mode, check_nan=True):
        self.mode = bool(mode)
        self._prev = _C._set_anomaly_enabled(self.mode)

    def _args(self):
        return (self.mode,)

    def _enter(self):
        pass

    def _exit(self):
        _C._set_anomaly_enabled(self._prev)


is_anomaly_enabled = _C.is_anomaly_enabled
