"""``F.pad``: constant, reflect, replicate and circular padding (negative amounts crop).

Constant padding is one node whose backward is again a constant pad with the amounts negated
(crop where it padded, zero-fill where it cropped). The other modes gather along each padded
dim with an index map (``Take``), whose backward is the scatter-add adjoint (``TakeAdjoint``) and
vice versa, so double backward works.

>>> import ember
>>> import ember.nn.functional as F
>>> F.pad(ember.ones(1, 2), (1, 1)).tolist()
[[0.0, 1.0, 1.0, 0.0]]
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

from ..._ops._util import Tensor
from ..._backend import im2col as K
from ...autograd.graph import Node, _xp_of

__all__ = ["pad"]


class ConstantPad(Node):
    def forward(self, x, pads=(), value=0.0):
        # pads: ((left, right), ...) for the last len(pads) dims, first dim first
        self.pads = pads
        nd = len(pads)
        lead = x.ndim - nd
        shape = x.shape[:lead] + tuple(n + a + b for n, (a, b) in zip(x.shape[lead:], pads))
        xp = self.xp
        out = xp.full(shape, value, dtype=x.dtype) if value != 0 else xp.zeros(shape, dtype=x.dtype)
        src, dst = [slice(None)] * lead, [slice(None)] * lead
        for n, (a, b) in zip(x.shape[lead:], pads):
            # the part of the input that survives cropping, and where it lands
            lo, hi = max(-a, 0), n - max(-b, 0)
            if hi <= lo:
                return out
            src.append(slice(lo, hi))
            dst.append(slice(lo + a, hi + a))
        out[tuple(dst)] = x[tuple(src)]
        return out

    def backward(self, g):
        return ConstantPad.apply(g, pads=tuple((-a, -b) for a, b in self.pads), value=0.0)

    @classmethod
    def name(cls) -> str:
        return "ConstantPadNdBackward0"


class Take(Node):
    """``x.take(idx, axis)`` (idx a 1-D int array); backward is the scatter-add ``TakeAdjoint``."""

    def forward(self, x, idx=None, axis=0):
        self.idx, self.axis, self.n = idx, axis, x.shape[axis]
        return self.xp.take(x, idx, axis)

    def backward(self, g):
        return TakeAdjoint.apply(g, idx=self.idx, axis=self.axis, n=self.n)


class TakeAdjoint(Node):
    def forward(self, g, idx=None, axis=0, n=0):
        self.idx, self.axis = idx, axis
        return K.take_adjoint(self.xp, g, idx, axis, n)

    def backward(self, gg):
        return Take.apply(gg, idx=self.idx, axis=self.axis)


def take_along(x: Tensor, idx: Any, axis: int) -> Tensor:
    """Differentiable ``xp.take`` of a 1-D index array along ``axis`` (used by padding and interpolation)."""
    return Take.apply(x, idx=idx, axis=axis)


def _pad_index(xp: Any, n: int, a: int, b: int, mode: str) -> Any:
    i = xp.arange(-a, n + b)
    if mode == "reflect":
        i = xp.abs(i)
        i = xp.where(i > n - 1, 2 * (n - 1) - i, i)
    elif mode == "replicate":
        i = xp.clip(i, 0, n - 1)
    else:  # circular: torch crops first, then wraps around what is left
        lo, hi = max(-a, 0), n - max(-b, 0)
        i = lo + xp.arange(-max(a, 0), hi - lo + max(b, 0)) % max(hi - lo, 1)
    return i


_SUPPORTED = ("Supported combinations for non-constant padding:\n"
              "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
              "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
              "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims of ``input``: ``pad = (left_last, right_last, left_prev, ...)``.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.pad(ember.zeros(1, 1, 2, 2), (1, 1, 2, 0), mode="replicate").shape
    ember.Size([1, 1, 4, 4])
    """
    if any(not isinstance(p, numbers.Integral) or isinstance(p, bool) for p in pad):
        raise TypeError(f"pad(): argument 'pad' must be tuple of ints, but found element of type "
                        f"{next(type(p).__name__ for p in pad if not isinstance(p, numbers.Integral))}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = len(pad) // 2
    dim = input.dim()
    if nd > dim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but "
                           f"got padding length {len(pad)} and input of dimension {dim}")
    # (left, right) per padded dim, first padded dim first
    pads = tuple((pad[2 * (nd - 1 - i)], pad[2 * (nd - 1 - i) + 1]) for i in range(nd))
    shape = tuple(input.shape)
    if mode == "constant":
        for i, (a, b) in enumerate(pads):
            if shape[dim - nd + i] + a + b < 0:
                raise RuntimeError(f"The input size {shape[dim - nd + i]}, plus negative padding {a} and {b} "
                                   f"resulted in a negative output size, which is invalid. Check dimension "
                                   f"{dim - nd + i} of your input.")
        if not any(a or b for a, b in pads):
            return ConstantPad.apply(input, pads=pads, value=0.0)
        return ConstantPad.apply(input, pads=pads, value=0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if nd not in (1, 2, 3) or dim not in (nd + 1, nd + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {dim}D input tensor.\n{_SUPPORTED}")
    xp = _xp_of(input._device)
    out = input
    for i, (a, b) in enumerate(pads):
        axis = dim - nd + i
        n = shape[axis]
        if mode == "reflect" and (a >= n or b >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({a}, {b}) at dimension {axis} of input {list(shape)}")
        if mode == "circular" and (a > n or b > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + a + b < 0 or (mode == "replicate" and n == 0):
            raise RuntimeError(f"input tensor must have non-zero size at dimension {axis} and padding must "
                               f"not produce a negative output size")
        if a == 0 and b == 0:
            continue
        out = Take.apply(out, idx=_pad_index(xp, n, a, b, mode), axis=axis)
    if out is input:
        out = ConstantPad.apply(input, pads=pads, value=0.0)  # a fresh tensor, as torch returns
    return out

