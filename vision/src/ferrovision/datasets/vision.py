"""`VisionDataset`, the base of every dataset here, and `StandardTransform`."""

import os
from typing import Any, Callable, Optional

from ferrotorch.utils.data import Dataset


class VisionDataset(Dataset):
    """Base class for datasets compatible with ferrovision (torchvision's `VisionDataset`).

    Args:
        root (str or ``pathlib.Path``, optional): Root directory of the dataset (``~`` is expanded).
        transforms (callable, optional): Takes an image and a target, returns transformed versions of both.
        transform (callable, optional): Takes an image (usually a PIL image) and returns a transformed one.
        target_transform (callable, optional): Takes the target and returns a transformed one.

    `transforms` and the pair `transform`/`target_transform` are mutually exclusive.
    """

    _repr_indent = 4

    def __init__(
        self,
        root=None,
        transforms: Optional[Callable] = None,
        transform: Optional[Callable] = None,
        target_transform: Optional[Callable] = None,
    ) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root

        has_transforms = transforms is not None
        has_separate_transform = transform is not None or target_transform is not None
        if has_transforms and has_separate_transform:
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")

        # Kept as attributes too: datasets apply them one by one, as torchvision's do.
        self.transform = transform
        self.target_transform = target_transform
        if has_separate_transform:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def __getitem__(self, index: int) -> Any:
        """Sample and target at `index`, with the transforms applied."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __repr__(self) -> str:
        body = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if getattr(self, "transforms", None) is not None:
            body += [repr(self.transforms)]
        lines = ["Dataset " + self.__class__.__name__] + [" " * self._repr_indent + line for line in body]
        return "\n".join(lines)

    def _format_transform_repr(self, transform: Callable, head: str) -> list[str]:
        return _format_transform_repr(transform, head)

    def extra_repr(self) -> str:
        """Extra lines for ``repr`` (e.g. ``Split: Train``); empty by default."""
        return ""


def _format_transform_repr(transform: Callable, head: str) -> list[str]:
    """`head` before the first line of ``repr(transform)``, following lines indented under it."""
    lines = repr(transform).splitlines()
    return [f"{head}{lines[0]}"] + [" " * len(head) + line for line in lines[1:]]


class StandardTransform:
    """Applies `transform` to the input and `target_transform` to the target (either may be None)."""

    def __init__(self, transform: Optional[Callable] = None, target_transform: Optional[Callable] = None) -> None:
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def _format_transform_repr(self, transform: Callable, head: str) -> list[str]:
        return _format_transform_repr(transform, head)

    def __repr__(self) -> str:
        body = [self.__class__.__name__]
        if self.transform is not None:
            body += _format_transform_repr(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += _format_transform_repr(self.target_transform, "Target transform: ")
        return "\n".join(body)
