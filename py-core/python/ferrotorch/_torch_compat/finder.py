"""The import hook: a ``sys.meta_path`` finder that answers ``torch.X.Y`` with ``ferrotorch.X.Y``.

The module handed back is the ferrotorch module itself (not a copy or a proxy), so identities
hold: ``torch.Tensor is ferrotorch.Tensor``, ``torch.float32 is ferrotorch.float32``, and a
pickle naming ``torch.nn.modules.linear.Linear`` unpickles to ferrotorch's ``Linear``.
"""

import importlib
import importlib.abc
import importlib.machinery
import sys

# PyTorch package -> the ferrotorch-family package that stands in for it.
ALIASES = {
    "torch": "ferrotorch",
    "torchvision": "ferrovision",
    "torchaudio": "ferroaudio",
    "torchtext": "ferrotext",
}

def _split(fullname):
    """``("torch", "nn.functional")`` for ``"torch.nn.functional"``; ``None`` for unmapped names."""
    root, _, rest = fullname.partition(".")
    if root not in ALIASES:
        return None
    return root, rest


def target_name(fullname):
    """The ferrotorch-family module name that ``fullname`` maps to, or ``None`` if unmapped."""
    split = _split(fullname)
    if split is None:
        return None
    root, rest = split
    return ALIASES[root] + ("." + rest if rest else "")


def _is_missing(error, target):
    """Whether ``error`` says ``target`` itself (or a package above it) does not exist, as opposed
    to a module that ``target`` imports being missing."""
    return error.name is not None and (target == error.name or target.startswith(error.name + "."))


def _import_target(fullname):
    target = target_name(fullname)
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as error:
        if not _is_missing(error, target):
            raise
        root = ALIASES[fullname.partition(".")[0]]
        if error.name == root:
            reason = f"ferrotorch.run maps {fullname.partition('.')[0]!r} to {root!r}, which is not installed"
        else:
            reason = f"ferrotorch.run maps it to {target!r}, which does not exist"
        raise ModuleNotFoundError(f"No module named {fullname!r}: {reason}", name=fullname) from None


class TorchAliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torch*`` modules and loads them as the existing ferrotorch-family modules.

    A missing target raises ``ModuleNotFoundError`` naming both modules instead of letting the
    search go on: a real ``torch`` found later on ``sys.path`` would mix the two libraries.
    """

    def __init__(self):
        self.aliased = set()  # the sys.modules names this finder created

    def find_spec(self, fullname, path=None, target=None):
        if _split(fullname) is None:
            return None
        module = _import_target(fullname)
        return importlib.machinery.ModuleSpec(
            fullname, self, loader_state=(module, module.__spec__), is_package=hasattr(module, "__path__")
        )

    def create_module(self, spec):
        return spec.loader_state[0]

    def exec_module(self, module):
        # The import system stamped the alias spec onto the module; ferrotorch keeps its own.
        alias_spec = module.__spec__
        module.__spec__ = alias_spec.loader_state[1]
        self.aliased.add(alias_spec.name)


_finder = None
_stashed = {}  # modules of a real torch imported before install(), restored by uninstall()


def installed():
    """Whether the hook is active."""
    return _finder is not None and _finder in sys.meta_path


def install():
    """Makes ``import torch`` (and ``torchvision``, ``torchaudio``, ``torchtext``) resolve to the
    ferrotorch-family packages in this process. Modules of a real torch already imported are set
    aside and come back on :func:`uninstall`. Calling it twice does nothing more."""
    global _finder
    if installed():
        return
    for name in list(sys.modules):
        if _split(name) is not None:
            _stashed[name] = sys.modules.pop(name)
    _finder = TorchAliasFinder()
    sys.meta_path.insert(0, _finder)


def uninstall():
    """Undoes :func:`install`: removes the hook and the ``torch*`` names it put in
    ``sys.modules``, and restores whatever was there before."""
    global _finder
    if _finder is None:
        return
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in _finder.aliased:
        sys.modules.pop(name, None)
    sys.modules.update(_stashed)
    _stashed.clear()
    _finder = None
