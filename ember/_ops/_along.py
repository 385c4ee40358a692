"""Differentiable building blocks the reduction, scan and sorting ops use in backward.

Pairs of nodes that are each other's adjoint, so gradients of any order stay ember ops:

- ``take_along(x, idx, dim)`` (gather) <-> ``put_along(g, idx, dim, shape)`` (scatter-add into zeros);
- ``narrow_(x, dim, start, length)`` <-> ``pad_(g, dim, before, after)`` (zero padding);
- ``cumsum_(x, dim, reverse)`` <-> ``cumsum_(g, dim, not reverse)``.

Index arrays are raw backend arrays (constants of the graph), never tensors.
"""
from __future__ import annotations

from typing import Any

from ..autograd.graph import Node
from ._util import Tensor


def _full_index(xp: Any, idx: Any, dim: int) -> tuple:
    """An advanced-index tuple that addresses ``idx`` along ``dim`` and every position elsewhere."""
    out = []
    nd = idx.ndim
    for a in range(nd):
        if a == dim:
            out.append(idx)
        else:
            shape = [1] * nd
            shape[a] = idx.shape[a]
            out.append(xp.arange(idx.shape[a]).reshape(shape))
    return tuple(out)


class TakeAlong(Node):
    def forward(self, x, idx, dim=0):
        self.dim, self.in_shape, self.idx = dim, x.shape, idx
        return self.xp.take_along_axis(x, idx, axis=dim)

    def backward(self, g):
        return put_along(g, self.idx, self.dim, self.in_shape), None

    @classmethod
    def name(cls) -> str:
        return "GatherBackward0"


class PutAlong(Node):
    """Scatter-add ``g`` into zeros of ``shape`` at ``idx`` along ``dim`` (repeated indices add up)."""

    def forward(self, g, idx, dim=0, shape=(), unique=False):
        xp = self.xp
        self.dim, self.idx = dim, idx
        out = xp.zeros(shape, g.dtype)
        if idx.size:
            if unique:  # indices along the dim are distinct: a plain assignment is much faster
                xp.put_along_axis(out, idx, g, axis=dim)
            else:
                xp.add.at(out, _full_index(xp, idx, dim), g)
        return out

    def backward(self, g):
        return take_along(g, self.idx, self.dim), None

    @classmethod
    def name(cls) -> str:
        return "ScatterAddBackward0"


def take_along(x: Tensor, idx: Any, dim: int) -> Tensor:
    return TakeAlong.apply(x, idx, dim=dim % idx.ndim if idx.ndim else 0)


def put_along(g: Tensor, idx: Any, dim: int, shape: tuple, unique: bool = False) -> Tensor:
    if g._data.shape != idx.shape:
        g = g.expand(idx.shape)
    return PutAlong.apply(g, idx, dim=dim % idx.ndim if idx.ndim else 0, shape=tuple(shape), unique=unique)


class Narrow(Node):
    def forward(self, x, dim=0, start=0, length=0):
        self.dim, self.before, self.after = dim, start, x.shape[dim] - start - length
        sl = [slice(None)] * x.ndim
        sl[dim] = slice(start, start + length)
        return x[tuple(sl)]

    def backward(self, g):
        return pad_(g, self.dim, self.before, self.after)


class Pad(Node):
    def forward(self, g, dim=0, before=0, after=0):
        self.dim, self.before, self.length = dim, before, g.shape[dim]
        widths = [(0, 0)] * g.ndim
        widths[dim] = (before, after)
        return self.xp.pad(g, widths)

    def backward(self, g):
        return narrow_(g, self.dim, self.before, self.length)


def narrow_(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    return Narrow.apply(x, dim=dim, start=start, length=length)


def pad_(g: Tensor, dim: int, before: int, after: int) -> Tensor:
    return Pad.apply(g, dim=dim, before=before, after=after)


class Concat(Node):
    def forward(self, *xs, dim=0):
        self.dim, self.sizes = dim, [x.shape[dim] for x in xs]
        return self.xp.concatenate(xs, axis=dim)

    def backward(self, g):
        out, start = [], 0
        for i, n in enumerate(self.sizes):
            out.append(narrow_(g, self.dim, start, n) if self.needs_input_grad[i] else None)
            start += n
        return tuple(out)

    @classmethod
    def name(cls) -> str:
        return "CatBackward0"


def concat_(xs: list, dim: int) -> Tensor:
    return Concat.apply(*xs, dim=dim)


class Cumsum(Node):
    def forward(self, x, dim=0, reverse=False, dtype=None):
        self.dim, self.reverse = dim, reverse
        xp = self.xp
        if reverse:
            return xp.flip(xp.cumsum(xp.flip(x, dim), axis=dim, dtype=dtype), dim).copy()
        return xp.cumsum(x, axis=dim, dtype=dtype)

    def backward(self, g):
        return cumsum_(g, self.dim, not self.reverse)


def cumsum_(x: Tensor, dim: int, reverse: bool = False, dtype: Any = None) -> Tensor:
    return Cumsum.apply(x, dim=dim, reverse=reverse, dtype=dtype)
