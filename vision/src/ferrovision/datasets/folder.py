"""`DatasetFolder` and `ImageFolder`: one sub-folder per class, samples found by extension or predicate."""

import os
from typing import Any, Callable, Optional, Union

from PIL import Image

from .vision import VisionDataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions: Union[str, tuple[str, ...]]) -> bool:
    """True if `filename` ends (case-insensitively) with one of `extensions` (given lowercase)."""
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename: str) -> bool:
    """True if `filename` has one of the `IMG_EXTENSIONS`."""
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory) -> tuple[list[str], dict[str, int]]:
    """Sorted class folder names in `directory` and the name -> index map."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(
    directory,
    class_to_idx: Optional[dict[str, int]] = None,
    extensions: Optional[Union[str, tuple[str, ...]]] = None,
    is_valid_file: Optional[Callable[[str], bool]] = None,
    allow_empty: bool = False,
) -> list[tuple[str, int]]:
    """``(path, class_index)`` for every valid file under each class folder, walked in sorted order.

    Exactly one of `extensions` and `is_valid_file` must be given. A class without any valid file raises
    FileNotFoundError unless `allow_empty`.
    """
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")

    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:

        def is_valid_file(path: str) -> bool:
            return has_file_allowed_extension(path, extensions)

    instances = []
    available_classes = set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    available_classes.add(target_class)

    empty_classes = set(class_to_idx) - available_classes
    if empty_classes and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty_classes))}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(msg)
    return instances


class DatasetFolder(VisionDataset):
    """A generic dataset of files arranged as ``root/<class>/**/<file>``.

    Args:
        root (str or ``pathlib.Path``): Root directory path.
        loader (callable): Loads a sample given its path.
        extensions (tuple[str], optional): Allowed extensions (exclusive with `is_valid_file`).
        transform (callable, optional): Takes a sample and returns a transformed version.
        target_transform (callable, optional): Takes the target and transforms it.
        is_valid_file (callable, optional): Takes a path and says whether it is a valid sample
            (exclusive with `extensions`).
        allow_empty (bool, optional): If True, class folders without valid files are allowed. Default: False.

    Attributes:
        classes (list): Class names, sorted.
        class_to_idx (dict): Class name -> index.
        samples (list): ``(path, class_index)`` tuples.
        targets (list): The class index of each sample.
    """

    def __init__(
        self,
        root,
        loader: Callable[[str], Any],
        extensions: Optional[tuple[str, ...]] = None,
        transform: Optional[Callable] = None,
        target_transform: Optional[Callable] = None,
        is_valid_file: Optional[Callable[[str], bool]] = None,
        allow_empty: bool = False,
    ) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(
            self.root,
            class_to_idx=class_to_idx,
            extensions=extensions,
            is_valid_file=is_valid_file,
            allow_empty=allow_empty,
        )
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(
        directory,
        class_to_idx: dict[str, int],
        extensions: Optional[tuple[str, ...]] = None,
        is_valid_file: Optional[Callable[[str], bool]] = None,
        allow_empty: bool = False,
    ) -> list[tuple[str, int]]:
        """``(path, class_index)`` samples; override to read from elsewhere (e.g. a zip file)."""
        if class_to_idx is None:
            # The module-level function would fall back to the module-level find_classes, not an override.
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(
            directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file, allow_empty=allow_empty
        )

    def find_classes(self, directory) -> tuple[list[str], dict[str, int]]:
        """Class folders of `directory` (override to change the layout or keep a subset of classes)."""
        return find_classes(directory)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(sample, class index) at `index`, transformed."""
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self) -> int:
        return len(self.samples)


def pil_loader(path) -> Image.Image:
    """Open an image file with PIL and convert it to RGB."""
    # Opening the file ourselves closes it promptly (PIL would keep it open lazily).
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def default_loader(path) -> Image.Image:
    """The loader `ImageFolder` uses: `pil_loader` (ferrovision has no accimage backend)."""
    return pil_loader(path)


class ImageFolder(DatasetFolder):
    """A `DatasetFolder` of images (``root/dog/xxx.png``, ``root/cat/123.png``) loaded as RGB PIL images.

    Args:
        root (str or ``pathlib.Path``): Root directory path.
        transform (callable, optional): Takes a PIL image and returns a transformed version.
        target_transform (callable, optional): Takes the target and transforms it.
        loader (callable, optional): Loads an image given its path. Default: `default_loader`.
        is_valid_file (callable, optional): Takes a path and says whether it is a valid image; when given,
            `IMG_EXTENSIONS` is not used.
        allow_empty (bool, optional): If True, class folders without images are allowed. Default: False.

    Attributes:
        imgs (list): ``(path, class_index)`` tuples (the same list as `samples`).
    """

    def __init__(
        self,
        root,
        transform: Optional[Callable] = None,
        target_transform: Optional[Callable] = None,
        loader: Callable[[str], Any] = default_loader,
        is_valid_file: Optional[Callable[[str], bool]] = None,
        allow_empty: bool = False,
    ):
        super().__init__(
            root,
            loader,
            IMG_EXTENSIONS if is_valid_file is None else None,
            transform=transform,
            target_transform=target_transform,
            is_valid_file=is_valid_file,
            allow_empty=allow_empty,
        )
        self.imgs = self.samples
