"""Tensors <-> raw native-order bytes, for every dtype (bfloat16 included, which NumPy lacks)."""

from .. import _C


def tensor_bytes(t):
    """A new bytearray holding the elements of ``t`` in row-major order."""
    buffer = bytearray(t.numel() * t.element_size())
    if buffer:
        _C._tensor_from_buffer(buffer, t.dtype).copy_(t.reshape(-1))
    return buffer


def tensor_over(buffer, dtype):
    """A 1-D tensor of ``dtype`` viewing the writable ``buffer`` (zero copy), or a copy of it when
    its address is not aligned for ``dtype``."""
    if len(buffer) == 0:
        return _C.empty(0, dtype=dtype)
    try:
        return _C._tensor_from_buffer(buffer, dtype)
    except ValueError:
        return _C._tensor_from_buffer(bytearray(buffer), dtype)
