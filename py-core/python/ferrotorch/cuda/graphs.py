"""CUDA graphs, as ``torch.cuda.CUDAGraph`` and ``torch.cuda.graph``: record the kernels queued
on a stream once, then replay them with one launch.

The capture runs on a side stream (never the default one), allocates from the graph's private
memory pool, and keeps it until :meth:`CUDAGraph.reset`: the tensors made during the capture are
the graph's static outputs, rewritten in place by each replay; fill static inputs with
``copy_`` before replaying. As in PyTorch, work that synchronises with the host (``item()``,
printing, ``nonzero``) cannot be captured. Random ops draw fresh numbers at every replay, as
PyTorch's: each replay advances the generators the capture drew from. Optimizer steps are
captured by SGD and, with ``capturable=True`` (step counters on the device), by Adam, AdamW,
Adamax, NAdam, RAdam, RMSprop and Adadelta; Adagrad, and sampling on the host (``randperm``),
refuse to run inside a capture (core-rs/src/cuda/graphs.rs). Streams joined to a capture through
events allocate from its pool.
"""

import gc
import sys

from .. import _C

__all__ = ["CUDAGraph", "graph", "graph_pool_handle", "is_current_stream_capturing"]


def _current_index():
    from . import current_device, init

    init()
    return current_device()


def is_current_stream_capturing():
    """Whether the current stream of the current device is being captured into a CUDA graph
    (False when CUDA has not been initialised)."""
    from . import is_initialized

    if not is_initialized():
        return False
    return _C._cuda_is_current_stream_capturing(_current_index())


def graph_pool_handle():
    """An id of a new private memory pool, for graphs that share one (``pool=`` of
    :meth:`CUDAGraph.capture_begin` and :class:`graph`)."""
    return _C._cuda_graph_pool_handle()


class CUDAGraph:
    """A CUDA graph: :meth:`capture_begin` ... :meth:`capture_end` record the work queued on
    the current stream, :meth:`replay` runs it again. Usually used through :class:`graph`."""

    def __init__(self, keep_graph=False):
        self._id = _C._cuda_graph_create(_current_index())
        self._keep_graph = keep_graph

    def capture_begin(self, pool=None, capture_error_mode="global"):
        """Starts capturing the current stream (not the default stream). ``pool``: a
        :func:`graph_pool_handle` or another graph's :meth:`pool` to share memory with;
        ``capture_error_mode``: ``"global"``, ``"thread_local"`` or ``"relaxed"``, the driver's
        rule for unsafe calls made while capturing."""
        _C._cuda_graph_capture_begin(self._id, _current_index(), pool, capture_error_mode)

    def capture_end(self):
        """Ends the capture and makes the graph ready to replay."""
        _C._cuda_graph_capture_end(self._id)

    def instantiate(self):
        """The graph is instantiated by :meth:`capture_end` already; kept for PyTorch's API."""

    def replay(self):
        """Runs the captured work on the current stream."""
        _C._cuda_graph_replay(self._id)

    def reset(self):
        """Drops the graph and its hold on its memory pool."""
        _C._cuda_graph_reset(self._id)

    def pool(self):
        """The id of this graph's memory pool, to share with another capture."""
        return _C._cuda_graph_pool(self._id)

    def __del__(self):
        try:
            _C._cuda_graph_destroy(self._id)
        except Exception:  # interpreter shutdown or a lost context: nothing left to release
            pass


class graph:
    """Context manager capturing the work of its body into ``cuda_graph``, as
    ``torch.cuda.graph``: synchronises, collects garbage and empties the cache, then captures on
    ``stream`` (a side stream shared by every capture when None) from memory pool ``pool``."""

    default_capture_stream = None

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="global"):
        from .streams import Stream
        from .streams import stream as stream_context

        if self.__class__.default_capture_stream is None:
            self.__class__.default_capture_stream = Stream()
        self.pool = () if pool is None else (pool,)
        self.capture_stream = stream if stream is not None else self.__class__.default_capture_stream
        self.stream_ctx = stream_context(self.capture_stream)
        self.cuda_graph = cuda_graph
        self.capture_error_mode = capture_error_mode

    def __enter__(self):
        from . import empty_cache, synchronize

        synchronize()
        gc.collect()
        empty_cache()
        self.stream_ctx.__enter__()
        try:
            self.cuda_graph.capture_begin(*self.pool, capture_error_mode=self.capture_error_mode)
        except BaseException:
            # No capture began, so `__exit__` will not run: leave the capture stream here.
            self.stream_ctx.__exit__(*sys.exc_info())
            raise

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            self.cuda_graph.capture_end()
        finally:
            self.stream_ctx.__exit__(exc_type, exc_value, traceback)
