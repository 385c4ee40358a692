"""Weight loading for the model zoo: always from a local file or a state_dict, never from the network.

``weights=`` accepts a path to a state_dict saved by ``torch.save``/``ember.save`` (zip checkpoint), a
``.safetensors`` file or a NumPy ``.npz`` archive, or a ``dict`` state_dict.

>>> from ember.vision.models import resnet18
>>> model = resnet18(weights=None, num_classes=10)
"""
from __future__ import annotations

import json
import os
import struct
from typing import Any

import numpy as np

from ... import nn
from ..._creation import tensor as _tensor

__all__ = ["load_state_dict_file", "load_safetensors"]

_ST_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
              "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def load_safetensors(path: str | os.PathLike) -> dict:
    """Read a ``.safetensors`` file (8-byte header length, JSON header, raw little-endian data) into tensors.

    >>> sd = load_safetensors("model.safetensors")  # doctest: +SKIP
    """
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _ST_DTYPES:
            raise ValueError(f"safetensors dtype {info['dtype']} of '{name}' is not supported")
        start, end = info["data_offsets"]
        arr = np.frombuffer(data[start:end], dtype=np.dtype(_ST_DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = _tensor(arr.reshape(info["shape"]).astype(arr.dtype.newbyteorder("=")))
    return out


def load_state_dict_file(path: str | os.PathLike) -> dict:
    """A state_dict from a local file: ``.safetensors``, ``.npz``, or a ``torch.save``/``ember.save`` checkpoint.

    A checkpoint holding ``{"state_dict": ...}`` or ``{"model": ...}`` is unwrapped.

    >>> sd = load_state_dict_file("resnet18.pth")  # doctest: +SKIP
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file not found: '{path}' (ember never downloads weights; pass a local "
                                f"file saved by torch.save, ember.save, safetensors or numpy.savez)")
    if path.endswith(".safetensors"):
        return load_safetensors(path)
    if path.endswith(".npz"):
        with np.load(path) as z:
            return {k: _tensor(z[k]) for k in z.files}
    from ...serialization import load
    sd = load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    return sd


def _load_weights(model: nn.Module, weights: Any) -> nn.Module:
    """Load ``weights`` (None, a path, or a state_dict) into ``model`` with ``strict=True``."""
    if weights is None:
        return model
    if isinstance(weights, dict):
        sd = weights
    elif isinstance(weights, (str, os.PathLike)) and (os.path.sep in os.fspath(weights)
                                                      or os.path.isfile(weights) or "." in os.fspath(weights)):
        sd = load_state_dict_file(weights)
    else:
        raise ValueError(f"weights={weights!r}: ember does not download pretrained weights; pass the path of a "
                         f"local state_dict file (torch.save/ember.save/.safetensors/.npz) or a state_dict")
    model.load_state_dict(sd, strict=True)
    return model


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """Round ``v`` to the nearest multiple of ``divisor`` (at least ``min_value``), never going down > 10%."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v
