"""``detect_anomaly`` and ``set_detect_anomaly``: nodes remember the Python stack of their
forward op, and backward raises naming that op when a gradient holds NaN."""

from .. import _C
from .grad_mode import _Immediate, _Scoped


class detect_anomaly(_Scoped):
    _set, _value = staticmethod(_C._set_anomaly_enabled), True

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def _args(self):
        return (self.check_nan,)


class set_detect_anomaly(_Immediate):
    _set = staticmethod(_C._set_anomaly_enabled)

    def __init__(self, mode, check_nan=True):
        super().__init__(mode)


is_anomaly_enabled = _C.is_anomaly_enabled
