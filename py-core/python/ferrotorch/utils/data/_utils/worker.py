"""The DataLoader worker process: its loop, its seeding and :func:`get_worker_info`."""

import os
import queue
import random
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

import ferrotorch

from . import MP_STATUS_CHECK_INTERVAL, shared_memory
from .exception import ExceptionWrapper
from .fetch import _DatasetKind


@dataclass(frozen=True)
class WorkerInfo:
    """About the current worker process: ``id`` (0 to ``num_workers - 1``), ``num_workers``, ``seed``
    (what ferrotorch and ``random`` were seeded with) and ``dataset`` (this process's copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Optional[Any] = None
    worker_method: Optional[str] = "multiprocessing"


_worker_info = None


def get_worker_info():
    """The :class:`WorkerInfo` of the worker process this runs in; ``None`` in the main process."""
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Persistent workers: start a new epoch (acknowledged by echoing this back)."""


def _generate_state(base_seed, worker_id):
    """NumPy's legacy seed for a worker: PyTorch's SeedSequence-style hash of (worker_id, base_seed)
    into four 32-bit words, so workers' NumPy streams differ and match PyTorch's."""
    mask = 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    multiplier = 0x43B0D7E5

    def hash_(value):
        nonlocal multiplier
        value = (value ^ multiplier) & mask
        multiplier = (multiplier * 0x931E8875) & mask
        value = (value * multiplier) & mask
        return (value ^ (value >> 16)) & mask

    def mix(x, y):
        result = ((0xCA01F9DD * x) - (0x4973F715 * y)) & mask
        return (result ^ (result >> 16)) & mask

    pool = [hash_(e) for e in entropy]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hash_(pool[src]))
    state, multiplier_b = [], 0x8B51F9DD
    for value in pool:
        value = (value ^ multiplier_b) & mask
        multiplier_b = (multiplier_b * 0x58F38DED) & mask
        value = (value * multiplier_b) & mask
        state.append((value ^ (value >> 16)) & mask)
    return state


def _seed_worker(base_seed, worker_id):
    """Seeds ferrotorch's default generator and ``random`` with ``base_seed + worker_id`` (and NumPy's
    global generator from a hash of both); returns that seed."""
    seed = base_seed + worker_id
    random.seed(seed)
    ferrotorch.manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn,
                 drop_last, base_seed, init_fn, worker_id, num_workers, segment_prefix):
    """Runs in the worker process: takes ``(task_idx, index)`` from ``index_queue``, fetches and collates,
    and puts ``(task_idx, SharedBatch | ExceptionWrapper | _IterableDatasetStopIteration)`` on
    ``data_queue``, until it gets ``None`` or the main process dies."""
    global _worker_info
    try:
        # A forked child has the parent's thread-pool bookkeeping but none of its threads: build a fresh
        # one-thread pool before any kernel runs (workers run one per core anyway, as in PyTorch).
        ferrotorch.set_num_threads(1)
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=where)
        iteration_end = False
        parent = os.getppid()
        batches_made = 0
        while os.getppid() == parent:
            try:
                message = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(message, _ResumeIteration):
                data_queue.put((message, None))
                iteration_end = False
                fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
                continue
            if message is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            task_idx, index = message
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = shared_memory.pack(fetcher.fetch(index), f"{segment_prefix}{worker_id}_{batches_made}")
                    batches_made += 1
                except Exception as error:
                    if isinstance(error, StopIteration) and dataset_kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=where)
            data_queue.put((task_idx, data))
            del data, index, message
    except KeyboardInterrupt:
        pass
    finally:
        _worker_info = None
    if done_event.is_set():
        # The main process stopped reading: exit without waiting to flush what is still queued.
        data_queue.cancel_join_thread()
        data_queue.close()
