"""Compose, RandomApply, RandomChoice and RandomOrder for v2 transforms (any number of inputs)."""

from collections.abc import Sequence

import ferrotorch
from ferrotorch.nn import ModuleList

from ._transform import Transform


def _check_transforms(
    transforms, allowed=(Sequence,), message="Argument transforms should be a sequence of callables"
):
    if not isinstance(transforms, allowed):
        raise TypeError(message)
    if not transforms:
        raise ValueError("Pass at least one transform")


def _run_all(transforms, inputs):
    """Feed the outputs of each transform to the next (unpacking when called with several inputs)."""
    needs_unpacking = len(inputs) > 1
    for transform in transforms:
        outputs = transform(*inputs)
        inputs = outputs if needs_unpacking else (outputs,)
    return outputs


def _listing(transforms) -> str:
    return "\n".join(f"    {t}" for t in transforms)


class Compose(Transform):
    """Apply `transforms` one after the other."""

    def __init__(self, transforms) -> None:
        super().__init__()
        _check_transforms(transforms)
        self.transforms = transforms

    def forward(self, *inputs):
        return _run_all(self.transforms, inputs)

    def extra_repr(self) -> str:
        return _listing(self.transforms)


class RandomApply(Transform):
    """Apply all of `transforms` with probability `p`, or none."""

    def __init__(self, transforms, p=0.5) -> None:
        super().__init__()
        message = "Argument transforms should be a sequence of callables or a `nn.ModuleList`"
        _check_transforms(transforms, (Sequence, ModuleList), message)
        self.transforms = transforms
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        self.p = p

    def forward(self, *inputs):
        if ferrotorch.rand(1).item() >= self.p:
            return inputs if len(inputs) > 1 else inputs[0]
        return _run_all(self.transforms, inputs)

    def extra_repr(self) -> str:
        return _listing(self.transforms)


class RandomChoice(Transform):
    """Apply one of `transforms`, picked with probabilities `p` (normalised; uniform by default)."""

    def __init__(self, transforms, p=None) -> None:
        _check_transforms(transforms)
        if p is None:
            p = [1] * len(transforms)
        elif len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}")
        super().__init__()
        self.transforms = transforms
        total = sum(p)
        self.p = [prob / total for prob in p]

    def forward(self, *inputs):
        idx = int(ferrotorch.multinomial(ferrotorch.tensor(self.p), 1))
        return self.transforms[idx](*inputs)


class RandomOrder(Transform):
    """Apply all of `transforms` in a random order."""

    def __init__(self, transforms) -> None:
        _check_transforms(transforms)
        super().__init__()
        self.transforms = transforms

    def forward(self, *inputs):
        order = ferrotorch.randperm(len(self.transforms)).tolist()
        return _run_all([self.transforms[i] for i in order], inputs)
