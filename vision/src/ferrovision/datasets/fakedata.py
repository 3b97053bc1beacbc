"""`FakeData`: random images that depend only on the index, for testing pipelines without data."""

from typing import Any, Callable, Optional

import ferrotorch

from ..transforms import functional as F
from .vision import VisionDataset


class FakeData(VisionDataset):
    """A fake dataset of random PIL images and random targets, the same for the same index every time.

    Item `i` is drawn after ``manual_seed(i + random_offset)`` with the global generator (its state is
    restored afterwards), as torchvision does, so the items equal torchvision's.

    Args:
        size (int, optional): Number of items. Default: 1000.
        image_size (tuple, optional): ``(C, H, W)`` of the images. Default: ``(3, 224, 224)``.
        num_classes (int, optional): Number of classes. Default: 10.
        transform (callable, optional): Takes a PIL image and returns a transformed version.
        target_transform (callable, optional): Takes the target (a 0-d int64 tensor) and transforms it.
        random_offset (int): Added to the index to form the seed. Default: 0.
    """

    def __init__(
        self,
        size: int = 1000,
        image_size: tuple[int, int, int] = (3, 224, 224),
        num_classes: int = 10,
        transform: Optional[Callable] = None,
        target_transform: Optional[Callable] = None,
        random_offset: int = 0,
    ) -> None:
        super().__init__(transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(PIL image, int target) for `index`, transformed."""
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        rng_state = ferrotorch.get_rng_state()
        ferrotorch.manual_seed(index + self.random_offset)
        img = ferrotorch.randn(*self.image_size)
        target = ferrotorch.randint(0, self.num_classes, size=(1,), dtype=ferrotorch.long)[0]
        ferrotorch.set_rng_state(rng_state)

        # As torchvision's ToPILImage does for float tensors: scale by 255 and cast with the tensor's
        # own conversion (values outside [0, 1] wrap), before going to NumPy.
        img = F.to_pil_image(img.mul(255).byte())
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target.item()

    def __len__(self) -> int:
        return self.size
