"""default_collate and default_convert: turning a list of samples into a batch (``torch.utils.data._utils.collate``)."""

import collections.abc
import copy
import re

import numpy as np

import ferrotorch

np_str_obj_array_pattern = re.compile(r"[SaUO]")
"""NumPy dtype strings (bytes, unicode, object) that cannot become tensors."""

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _rebuild_mapping(data, items):
    """A mapping like ``data`` holding ``items`` (a dict): a shallow copy updated when mutable, else
    ``type(data)(items)``, else a plain dict when the type cannot be built that way."""
    try:
        if isinstance(data, collections.abc.MutableMapping):
            clone = copy.copy(data)
            clone.update(items)
            return clone
        return type(data)(items)
    except TypeError:
        return items


def _rebuild_sequence(data, items):
    """A sequence like ``data`` holding ``items`` (a list); a plain list when the type cannot be built."""
    try:
        if isinstance(data, collections.abc.MutableSequence):
            clone = copy.copy(data)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(data)(items)
    except TypeError:
        return items


def _is_numpy_value(data):
    return type(data).__module__ == "numpy" and type(data).__name__ not in ("str_", "string_")


def default_convert(data):
    """Turns every NumPy array and NumPy scalar inside ``data`` (through mappings, namedtuples and
    sequences) into a tensor and leaves everything else alone; tuples become lists. The DataLoader's
    collate function when automatic batching is off (``batch_size=None``)."""
    if isinstance(data, ferrotorch.Tensor):
        return data
    if _is_numpy_value(data):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return ferrotorch.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def collate(batch, *, collate_fn_map=None):
    """Collates ``batch`` (a list of samples of one structure) element-wise: leaves go to the function
    ``collate_fn_map`` registers for their type (exact type first, then the first ``isinstance`` match);
    mappings, namedtuples and sequences are collated field by field."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type, fn in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # tuples become lists, as in PyTorch
        return _rebuild_sequence(elem, columns)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stacks tensors along a new first dimension."""
    return ferrotorch.stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """Arrays become tensors, then are collated as tensors; string and object arrays are refused."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([ferrotorch.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars become a 1-d tensor of their dtype."""
    # Through one array so the dtype is NumPy's (a list of float64 scalars stays float64).
    return ferrotorch.as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats become a float64 tensor."""
    return ferrotorch.tensor(batch, dtype=ferrotorch.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints become an int64 tensor (bools a bool tensor)."""
    return ferrotorch.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes stay a list."""
    return batch


default_collate_fn_map = {
    ferrotorch.Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Puts a list of samples together into a batch with a new first dimension: tensors are stacked,
    NumPy arrays and scalars, floats (float64) and ints (int64) become tensors, strings and bytes stay
    a list, and mappings, namedtuples and sequences are collated field by field (tuples give lists).
    The DataLoader's collate function when batching."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
