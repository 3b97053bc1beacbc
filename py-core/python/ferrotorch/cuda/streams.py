"""CUDA streams and events, as ``torch.cuda.Stream`` / ``torch.cuda.Event``.

Every thread has a current stream per device (the default stream until :func:`set_stream` or
the :func:`stream` context changes it); kernels and uploads are queued on it and host copies
wait for it. Streams are non-blocking, as PyTorch's: order work across streams with
:meth:`Stream.wait_stream`, :meth:`Stream.wait_event` or events, as in PyTorch. A tensor made on
one stream and freed after use on another should be kept alive until that work is done (device
memory is pooled per stream).
"""

from .. import _C

__all__ = ["Stream", "Event", "current_stream", "default_stream", "set_stream", "stream", "StreamContext"]


def _index(device):
    from . import _device_index, current_device, init

    init()
    index = _device_index(device, optional=True)
    return current_device() if index < 0 else index


class Stream:
    """A CUDA stream on ``device`` (default: the current device). ``priority``: lower numbers
    are higher priorities (0 is the default)."""

    def __init__(self, device=None, priority=0, **kwargs):
        self._index = _index(device)
        if "_id" in kwargs:  # the default stream, or an existing stream
            self._id, self._owned = kwargs["_id"], False
        else:
            self._id, self._owned = _C._cuda_stream_create(self._index, int(priority)), True
        self.priority = int(priority)

    @property
    def device(self):
        return _C.device("cuda", self._index)

    @property
    def device_index(self):
        return self._index

    @property
    def cuda_stream(self):
        """The stream's handle value (0 for the default stream)."""
        return self._id

    def wait_event(self, event):
        """Makes later work on this stream wait for ``event``."""
        event.wait(self)

    def wait_stream(self, stream):
        """Makes later work on this stream wait for the work queued so far on ``stream``."""
        _C._cuda_stream_wait_stream(self._index, self._id, stream._id)

    def record_event(self, event=None):
        """Records an event (a new one when None) on this stream; returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def query(self):
        """Whether all work queued on this stream has finished."""
        return _C._cuda_stream_query(self._index, self._id)

    def synchronize(self):
        """Waits for all work queued on this stream."""
        _C._cuda_stream_synchronize(self._index, self._id)

    def __eq__(self, other):
        return isinstance(other, Stream) and (self._index, self._id) == (other._index, other._id)

    def __hash__(self):
        return hash((self._index, self._id))

    def __repr__(self):
        return f"<torch.cuda.Stream device=cuda:{self._index} cuda_stream={self._id:#x}>"

    def __del__(self):
        if getattr(self, "_owned", False):
            try:
                _C._cuda_stream_release(self._id)
            except Exception:  # noqa: BLE001 - a finalizer must not raise (interpreter exit, a lost context)
                pass


class Event:
    """A CUDA event: a marker in a stream's work, for synchronization and timing. Created on
    the device of the stream it is first recorded on. ``blocking`` and ``interprocess`` are
    accepted; host waits spin."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if interprocess:
            raise NotImplementedError("interprocess CUDA events are not supported by ferrotorch")
        self.enable_timing = bool(enable_timing)
        self.blocking = bool(blocking)
        self._id = None

    @property
    def cuda_event(self):
        return self._id or 0

    def record(self, stream=None):
        """Records the work queued so far on ``stream`` (default: the current stream)."""
        stream = current_stream() if stream is None else stream
        if self._id is None:
            self._index = stream.device_index
            self._id = _C._cuda_event_create(self._index, self.enable_timing)
        elif stream.device_index != self._index:
            raise RuntimeError(
                f"Event device cuda:{self._index} does not match recording stream's device cuda:{stream.device_index}."
            )
        _C._cuda_event_record(self._id, stream.cuda_stream)

    def wait(self, stream=None):
        """Makes later work on ``stream`` (default: the current stream) wait for this event."""
        if self._id is None:
            return
        stream = current_stream() if stream is None else stream
        _C._cuda_event_wait(self._id, stream.cuda_stream)

    def query(self):
        """Whether the recorded work has finished (True when nothing was recorded)."""
        return True if self._id is None else _C._cuda_event_query(self._id)

    def synchronize(self):
        """Waits on the host for the recorded work."""
        if self._id is not None:
            _C._cuda_event_synchronize(self._id)

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (both recorded, with timing)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if self._id is None or end_event._id is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return _C._cuda_event_elapsed_time(self._id, end_event._id)

    def __repr__(self):
        return f"<torch.cuda.Event {self.cuda_event:#x}>" if self._id else "<torch.cuda.Event uninitialized>"

    def __del__(self):
        if getattr(self, "_id", None):
            _C._cuda_event_release(self._id)


def current_stream(device=None):
    """This thread's current stream on ``device`` (default: the current device)."""
    index = _index(device)
    return Stream(index, _id=_C._cuda_current_stream(index))


def default_stream(device=None):
    """The default stream of ``device``."""
    return Stream(_index(device), _id=0)


def set_stream(stream):
    """Makes ``stream`` current on its device for this thread."""
    if stream is not None:
        _C._cuda_set_stream(stream.device_index, stream.cuda_stream)


class StreamContext:
    """Context manager making ``stream`` current on its device (None: no change), and its
    device current, restoring both on exit."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        from . import _device_guard

        if self.stream is None:
            return None
        self._guard = _device_guard(self.stream.device_index)
        self._guard.__enter__()
        self._previous = _C._cuda_set_stream(self.stream.device_index, self.stream.cuda_stream)
        return self.stream

    def __exit__(self, exc_type, exc_value, traceback):
        if self.stream is not None:
            _C._cuda_set_stream(self.stream.device_index, self._previous)
            self._guard.__exit__(exc_type, exc_value, traceback)
        return False


def stream(stream):
    """``with torch.cuda.stream(s):`` queues the block's work on ``s``."""
    return StreamContext(stream)
