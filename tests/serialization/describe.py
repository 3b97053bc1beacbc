"""Describes a loaded checkpoint as JSON-able structure plus NumPy arrays, the same way for PyTorch
(in data/make_reference.py, which writes the expectations) and for ferrotorch (in the tests)."""

import numpy as np


def describe(obj, lib):
    """``(tree, arrays)``: ``tree`` mirrors ``obj`` (containers, values, tensor metadata with a
    storage group so sharing can be compared), ``arrays`` maps tensor paths to their values
    (bfloat16 as float32)."""
    arrays, groups = {}, {}

    def storage_group(t):
        if t.numel() == 0:
            return None  # empty tensors have no storage to share
        ptr = t.untyped_storage().data_ptr() if hasattr(t, "untyped_storage") else t.untyped_storage_ptr()
        return groups.setdefault(ptr, len(groups))

    def walk(x, path):
        if isinstance(x, lib.Tensor):
            values = x.detach()
            if values.dtype == lib.bfloat16:
                values = values.float()
            arrays[path] = np.array(values.numpy(), copy=True)
            return {
                "kind": "parameter" if isinstance(x, lib.nn.Parameter) else "tensor",
                "dtype": str(x.dtype),
                "shape": list(x.shape),
                "stride": list(x.stride()),
                "storage_offset": x.storage_offset(),
                "requires_grad": x.requires_grad,
                "storage": storage_group(x),
            }
        if isinstance(x, lib.Size):
            return {"kind": "size", "value": list(x)}
        if isinstance(x, lib.dtype):
            return {"kind": "dtype", "value": str(x)}
        if isinstance(x, lib.device):
            return {"kind": "device", "value": str(x)}
        if isinstance(x, dict):
            items = {str(k): walk(v, f"{path}/{k}") for k, v in x.items()}
            extra = {k: walk(v, f"{path}/@{k}") for k, v in vars(x).items()} if hasattr(x, "__dict__") else {}
            return {"kind": type(x).__name__, "keys": [repr(k) for k in x], "items": items, "attrs": extra}
        if isinstance(x, (list, tuple)):
            return {"kind": type(x).__name__, "items": [walk(v, f"{path}/{i}") for i, v in enumerate(x)]}
        if x is None or isinstance(x, (bool, int, float, str)):
            return {"kind": type(x).__name__, "value": x}
        raise TypeError(f"cannot describe {type(x)} at {path}")

    return walk(obj, ""), arrays
