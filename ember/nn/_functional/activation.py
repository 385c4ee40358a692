"""Activation functions and softmax family (functional forms).

Each is one node: a fused, numerically stable forward on arrays and a backward written
with ember ops (so double backward works), e.g. ``log_softmax``'s backward is
``g - softmax(x) * g.sum(dim)``.

>>> import ember
>>> import ember.nn.functional as F
>>> F.relu(ember.tensor([-1., 2.]))
tensor([0., 2.])
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._backend.parallel import MIN_ELEMENTS_PER_PIECE, parallel_for
from ..._ops._util import Tensor, to_float, wrap_dim
from ..._ops.inplace import inplace as _inplace
from ...autograd.graph import Node

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "celu", "gelu", "silu",
           "mish", "softplus", "softsign", "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "sigmoid", "tanh",
           "logsigmoid", "softmax", "log_softmax", "softmin", "glu", "threshold", "threshold_", "tanhshrink",
           "softshrink", "hardshrink", "prelu", "rrelu"]


class _Masked(Node):
    """y = x * mask (mask from forward): ReLU-like ops; the gradient is g * mask."""

    def backward(self, g):
        mask, = self.saved_tensors
        return g * mask

    def fast_backward(self, g):
        mask, = self.saved_arrays
        return (g * mask,)


class Relu(_Masked):
    def forward(self, x):
        mask = x > 0
        self.save_for_backward(mask.astype(x.dtype))
        return x * mask

    @classmethod
    def name(cls) -> str:
        return "ReluBackward0"


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)."""
    if inplace:
        return relu_(input)
    return Relu.apply(input)


def relu_(input: Tensor) -> Tensor:
    return _inplace(input, lambda t: Relu.apply(t))


class LeakyRelu(Node):
    def forward(self, x, slope=0.01):
        scale = self.xp.where(x > 0, 1, slope).astype(x.dtype)
        self.save_for_backward(scale)
        return x * scale

    def backward(self, g):
        scale, = self.saved_tensors
        return g * scale


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    if inplace:
        return leaky_relu_(input, negative_slope)
    return LeakyRelu.apply(input, slope=negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return _inplace(input, lambda t: LeakyRelu.apply(t, slope=negative_slope))


class Hardtanh(Node):
    def forward(self, x, lo=-1.0, hi=1.0):
        self.save_for_backward(((x > lo) & (x < hi)).astype(x.dtype))
        return self.xp.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, g):
        mask, = self.saved_tensors
        return g * mask


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    fn = lambda t: Hardtanh.apply(t, lo=min_val, hi=max_val)  # noqa: E731
    return _inplace(input, fn) if inplace else fn(input)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


class Threshold(Node):
    def forward(self, x, threshold=0.0, value=0.0):
        mask = x > threshold
        self.save_for_backward(mask.astype(x.dtype))
        return self.xp.where(mask, x, value).astype(x.dtype, copy=False)

    def backward(self, g):
        mask, = self.saved_tensors
        return g * mask


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    fn = lambda t: Threshold.apply(t, threshold=threshold, value=value)  # noqa: E731
    return _inplace(input, fn) if inplace else fn(input)


def threshold_(input: Tensor, threshold_: float, value: float) -> Tensor:
    return threshold(input, threshold_, value, True)


def _inplace_composite(input: Tensor, fn: Any) -> Tensor:
    """In-place form of an activation built from several ops: they save a clone, not the overwritten input."""
    return _inplace(input, lambda t: fn(t.clone()) if t.requires_grad else fn(t))


def _where(cond: Tensor, a: Tensor, b: Any) -> Tensor:
    from ..._ops.pointwise import where
    return where(cond, a, b)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise (composite: double backward for free)."""
    fn = lambda x: _where(x > 0, x, alpha * (x.clamp(max=0).exp() - 1))  # noqa: E731
    return _inplace_composite(input, fn) if inplace else fn(input)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    fn = lambda x: _SELU_SCALE * elu(x, _SELU_ALPHA)  # noqa: E731
    return _inplace_composite(input, fn) if inplace else fn(input)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    fn = lambda x: _where(x > 0, x, alpha * ((x.clamp(max=0) / alpha).exp() - 1))  # noqa: E731
    return _inplace_composite(input, fn) if inplace else fn(input)


class Gelu(Node):
    """Exact GELU, ``x * Phi(x)``, fused: d/dx = Phi(x) + x * phi(x).

    float32 (and half types, computed in float32) take ``_gelu_single``: one ``exp`` shared by the
    value and the derivative; float64 takes the backend's accurate ``erf``.
    """

    def forward(self, x):
        xp = self.xp
        if x.dtype in _SINGLE_OR_HALF:
            y, deriv = _gelu_single(xp, x, self._recording)
            self.save_for_backward(x, deriv)
            return y
        from ..._ops.pointwise import _special
        cdf = 0.5 * (1.0 + _special(self).erf(x * x.dtype.type(_SQRT1_2)))
        if self._recording:
            pdf = xp.exp(x * x * x.dtype.type(-0.5)) * x.dtype.type(_INV_SQRT_2PI)
            self.save_for_backward(x, cdf + x * pdf)
        return x * cdf

    def backward(self, g):
        x, _ = self.saved_tensors  # composite form, so double backward works
        from ..._ops.pointwise import erf
        cdf = 0.5 * (1.0 + erf(x * _SQRT1_2))
        pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
        return g * (cdf + x * pdf)

    def fast_backward(self, g):
        _, deriv = self.saved_arrays
        return (g * deriv,)

    @classmethod
    def name(cls) -> str:
        return "GeluBackward0"


_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SINGLE_OR_HALF = (np.dtype(np.float32), np.dtype(np.float16))
# Abramowitz & Stegun 7.1.26, erfc(u) ~ t * P(t) * exp(-u^2) with t = 1 / (1 + p u), u >= 0: absolute
# error <= 1.5e-7 (float32's resolution near 1). Rewritten for u = |x| / sqrt(2) as a polynomial in
# s = 1 / (|x| + sqrt(2) / p) = t * p / sqrt(2) (one pass fewer than t) and halved, so that
# s * Q(s) * exp(-x^2 / 2) is Phi(-|x|) directly, and exp(-x^2 / 2) is also the normal density.
_AS_P = 0.3275911
_AS_SHIFT = math.sqrt(2.0) / _AS_P
_AS_HALF_COEFFS = tuple(0.5 * a * (math.sqrt(2.0) / _AS_P) ** (i + 1) for i, a in
                        enumerate((0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)))
_SIGN_BIT = np.int32(-2 ** 31)


def _gelu_single(xp, x, need_deriv):
    """GELU of a float32/float16 array in float32 passes; returns (y, dy/dx or None).

    About 20 light passes and one ``exp`` (the float32 ``exp`` costs ~15 multiplies here), the derivative
    included: forward + backward on a (2048, 512) float32 array measured 8.2 -> 5.0 ms against ``erf``
    then a second ``exp`` in backward. ``np.where``, ``copysign`` and ``sign`` each cost as much as several
    multiplies, so Phi's sign is set with integer bit operations. Large arrays are split across the
    intra-op threads (``parallel_for``; NumPy's loops release the GIL).
    """
    dtype, shape = x.dtype, x.shape
    # contiguous float32, 1-d (0-d ufunc results are scalars): mixing a transposed input with C-ordered
    # buffers below was measured 6x slower than one copy up front
    x = xp.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    y = xp.empty(x.shape, np.float32)
    deriv = xp.empty(x.shape, np.float32) if need_deriv else None

    def body(a, b):
        with np.errstate(over="ignore", invalid="ignore"):  # x*x overflowing to inf is harmless; -inf*0 is NaN
            _gelu_single_passes(xp, np.float32, x[a:b], y[a:b], None if deriv is None else deriv[a:b])

    if xp is np:
        parallel_for(x.size, body, min_chunk=MIN_ELEMENTS_PER_PIECE)
    else:
        body(0, x.size)
    y = y.astype(dtype, copy=False).reshape(shape)
    return y, (deriv.astype(dtype, copy=False).reshape(shape) if deriv is not None else None)


def _gelu_single_passes(xp, f, x, y, deriv):
    """The passes of ``_gelu_single`` over 1-d float32 ``x``, writing ``y`` (and ``deriv`` unless None)."""
    t = xp.abs(x)
    t += f(_AS_SHIFT)
    xp.divide(f(1.0), t, out=t)  # faster than np.reciprocal
    a = _AS_HALF_COEFFS
    tail = t * f(a[4])
    for c in a[3::-1]:  # Horner's rule
        tail += f(c)
        tail *= t
    density = xp.multiply(x, x, out=t)
    density *= f(-0.5)
    xp.exp(density, out=density)  # exp(-x^2 / 2)
    tail *= density  # Phi(-|x|)
    # Phi(x) = 0.5 + copysign(0.5 - Phi(-|x|), x): the sign bit of x or-ed into the non-negative half
    cdf = xp.subtract(f(0.5), tail, out=tail)
    sign = xp.bitwise_and(x.view(np.int32), _SIGN_BIT, out=y.view(np.int32))  # y holds x's sign bits first
    cdf_bits = cdf.view(np.int32)
    xp.bitwise_or(cdf_bits, sign, out=cdf_bits)
    cdf += f(0.5)
    xp.multiply(x, cdf, out=y)
    if deriv is not None:  # Phi(x) + x * phi(x)
        xp.multiply(density, x, out=deriv)
        deriv *= f(_INV_SQRT_2PI)
        deriv += cdf


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x); ``approximate='tanh'`` uses the tanh formula."""
    if approximate == "none":
        return Gelu.apply(to_float(input))
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        return 0.5 * input * (1.0 + (k * (input + 0.044715 * input * input * input)).tanh())
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    fn = lambda x: x * x.sigmoid()  # noqa: E731
    return _inplace_composite(input, fn) if inplace else fn(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    fn = lambda x: x * softplus(x).tanh()  # noqa: E731
    return _inplace_composite(input, fn) if inplace else fn(input)


class Softplus(Node):
    def forward(self, x, beta=1.0, threshold=20.0):
        self.beta, self.threshold = beta, threshold
        self.save_for_backward(x)
        xp = self.xp
        bx = beta * x
        soft = xp.logaddexp(0, bx) / beta
        return xp.where(bx > threshold, x, soft).astype(x.dtype, copy=False)

    def backward(self, g):
        x, = self.saved_tensors
        bx = x * self.beta
        return _where(bx > self.threshold, g, g * bx.sigmoid())


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, linear above ``threshold``."""
    return Softplus.apply(to_float(input), beta=beta, threshold=threshold)


def softsign(input: Tensor) -> Tensor:
    return input / (1 + input.abs())


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    fn = lambda x: x * hardtanh(x + 3, 0.0, 6.0) / 6  # noqa: E731
    return _inplace_composite(input, fn) if inplace else fn(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    fn = lambda x: hardtanh(x + 3, 0.0, 6.0) / 6  # noqa: E731
    return _inplace_composite(input, fn) if inplace else fn(input)


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) computed stably as -softplus(-x)."""
    return -softplus(-input)


def tanhshrink(input: Tensor) -> Tensor:
    return input - input.tanh()


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _where(input > lambd, input - lambd, _where(input < -lambd, input + lambd, 0.0))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return _where((input > lambd) | (input < -lambd), input, 0.0)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + weight * min(0, x), ``weight`` broadcast over the channel dim (dim 1)."""
    if weight.numel() != 1 and (input.dim() < 2 or weight.numel() != input.shape[1]):
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{weight.numel()} and channel size = {input.shape[1] if input.dim() > 1 else 1}.")
    w = weight
    if weight.numel() != 1 and input.dim() > 2:
        w = weight.reshape((weight.numel(),) + (1,) * (input.dim() - 2))
    return _where(input > 0, input, w * input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: random slopes in training, their mean in eval."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from ..._random import rand
    slopes = rand(input.shape, dtype=input.dtype, device=input.device) * (upper - lower) + lower
    fn = lambda x: _where(x >= 0, x, x * slopes)  # noqa: E731
    return _inplace_composite(input, fn) if inplace else fn(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) where (a, b) are the halves of ``input`` along ``dim``."""
    d = wrap_dim(dim, input.dim())
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    half = input.shape[d] // 2
    return input.narrow(d, 0, half) * input.narrow(d, half, half).sigmoid()


# ---------------------------------------------------------------------------------- softmax
class Softmax(Node):
    def forward(self, x, dim=-1):
        self.dim = dim
        xp = self.xp
        if x.size == 0:  # max has no identity on an empty reduction
            self.save_for_backward(x)
            return x.copy()
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        gy = g * y
        return gy - y * gy.sum(dim=self.dim, keepdim=True)

    def fast_backward(self, g):
        y, = self.saved_arrays
        gy = g * y
        return (gy - y * gy.sum(axis=self.dim, keepdims=True),)


class LogSoftmax(Node):
    def forward(self, x, dim=-1):
        self.dim = dim
        xp = self.xp
        if x.size == 0:
            self.save_for_backward(x)
            return x.copy()
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        return g - y.exp() * g.sum(dim=self.dim, keepdim=True)

    def fast_backward(self, g):
        y, = self.saved_arrays
        return (g - self.xp.exp(y) * g.sum(axis=self.dim, keepdims=True),)


def _softmax_dim(input: Tensor, dim: Any, name: str) -> int:
    if dim is None:
        import warnings
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      "dim=X as an argument.", stacklevel=3)
        n = input.dim()
        dim = 0 if n in (0, 1, 3) else 1
    return wrap_dim(dim, input.dim())


def _cast(input: Tensor, dtype: Any) -> Tensor:
    return to_float(input if dtype is None else input.to(dtype))


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (computed stably)."""
    x = _cast(input, dtype)
    if x.dim() == 0:
        return Softmax.apply(x.reshape(1), dim=0).reshape(())
    return Softmax.apply(x, dim=_softmax_dim(x, dim, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably in one pass."""
    x = _cast(input, dtype)
    if x.dim() == 0:
        return LogSoftmax.apply(x.reshape(1), dim=0).reshape(())
    return LogSoftmax.apply(x, dim=_softmax_dim(x, dim, "log_softmax"))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    return softmax(-_cast(input, dtype), dim)
