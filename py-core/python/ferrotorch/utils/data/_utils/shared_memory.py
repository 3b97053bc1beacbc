"""Moving a batch from a worker to the main process through POSIX shared memory.

A worker pickles the batch with every tensor replaced by a slot number, copies the tensors' bytes
into one new shared-memory segment, and sends the segment's name, the slots' (offset, shape, dtype)
and the small pickle. The main process maps the segment, unlinks its name at once (the mapping
stays valid until unmapped, and no name is left behind in /dev/shm), and wraps each slot zero-copy
as a NumPy array over the mapping and a tensor over that (``ferrotorch.from_numpy``). The tensors
keep the mapping alive; it is unmapped when the last of them is freed.
"""

import io
import mmap
import os
import pickle
from dataclasses import dataclass

import numpy as np

import _posixshmem
import ferrotorch

_ALIGNMENT = 64
_SHM_DIR = "/dev/shm"


@dataclass(frozen=True)
class _Slot:
    """Where one tensor lies in the segment. bfloat16 (which NumPy lacks) travels as float32, exactly."""

    offset: int
    shape: tuple
    dtype: str
    bfloat16: bool
    requires_grad: bool


@dataclass(frozen=True)
class SharedBatch:
    """What a worker sends for one batch: the segment's name and size, the tensor slots, the pickle."""

    name: str
    size: int
    slots: list
    payload: bytes


class _TensorCollectingPickler(pickle.Pickler):
    """Pickles everything but tensors, which it collects and refers to by slot number."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.tensors = []
        self._slot_of = {}

    def persistent_id(self, obj):
        if not isinstance(obj, ferrotorch.Tensor):
            return None
        if id(obj) not in self._slot_of:
            self._slot_of[id(obj)] = len(self.tensors)
            self.tensors.append(obj)
        return self._slot_of[id(obj)]


class _TensorRestoringUnpickler(pickle.Unpickler):
    def __init__(self, file, tensors):
        super().__init__(file)
        self.tensors = tensors

    def persistent_load(self, pid):
        return self.tensors[pid]


def _host_array(tensor):
    """The tensor's values as a NumPy array (a view where the dtype allows)."""
    tensor = tensor.detach()
    if tensor.dtype == ferrotorch.bfloat16:
        tensor = tensor.float()
    return tensor.numpy()


def _open(name, flags):
    return _posixshmem.shm_open("/" + name, flags, mode=0o600)


def _unlink(name):
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        pass


def pack(data, name):
    """Worker side: puts ``data``'s tensors into a new segment called ``name``; returns the
    :class:`SharedBatch` to send (the segment belongs to the receiver from then on)."""
    buffer = io.BytesIO()
    pickler = _TensorCollectingPickler(buffer)
    pickler.dump(data)
    arrays = [_host_array(t) for t in pickler.tensors]
    slots, offset = [], 0
    for tensor, array in zip(pickler.tensors, arrays):
        slots.append(_Slot(offset, array.shape, array.dtype.str, tensor.dtype == ferrotorch.bfloat16, tensor.requires_grad))
        offset += -(-array.nbytes // _ALIGNMENT) * _ALIGNMENT
    size = max(offset, 1)  # a mapping cannot be empty
    fd = _open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR)
    try:
        os.ftruncate(fd, size)
        with mmap.mmap(fd, size) as mapping:
            for slot, array in zip(slots, arrays):
                np.ndarray(array.shape, array.dtype, buffer=mapping, offset=slot.offset)[...] = array
    except BaseException:
        _unlink(name)
        raise
    finally:
        os.close(fd)
    return SharedBatch(name, size, slots, buffer.getvalue())


def unpack(batch):
    """Main side: maps the segment, unlinks its name, and rebuilds the batch around tensors that
    wrap the mapping without copying."""
    fd = _open(batch.name, os.O_RDWR)
    try:
        mapping = mmap.mmap(fd, batch.size)
    finally:
        os.close(fd)
        _unlink(batch.name)
    tensors = []
    for slot in batch.slots:
        tensor = ferrotorch.from_numpy(np.ndarray(slot.shape, np.dtype(slot.dtype), buffer=mapping, offset=slot.offset))
        if slot.bfloat16:
            tensor = tensor.to(ferrotorch.bfloat16)
        tensors.append(tensor.requires_grad_() if slot.requires_grad else tensor)
    return _TensorRestoringUnpickler(io.BytesIO(batch.payload), tensors).load()


def discard(batch):
    """Frees a batch that will never be unpacked."""
    _unlink(batch.name)


def unlink_prefix(prefix):
    """Unlinks every segment whose name starts with ``prefix``: batches a worker made but the main
    process never received (a worker killed mid-batch, or a loader shut down with batches in flight)."""
    if not os.path.isdir(_SHM_DIR):
        return
    for name in os.listdir(_SHM_DIR):
        if name.startswith(prefix):
            _unlink(name)
