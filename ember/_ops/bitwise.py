"""Bitwise ops on integer and bool tensors, and the operators ``& | ^ ~ << >>`` (reflected and in-place).

For bool tensors ``&``, ``|``, ``^`` and ``~`` are the logical ops. Float operands are refused
with PyTorch's NotImplementedError. Shifts by a negative amount or by at least the bit width give
0 (``>>`` of a negative number gives -1), as PyTorch defines them, instead of C's undefined result.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import Node
from ._util import Tensor, method, promote, as_tensor, write_out, _torch_name
from .inplace import inplace

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift"]


class _Bitwise(Node):
    differentiable = False

    def forward(self, a, b, op=""):
        xp = self.xp
        if op == "left_shift" or op == "right_shift":
            return _shift(xp, a, b, op)
        return getattr(xp, "bitwise_" + op)(a, b)


def _shift(xp: Any, a: Any, b: Any, op: str) -> Any:
    dt = a.dtype   # the promoted result dtype
    bits = np.dtype(dt).itemsize * 8
    b = xp.asarray(b)
    out_of_range = (b < 0) | (b >= bits)
    safe = xp.where(out_of_range, 0, b).astype(dt, copy=False)
    if op == "left_shift":
        r = xp.left_shift(a, safe)
        fill = xp.zeros((), dt)
    else:
        r = xp.right_shift(a, safe)
        fill = xp.where(a < 0, -1, 0).astype(dt, copy=False) if np.dtype(dt).kind == "i" else xp.zeros((), dt)
    return xp.where(out_of_range, fill, r).astype(dt, copy=False)


class _BitwiseNot(Node):
    differentiable = False

    def forward(self, a):
        return self.xp.invert(a)


def _make(op: str, kernel: str, doc: str):
    name = "bitwise_" + op

    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        a, b, dt = promote(input, other)
        if dt.category > D._INT:
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_torch_name(dt)}\'')
        if not isinstance(a, Tensor):
            a = as_tensor(a, dtype=dt, device=b._device)
        return write_out(_Bitwise.apply(a, b, op=op), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


bitwise_and = _make("and", "bitwise_and_cpu", "Bitwise AND (logical AND for bool).\n\n"
                    ">>> ember.bitwise_and(ember.tensor([12]), ember.tensor([10]))\ntensor([8])")
bitwise_or = _make("or", "bitwise_or_cpu", "Bitwise OR (logical OR for bool).\n\n"
                   ">>> ember.bitwise_or(ember.tensor([12]), ember.tensor([10]))\ntensor([14])")
bitwise_xor = _make("xor", "bitwise_xor_cpu", "Bitwise XOR (logical XOR for bool).\n\n"
                    ">>> ember.bitwise_xor(ember.tensor([12]), ember.tensor([10]))\ntensor([6])")
bitwise_left_shift = _make("left_shift", "lshift_cpu", "``input << other`` (0 for shifts outside [0, bits)).\n\n"
                           ">>> ember.bitwise_left_shift(ember.tensor([1]), 3)\ntensor([8])")
bitwise_right_shift = _make("right_shift", "rshift_cpu", "Arithmetic ``input >> other``.\n\n"
                            ">>> ember.bitwise_right_shift(ember.tensor([-8]), 1)\ntensor([-4])")


def bitwise_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Bitwise NOT (logical NOT for bool).

    >>> ember.bitwise_not(ember.tensor([0, 5]))
    tensor([-1, -6])
    """
    dt = input.dtype
    if dt.category > D._INT:
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{_torch_name(dt)}\'')
    return write_out(_BitwiseNot.apply(input), out)


def _invert(self: Tensor) -> Tensor:
    if self.dtype.category > D._INT:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


# ---------------------------------------------------------------------------------- methods
for _n in __all__:
    method(_n, globals()[_n])
    method(_n + "_", (lambda f: lambda self, *a, **k: inplace(self, f, *a, **k))(globals()[_n]))
method("__invert__", _invert)
for _op, _fn in (("and", bitwise_and), ("or", bitwise_or), ("xor", bitwise_xor), ("lshift", bitwise_left_shift),
                 ("rshift", bitwise_right_shift)):
    method(f"__{_op}__", (lambda f: lambda self, other: f(self, other))(_fn))
    method(f"__r{_op}__", (lambda f: lambda self, other: f(other, self))(_fn))
    method(f"__i{_op}__", (lambda f: lambda self, other: inplace(self, f, other))(_fn))
del _n, _op, _fn
