"""Functional transforms on PIL images, NumPy arrays and tensors."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ... import _creation
from ..._tensor import Tensor

__all__ = ["to_tensor", "normalize", "pil_to_tensor"]


def _as_array(pic: Any) -> np.ndarray:
    if isinstance(pic, np.ndarray):
        return pic
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None and isinstance(pic, Image.Image):
        return np.asarray(pic)
    raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")


def to_tensor(pic: Any) -> Tensor:
    """HxW(xC) uint8 image -> float tensor CxHxW in [0, 1] (other dtypes are converted without scaling)."""
    arr = _as_array(pic)
    if arr.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        from ..._dtype import get_default_dtype
        return _creation.from_numpy(chw.astype(get_default_dtype().np_dtype) / np.float32(255))
    return _creation.from_numpy(chw.copy())


def pil_to_tensor(pic: Any) -> Tensor:
    """Image -> CxHxW tensor keeping the dtype (no scaling)."""
    arr = _as_array(pic)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return _creation.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """(x - mean[c]) / std[c] per channel of a (..., C, H, W) float tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.dim() < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tuple(tensor.shape)}")
    m = np.asarray(mean, dtype=tensor._data.dtype).reshape(-1, 1, 1)
    s = np.asarray(std, dtype=tensor._data.dtype).reshape(-1, 1, 1)
    if (s == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if inplace:
        tensor._data -= m
        tensor._data /= s
        tensor._vc[0] += 1
        return tensor
    return (tensor - _creation.from_numpy(m)) / _creation.from_numpy(s)
