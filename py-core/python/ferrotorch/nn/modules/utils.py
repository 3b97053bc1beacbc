"""Argument helpers shared by the layer families: int-or-tuple arguments, as PyTorch's
``torch.nn.modules.utils``."""

import collections.abc
from itertools import repeat

__all__ = []


def _ntuple(n, name="parse"):
    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """Reverses ``t`` and repeats each element ``n`` times: (1, 2) -> (2, 2, 1, 1), the layout
    ``F.pad`` wants for per-dim padding given first dim first."""
    return tuple(x for x in reversed(t) for _ in range(n))
