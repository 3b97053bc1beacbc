"""Turns the ``data/<key>`` records of an opened checkpoint into flat tensors, once per key, so
tensors that shared a storage when saved share memory again after loading."""

import sys

import numpy as np

import ferrotorch
from .raw import tensor_over
from .torch_globals import StorageType
from .zipformat import record_data_offset


def _restore_location(flat, location, map_location):
    """Places a storage as ``map_location`` says (PyTorch's rules for None, str, device, dict, callable)."""
    if map_location is None:
        pass
    elif isinstance(map_location, dict):
        location = map_location.get(location, location)
    elif isinstance(map_location, (str, bytes)):
        location = map_location.decode() if isinstance(map_location, bytes) else map_location
    elif isinstance(map_location, ferrotorch.device):
        location = str(map_location)
    else:
        result = map_location(flat, location)
        if result is not None:
            return result
    return _default_restore_location(flat, location)


def _default_restore_location(flat, location):
    if location == "cpu":
        return flat
    if location.startswith("cuda"):
        cuda = getattr(ferrotorch, "cuda", None)
        if cuda is None or not cuda.is_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but ferrotorch.cuda.is_available() is False. "
                "If you are running on a CPU-only machine, please use ferrotorch.load with "
                "map_location=ferrotorch.device('cpu') to map your storages to the CPU."
            )
    return flat.to(ferrotorch.device(location))


class StorageLoader:
    """``persistent_load`` for a checkpoint: reads (or maps) each storage record on first use."""

    def __init__(self, zf, prefix, stream, map_location, mapped=None):
        self.zf, self.prefix, self.stream = zf, prefix, stream
        self.map_location, self.mapped = map_location, mapped
        byteorder = prefix + "byteorder"
        self.swap = byteorder in zf.NameToInfo and zf.read(byteorder).decode() != sys.byteorder
        self.loaded = {}

    def __call__(self, pid):
        if len(pid) != 5:
            raise RuntimeError(f"Unknown persistent id for a storage: {pid!r}")
        _, storage_type, key, location, numel = pid
        key, location = _text(key), _text(location)
        if not isinstance(storage_type, StorageType):
            raise RuntimeError(f"Unknown storage type {storage_type!r} in the checkpoint")
        if key not in self.loaded:
            flat = self._read(key, storage_type.dtype, numel)
            self.loaded[key] = _restore_location(flat, location, self.map_location)
        return self.loaded[key]

    def _read(self, key, dtype, numel):
        name = f"{self.prefix}data/{key}"
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found") from None
        itemsize = dtype.itemsize
        if not isinstance(numel, int) or numel * itemsize != info.file_size:
            raise RuntimeError(f"Storage {name} holds {info.file_size} bytes, expected {numel} elements of {dtype}")
        offset = record_data_offset(self.stream, info)
        if self.mapped is not None and offset is not None:
            # Zero copy: the tensor views the mapped file (a private mapping, so writes stay in memory).
            buffer = memoryview(self.mapped)[offset : offset + info.file_size]
        else:
            buffer = bytearray(info.file_size)
            if offset is not None and hasattr(self.stream, "readinto"):
                self.stream.seek(offset)
                if self.stream.readinto(buffer) != info.file_size:
                    raise RuntimeError(f"PytorchStreamReader failed reading record {name}: file truncated")
            else:
                buffer[:] = self.zf.read(info)
        if self.swap and itemsize > 1:
            np.frombuffer(buffer, dtype=f"u{itemsize}").byteswap(inplace=True)
        return tensor_over(buffer, dtype)


def _text(value):
    return value.decode("ascii") if isinstance(value, bytes) else str(value)
