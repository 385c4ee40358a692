"""Devices as objects: ``ember.device('cpu')``, ``ember.device('cuda:0')``.

>>> import ember
>>> ember.device('cpu')
device(type='cpu')
"""
from __future__ import annotations

from typing import Any

_INTERNED: dict = {}


class device:
    """Where a tensor's memory lives. Instances are interned, so ``is`` compares them."""

    __slots__ = ("type", "index")

    def __new__(cls, type: Any = "cpu", index: int | None = None):
        if isinstance(type, device):
            return type
        if isinstance(type, int) and not isinstance(type, bool):  # ember.device(0) means cuda:0
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: {type!r}")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed "
                                   f"explicitly: {type}")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda", "meta"):
            raise RuntimeError(f"Expected one of cpu, cuda, meta device type at start of device string: {type}")
        if type == "cpu":
            index = None  # PyTorch keeps cpu index-less in repr
        key = (type, index)
        obj = _INTERNED.get(key)
        if obj is None:
            obj = object.__new__(cls)
            object.__setattr__(obj, "type", type)
            object.__setattr__(obj, "index", index)
            _INTERNED[key] = obj
        return obj

    def __setattr__(self, name, value):
        raise AttributeError("ember.device is immutable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))


cpu = device("cpu")


def to_device(d: Any) -> device:
    """Normalise a device argument (None means CPU)."""
    if d is None:
        return cpu
    return device(d)
