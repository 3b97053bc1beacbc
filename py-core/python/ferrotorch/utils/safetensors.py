"""The safetensors format, read and written directly (no dependency on the ``safetensors`` package).

A file is an 8-byte little-endian header length N, N bytes of JSON (padded with spaces to a
multiple of 8) mapping each name to ``{"dtype", "shape", "data_offsets"}`` plus an optional
``"__metadata__"`` dict of strings, then the tensors' little-endian bytes. Like the reference
implementation, tensors are laid out by decreasing dtype size, then name, so each one is aligned.
"""

import json
import mmap
import struct
import sys

import ferrotorch
from .._serialization.raw import tensor_bytes, tensor_over

__all__ = ["save", "save_file", "load", "load_file", "SafetensorError"]

_DTYPES = {  # in the reference implementation's order, largest first (ties broken by name)
    "I64": ferrotorch.int64,
    "F64": ferrotorch.float64,
    "F32": ferrotorch.float32,
    "I32": ferrotorch.int32,
    "BF16": ferrotorch.bfloat16,
    "F16": ferrotorch.float16,
    "I16": ferrotorch.int16,
    "I8": ferrotorch.int8,
    "U8": ferrotorch.uint8,
    "BOOL": ferrotorch.bool,
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}
_RANK = {name: i for i, name in enumerate(_DTYPES)}
_MAX_HEADER = 100_000_000


class SafetensorError(Exception):
    """A malformed safetensors file or an invalid argument (the ``safetensors`` package's error)."""


def _check_tensors(tensors):
    if not isinstance(tensors, dict) or not all(isinstance(k, str) for k in tensors):
        raise ValueError("Expected a dict of [str, ferrotorch.Tensor]")
    for name, t in tensors.items():
        if not isinstance(t, ferrotorch.Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected ferrotorch.Tensor but received {type(t)}")
        if not t.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It either means you "
                "are trying to save tensors which are reference of each other in which case it's recommended to save "
                "only the full tensors, and reslice at load time, or simply call `.contiguous()` on your tensor to "
                "pack it before saving."
            )
    _check_no_shared_memory(tensors)


def _check_no_shared_memory(tensors):
    """safetensors has no views: tensors overlapping in memory would load as separate copies."""
    spans = sorted((t.data_ptr(), t.data_ptr() + t.nbytes, name) for name, t in tensors.items() if t.nbytes)
    shared = [(a[2], b[2]) for a, b in zip(spans, spans[1:]) if b[0] < a[1]]
    if shared:
        raise RuntimeError(
            f"Some tensors share memory, this will lead to duplicate memory on disk and potential differences "
            f"when loading them again: {shared}. Save copies (`.clone()`) or only the full tensors."
        )


def save(tensors, metadata=None):
    """The safetensors bytes of ``tensors`` (a dict of name -> contiguous tensor) and ``metadata``
    (a dict of str -> str, stored as ``__metadata__``)."""
    _check_tensors(tensors)
    header, chunks, offset = {}, [], 0
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("metadata must be a dict of str to str")
        header["__metadata__"] = dict(sorted(metadata.items()))  # the reference writer's order is arbitrary
    for name, t in sorted(tensors.items(), key=lambda item: (_RANK[_name_of(item[1].dtype)], item[0])):
        data = tensor_bytes(t.detach().cpu())
        if sys.byteorder == "big":
            data = _byteswapped(data, t.element_size())
        header[name] = {"dtype": _name_of(t.dtype), "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text, *chunks])


def save_file(tensors, filename, metadata=None):
    """Writes ``save(tensors, metadata)`` to ``filename``."""
    data = save(tensors, metadata)
    with open(filename, "wb") as f:
        f.write(data)


def load(data):
    """The tensors of safetensors ``data`` (bytes), as a dict (copies: ``data`` may be immutable)."""
    return _parse(memoryview(bytearray(data)))


def load_file(filename, device="cpu"):
    """The tensors of the safetensors file ``filename``; they view a private memory map of it."""
    with open(filename, "rb") as f:
        size = f.seek(0, 2)
        if size < 8:
            raise SafetensorError("Error while deserializing header: HeaderTooSmall")
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    tensors = _parse(memoryview(mapped))
    if str(device) != "cpu":
        tensors = {k: v.to(device) for k, v in tensors.items()}
    return tensors


def _parse(buffer):
    if len(buffer) < 8:
        raise SafetensorError("Error while deserializing header: HeaderTooSmall")
    (n,) = struct.unpack("<Q", bytes(buffer[:8]))
    if n > _MAX_HEADER:
        raise SafetensorError("Error while deserializing header: HeaderTooLarge")
    if 8 + n > len(buffer):
        raise SafetensorError("Error while deserializing header: InvalidHeaderLength")
    try:
        header = json.loads(bytes(buffer[8 : 8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorError(f"Error while deserializing header: InvalidHeaderDeserialization ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorError("Error while deserializing header: InvalidHeaderDeserialization")
    header.pop("__metadata__", None)
    data = buffer[8 + n :]
    out, end = {}, 0
    for name, info in sorted(header.items(), key=lambda item: _offsets(item)[0]):
        begin, stop = _offsets((name, info))
        dtype = _DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise SafetensorError(f"Error while deserializing header: unsupported dtype {info.get('dtype')!r} of {name!r}")
        shape = info.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise SafetensorError(f"Error while deserializing header: invalid shape of {name!r}")
        numel = 1
        for d in shape:
            numel *= d
        if begin != end or stop > len(data) or stop - begin != numel * dtype.itemsize:
            raise SafetensorError(f"Error while deserializing header: InvalidOffset({name!r})")
        end = stop
        chunk = data[begin:stop]
        if sys.byteorder == "big":
            chunk = _byteswapped(chunk, dtype.itemsize)
        out[name] = tensor_over(chunk, dtype).view(tuple(shape))
    if end != len(data):
        raise SafetensorError("Error while deserializing header: MetadataIncompleteBuffer")
    return {name: out[name] for name in header}


def _offsets(item):
    name, info = item
    offsets = info.get("data_offsets") if isinstance(info, dict) else None
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets) and 0 <= offsets[0] <= offsets[1]):
        raise SafetensorError(f"Error while deserializing header: invalid data_offsets of {name!r}")
    return offsets


def _name_of(dtype):
    if dtype not in _NAMES:
        raise ValueError(f"safetensors does not support dtype {dtype}")
    return _NAMES[dtype]


def _byteswapped(data, itemsize):
    import numpy as np

    return bytearray(np.frombuffer(data, dtype=f"u{itemsize}").byteswap().tobytes()) if itemsize > 1 else data
