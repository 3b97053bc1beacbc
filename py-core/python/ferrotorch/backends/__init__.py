"""``ferrotorch.backends``: what each compute backend offers and the switches that tune it
(``torch.backends``). Flags are plain module attributes, set as in PyTorch
(``ferrotorch.backends.cudnn.benchmark = True``) or for a block with the module's ``flags()``."""

from . import cpu, cuda, cudnn, mkldnn, mps, openmp  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "openmp"]
