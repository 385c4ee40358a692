"""Comparisons, logical ops, ``where``, float predicates (isnan ...), ``isclose``/``allclose``/``equal``.

None of these has a derivative except ``where`` (its gradient routes ``grad`` to the picked input).
Comparisons promote their operands like arithmetic does, so ``int_tensor == 1.5`` compares as floats.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import Node, _xp_of
from ._util import Tensor, method, promote, as_tensor, write_out, _wrap
from .inplace import inplace

__all__ = ["where", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
           "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite",
           "isposinf", "isneginf", "isreal", "signbit", "isclose", "allclose", "equal"]


def _dtype_name(t: Tensor) -> str:
    from ._util import _torch_name
    return _torch_name(D._FROM_NP[t._data.dtype])


def _is_bool(t: Tensor) -> bool:
    return t._data.dtype.kind == "b"


def _is_float(t: Tensor) -> bool:
    return t._data.dtype.kind in "fc" or t._data.dtype.name == "bfloat16"


def _zero_of(t: Tensor) -> Tensor:
    """A 0-d zero of ``t``'s dtype and device (a constant for ``where``)."""
    return _wrap(_xp_of(t._device).zeros((), t._data.dtype), t._device)


def _one_of(t: Tensor) -> Tensor:
    return _wrap(_xp_of(t._device).ones((), t._data.dtype), t._device)



# ------------------------------------------------------------------------------ comparisons
class _Compare(Node):
    differentiable = False
    op = ""

    def forward(self, a, b):
        return getattr(self.xp, self.op)(a, b)


def _make_compare(op: str, short: str):
    cls = type(op.capitalize(), (_Compare,), {"op": op})

    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        a, b, _ = promote(input, other)
        return write_out(cls.apply(a, b), out)
    fn.__name__ = fn.__qualname__ = short
    fn.__doc__ = (f"Elementwise ``{op}`` after type promotion (a bool tensor).\n\n"
                  f">>> ember.{short}(ember.tensor([1, 2]), 1.5)")
    return fn


eq = _make_compare("equal", "eq")
ne = _make_compare("not_equal", "ne")
lt = _make_compare("less", "lt")
le = _make_compare("less_equal", "le")
gt = _make_compare("greater", "gt")
ge = _make_compare("greater_equal", "ge")
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
        fn1.__name__ = fn1.__qualname__ = op
        fn1.__doc__ = f"Elementwise ``{op}`` (a bool tensor).\n\n>>> ember.{op}(ember.tensor([0, 1]))"
        return fn1

    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        a, b = as_tensor(input), as_tensor(other)
        return write_out(cls.apply(a, b), out)
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"Elementwise ``{op}`` of truth values.\n\n>>> ember.{op}(ember.tensor([0, 1]), ember.tensor([1, 1]))"
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
        zero = _zero_of(g)
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
    if not isinstance(condition, Tensor):
        condition = as_tensor(condition)
    kind = condition._data.dtype
    if kind.kind != "b":
        if kind == np.uint8:
            warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be "
                          "removed in a future version of PyTorch. Use a boolean condition instead.", UserWarning,
                          stacklevel=2)
            condition = condition.to(D.bool_)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_dtype_name(condition)}")
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
            raise RuntimeError("ZeroDivisionError")  # PyTorch raises RuntimeError


def floor_divide_(input: Any, other: Any) -> Tensor:
    a, b, dt = promote(input, other)
    _check_int_zero(b, dt)
    return _FloorDivide.apply(a, b)


def trunc_divide(input: Any, other: Any) -> Tensor:
    a, b, dt = promote(input, other)
    _check_int_zero(b, dt)
    return _TruncDivide.apply(a, b)


# ------------------------------------------------------------------------------- predicates
class _Predicate(Node):
    differentiable = False

    def forward(self, x, op=""):
        xp = self.xp
        if op == "signbit":
            return xp.signbit(x)
        return getattr(xp, op)(x)


def _predicate(op: str, int_value: bool | None, doc: str):
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        if not _is_float(input) and int_value is not None:
            # integers and bools are never nan/inf: answer without touching the data
            r = _wrap(_xp_of(input._device).full(input._data.shape, int_value, np.bool_), input._device)
            return write_out(r, out)
        return write_out(_Predicate.apply(input, op=op), out)
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = doc
    return fn


isnan = _predicate("isnan", False, "True where nan.\n\n>>> ember.isnan(ember.tensor([float('nan'), 1.]))\n"
                   "tensor([ True, False])")
isinf = _predicate("isinf", False, "True where +-inf.\n\n>>> ember.isinf(ember.tensor([float('inf')]))\n"
                   "tensor([True])")
isfinite = _predicate("isfinite", True, "True where neither nan nor inf.\n\n"
                      ">>> ember.isfinite(ember.tensor([1.]))\ntensor([True])")
isposinf = _predicate("isposinf", False, "True where +inf.\n\n>>> ember.isposinf(ember.tensor([float('inf')]))\n"
                      "tensor([True])")
isneginf = _predicate("isneginf", False, "True where -inf.\n\n>>> ember.isneginf(ember.tensor([1.]))\n"
                      "tensor([False])")


def signbit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where the sign bit is set (``-0.0`` included).

    >>> ember.signbit(ember.tensor([-0.0, 1.0]))
    tensor([ True, False])
    """
    if _is_bool(input):
        return write_out(_wrap(_xp_of(input._device).zeros(input._data.shape, np.bool_), input._device), out)
    if not _is_float(input):
        return write_out(lt(input, 0), out)
    return write_out(_Predicate.apply(input, op="signbit"), out)


def isreal(input: Tensor) -> Tensor:
    """True where the imaginary part is zero (always, for real tensors).

    >>> ember.isreal(ember.tensor([1.]))
    tensor([True])
    """
    if input._data.dtype.kind == "c":
        return input.imag == 0
    return _wrap(_xp_of(input._device).ones(input._data.shape, np.bool_), input._device)


class _IsClose(Node):
    differentiable = False

    def forward(self, a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
        xp = self.xp
        if a.dtype.kind == "b":
            return a == b
        if a.dtype.kind in "iu":  # compare integers in float64 (no overflow in a - b)
            a, b = a.astype(np.float64), b.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            close = a == b
            finite = xp.isfinite(a) & xp.isfinite(b)
            close |= finite & (xp.abs(a - b) <= atol + rtol * xp.abs(b))
        if equal_nan:
            close |= xp.isnan(a) & xp.isnan(b)
        return close


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` elementwise (equal infinities are close).

    >>> ember.isclose(ember.tensor([1., 2.]), ember.tensor([1., 2.1]))
    tensor([ True, False])
    """
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"isclose(): argument '{name}' must be Tensor, not {type(v).__name__}")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{_dtype_name(input)} did not match {_dtype_name(other)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    _broadcast_check(input, other)
    return _IsClose.apply(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether ``isclose`` holds everywhere (a Python bool).

    >>> ember.allclose(ember.tensor([1.]), ember.tensor([1. + 1e-9]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and equal values (nan is never equal).

    >>> ember.equal(ember.tensor([1, 2]), ember.tensor([1., 2.]))
    True
    """
    for name, pos, v in (("input", 1, input), ("other", 2, other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"equal(): argument '{name}' (position {pos}) must be Tensor, not {type(v).__name__}")
    if input._data.shape != other._data.shape:
        return False
    return bool(eq(input, other)._data.all())


def _broadcast_check(a: Tensor, b: Tensor) -> None:
    sa, sb = a._data.shape, b._data.shape
    if sa == sb:
        return
    for i in range(1, min(len(sa), len(sb)) + 1):
        x, y = sa[-i], sb[-i]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                               f"non-singleton dimension {max(len(sa), len(sb)) - i}")



# ---------------------------------------------------------------------------------- methods
for _n in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "isposinf",
           "isneginf", "isreal", "signbit", "isclose", "allclose", "equal"):
    method(_n, globals()[_n])
for _n in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not"):
    method(_n + "_", (lambda f: lambda self, *a, **k: inplace(self, f, *a, **k))(globals()[_n]))
method("where", lambda self, condition, other: where(condition, self, other))
method("__eq__", lambda self, other: eq(self, other) if _comparable(other) else NotImplemented)
method("__ne__", lambda self, other: ne(self, other) if _comparable(other) else NotImplemented)
method("__lt__", lambda self, other: lt(self, other))
method("__le__", lambda self, other: le(self, other))
method("__gt__", lambda self, other: gt(self, other))
method("__ge__", lambda self, other: ge(self, other))


def _comparable(other: Any) -> bool:
    return isinstance(other, (Tensor, int, float, bool, complex, np.generic, np.ndarray, list, tuple))
