"""How ``nn.functional`` and ``nn.modules`` gather their families: one file per family, each
listing its public names in ``__all__``."""

import importlib


def reexport(package, families, namespace):
    """Imports ``package.<family>`` for each family, binds its ``__all__`` names in
    ``namespace`` (a package's ``globals()``) and returns all of them.

    Importing a submodule binds the submodule's name on the package; the names bound after it
    win where they clash (``nn.functional.linear`` is the function, not the file).
    """
    names = []
    for family in families:
        module = importlib.import_module(f"{package}.{family}")
        names += module.__all__
        namespace.update({name: getattr(module, name) for name in module.__all__})
    return names
