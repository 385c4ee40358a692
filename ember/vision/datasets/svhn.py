"""``SVHN``: Street View House Numbers (cropped digits) from the official ``.mat`` files, read with SciPy.

>>> from ember.vision.datasets import SVHN
>>> ds = SVHN("data", split="test", download=True)          # doctest: +SKIP
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

from ...utils.data import Dataset
from .mnist import _pil_image
from .utils import check_integrity, download_url

__all__ = ["SVHN"]


class SVHN(Dataset):
    """32x32 colour digits; split ``train`` (73,257), ``test`` (26,032) or ``extra`` (531,131).

    ``data`` is uint8 (N, 3, 32, 32) and ``labels`` int64 (N,), with the files' label 10 mapped to 0.
    Needs SciPy to read MATLAB files.
    """

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root: str, split: str = "train", transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        if split not in self.split_list:
            raise ValueError(f"Unknown value '{split}' for argument split. Valid values are "
                             f"{{{', '.join(repr(s) for s in self.split_list)}}}.")
        self.root = os.path.expanduser(str(root))
        self.split = split
        self.transform, self.target_transform = transform, target_transform
        self.url, self.filename, self.file_md5 = self.split_list[split]
        path = os.path.join(self.root, self.filename)
        if download and not check_integrity(path, self.file_md5):
            download_url(self.url, self.root, self.filename, self.file_md5)
        if not os.path.isfile(path):
            raise RuntimeError(f"Dataset not found ({path} is missing). You can use download=True to download it")
        try:
            import scipy.io as sio
        except ImportError as e:
            raise ImportError("SVHN needs SciPy to read its .mat files: pip install scipy") from e
        try:
            mat = sio.loadmat(path)
        except Exception as e:  # SciPy raises several types for a damaged file
            raise RuntimeError(f"{path} is not a readable MATLAB file (corrupt or truncated): {e}") from e
        if "X" not in mat or "y" not in mat:
            raise RuntimeError(f"{path} lacks the 'X' and 'y' arrays of an SVHN file")
        x, y = np.asarray(mat["X"]), np.asarray(mat["y"]).astype(np.int64).squeeze(-1) if np.ndim(mat["y"]) > 1 \
            else np.asarray(mat["y"]).astype(np.int64)
        if x.ndim != 4 or x.shape[2] != 3 or x.shape[3] != len(y):
            raise RuntimeError(f"{path} is corrupt: X has shape {x.shape} for {len(y)} labels (expected "
                               f"32 x 32 x 3 x N)")
        self.data = np.ascontiguousarray(np.transpose(x, (3, 2, 0, 1)).astype(np.uint8))
        np.place(y, y == 10, 0)
        self.labels = y

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple:
        img, target = self.data[index], int(self.labels[index])
        image = _pil_image()
        img = np.transpose(img, (1, 2, 0))
        if image is not None:
            img = image.fromarray(np.ascontiguousarray(img))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self) -> str:
        return f"Split: {self.split}"
