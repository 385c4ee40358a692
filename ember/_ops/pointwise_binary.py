"""Binary (and ternary) elementwise math: clamp, minimum/maximum, fmin/fmax, lerp, addcmul/addcdiv, hypot,
atan2, xlogy, remainder/fmod, copysign, heaviside, logaddexp/logaddexp2.

Operands are promoted with PyTorch's rules before the node runs; the engine sums broadcast
gradients back to each operand's shape, so backward here works on the broadcast shape.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import Node
from ._util import Tensor, method, promote, as_tensor, write_out, scalar_of
from .inplace import inplace
from .compare import where, isnan, _zero_of, _is_float, _broadcast_check
from .pointwise import exp, exp2, trunc, floor

__all__ = ["clamp", "clip", "clamp_min", "clamp_max", "minimum", "maximum", "fmin", "fmax", "lerp", "addcmul",
           "addcdiv", "hypot", "atan2", "arctan2", "xlogy", "remainder", "fmod", "copysign", "heaviside",
           "logaddexp", "logaddexp2"]


def _require_tensor(fn: str, name: str, pos: int, v: Any) -> None:
    if not isinstance(v, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type(v).__name__}")


def _float_kernel_only(kernel: str, dt: D.dtype, t: Tensor) -> None:
    if dt.category not in (D._FLOAT, D._COMPLEX):
        from ._util import _torch_name
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_torch_name(dt)}\'')


def _mask(m: Tensor, g: Tensor) -> Tensor:
    return where(m, g, _zero_of(g))


# ----------------------------------------------------------------------------------- clamp
class Clamp(Node):
    def forward(self, x, lo=None, hi=None):
        xp = self.xp
        self.has_lo, self.has_hi = lo is not None, hi is not None
        self.save_for_backward(x, lo, hi)
        y = x
        if lo is not None:
            y = xp.maximum(y, lo)
        if hi is not None:
            y = xp.minimum(y, hi)   # min(max(x, lo), hi): with lo > hi every element becomes hi, like PyTorch
        return y.astype(x.dtype, copy=False) if hasattr(y, "astype") else y

    def backward(self, g):
        x, lo, hi = self.saved_tensors
        gx = glo = ghi = None
        if self.needs_input_grad[0]:
            m = None
            if self.has_lo:
                m = x >= lo
            if self.has_hi:
                m = (x <= hi) if m is None else m & (x <= hi)
            gx = _mask(m, g)
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            m = x < lo
            if self.has_hi:
                m = m & (lo <= hi)
            glo = _mask(m, g)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            m = (clamp(x, min=lo) if self.has_lo else x) > hi
            ghi = _mask(m, g)
        return gx, glo, ghi


def clamp(input: Tensor, min: Any = None, max: Any = None, *, out: Tensor | None = None) -> Tensor:
    """Limit each element to ``[min, max]`` (numbers or tensors, either may be None).

    With ``min > max`` every element becomes ``max``. The gradient flows to ``input`` where
    ``min <= input <= max``, to the bound that was picked elsewhere.

    >>> ember.clamp(ember.tensor([-1., 0.5, 2.]), 0, 1)
    tensor([0.0000, 0.5000, 1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    bounds = [b for b in (min, max) if b is not None]
    kinds = {isinstance(b, Tensor) for b in bounds}
    if len(kinds) > 1:
        raise TypeError("clamp() received an invalid combination of arguments - got (Tensor, min, max): min and "
                        "max must both be Tensors or both be Numbers")
    dt = D.result_type_of(input, *bounds)
    x = input if input.dtype is dt else input.to(dt)
    lo = _bound(min, dt)
    hi = _bound(max, dt)
    return write_out(Clamp.apply(x, lo, hi), out)


def _bound(b: Any, dt: D.dtype) -> Any:
    if b is None:
        return None
    if isinstance(b, Tensor):
        return b if b.dtype is dt else b.to(dt)
    if not isinstance(b, (numbers.Number, np.generic)):
        raise TypeError(f"clamp(): argument 'min' must be Number or Tensor, not {type(b).__name__}")
    return scalar_of(b, dt)


clip = clamp


def clamp_min(input: Tensor, min: Any, *, out: Tensor | None = None) -> Tensor:
    """``clamp(input, min=min)``.

    >>> ember.clamp_min(ember.tensor([-1., 2.]), 0)
    tensor([0., 2.])
    """
    return clamp(input, min, None, out=out)


def clamp_max(input: Tensor, max: Any, *, out: Tensor | None = None) -> Tensor:
    """``clamp(input, max=max)``.

    >>> ember.clamp_max(ember.tensor([-1., 2.]), 0)
    tensor([-1.,  0.])
    """
    return clamp(input, None, max, out=out)


# ------------------------------------------------------------------------- minimum / maximum
class _MinMax(Node):
    op = ""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return getattr(self.xp, self.op)(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        dt = g.dtype
        if self.op in ("maximum", "minimum"):
            # ties split the gradient evenly, as PyTorch does
            wins = (a > b) if self.op == "maximum" else (a < b)
            w = wins.to(dt) + (a == b).to(dt) * 0.5
        else:
            # fmax/fmin: a takes ties and the places where b is nan
            w = (((a >= b) if self.op == "fmax" else (a <= b)) | isnan(b)).to(dt)
        ga = g * w if self.needs_input_grad[0] else None
        gb = g * (1 - w) if self.needs_input_grad[1] else None
        return ga, gb


class Maximum(_MinMax):
    op = "maximum"


class Minimum(_MinMax):
    op = "minimum"


class Fmax(_MinMax):
    op = "fmax"


class Fmin(_MinMax):
    op = "fmin"


def _make_minmax(cls: type, name: str, doc: str):
    def fn(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
        _require_tensor(name, "input", 1, input)
        _require_tensor(name, "other", 2, other)
        a, b, _ = promote(input, other)
        return write_out(cls.apply(a, b), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


maximum = _make_minmax(Maximum, "maximum", "Elementwise max (nan propagates).\n\n"
                       ">>> ember.maximum(ember.tensor([1., 4.]), ember.tensor([3., 2.]))\ntensor([3., 4.])")
minimum = _make_minmax(Minimum, "minimum", "Elementwise min (nan propagates).\n\n"
                       ">>> ember.minimum(ember.tensor([1., 4.]), ember.tensor([3., 2.]))\ntensor([1., 2.])")
fmax = _make_minmax(Fmax, "fmax", "Elementwise max ignoring nan.\n\n"
                    ">>> ember.fmax(ember.tensor([float('nan')]), ember.tensor([1.]))\ntensor([1.])")
fmin = _make_minmax(Fmin, "fmin", "Elementwise min ignoring nan.\n\n"
                    ">>> ember.fmin(ember.tensor([float('nan')]), ember.tensor([1.]))\ntensor([1.])")


# -------------------------------------------------------------------------------------- lerp
class Lerp(Node):
    def forward(self, a, b, w):
        xp = self.xp
        self.save_for_backward(a, b, w)
        d = b - a
        # two formulas so lerp is exact at both ends (weight 0 gives a, weight 1 gives b)
        y = xp.where(xp.abs(w) < 0.5, a + w * d, b - d * (1 - w))
        return y.astype(xp.result_type(a, b), copy=False)

    def backward(self, g):
        a, b, w = self.saved_tensors
        ga = g * (1 - w) if self.needs_input_grad[0] else None
        gb = g * w if self.needs_input_grad[1] else None
        gw = g * (b - a) if len(self.needs_input_grad) > 2 and self.needs_input_grad[2] else None
        return ga, gb, gw


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Tensor | None = None) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` a number or a tensor of the same dtype.

    >>> ember.lerp(ember.tensor([0.]), ember.tensor([10.]), 0.25)
    tensor([2.5000])
    """
    _require_tensor("lerp", "input", 1, input)
    _require_tensor("lerp", "end", 2, end)
    dt = input.dtype
    if end.dtype is not dt:
        raise RuntimeError(f"expected dtype {_short(dt)} for `end` but got dtype {_short(end.dtype)}")
    wt = isinstance(weight, Tensor)
    if wt and weight.dtype is not dt:
        raise RuntimeError(f"expected dtype {_short(dt)} for `weight` but got dtype {_short(weight.dtype)}")
    if not _is_float(input):
        from ._util import _torch_name
        raise NotImplementedError(f'"lerp_kernel_{"tensor" if wt else "scalar"}" not implemented for '
                                  f"'{_torch_name(dt)}'")
    _broadcast_check(input, end)
    if wt:
        _broadcast_check(input, weight)
        _broadcast_check(end, weight)
    else:
        weight = float(weight)
    return write_out(Lerp.apply(input, end, weight), out)


def _short(dt: D.dtype) -> str:
    return {"float32": "float", "float64": "double", "float16": "half", "int64": "long", "int32": "int"}.get(
        dt.name, dt.name)


# --------------------------------------------------------------------------- addcmul / addcdiv
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1,
            out: Tensor | None = None) -> Tensor:
    """``input + value * tensor1 * tensor2``.

    >>> ember.addcmul(ember.tensor([1.]), ember.tensor([2.]), ember.tensor([3.]), value=0.5)
    tensor([4.])
    """
    dt = D.result_type_of(input, tensor1, tensor2)
    if dt.category < D._FLOAT:
        value = int(value)   # PyTorch casts value to the integer result type
    x, t1, t2 = (t if t.dtype is dt else t.to(dt) for t in (input, tensor1, tensor2))
    prod = t1 * t2
    return write_out(x + (prod * value if value != 1 else prod), out)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1,
            out: Tensor | None = None) -> Tensor:
    """``input + value * tensor1 / tensor2`` (integer ``tensor1``/``tensor2`` are refused, like PyTorch).

    >>> ember.addcdiv(ember.tensor([1.]), ember.tensor([2.]), ember.tensor([4.]), value=2)
    tensor([2.])
    """
    if tensor1.dtype.category <= D._INT and tensor2.dtype.category <= D._INT:
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release "
                           "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
                           "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
                           ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
                           "float inputs. The future addcdiv behavior is just the latter implementation: "
                           "(input + value * tensor1 / tensor2), for all dtypes.")
    dt = D.result_type_of(input, tensor1, tensor2)
    x, t1, t2 = (t if t.dtype is dt else t.to(dt) for t in (input, tensor1, tensor2))
    q = t1 / t2
    return write_out(x + (q * value if value != 1 else q), out)


# ------------------------------------------------------------------- hypot, atan2, logaddexp
class Hypot(Node):
    def forward(self, a, b):
        y = self.xp.hypot(a, b)
        self.save_for_backward(a, b, y)
        return y

    def backward(self, g):
        a, b, y = self.saved_tensors
        ga = g * a / y if self.needs_input_grad[0] else None
        gb = g * b / y if self.needs_input_grad[1] else None
        return ga, gb


class Atan2(Node):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.arctan2(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        r = g / (a * a + b * b)
        ga = r * b if self.needs_input_grad[0] else None
        gb = -r * a if self.needs_input_grad[1] else None
        return ga, gb


class Logaddexp(Node):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.logaddexp(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        ga = g / (1 + exp(b - a)) if self.needs_input_grad[0] else None
        gb = g / (1 + exp(a - b)) if self.needs_input_grad[1] else None
        return ga, gb


class Logaddexp2(Node):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.logaddexp2(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        ga = g / (1 + exp2(b - a)) if self.needs_input_grad[0] else None
        gb = g / (1 + exp2(a - b)) if self.needs_input_grad[1] else None
        return ga, gb


def _binary_float(cls: type, name: str, kernel: str | None, doc: str):
    """Both operands tensors; integers either refused (``kernel`` given) or promoted to float."""
    def fn(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
        _require_tensor(name, "input", 1, input)
        _require_tensor(name, "other", 2, other)
        a, b, dt = promote(input, other)
        if dt.category < D._FLOAT:
            if kernel is not None:
                _float_kernel_only(kernel, dt, a)
            a, b = a.to(D.get_default_dtype()), b.to(D.get_default_dtype())
        return write_out(cls.apply(a, b), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


hypot = _binary_float(Hypot, "hypot", "hypot_cpu", "``sqrt(a**2 + b**2)`` without overflow.\n\n"
                      ">>> ember.hypot(ember.tensor([3.]), ember.tensor([4.]))\ntensor([5.])")
atan2 = _binary_float(Atan2, "atan2", None, "The angle of the point ``(other, input)``.\n\n"
                      ">>> ember.atan2(ember.tensor([1.]), ember.tensor([1.]))\ntensor([0.7854])")
arctan2 = atan2
logaddexp = _binary_float(Logaddexp, "logaddexp", "logaddexp_cpu", "``log(exp(a) + exp(b))`` without overflow.\n\n"
                          ">>> ember.logaddexp(ember.tensor([0.]), ember.tensor([0.]))\ntensor([0.6931])")
logaddexp2 = _binary_float(Logaddexp2, "logaddexp2", "logaddexp2_cpu", "``log2(2**a + 2**b)``.\n\n"
                           ">>> ember.logaddexp2(ember.tensor([1.]), ember.tensor([1.]))\ntensor([2.])")


# -------------------------------------------------------------------------------------- xlogy
class Xlogy(Node):
    def forward(self, x, y):
        xp = self.xp
        self.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = x * xp.log(y)
        # 0 * log(y) is 0 (even for y = 0 or inf) unless y is nan
        r = xp.where((xp.asarray(x) == 0) & ~xp.isnan(y), 0, r)
        return r.astype(xp.result_type(x, y), copy=False)

    def backward(self, g):
        x, y = self.saved_tensors
        gx = gy = None
        if self.needs_input_grad[0]:
            # d/dx = log(y), but 0 where x == 0 and y <= 0 (PyTorch's convention): xlogy(m, y) does both
            m = (x != 0) | (y > 0)
            gx = g * xlogy(m.to(g.dtype), y)
        if self.needs_input_grad[1]:
            gy = g * x / y
        return gx, gy


def xlogy(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input * log(other)``, 0 where ``input == 0`` (unless ``other`` is nan).

    >>> ember.xlogy(ember.tensor([0., 2.]), ember.tensor([0., 1.]))
    tensor([0., 0.])
    """
    a, b, dt = promote(input, other)
    if dt.category < D._FLOAT:
        f = D.get_default_dtype()
        a = a.to(f) if isinstance(a, Tensor) else float(a)
        b = b.to(f) if isinstance(b, Tensor) else float(b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor(a)
    return write_out(Xlogy.apply(a, b), out)


# -------------------------------------------------------------------------- remainder / fmod
class Remainder(Node):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.xp.remainder(a, b)   # sign of the divisor, like Python's %

    def backward(self, g):
        a, b = self.saved_tensors
        ga = g if self.needs_input_grad[0] else None
        gb = -g * floor(a / b) if len(self.needs_input_grad) > 1 and self.needs_input_grad[1] else None
        return ga, gb


class Fmod(Node):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.xp.fmod(a, b)        # sign of the dividend, like C's fmod

    def backward(self, g):
        a, b = self.saved_tensors
        ga = g if self.needs_input_grad[0] else None
        gb = -g * trunc(a / b) if len(self.needs_input_grad) > 1 and self.needs_input_grad[1] else None
        return ga, gb


def _int_zero_check(b: Any, dt: D.dtype) -> None:
    if dt.category <= D._INT:
        zero = (b == 0) if not isinstance(b, Tensor) else bool((b._data == 0).any())
        if zero:
            raise RuntimeError("ZeroDivisionError")


def _mod(cls: type, name: str, doc: str):
    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        a, b, dt = promote(input, other)
        if dt is D.bool_:
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')
        _int_zero_check(b, dt)
        if not isinstance(a, Tensor):
            a = as_tensor(a, dtype=dt, device=b._device)
        return write_out(cls.apply(a, b), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


remainder = _mod(Remainder, "remainder", "Python's ``%``: the result takes the divisor's sign.\n\n"
                 ">>> ember.remainder(ember.tensor([-3, 3]), 2)\ntensor([1, 1])")
fmod = _mod(Fmod, "fmod", "C's ``fmod``: the result takes the dividend's sign.\n\n"
            ">>> ember.fmod(ember.tensor([-3, 3]), 2)\ntensor([-1,  1])")


# ------------------------------------------------------------------------- copysign, heaviside
class Copysign(Node):
    def forward(self, a, b):
        y = self.xp.copysign(a, b)
        self.save_for_backward(a, y)
        return y

    def backward(self, g):
        a, y = self.saved_tensors
        ga = gb = None
        if self.needs_input_grad[0]:
            nz = a != 0
            ratio = y / where(nz, a, _zero_of(a) + 1)
            ga = where(nz, g * ratio, _zero_of(g))
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            gb = g * 0      # the result does not depend on the magnitude of other
        return ga, gb


def copysign(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``|input|`` with the sign of ``other`` (always a float result).

    >>> ember.copysign(ember.tensor([1, 2]), -1)
    tensor([-1., -2.])
    """
    a, b, dt = promote(input, other)
    if dt.category < D._FLOAT:
        f = D.get_default_dtype()
        a = a.to(f) if isinstance(a, Tensor) else float(a)
        b = b.to(f) if isinstance(b, Tensor) else float(b)
    if not isinstance(a, Tensor):
        a = as_tensor(a, device=b._device, dtype=b.dtype)
    return write_out(Copysign.apply(a, b), out)


class _Heaviside(Node):
    differentiable = False

    def forward(self, x, v):
        return self.xp.heaviside(x, v).astype(x.dtype, copy=False) if x.dtype.kind != "b" else \
            self.xp.where(x == 0, v, x)


def heaviside(input: Tensor, values: Tensor, *, out: Tensor | None = None) -> Tensor:
    """0 for ``input < 0``, ``values`` for ``input == 0``, 1 for ``input > 0`` (no gradient).

    >>> ember.heaviside(ember.tensor([-1., 0., 2.]), ember.tensor([0.5]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    _require_tensor("heaviside", "input", 1, input)
    _require_tensor("heaviside", "values", 2, values)
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    _broadcast_check(input, values)
    return write_out(_Heaviside.apply(input, values), out)


# ---------------------------------------------------------------------------------- methods
def _ip(fn):
    return lambda self, *a, **k: inplace(self, fn, *a, **k)


for _n in ("clamp", "clip", "clamp_min", "clamp_max", "minimum", "maximum", "fmin", "fmax", "lerp", "addcmul",
           "addcdiv", "hypot", "atan2", "arctan2", "xlogy", "remainder", "fmod", "copysign", "heaviside",
           "logaddexp", "logaddexp2"):
    method(_n, globals()[_n])
for _n in ("clamp", "clip", "clamp_min", "clamp_max", "lerp", "addcmul", "addcdiv", "hypot", "atan2",
           "arctan2", "xlogy", "remainder", "fmod", "copysign", "heaviside"):
    method(_n + "_", _ip(globals()[_n]))
method("__mod__", lambda self, other: remainder(self, other))
method("__rmod__", lambda self, other: remainder(other, self))
method("__imod__", lambda self, other: inplace(self, remainder, other))
del _n
