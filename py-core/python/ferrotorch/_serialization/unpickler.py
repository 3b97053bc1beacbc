"""The unrestricted unpickler of ``load(weights_only=False)``: a normal unpickler whose ``torch.*``
globals resolve to their ferrotorch counterparts (``torch.nn.modules.linear.Linear`` ->
``ferrotorch.nn.modules.linear.Linear``). Only for trusted files: it can run any code."""

import importlib

from .torch_globals import safe_torch_globals


def find_torch_global(module, name):
    """The ferrotorch object standing for PyTorch's ``module.name``, or ``None`` if ``module`` is not
    PyTorch's."""
    full = f"{module}.{name}"
    known = safe_torch_globals()
    if full in known:
        return known[full]
    if module != "torch" and not module.startswith("torch."):
        return None
    try:
        obj = importlib.import_module("ferrotorch" + module[len("torch"):])
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj
    except (ImportError, AttributeError):
        raise AttributeError(f"ferrotorch has no counterpart of PyTorch's {full}, which the checkpoint uses") from None


def make_unpickler_class(pickle_module):
    """A ``pickle_module.Unpickler`` subclass mapping PyTorch's globals and loading storages."""

    class TorchUnpickler(pickle_module.Unpickler):
        def __init__(self, file, persistent_load, **kwargs):
            super().__init__(file, **kwargs)
            self._persistent_load = persistent_load

        def find_class(self, module, name):
            obj = find_torch_global(module, name)
            return obj if obj is not None else super().find_class(module, name)

        def persistent_load(self, pid):
            return self._persistent_load(pid)

    return TorchUnpickler
