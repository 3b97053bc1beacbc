"""The iterator that loads through worker processes (``DataLoader(num_workers > 0)``).

The main process hands out ``(task_idx, index)`` tasks round robin, at most ``prefetch_factor`` per
worker ahead; workers send back batches through shared memory (see :mod:`.shared_memory`), and
batches are yielded in task order (or as they come, with ``in_order=False``). While it waits, the
main process checks every ``MP_STATUS_CHECK_INTERVAL`` seconds that its workers are alive, so a
crashed worker raises at once instead of hanging.
"""

import atexit
import itertools
import multiprocessing
import os
import queue
import signal
import time
import weakref

from . import MP_STATUS_CHECK_INTERVAL, shared_memory
from .exception import ExceptionWrapper
from .fetch import _DatasetKind
from .iterator import _BaseDataLoaderIter
from .worker import _IterableDatasetStopIteration, _ResumeIteration, _worker_loop

_WORKER_JOIN_TIMEOUT = 1.0
"""Seconds a worker gets to finish its current batch and exit at shutdown before it is terminated."""

_iterator_serial = itertools.count()
_live_iterators = weakref.WeakSet()


@atexit.register
def _shutdown_live_iterators():
    # Persistent workers outlive their epochs: stop them (and free their segments) before exit.
    for iterator in list(_live_iterators):
        iterator._shutdown_workers()


def _death_message(worker_id, process):
    code = process.exitcode
    if code is not None and code < 0:
        what = f"is killed by signal: {signal.strsignal(-code)}"
    else:
        what = f"exited unexpectedly with exit code {code}"
    return (
        f"DataLoader worker (pid {process.pid}) {what} (worker id {worker_id}). Details are lost due to "
        "multiprocessing. Rerunning with num_workers=0 may give better error trace."
    )


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Iterates once over the loader's dataset through ``num_workers`` worker processes (or once per
    epoch over the same workers, with ``persistent_workers``)."""

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        context = loader.multiprocessing_context or multiprocessing.get_context()
        self._segment_prefix = f"ftdl_{os.getpid()}_{next(_iterator_serial)}_"
        self._worker_result_queue = context.Queue()
        self._data_queue = self._worker_result_queue
        self._workers_done_event = context.Event()
        self._index_queues = []
        self._workers = []
        self._shutdown = False
        _live_iterators.add(self)
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()
            worker = context.Process(
                target=_worker_loop,
                args=(
                    self._dataset_kind, self._dataset, index_queue, self._worker_result_queue,
                    self._workers_done_event, self._auto_collation, self._collate_fn, self._drop_last,
                    self._base_seed, loader.worker_init_fn, worker_id, self._num_workers, self._segment_prefix,
                ),
                daemon=True,
            )
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        for data in getattr(self, "_task_info", {}).values():
            self._discard(data[-1])  # batches of an epoch left unfinished
        self._send_idx = 0  # the next task to hand out
        self._rcvd_idx = 0  # the next task to yield (in order)
        self._task_info = {}  # task_idx -> (worker_id,) while out, (worker_id, data) once back early
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            for index_queue in self._index_queues:
                index_queue.put(_ResumeIteration())
            acknowledged = 0
            while acknowledged < self._num_workers:
                task_idx, data = self._get_data()
                if isinstance(task_idx, _ResumeIteration):
                    acknowledged += 1
                else:
                    self._discard(data)
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    @staticmethod
    def _discard(data):
        if isinstance(data, shared_memory.SharedBatch):
            shared_memory.discard(data)

    def _raise_if_a_worker_died(self):
        dead = [(i, w) for i, w in enumerate(self._workers) if self._workers_status[i] and not w.is_alive()]
        if dead:
            self._shutdown_workers()
            raise RuntimeError(" ".join(_death_message(i, w) for i, w in dead))

    def _get_data(self):
        """The next message from any worker; raises when a worker died or ``timeout`` passed."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = MP_STATUS_CHECK_INTERVAL
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            try:
                return self._data_queue.get(timeout=wait)
            except queue.Empty:
                pass
            self._raise_if_a_worker_died()
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _next_data(self):
        while True:
            # Skip tasks whose worker stopped (an exhausted iterable dataset) without sending data.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)
            task_idx, data = self._get_data()
            if isinstance(data, _IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                if not self._persistent_workers:
                    self._index_queues[data.worker_id].put(None)
                self._try_put_index()
                continue
            if task_idx == self._rcvd_idx:
                worker_id = self._task_info.pop(task_idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)
            if not self._in_order:
                return self._process_data(data, self._task_info.pop(task_idx)[0])
            self._task_info[task_idx] += (data,)

    def _try_put_index(self):
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker, if any
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id] and (
                self._in_order or self._workers_num_tasks[worker_id] < max_tasks // sum(self._workers_status)
            ):
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._workers_num_tasks[worker_id] += 1
        self._send_idx += 1

    def _process_data(self, data, worker_id):
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return shared_memory.unpack(data)

    def _shutdown_workers(self):
        """Stops the workers (terminating any that do not finish within a second) and unlinks every
        segment they made that was never received. Safe to call more than once."""
        if self._shutdown:
            return
        self._shutdown = True
        _live_iterators.discard(self)
        try:
            self._workers_done_event.set()
            for worker, index_queue in zip(self._workers, self._index_queues):
                if worker.is_alive():
                    index_queue.put(None)
            for worker in self._workers:
                worker.join(timeout=_WORKER_JOIN_TIMEOUT)
        finally:
            for worker in self._workers:
                if worker.is_alive():
                    worker.terminate()
                    worker.join(timeout=_WORKER_JOIN_TIMEOUT)
            for q in self._index_queues + [self._worker_result_queue]:
                q.cancel_join_thread()
                q.close()
            shared_memory.unlink_prefix(self._segment_prefix)

    def __del__(self):
        if hasattr(self, "_shutdown"):
            self._shutdown_workers()
