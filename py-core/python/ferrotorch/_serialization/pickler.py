"""The pickler behind ``ferrotorch.save``: tensors become PyTorch's ``_rebuild_tensor_v2`` calls
over persistent storage ids, and dtypes, devices and sizes name their ``torch.*`` globals."""

import pickle
from collections import OrderedDict

import ferrotorch
from .. import _C
from .raw import tensor_bytes
from .torch_globals import DTYPE_NAMES, STORAGE_NAMES, TorchGlobal

_REBUILD_TENSOR_V2 = TorchGlobal("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = TorchGlobal("torch._utils", "_rebuild_parameter")
_DEVICE = TorchGlobal("torch", "device")
_SIZE = TorchGlobal("torch", "Size")


class StorageRecord:
    """One storage to write as ``data/<key>``: a flat tensor over all of it."""

    def __init__(self, key, flat, location):
        self.key, self.flat, self.location = key, flat, location
        self.persistent_id = ("storage", TorchGlobal("torch", STORAGE_NAMES[flat.dtype]), key, location, flat.numel())

    def to_bytes(self):
        """The storage's raw bytes (native byte order), whatever its dtype."""
        return tensor_bytes(self.flat)


def _whole_storage(t):
    """A 1-D tensor over the whole storage of ``t`` and the storage's identity."""
    base, nbytes = _C._storage_info(t)
    flat = t.detach().as_strided((nbytes // t.element_size(),), (1,), 0)
    # Empty storages all sit at the same dummy address: never treat two as one.
    identity = (base, nbytes) if nbytes else ("empty", id(flat))
    return flat, identity


def make_pickler_class(base):
    """A ``base`` (pure-Python pickler) subclass that writes tensors the way PyTorch does."""

    class TorchPickler(base):
        def __init__(self, file, protocol):
            super().__init__(file, protocol=protocol)
            self.storages = {}  # identity -> StorageRecord, in first-seen order (keys "0", "1", ...)

        def persistent_id(self, obj):
            return obj.persistent_id if isinstance(obj, StorageRecord) else None

        def reducer_override(self, obj):
            if isinstance(obj, _C.Tensor):
                return self._reduce_tensor(obj)
            if isinstance(obj, ferrotorch.dtype):
                return "dtype"  # a string: saved through save_global below
            if isinstance(obj, ferrotorch.device):
                return (_DEVICE, (str(obj),))
            if isinstance(obj, ferrotorch.Size):
                return (_SIZE, (tuple(obj),))
            if isinstance(obj, TorchGlobal):
                return "global"
            return NotImplemented

        def save_global(self, obj, name=None):
            if isinstance(obj, ferrotorch.dtype):
                obj = TorchGlobal("torch", DTYPE_NAMES[obj])
            if not isinstance(obj, TorchGlobal):
                return super().save_global(obj, name)
            memo = self.memo.get(id(obj))
            if memo is not None:
                self.write(self.get(memo[0]))
                return
            if self.proto >= 4:
                self.save(obj.module)
                self.save(obj.name)
                self.write(pickle.STACK_GLOBAL)
            else:
                self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
            self.memoize(obj)

        def _reduce_tensor(self, t):
            if type(t) is ferrotorch.nn.Parameter:
                return (_REBUILD_PARAMETER, (t.detach(), t.requires_grad, OrderedDict()))
            location = "cpu" if t.device.type == "cpu" else str(t.device)
            if location != "cpu":
                t = t.cpu()
            flat, identity = _whole_storage(t)
            record = self.storages.get(identity)
            if record is None:
                record = self.storages[identity] = StorageRecord(str(len(self.storages)), flat, location)
            args = (record, t.storage_offset(), tuple(t.shape), tuple(t.stride()), t.requires_grad, OrderedDict())
            return (_REBUILD_TENSOR_V2, args)

    return TorchPickler
