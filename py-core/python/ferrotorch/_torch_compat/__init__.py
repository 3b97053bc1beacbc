"""Running PyTorch code unchanged on ferrotorch: an import hook that answers ``import torch``
(and ``torchvision``, ``torchaudio``, ``torchtext``) with the ferrotorch packages.

``ferrotorch.run`` is the public face (``python -m ferrotorch.run script.py``, ``install()``,
``uninstall()``); this package holds the machinery.
"""

from .finder import ALIASES, TorchAliasFinder, install, installed, uninstall  # noqa: F401

__all__ = ["ALIASES", "TorchAliasFinder", "install", "installed", "uninstall"]
