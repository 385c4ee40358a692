"""``DatasetFolder`` and ``ImageFolder``: samples arranged as ``root/<class>/**/<file>``.

>>> from ember.vision.datasets import ImageFolder
>>> ds = ImageFolder("data/train")                          # doctest: +SKIP
>>> ds.classes, ds[0][1]                                     # doctest: +SKIP
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from ...utils.data import Dataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "has_file_allowed_extension", "is_image_file",
           "find_classes", "make_dataset", "pil_loader", "default_loader"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions: Union[str, Tuple[str, ...]]) -> bool:
    """Whether ``filename`` ends with one of ``extensions`` (case-insensitive).

    >>> has_file_allowed_extension("a.PNG", (".png",))
    True
    """
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename: str) -> bool:
    """Whether ``filename`` has one of ``IMG_EXTENSIONS``.

    >>> is_image_file("x.jpg")
    True
    """
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory: str) -> Tuple[List[str], Dict[str, int]]:
    """Sorted sub-folder names of ``directory`` and their indices.

    >>> find_classes("data/train")                             # doctest: +SKIP
    (['cat', 'dog'], {'cat': 0, 'dog': 1})
    """
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory: str, class_to_idx: Optional[Dict[str, int]] = None,
                 extensions: Optional[Union[str, Tuple[str, ...]]] = None,
                 is_valid_file: Optional[Callable[[str], bool]] = None, allow_empty: bool = False) -> List[Tuple[str, int]]:
    """(path, class index) of every valid file, classes in index order, files sorted within each class.

    >>> make_dataset("data/train", extensions=(".png",))     # doctest: +SKIP
    """
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    both_none = extensions is None and is_valid_file is None
    both_something = extensions is not None and is_valid_file is not None
    if both_none or both_something:
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(x: str) -> bool:
            return has_file_allowed_extension(x, extensions)  # type: ignore[arg-type]
    instances, found = [], set()
    for target_class in sorted(class_to_idx, key=lambda c: class_to_idx[c]):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    found.add(target_class)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(msg)
    return instances


class DatasetFolder(Dataset):
    """Generic folder dataset: ``loader(path)`` for each file under ``root/<class>/``.

    Attributes as torchvision's: ``classes``, ``class_to_idx``, ``samples`` (path, index) and ``targets``.
    """

    def __init__(self, root: str, loader: Callable[[str], Any], extensions: Optional[Tuple[str, ...]] = None,
                 transform: Optional[Callable] = None, target_transform: Optional[Callable] = None,
                 is_valid_file: Optional[Callable[[str], bool]] = None, allow_empty: bool = False) -> None:
        self.root = os.path.expanduser(str(root))
        self.transform, self.target_transform = transform, target_transform
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"Dataset folder not found: {self.root}")
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader, self.extensions = loader, extensions
        self.classes, self.class_to_idx = classes, class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory: str, class_to_idx: Dict[str, int], extensions: Optional[Tuple[str, ...]] = None,
                     is_valid_file: Optional[Callable[[str], bool]] = None,
                     allow_empty: bool = False) -> List[Tuple[str, int]]:
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file,
                            allow_empty=allow_empty)

    def find_classes(self, directory: str) -> Tuple[List[str], Dict[str, int]]:
        """Override to customise how classes are discovered."""
        return find_classes(directory)

    def __getitem__(self, index: int) -> Tuple[Any, Any]:
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self) -> int:
        return len(self.samples)

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}"]
        return f"Dataset {type(self).__name__}\n    " + "\n    ".join(lines)


def pil_loader(path: str) -> Any:
    """Open an image file with Pillow and convert it to RGB.

    >>> pil_loader("cat.png").mode                              # doctest: +SKIP
    'RGB'
    """
    from ..transforms._functional_pil import pil_image_module
    Image = pil_image_module(required=True)
    with open(path, "rb") as f:
        try:
            img = Image.open(f)
            return img.convert("RGB")
        except (OSError, SyntaxError, ValueError) as e:
            raise RuntimeError(f"Cannot read image file {path}: {e}") from e


def default_loader(path: str) -> Any:
    """The loader ``ImageFolder`` uses (Pillow, RGB).

    >>> default_loader("cat.png").size                          # doctest: +SKIP
    (32, 32)
    """
    return pil_loader(path)


class ImageFolder(DatasetFolder):
    """Images under ``root/<class>/``, loaded with Pillow as RGB (``imgs`` is an alias of ``samples``)."""

    def __init__(self, root: str, transform: Optional[Callable] = None, target_transform: Optional[Callable] = None,
                 loader: Callable[[str], Any] = default_loader, is_valid_file: Optional[Callable[[str], bool]] = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
