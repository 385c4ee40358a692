"""Padding layers: ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad``, ``CircularPad`` (1d/2d/3d).

>>> import ember
>>> ember.nn.ZeroPad2d(1)(ember.ones(1, 2, 2)).shape
ember.Size([1, 4, 4])
"""
from __future__ import annotations

import numbers
from typing import Any

from ..._tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _pad_tuple(padding: Any, nd: int) -> tuple:
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * (2 * nd)
    t = tuple(int(p) for p in padding)
    if len(t) != 2 * nd:
        raise ValueError(f"expected padding of length {2 * nd}, got {len(t)}")
    return t


class _PadNd(Module):
    _nd = 0
    _mode = "constant"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _pad_tuple(padding, self._nd)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant."""
    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with a constant."""
    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with a constant."""
    _nd = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""
    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last 2 dims with zeros."""
    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last 3 dims with zeros."""
    _nd = 3


class ReflectionPad1d(_PadNd):
    """Reflect the last dim at its borders."""
    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Reflect the last 2 dims at their borders."""
    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Reflect the last 3 dims at their borders."""
    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the border values of the last dim."""
    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the border values of the last 2 dims."""
    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the border values of the last 3 dims."""
    _nd, _mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {input.dim()}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Wrap the last dim around."""
    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Wrap the last 2 dims around."""
    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Wrap the last 3 dims around."""
    _nd = 3
