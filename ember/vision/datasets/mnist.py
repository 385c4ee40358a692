"""``MNIST`` and ``FashionMNIST`` from IDX files (gzipped or not), as torchvision reads them.

Files are looked for in ``root/<ClassName>/raw/``, then ``root`` itself, then (for
Fashion-MNIST) the Debian package ``dataset-fashion-mnist`` under
``/usr/share/datasets/fashion-mnist``. ``download=True`` fetches missing files from the
official mirrors and verifies their MD5 checksums.

>>> from ember.vision.datasets import FashionMNIST
>>> ds = FashionMNIST("data", train=False)          # doctest: +SKIP
>>> img, label = ds[0]                                # doctest: +SKIP
"""
from __future__ import annotations

import gzip
import os
import string
from typing import Any, Callable

import numpy as np

from ... import _creation
from ...utils.data import Dataset
from .utils import download_and_extract_archive, download_from_mirrors

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "read_idx"]

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a NumPy array, validating its header."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise RuntimeError(f"{path} is not an IDX file (bad magic number)")
    ndim = data[3]
    dims = np.frombuffer(data, ">u4", ndim, 4).astype(np.int64)
    dt = np.dtype(_IDX_DTYPES[data[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) * dt.itemsize
    if len(data) - offset != expected:
        raise RuntimeError(f"{path} is truncated or corrupt: expected {expected} data bytes, found "
                           f"{len(data) - offset}")
    return np.frombuffer(data, dt, offset=offset).reshape(tuple(dims)).astype(dt.newbyteorder("="))


class MNIST(Dataset):
    """The MNIST digits: 60,000 training and 10,000 test images (28x28, uint8) with labels 0-9."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    system_dirs: tuple = ()

    def __init__(self, root: str, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        self.root = os.path.expanduser(str(root))
        self.train = train
        self.transform, self.target_transform = transform, target_transform
        prefix = self._file_prefix
        if download and self._find(prefix) is None:
            self.download()
        found = self._find(prefix)
        if found is None:
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        images, labels = found
        imgs, labs = read_idx(images), read_idx(labels)
        if imgs.ndim != 3 or labs.ndim != 1 or len(imgs) != len(labs):
            raise RuntimeError(f"{images} and {labels} do not hold matching images (N, H, W) and labels (N,)")
        self.data = _creation.from_numpy(np.ascontiguousarray(imgs))
        self.targets = _creation.from_numpy(labs.astype(np.int64))

    @property
    def _file_prefix(self) -> str:
        return "train" if self.train else "t10k"

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def _find(self, prefix: str) -> tuple | None:
        """Paths of the image and label files, trying raw/, root and system folders, .gz or not."""
        for folder in (self.raw_folder, self.root, *self.system_dirs):
            pair = []
            for kind in ("images-idx3", "labels-idx1"):
                base = os.path.join(folder, f"{prefix}-{kind}-ubyte")
                path = next((p for p in (base, base + ".gz") if os.path.isfile(p)), None)
                pair.append(path)
            if all(pair):
                return tuple(pair)
        return None

    def download(self) -> None:
        """Fetch the four files into ``raw_folder`` (verified, atomic, resumable)."""
        for filename, md5 in self.resources:
            download_from_mirrors(self.mirrors, filename, self.raw_folder, md5)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple:
        img, target = self.data._data[index], int(self.targets._data[index])
        img = _to_image(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}", self.extra_repr()]
        if self.transform is not None:
            lines.append("StandardTransform\nTransform: " + repr(self.transform).replace("\n", "\n" + " " * 11))
        return f"Dataset {type(self).__name__}\n    " + "\n    ".join(lines)


def _to_image(img: np.ndarray) -> Any:
    """A PIL image when Pillow is installed (as torchvision), else the uint8 HxW array."""
    image = _pil_image()
    return image.fromarray(img, mode="L") if image is not None else img


_PIL: list = []


def _pil_image() -> Any:
    """PIL's Image module or None, looked up once (a failed import is slow to repeat per sample)."""
    if not _PIL:
        try:
            from PIL import Image
        except ImportError:
            Image = None
        _PIL.append(Image)
    return _PIL[0]


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 10 clothing classes, same format and sizes as MNIST."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    system_dirs = ("/usr/share/datasets/fashion-mnist",)


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 10 classes of cursive Japanese hiragana, same format and sizes as MNIST."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
                 ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
                 ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
                 ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134")]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """Extended MNIST (handwritten digits and letters) in six splits.

    ``split`` is one of ``byclass`` (62 classes), ``bymerge`` and ``balanced`` (47: similar upper/lower case
    letters merged), ``letters`` (26, labels 1-26), ``digits`` and ``mnist`` (10). Files are
    ``raw/emnist-<split>-<train|test>-{images-idx3,labels-idx1}-ubyte[.gz]``, as in NIST's ``gzip.zip``.
    Images are stored transposed, as NIST ships them (torchvision does not transpose either).

    >>> from ember.vision.datasets import EMNIST
    >>> EMNIST.classes_split_dict["digits"][:3]
    ['0', '1', '2']
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    _merged_classes = set("cijklmopsuvwxyz")
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root: str, split: str, **kwargs: Any) -> None:
        if split not in self.splits:
            raise ValueError(f"Unknown value '{split}' for argument split. Valid values are "
                             f"{{{', '.join(repr(s) for s in self.splits)}}}.")
        self.split = split
        self.classes = self.classes_split_dict[split]
        super().__init__(root, **kwargs)

    @property
    def _file_prefix(self) -> str:
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    def download(self) -> None:
        """Fetch NIST's ``gzip.zip`` (verified), extract it and keep the split files in ``raw_folder``."""
        download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5)
        folder = os.path.join(self.raw_folder, "gzip")
        for name in sorted(os.listdir(folder)):
            if name.endswith(".gz"):
                os.replace(os.path.join(folder, name), os.path.join(self.raw_folder, name))

    def extra_repr(self) -> str:
        return f"Split: {self.split}, {'Train' if self.train else 'Test'}"
