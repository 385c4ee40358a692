"""``CIFAR10`` and ``CIFAR100`` from the "python version" pickle batches, read without running pickled code.

The batches are Python 2 pickles of dicts holding a uint8 ``data`` array (N x 3072, channel-major rows) and
label lists. They are read with a restricted unpickler: only plain containers, strings, bytes, numbers and
NumPy arrays of plain numeric dtypes are rebuilt; any other global in the stream is refused.

>>> from ember.vision.datasets import CIFAR10
>>> ds = CIFAR10("data", train=False, download=True)       # doctest: +SKIP
>>> img, label = ds[0]                                       # doctest: +SKIP
"""
from __future__ import annotations

import io
import os
import pickle
from typing import Any, Callable

import numpy as np

from ...utils.data import Dataset
from .mnist import _pil_image
from .utils import check_integrity, download_and_extract_archive

__all__ = ["CIFAR10", "CIFAR100", "load_pickle_batch"]


def _reconstruct(cls: Any, shape: Any, dtype: Any) -> np.ndarray:
    if cls is not np.ndarray:
        raise pickle.UnpicklingError("only numpy.ndarray may be rebuilt from a dataset pickle")
    return np.ndarray.__new__(np.ndarray, shape, _dtype("b"))


def _dtype(spec: Any, align: bool = False, copy: bool = False) -> np.dtype:
    dt = np.dtype(spec)
    if dt.hasobject or dt.kind not in "biuf" and not (dt.kind == "S" or dt.kind == "U"):
        raise pickle.UnpicklingError(f"refusing to rebuild an array of dtype {dt} from a dataset pickle")
    return dt


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: str) -> np.ndarray:
    # protocol 5 pickles arrays as raw buffers
    if not isinstance(buf, (bytes, bytearray)) or order not in ("C", "F"):
        raise pickle.UnpicklingError("malformed array buffer in a dataset pickle")
    return np.frombuffer(bytes(buf), dtype=_dtype(dtype)).reshape(shape, order=order).copy()


def _encode(text: Any, encoding: str = "utf-8") -> bytes:
    # how protocol-2 pickles written by Python 3 spell a bytes object
    if not isinstance(text, str) or not isinstance(encoding, str):
        raise pickle.UnpicklingError("_codecs.encode may only turn a str into bytes here")
    return text.encode(encoding)


class _RestrictedUnpickler(pickle.Unpickler):
    """Rebuilds only ndarrays of numeric dtypes; every other global is refused."""

    _allowed = {("_codecs", "encode"): _encode,
                ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
                ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
                ("numpy.core.numeric", "_frombuffer"): _frombuffer,
                ("numpy._core.numeric", "_frombuffer"): _frombuffer,
                ("numpy", "ndarray"): np.ndarray,
                ("numpy", "dtype"): _dtype}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset pickle "
                                         f"(only plain data is accepted)") from None


def load_pickle_batch(path: str) -> dict:
    """Read one CIFAR batch/meta pickle safely; keys are returned as ``str``."""
    with open(path, "rb") as f:
        blob = f.read()
    try:
        entry = _RestrictedUnpickler(io.BytesIO(blob), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise RuntimeError(f"{path} is not a valid CIFAR batch (corrupt or unsafe pickle): {e}") from e
    if not isinstance(entry, dict):
        raise RuntimeError(f"{path} is not a valid CIFAR batch: expected a dict, got {type(entry).__name__}")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in entry.items()}


class CIFAR10(Dataset):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    ``data`` is a uint8 array (N, 32, 32, 3) and ``targets`` a list of ints, as torchvision's.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"],
                  ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
                  ["data_batch_4", "634d18415352ddfa80567beed471001a"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    labels_key = "labels"

    def __init__(self, root: str, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        self.root = os.path.expanduser(str(root))
        self.train = train
        self.transform, self.target_transform = transform, target_transform
        if download:
            self.download()
        files = self.train_list if train else self.test_list
        folder = os.path.join(self.root, self.base_folder)
        missing = [f for f, _ in files + [[self.meta["filename"], None]] if not os.path.isfile(os.path.join(folder, f))]
        if missing:
            raise RuntimeError(f"Dataset not found or corrupted ({', '.join(missing)} missing in {folder}). "
                               f"You can use download=True to download it")
        data, targets = [], []
        for name, _ in files:
            entry = load_pickle_batch(os.path.join(folder, name))
            if "data" not in entry or self.labels_key not in entry:
                raise RuntimeError(f"{os.path.join(folder, name)} is not a valid CIFAR batch: it lacks "
                                   f"'data' or '{self.labels_key}'")
            arr = np.asarray(entry["data"], dtype=np.uint8)
            labels = list(entry[self.labels_key])
            if arr.ndim != 2 or arr.shape[1] != 3072 or len(labels) != len(arr):
                raise RuntimeError(f"{os.path.join(folder, name)} is corrupt: data of shape {arr.shape} with "
                                   f"{len(labels)} labels (expected N x 3072 and N labels)")
            data.append(arr)
            targets.extend(int(t) for t in labels)
        self.data = np.ascontiguousarray(np.vstack(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        self.targets = targets
        meta = load_pickle_batch(os.path.join(folder, self.meta["filename"]))
        self.classes = [c.decode() if isinstance(c, bytes) else str(c) for c in meta[self.meta["key"]]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _check_integrity(self) -> bool:
        folder = os.path.join(self.root, self.base_folder)
        return all(check_integrity(os.path.join(folder, f), md5) for f, md5 in self.train_list + self.test_list)

    def download(self) -> None:
        """Fetch and verify the archive, then extract it (path-traversal safe) unless the files are there."""
        if self._check_integrity():
            return
        download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple:
        img, target = self.data[index], self.targets[index]
        image = _pil_image()
        if image is not None:
            img = image.fromarray(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}", self.extra_repr()]
        return f"Dataset {type(self).__name__}\n    " + "\n    ".join(lines)


class CIFAR100(CIFAR10):
    """CIFAR-100: like CIFAR-10 with 100 fine classes (``fine_labels``)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
    labels_key = "fine_labels"
