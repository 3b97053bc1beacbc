"""``python -m ferrotorch.run script.py [args]``: run PyTorch code on ferrotorch, unchanged.

An import hook answers ``import torch`` (and every ``torch.X.Y``) with the ferrotorch module of
the same path, then the script runs as ``__main__`` exactly as ``python script.py`` would run it:
``sys.argv`` is ``[script, *args]``, the script's folder heads ``sys.path``, exceptions propagate
with their tracebacks and ``sys.exit`` codes pass through. ``python -m ferrotorch.run -m module
[args]`` runs a module as ``python -m module`` does. :func:`install` and :func:`uninstall` turn the
hook on and off for programmatic use.
"""

import os
import runpy
import sys

from ferrotorch._torch_compat import ALIASES, install, installed, uninstall  # noqa: F401

__all__ = ["install", "uninstall", "installed", "ALIASES", "main", "run_script", "run_module"]

USAGE = "usage: python -m ferrotorch.run (script.py | -m module) [args ...]"


def run_script(path, args):
    """Runs the file at ``path`` as ``__main__`` with ``sys.argv = [path, *args]``."""
    sys.argv = [path, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    runpy.run_path(path, run_name="__main__")


def run_module(name, args):
    """Runs module ``name`` as ``__main__``, as ``python -m name args`` does."""
    sys.argv = [name, *args]  # runpy replaces argv[0] with the module's file
    sys.path[0] = os.getcwd()
    runpy.run_module(name, run_name="__main__", alter_sys=True)


def main(argv=None):
    """The command line: installs the hook, then runs the script or module it names."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        sys.exit(2 if not argv else 0)
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print("Argument expected for the -m option\n" + USAGE, file=sys.stderr)
            sys.exit(2)
        run_module(argv[1], argv[2:])
    else:
        run_script(argv[0], argv[1:])


if __name__ == "__main__":
    main()
