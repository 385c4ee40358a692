"""``FakeData``: random images with random labels, the same for the same index and seed.

>>> from ember.vision.datasets import FakeData
>>> ds = FakeData(size=4, image_size=(3, 8, 8))
>>> len(ds)
4
"""
from __future__ import annotations

from typing import Callable, Sequence

from ... import _random
from ...utils.data import Dataset

__all__ = ["FakeData"]


class FakeData(Dataset):
    """``size`` samples of standard-normal images (as PIL when Pillow is installed) and labels.

    Sample ``i`` is drawn from a private generator seeded with ``i + random_offset``, so it is the same
    every time and in every worker, and the global generator is left alone.
    """

    def __init__(self, size: int = 1000, image_size: Sequence[int] = (3, 224, 224), num_classes: int = 10,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 random_offset: int = 0) -> None:
        self.size, self.num_classes = size, num_classes
        self.image_size = tuple(image_size)
        self.transform, self.target_transform = transform, target_transform
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple:
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        g = _random.Generator().manual_seed(index + self.random_offset)
        img = _random.randn(*self.image_size, generator=g)
        target = int(_random.randint(0, self.num_classes, (1,), generator=g).item())
        from ..transforms import functional as F
        from ..transforms._functional_pil import pil_image_module
        if pil_image_module() is not None:
            img = F.to_pil_image(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return self.size
