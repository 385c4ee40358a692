"""Devices as objects: ``ember.device('cpu')``, ``ember.device('cuda:0')``.

Parsing follows PyTorch: ``'type'`` or ``'type:index'`` with a non-negative decimal index,
``device(type, index)``, another device, or an int (a CUDA ordinal). Device objects are
interned, so tensors compare devices with ``is``; a tensor's CPU device is always the one
index-less ``cpu`` object (``ember.zeros(1, device='cpu:0').device`` prints ``cpu``, as in PyTorch).

>>> import ember
>>> ember.device('cpu')
device(type='cpu')
>>> ember.device('cuda', 1)
device(type='cuda', index=1)
"""
from __future__ import annotations

from typing import Any

_INTERNED: dict = {}

# The device types PyTorch's parser knows; ember has backends for cpu and cuda only.
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


def _invalid_args(value: Any) -> TypeError:
    return TypeError(f"device() received an invalid combination of arguments - got ({type(value).__name__}), but "
                     "expected one of:\n * (torch.device device)\n * (str type, int index = -1)\n"
                     " * (int index)")


def _parse(text: str) -> tuple:
    if not text:
        raise RuntimeError("Device string must not be empty")
    typ, sep, idx = text.partition(":")
    if typ not in _TYPES:
        if not typ.isalnum() or not typ.isascii():
            raise RuntimeError(f"Invalid device string: '{text}'")
        raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: {typ}")
    if not sep:
        return typ, None
    # a plain decimal index: no sign, no spaces, no leading zeros, no second colon
    if not (idx.isdigit() and idx.isascii()) or (len(idx) > 1 and idx[0] == "0"):
        raise RuntimeError(f"Invalid device string: '{text}'")
    return typ, int(idx)


class device:
    """Where a tensor's memory lives. Instances are interned, so ``is`` compares them.

    >>> import ember
    >>> ember.device('cuda:1').index
    1
    """

    __slots__ = ("type", "index")

    def __new__(cls, type: Any = None, index: Any = None) -> "device":
        if isinstance(type, device):
            if index is not None:
                raise _invalid_args(index)
            return type
        if isinstance(type, int) and not isinstance(type, bool):  # ember.device(0) means cuda:0
            if index is not None:
                raise _invalid_args(index)
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            type, index = "cuda", type
        elif not isinstance(type, str):
            raise _invalid_args(type)
        elif index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                                f"{builtins_type(index).__name__}")
            if ":" in type:
                raise RuntimeError(f"type (string) must not include an index because index was passed "
                                   f"explicitly: {type}")
            type, _ = _parse(type)
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        else:
            type, index = _parse(type)
        key = (type, index)
        obj = _INTERNED.get(key)
        if obj is None:
            obj = object.__new__(cls)
            object.__setattr__(obj, "type", type)
            object.__setattr__(obj, "index", index)
            _INTERNED[key] = obj
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"attribute '{name}' of 'ember.device' objects is not writable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        # Like PyTorch, a device equals only another device (device('cpu') == 'cpu' is False).
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> Any:
        return (device, (self.type, self.index))


import builtins as _builtins  # noqa: E402  (`type` is a parameter name above)

builtins_type = _builtins.type

cpu = device("cpu")


def to_device(d: Any) -> device:
    """Normalise a device argument for a tensor: None and any CPU device mean the ``cpu`` object, and
    an index-less accelerator means its device 0 (a tensor's device always has an index, as in PyTorch)."""
    if d is None or d is cpu:
        return cpu
    d = device(d)
    if d.type == "cpu":
        return cpu
    return device(d.type, 0) if d.index is None else d
