"""Page-locking of batches (``DataLoader(pin_memory=True)``), as
``torch.utils.data._utils.pin_memory``: every tensor of a batch is copied into pinned host
memory, so ``batch.to("cuda", non_blocking=True)`` is queued without staging and overlaps the
work that follows."""

import collections.abc

import ferrotorch


def pin_memory(data, device=None):
    """``data`` with each tensor pinned, through mappings, namedtuples, sequences and objects
    with their own ``pin_memory()``; anything else is returned as it is."""
    if isinstance(data, ferrotorch.Tensor):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        pinned = {k: pin_memory(v, device) for k, v in data.items()}
        try:
            return type(data)(pinned)
        except TypeError:
            return pinned
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(pin_memory(v, device) for v in data))
    if isinstance(data, tuple):
        return tuple(pin_memory(v, device) for v in data)
    if isinstance(data, collections.abc.Sequence):
        pinned = [pin_memory(v, device) for v in data]
        try:
            return type(data)(pinned)
        except TypeError:
            return pinned
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    return data
