"""Elementwise math: unary functions, special functions, rounding, comparisons, logical ops, ``where``.

Unary float functions promote integer inputs to the default float dtype first (PyTorch's
rule), then run one node whose backward is written with ember ops. Ops whose derivative is
zero almost everywhere (floor, round, sign, ...) are recorded with a zero gradient, as in
PyTorch. Binary elementwise ops live in ``pointwise_binary``, bitwise ops in ``bitwise``.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import Node
from ._util import Tensor, method, to_float, write_out, _wrap
from .inplace import inplace
# comparisons, where and predicates live in .compare; re-exported here for modules that import them from here
from .compare import (where, eq, ne, lt, le, gt, ge, isfinite, logical_and, logical_or, logical_xor,  # noqa: F401
                      logical_not, floor_divide_, trunc_divide, _zero_of, _one_of)

__all__ = ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "abs", "absolute", "sign", "sgn", "exp2", "expm1", "log2", "log10", "log1p", "square", "reciprocal", "tan", "asin",
           "arcsin", "acos", "arccos", "atan", "arctan", "sinh", "cosh", "asinh", "arcsinh", "acosh", "arccosh",
           "atanh", "arctanh", "logit", "erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "floor",
           "ceil", "round", "trunc", "fix", "frac", "positive", "relu", "relu_", "nan_to_num", "sinc",
           "deg2rad", "rad2deg"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_SPECIAL: dict = {}


def _special(node: Node) -> Any:
    """The backend's special-function module (numpy_special on CPU, cupyx.scipy.special on CUDA)."""
    sp = _SPECIAL.get(node._device)
    if sp is None:
        from .._backend import backend_for
        sp = _SPECIAL[node._device] = backend_for(node._device).special
    return sp


def _dtype_name(t: Tensor) -> str:
    from ._util import _torch_name
    return _torch_name(D._FROM_NP[t._data.dtype])


def _not_implemented(kernel: str, t: Tensor) -> None:
    # PyTorch raises NotImplementedError (a RuntimeError subclass) for dtypes a kernel lacks
    raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype_name(t)}\'')


def _is_bool(t: Tensor) -> bool:
    return t._data.dtype.kind == "b"


def _is_float(t: Tensor) -> bool:
    return t._data.dtype.kind in "fc" or t._data.dtype.name == "bfloat16"


# ----------------------------------------------------------------------------- unary math
class Exp(Node):
    def forward(self, x):
        y = self.xp.exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * y

    def fast_backward(self, g):
        y, = self.saved_arrays
        return (g * y,)


class Exp2(Node):
    def forward(self, x):
        y = self.xp.exp2(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * y * _LN2


class Expm1(Node):
    def forward(self, x):
        y = self.xp.expm1(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * (y + 1)


class Log(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / x


class Log2(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log2(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / (x * _LN2)


class Log10(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log10(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / (x * _LN10)


class Log1P(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log1p(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / (x + 1)


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


class Square(Node):
    @classmethod
    def name(cls) -> str:
        return "PowBackward0"  # PyTorch implements square as pow(x, 2)

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, g):
        x, = self.saved_tensors
        return g * (2 * x)


class Reciprocal(Node):
    def forward(self, x):
        y = 1 / x
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return -g * y * y


class Sin(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.sin(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * cos(x)

    def fast_backward(self, g):
        x, = self.saved_arrays
        return (g * self.xp.cos(x),)


class Cos(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.cos(x)

    def backward(self, g):
        x, = self.saved_tensors
        return -g * sin(x)

    def fast_backward(self, g):
        x, = self.saved_arrays
        return (-g * self.xp.sin(x),)


class Tan(Node):
    def forward(self, x):
        y = self.xp.tan(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * (1 + y * y)


class Asin(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arcsin(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * rsqrt(1 - x * x)


class Acos(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arccos(x)

    def backward(self, g):
        x, = self.saved_tensors
        return -g * rsqrt(1 - x * x)


class Atan(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arctan(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / (1 + x * x)


class Sinh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.sinh(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * cosh(x)


class Cosh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.cosh(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * sinh(x)


class Tanh(Node):
    def forward(self, x):
        y = self.xp.tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * (1 - y * y)

    def fast_backward(self, g):
        y, = self.saved_arrays
        return (g * (1 - y * y),)


class Asinh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arcsinh(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * rsqrt(x * x + 1)


class Acosh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arccosh(x)

    def backward(self, g):
        x, = self.saved_tensors
        # (x-1)^-1/2 (x+1)^-1/2 rather than (x^2-1)^-1/2: no cancellation near 1
        return g * rsqrt(x - 1) * rsqrt(x + 1)


class Atanh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arctanh(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / (1 - x * x)


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

    def fast_backward(self, g):
        y, = self.saved_arrays
        return (g * y * (1 - y),)


class Logit(Node):
    def forward(self, x, eps=None):
        xp = self.xp
        self.eps = eps
        self.save_for_backward(x)
        z = x if eps is None else xp.clip(x, eps, 1 - eps)
        return xp.log(z / (1 - z))

    def backward(self, g):
        x, = self.saved_tensors
        d = g / (x * (1 - x))
        if self.eps is None:
            return d
        lo, hi = self.eps, 1 - self.eps
        # the clamp makes the derivative zero outside [eps, 1 - eps] (inside it is the plain one)
        return where((x < lo) | (x > hi), _zero_of(d), d)


class Erf(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _special(self).erf(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * _TWO_OVER_SQRT_PI * exp(-(x * x))


class Erfc(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _special(self).erfc(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * (-_TWO_OVER_SQRT_PI) * exp(-(x * x))


class Erfinv(Node):
    def forward(self, x):
        y = _special(self).erfinv(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g * _SQRT_PI_OVER_2 * exp(y * y)


class Lgamma(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _special(self).gammaln(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * digamma(x)


class Digamma(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _special(self).digamma(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * polygamma(1, x)


class Polygamma(Node):
    def forward(self, x, n=1):
        self.n = n
        self.save_for_backward(x)
        return _special(self).polygamma(n, x).astype(x.dtype, copy=False)

    def backward(self, g):
        x, = self.saved_tensors
        return g * polygamma(self.n + 1, x)


class Sinc(Node):
    def forward(self, x):
        xp = self.xp
        self.save_for_backward(x)
        px = x * math.pi
        with np.errstate(invalid="ignore", divide="ignore"):
            y = xp.where(x == 0, 1, xp.sin(px) / xp.where(x == 0, 1, px))
        return y.astype(x.dtype, copy=False)

    def backward(self, g):
        x, = self.saved_tensors
        zero = x == 0
        safe = where(zero, _one_of(x), x)
        px = safe * math.pi
        d = (cos(px) - sin(px) / px) / safe   # d/dx sin(pi x)/(pi x); 0 at x = 0
        return where(zero, _zero_of(d), g * d)


class Abs(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.abs(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * sign(x)   # sign(0) = 0: the gradient of |x| at 0 is 0, like PyTorch


class Relu(Node):
    def forward(self, x):
        y = self.xp.maximum(x, 0).astype(x.dtype, copy=False)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return where(y > 0, g, _zero_of(g))

    def fast_backward(self, g):
        y, = self.saved_arrays
        return (g * (y > 0),)


class Frac(Node):
    def forward(self, x):
        return x - self.xp.trunc(x)

    def backward(self, g):
        return g


class NanToNum(Node):
    def forward(self, x, nan=0.0, posinf=None, neginf=None):
        self.save_for_backward(x)
        return self.xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        x, = self.saved_tensors
        return where(isfinite(x), g, _zero_of(g))


# --- ops whose derivative is zero wherever it exists: PyTorch returns zero gradients for them
class _ZeroGrad(Node):
    def backward(self, g):
        return _wrap(self.xp.zeros(g._data.shape, g._data.dtype), self._device)


class Sign(_ZeroGrad):
    def forward(self, x):
        return self.xp.sign(x)


class Sgn(_ZeroGrad):
    def forward(self, x):
        return self.xp.sign(x)


class Floor(_ZeroGrad):
    def forward(self, x):
        return self.xp.floor(x)


class Ceil(_ZeroGrad):
    def forward(self, x):
        return self.xp.ceil(x)


class Trunc(_ZeroGrad):
    def forward(self, x):
        return self.xp.trunc(x)


class Round(_ZeroGrad):
    def forward(self, x, decimals=0):
        xp = self.xp
        if decimals == 0:
            return xp.round(x)    # half to even, like PyTorch
        # scale in the tensor's dtype (float32 for half types, which would overflow), as PyTorch does
        dt = x.dtype if x.dtype.itemsize >= 4 else np.float32
        xs = x.astype(dt, copy=False)
        scale = np.dtype(dt).type(10.0 ** (decimals if decimals > 0 else -decimals))
        r = xp.round(xs * scale) / scale if decimals > 0 else xp.round(xs / scale) * scale
        return r.astype(x.dtype, copy=False)


# ----------------------------------------------------------------------- public unary functions
def _unary(cls: type, name: str, doc: str):
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        return write_out(cls.apply(to_float(input)), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


exp = _unary(Exp, "exp", "``e ** x`` elementwise.\n\n>>> ember.exp(ember.tensor([0.]))\ntensor([1.])")
exp2 = _unary(Exp2, "exp2", "``2 ** x`` elementwise.\n\n>>> ember.exp2(ember.tensor([3.]))\ntensor([8.])")
expm1 = _unary(Expm1, "expm1", "``exp(x) - 1``, accurate near 0.\n\n>>> ember.expm1(ember.tensor([0.]))\n"
               "tensor([0.])")
log = _unary(Log, "log", "Natural logarithm.\n\n>>> ember.log(ember.tensor([1.]))\ntensor([0.])")
log2 = _unary(Log2, "log2", "Base-2 logarithm.\n\n>>> ember.log2(ember.tensor([8.]))\ntensor([3.])")
log10 = _unary(Log10, "log10", "Base-10 logarithm.\n\n>>> ember.log10(ember.tensor([100.]))\ntensor([2.])")
log1p = _unary(Log1P, "log1p", "``log(1 + x)``, accurate near 0.\n\n>>> ember.log1p(ember.tensor([0.]))\n"
               "tensor([0.])")
sqrt = _unary(Sqrt, "sqrt", "Square root (its gradient at 0 is inf).\n\n>>> ember.sqrt(ember.tensor([4.]))\n"
              "tensor([2.])")
rsqrt = _unary(Rsqrt, "rsqrt", "``1 / sqrt(x)``.\n\n>>> ember.rsqrt(ember.tensor([4.]))\ntensor([0.5000])")
reciprocal = _unary(Reciprocal, "reciprocal", "``1 / x`` (integers give floats).\n\n"
                    ">>> ember.reciprocal(ember.tensor([2]))\ntensor([0.5000])")
sin = _unary(Sin, "sin", "Sine.\n\n>>> ember.sin(ember.tensor([0.]))\ntensor([0.])")
cos = _unary(Cos, "cos", "Cosine.\n\n>>> ember.cos(ember.tensor([0.]))\ntensor([1.])")
tan = _unary(Tan, "tan", "Tangent.\n\n>>> ember.tan(ember.tensor([0.]))\ntensor([0.])")
asin = _unary(Asin, "asin", "Inverse sine.\n\n>>> ember.asin(ember.tensor([0.]))\ntensor([0.])")
acos = _unary(Acos, "acos", "Inverse cosine.\n\n>>> ember.acos(ember.tensor([1.]))\ntensor([0.])")
atan = _unary(Atan, "atan", "Inverse tangent.\n\n>>> ember.atan(ember.tensor([0.]))\ntensor([0.])")
sinh = _unary(Sinh, "sinh", "Hyperbolic sine.\n\n>>> ember.sinh(ember.tensor([0.]))\ntensor([0.])")
cosh = _unary(Cosh, "cosh", "Hyperbolic cosine.\n\n>>> ember.cosh(ember.tensor([0.]))\ntensor([1.])")
tanh = _unary(Tanh, "tanh", "Hyperbolic tangent.\n\n>>> ember.tanh(ember.tensor([0.]))\ntensor([0.])")
asinh = _unary(Asinh, "asinh", "Inverse hyperbolic sine.\n\n>>> ember.asinh(ember.tensor([0.]))\ntensor([0.])")
acosh = _unary(Acosh, "acosh", "Inverse hyperbolic cosine.\n\n>>> ember.acosh(ember.tensor([1.]))\n"
               "tensor([0.])")
atanh = _unary(Atanh, "atanh", "Inverse hyperbolic tangent.\n\n>>> ember.atanh(ember.tensor([0.]))\n"
               "tensor([0.])")
sigmoid = _unary(Sigmoid, "sigmoid", "``1 / (1 + exp(-x))``.\n\n>>> ember.sigmoid(ember.tensor([0.]))\n"
                 "tensor([0.5000])")
erf = _unary(Erf, "erf", "The error function.\n\n>>> ember.erf(ember.tensor([0.]))\ntensor([0.])")
erfc = _unary(Erfc, "erfc", "``1 - erf(x)``, accurate in the tail.\n\n>>> ember.erfc(ember.tensor([0.]))\n"
              "tensor([1.])")
erfinv = _unary(Erfinv, "erfinv", "Inverse of ``erf`` on [-1, 1].\n\n>>> ember.erfinv(ember.tensor([0.]))\n"
                "tensor([0.])")
lgamma = _unary(Lgamma, "lgamma", "``log|Gamma(x)|``.\n\n>>> ember.lgamma(ember.tensor([3.]))\n"
                "tensor([0.6931])")
digamma = _unary(Digamma, "digamma", "``d/dx lgamma(x)``.\n\n>>> ember.digamma(ember.tensor([1.]))\n"
                 "tensor([-0.5772])")
sinc = _unary(Sinc, "sinc", "Normalised sinc ``sin(pi x) / (pi x)`` (1 at 0).\n\n"
              ">>> ember.sinc(ember.tensor([0.]))\ntensor([1.])")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The ``n``-th derivative of digamma; differentiable to any order.

    >>> ember.polygamma(1, ember.tensor([1.]))
    tensor([1.6449])
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = to_float(input)
    return write_out(Digamma.apply(x) if n == 0 else Polygamma.apply(x, n=int(n)), out)


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    >>> ember.logit(ember.tensor([0.5]))
    tensor([0.])
    """
    x = to_float(input)
    r = Logit.apply(x) if eps is None else Logit.apply(x, eps=float(eps))
    return write_out(r, out)


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``|x|``; its gradient at 0 is 0.

    >>> ember.abs(ember.tensor([-1, 2]))
    tensor([1, 2])
    """
    if _is_bool(input):
        _not_implemented("abs_cpu", input)
    return write_out(Abs.apply(input), out)


absolute = abs


def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-1, 0 or 1 by the sign of each element (bool stays bool); its gradient is zero.

    >>> ember.sign(ember.tensor([-2., 0., 3.]))
    tensor([-1.,  0.,  1.])
    """
    if _is_bool(input):
        return write_out(input.clone(), out)
    return write_out(Sign.apply(input), out)


def sgn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``sign`` for real tensors, ``x / |x|`` for complex ones.

    >>> ember.sgn(ember.tensor([-2., 3.]))
    tensor([-1.,  1.])
    """
    if _is_bool(input):
        return write_out(input.clone(), out)
    if input._data.dtype.kind == "c":
        mag = abs(input)
        return write_out(where(mag == 0, _zero_of(input), input / where(mag == 0, _one_of(mag), mag)), out)
    return write_out(Sgn.apply(input), out)


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``x * x`` (bool gives int64, integers keep their dtype).

    >>> ember.square(ember.tensor([3]))
    tensor([9])
    """
    x = input.to(D.int64) if _is_bool(input) else input
    return write_out(Square.apply(x), out)


def _rounding(cls: type, name: str, kernel: str):
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if _is_bool(input):
            _not_implemented(kernel, input)
        if not _is_float(input):
            return write_out(input.clone(), out)   # integers are already whole
        return write_out(cls.apply(input), out)
    fn.__name__ = fn.__qualname__ = name
    return fn


floor = _rounding(Floor, "floor", "floor_vml_cpu")
floor.__doc__ = "Round down (zero gradient).\n\n>>> ember.floor(ember.tensor([-1.5]))\ntensor([-2.])"
ceil = _rounding(Ceil, "ceil", "ceil_vml_cpu")
ceil.__doc__ = "Round up (zero gradient).\n\n>>> ember.ceil(ember.tensor([-1.5]))\ntensor([-1.])"
trunc = _rounding(Trunc, "trunc", "trunc_vml_cpu")
trunc.__doc__ = "Round towards zero (zero gradient).\n\n>>> ember.trunc(ember.tensor([-1.5]))\ntensor([-1.])"
fix = trunc


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:
    """Round half to even, to ``decimals`` decimal places (negative: to tens, hundreds ...).

    >>> ember.round(ember.tensor([0.5, 1.5, 2.5]))
    tensor([0., 2., 2.])
    """
    if _is_bool(input) or (decimals != 0 and not _is_float(input)):
        _not_implemented("round_cpu", input)
    if not _is_float(input):
        return write_out(input.clone(), out)
    r = Round.apply(input) if decimals == 0 else Round.apply(input, decimals=int(decimals))
    return write_out(r, out)


def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``x - trunc(x)`` (keeps the sign of ``x``).

    >>> ember.frac(ember.tensor([-1.25]))
    tensor([-0.2500])
    """
    if not _is_float(input):
        _not_implemented("frac_cpu", input)
    return write_out(Frac.apply(input), out)


def positive(input: Tensor) -> Tensor:
    """Returns ``input`` itself (refuses bool, like ``+`` in PyTorch).

    >>> ember.positive(ember.tensor([-1.]))
    tensor([-1.])
    """
    if _is_bool(input):
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def relu(input: Tensor) -> Tensor:
    """``max(x, 0)`` elementwise.

    >>> ember.relu(ember.tensor([-1., 2.]))
    tensor([0., 2.])
    """
    if _is_bool(input):
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(input)


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``.

    >>> ember.relu_(ember.tensor([-1., 2.]))
    tensor([0., 2.])
    """
    return inplace(input, relu)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None, *,
               out: Tensor | None = None) -> Tensor:
    """Replace nan by ``nan``, +inf/-inf by ``posinf``/``neginf`` (default: the dtype's max/min).

    >>> ember.nan_to_num(ember.tensor([float('nan'), 1.]))
    tensor([0., 1.])
    """
    if not _is_float(input):
        return write_out(input.clone(), out)
    kw = {"nan": 0.0 if nan is None else float(nan)}
    if posinf is not None:
        kw["posinf"] = float(posinf)
    if neginf is not None:
        kw["neginf"] = float(neginf)
    return write_out(NanToNum.apply(input, **kw), out)


def deg2rad(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Degrees to radians.

    >>> ember.deg2rad(ember.tensor([180.]))
    tensor([3.1416])
    """
    return write_out(to_float(input) * (math.pi / 180.0), out)


def rad2deg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Radians to degrees.

    >>> ember.rad2deg(ember.tensor([3.141592653589793]))
    tensor([180.])
    """
    return write_out(to_float(input) * (180.0 / math.pi), out)


# ---------------------------------------------------------------------------------- methods
for _n in ("exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "abs", "absolute", "sign", "sgn",
           "exp2", "expm1", "log2", "log10", "log1p", "square", "reciprocal", "tan", "asin", "arcsin", "acos",
           "arccos", "atan", "arctan", "sinh", "cosh", "asinh", "arcsinh", "acosh", "arccosh", "atanh",
           "arctanh", "logit", "erf", "erfc", "erfinv", "lgamma", "digamma", "floor", "ceil", "round", "trunc",
           "fix", "frac", "relu", "nan_to_num", "sinc", "deg2rad", "rad2deg"):
    method(_n, globals()[_n])
    method(_n + "_", (lambda f: lambda self, *a, **k: inplace(self, f, *a, **k))(globals()[_n]))
method("positive", positive)
method("polygamma", lambda self, n: polygamma(n, self))
method("polygamma_", lambda self, n: inplace(self, lambda s: polygamma(n, s)))
method("__abs__", abs)
method("__pos__", positive)
