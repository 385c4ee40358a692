"""Whole-tensor writes: ``zero_``, ``fill_``, ``copy_`` (and a few no-op memory methods).

``fill_`` with a 0-d tensor value and ``copy_`` from a tensor that requires grad are
differentiable w.r.t. that value, as in PyTorch: they go through ``inplace`` like every
other in-place op (version counter, leaf check, views).

>>> import ember
>>> ember.empty(3).fill_(2.5)
tensor([2.5000, 2.5000, 2.5000])
"""
from __future__ import annotations

from typing import Any

from .. import _dtype as D
from ..autograd.grad_mode import _state
from ..autograd.graph import Node
from ._util import Tensor, method
from .inplace import inplace

__all__: list = []


class Fill(Node):
    """``out = value`` broadcast to the input's shape; the gradient goes to the (0-d) value only."""

    def forward(self, x, value):
        self.shape = x.shape
        return self.xp.full(x.shape, value, dtype=x.dtype) if not hasattr(value, "shape") else \
            self.xp.broadcast_to(value.astype(x.dtype), x.shape).copy()

    def backward(self, g):
        return None, (g.sum() if self.needs_input_grad[1] else None)

    @classmethod
    def name(cls) -> str:
        return "FillBackward1"


class CopyFrom(Node):
    """``out = src`` cast and broadcast into the destination's shape and dtype."""

    def forward(self, x, src):
        return self.xp.broadcast_to(src, x.shape).astype(x.dtype, copy=True)

    def backward(self, g):
        return None, (g if self.needs_input_grad[1] else None)

    @classmethod
    def name(cls) -> str:
        return "CopyBackwards"


def _fast_path(self: Tensor, *values: Any) -> bool:
    """No graph to build: write straight into memory."""
    if _state.enabled and (self._requires_grad or any(isinstance(v, Tensor) and v._requires_grad for v in values)):
        return False
    return True


def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with a number or a 0-d tensor."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if _fast_path(self, value):
            self._data[...] = value._data
            self._vc[0] += 1
            return self
        return inplace(self, lambda t, v: Fill.apply(t, v), value)
    if _fast_path(self):
        self._data.fill(value)
        self._vc[0] += 1
        return self
    return inplace(self, lambda t: Fill.apply(t, value))


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros."""
    return fill_(self, 0)


def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast to this shape, cast to this dtype, moved to this device) into this tensor."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    if src._device is not self._device:
        src = src.to(self._device)
    if not _broadcasts_into(src._data.shape, self._data.shape):
        raise RuntimeError(f"The size of tensor a ({list(self._data.shape)}) must match the size of tensor b "
                           f"({list(src._data.shape)}): copy_ cannot broadcast the source into the destination")
    if _fast_path(self, src):
        self._data[...] = src._data
        self._vc[0] += 1
        return self
    return inplace(self, lambda t, s: CopyFrom.apply(t, s), src)


def _broadcasts_into(src: tuple, dst: tuple) -> bool:
    if len(src) > len(dst):
        return False
    return all(s == d or s == 1 for s, d in zip(src[::-1], dst[::-1]))


method("fill_", fill_)
method("zero_", zero_)
method("copy_", copy_)
method("pin_memory", lambda self, device=None: self)
method("is_pinned", lambda self, device=None: False)
method("share_memory_", lambda self: self)
method("is_shared", lambda self: False)
