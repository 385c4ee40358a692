"""Collation: turning a list of samples into a batch (``default_collate``) and NumPy into tensors
(``default_convert``), with PyTorch's rules.

Tensors and NumPy arrays are stacked in one NumPy call on the host arrays; Python floats
become float64 tensors and ints int64 tensors; strings stay lists; mappings, namedtuples and
sequences are collated field by field.

>>> import ember
>>> from ember.utils.data import default_collate
>>> default_collate([{"x": 1.0, "y": 2}, {"x": 3.0, "y": 4}])
{'x': tensor([1., 3.], dtype=ember.float64), 'y': tensor([2, 4])}
"""
from __future__ import annotations

import collections.abc
import re
from typing import Any, Callable

import numpy as np

import ember
from ember._tensor import Tensor, _wrap

__all__ = ["default_collate", "default_convert", "collate"]

_np_str_obj_array_pattern = re.compile(r"[SaUO]")

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def default_convert(data: Any) -> Any:
    """NumPy arrays (also inside mappings/sequences) to tensors; everything else unchanged.

    >>> default_convert(np.zeros(2))
    tensor([0., 0.], dtype=ember.float64)
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if isinstance(data, np.ndarray) and _np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return ember.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = __import__("copy").copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if _is_namedtuple(data):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def _collate_tensors(batch: list) -> Tensor:
    first = batch[0]
    shape = first._data.shape
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                               f"and {list(t._data.shape)} at entry {i}")
        if t._device != first._device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                               f"{first._device} and {t._device}!")
    if first._device.type == "cpu":
        return _wrap(np.stack([t._data for t in batch]), first._device)
    return ember.stack(batch, 0)  # device tensors: let the op library handle the backend


def _collate_numpy(batch: list) -> Tensor:
    elem = batch[0]
    if isinstance(elem, np.ndarray):
        if _np_str_obj_array_pattern.search(elem.dtype.str) is not None:
            raise TypeError(_ERR.format(elem.dtype))
        shape = elem.shape
        for i, a in enumerate(batch):
            if a.shape != shape:
                raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                                   f"and {list(a.shape)} at entry {i}")
        return ember.from_numpy(np.stack(batch))
    # NumPy scalars keep their dtype, like torch.as_tensor on a list of them
    return ember.from_numpy(np.asarray(batch))


def collate(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    """The recursion behind ``default_collate``; ``collate_fn_map`` maps element types to functions
    ``fn(batch, *, collate_fn_map)`` that take over for those types.

    >>> collate([1, 2])
    tensor([1, 2])
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for t in collate_fn_map:
            if isinstance(elem, t):
                return collate_fn_map[t](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, Tensor):
        return _collate_tensors(batch)
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if isinstance(elem, (np.ndarray, np.generic)):
            return _collate_numpy(batch)
    if isinstance(elem, float):
        return ember.tensor(batch, dtype=ember.float64)
    if isinstance(elem, int):  # bool is an int: a batch of bools becomes a bool tensor, like PyTorch
        return ember.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = __import__("copy").copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if _is_namedtuple(elem):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = __import__("copy").copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(_ERR.format(elem_type))


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, recursing into dicts, tuples and lists.

    >>> default_collate([(ember.zeros(2), 0), (ember.ones(2), 1)])
    [tensor([[0., 0.],
            [1., 1.]]), tensor([0, 1])]
    """
    if not isinstance(batch, (list, tuple)) or len(batch) == 0:
        if isinstance(batch, collections.abc.Sequence) and len(batch) == 0:
            raise IndexError("list index out of range")
        batch = list(batch)
    return collate(list(batch))


default_collate_fn_map: dict[type, Callable] = {}
