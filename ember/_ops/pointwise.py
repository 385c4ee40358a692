"""Elementwise math: unary functions, comparisons, logical ops, ``where``, ``clamp`` ...

Unary float functions promote integer inputs to the default float dtype first (PyTorch's
rule), then run one node whose backward is written with ember ops.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import Node
from ._util import Tensor, method, promote, to_float, as_tensor, write_out, scalar_of
from .inplace import inplace

__all__ = ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "abs", "absolute", "where", "eq",
           "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not"]


# ----------------------------------------------------------------------------- unary math
class Exp(Node):
    def forward(self, x):
        y = self.xp.exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * y


class Log(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / x


class Sqrt(Node):
    def forward(self, x):
        y = self.xp.sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g / (2 * y)


class Rsqrt(Node):
    def forward(self, x):
        y = 1 / self.xp.sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * (-0.5) * y * y * y


class Sin(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.sin(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * cos(x)


class Cos(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.cos(x)

    def backward(self, g):
        x, = self.saved_tensors
        return -g * sin(x)


class Tanh(Node):
    def forward(self, x):
        y = self.xp.tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * (1 - y * y)


class Sigmoid(Node):
    def forward(self, x):
        xp = self.xp
        # split by sign so exp never overflows
        e = xp.exp(-xp.abs(x))
        y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * y * (1 - y)


class Abs(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.abs(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * x.sign()


class Sign(Node):
    differentiable = False

    def forward(self, x):
        return self.xp.sign(x)


def _unary(cls: type, float_only: bool = True):
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        x = to_float(input) if float_only else input
        return write_out(cls.apply(x), out)
    return fn


exp = _unary(Exp)
log = _unary(Log)
sqrt = _unary(Sqrt)
rsqrt = _unary(Rsqrt)
sin = _unary(Sin)
cos = _unary(Cos)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    if input._data.dtype.kind == "b":
        raise RuntimeError("abs is not supported for bool tensors")
    return write_out(Abs.apply(input), out)


absolute = abs


def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out(Sign.apply(input), out)


# ------------------------------------------------------------------------------ comparisons
class _Compare(Node):
    differentiable = False
    op = ""

    def forward(self, a, b):
        return getattr(self.xp, self.op)(a, b)


def _make_compare(op: str):
    cls = type(op.capitalize(), (_Compare,), {"op": op})

    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        a, b, _ = promote(input, other)
        return write_out(cls.apply(a, b), out)
    fn.__name__ = op
    return fn


eq = _make_compare("equal")
ne = _make_compare("not_equal")
lt = _make_compare("less")
le = _make_compare("less_equal")
gt = _make_compare("greater")
ge = _make_compare("greater_equal")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


class _Logical(Node):
    differentiable = False
    op = ""

    def forward(self, a, b=None):
        f = getattr(self.xp, self.op)
        return f(a) if b is None else f(a, b)


def _make_logical(op: str, unary: bool = False):
    cls = type(op, (_Logical,), {"op": op})
    if unary:
        def fn1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
            return write_out(cls.apply(input), out)
        fn1.__name__ = op
        return fn1

    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        a, b = as_tensor(input), as_tensor(other)
        return write_out(cls.apply(a, b), out)
    fn.__name__ = op
    return fn


logical_and = _make_logical("logical_and")
logical_or = _make_logical("logical_or")
logical_xor = _make_logical("logical_xor")
logical_not = _make_logical("logical_not", unary=True)


# ------------------------------------------------------------------------------------ where
class Where(Node):
    def forward(self, cond, a, b):
        self.save_for_backward(cond)
        return self.xp.where(cond, a, b)

    def backward(self, g):
        cond, = self.saved_tensors
        zero = g.new_zeros(())
        ga = where(cond, g, zero) if self.needs_input_grad[1] else None
        gb = where(cond, zero, g) if self.needs_input_grad[2] else None
        return None, ga, gb


def where(condition: Tensor, input: Any = None, other: Any = None, *, out: Tensor | None = None) -> Any:
    """Pick ``input`` where ``condition`` holds, else ``other``; with one argument, ``nonzero(as_tuple=True)``.

    >>> import ember
    >>> ember.where(ember.tensor([True, False]), 1.0, 0.0)
    tensor([1., 0.])
    """
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor) or condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{condition.dtype if isinstance(condition, Tensor) else type(condition).__name__}")
    a, b, dt = promote(input, other)
    if not isinstance(a, Tensor):
        a = as_tensor(a, dtype=dt, device=condition._device)
    if not isinstance(b, Tensor):
        b = as_tensor(b, dtype=dt, device=condition._device)
    return write_out(Where.apply(condition, a, b), out)


# --------------------------------------------------------------------- integer division helpers
class _FloorDivide(Node):
    differentiable = False

    def forward(self, a, b):
        return self.xp.floor_divide(a, b)


class _TruncDivide(Node):
    differentiable = False

    def forward(self, a, b):
        xp = self.xp
        if a.dtype.kind in "iu" if hasattr(a, "dtype") else isinstance(a, int):
            q = xp.floor_divide(a, b)
            fix = (xp.remainder(a, b) != 0) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0))
            return q + fix.astype(q.dtype)
        return xp.trunc(a / b)


def _check_int_zero(b: Any, dt: D.dtype) -> None:
    if dt.category <= D._INT:
        zero = (b == 0) if not isinstance(b, Tensor) else bool((b._data == 0).any())
        if zero:
            raise ZeroDivisionError("ZeroDivisionError")


def floor_divide_(input: Any, other: Any) -> Tensor:
    a, b, dt = promote(input, other)
    _check_int_zero(b, dt)
    return _FloorDivide.apply(a, b)


def trunc_divide(input: Any, other: Any) -> Tensor:
    a, b, dt = promote(input, other)
    _check_int_zero(b, dt)
    return _TruncDivide.apply(a, b)


# ---------------------------------------------------------------------------------- methods
for _n in ("exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "abs", "absolute", "sign"):
    method(_n, globals()[_n])
    method(_n + "_", (lambda f: lambda self: inplace(self, f))(globals()[_n]))
for _n in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not"):
    method(_n, globals()[_n])
method("where", lambda self, condition, other: where(condition, self, other))
method("__eq__", lambda self, other: eq(self, other) if _comparable(other) else NotImplemented)
method("__ne__", lambda self, other: ne(self, other) if _comparable(other) else NotImplemented)
method("__lt__", lambda self, other: lt(self, other))
method("__le__", lambda self, other: le(self, other))
method("__gt__", lambda self, other: gt(self, other))
method("__ge__", lambda self, other: ge(self, other))
method("__abs__", abs)


def _comparable(other: Any) -> bool:
    return isinstance(other, (Tensor, int, float, bool, complex, np.generic, np.ndarray, list, tuple))
