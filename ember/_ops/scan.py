"""Cumulative ops along a dim: cumsum, cumprod, cummax, cummin, logcumsumexp, and diff.

Backward is written with ember ops: cumsum's adjoint is a reversed cumsum, cumprod handles
zeros without dividing by them, cummax/cummin scatter the gradient to the running arg-extremum,
logcumsumexp splits the gradient by sign so everything stays in log space.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as _np  # only for errstate, never for math on data

from .. import _dtype as D
from .. import return_types
from ..autograd.graph import Node
from ..autograd.grad_mode import _state
from ._util import Tensor, _wrap, method, wrap_dim, write_out, _torch_name
from ._along import Cumsum, cumsum_, put_along, narrow_, concat_
from .inplace import inplace

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff"]


def _dim(input: Tensor, dim: Any, name: str = "dim") -> int:
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"argument '{name}' must be int, not {type(dim).__name__}")
    return wrap_dim(int(dim), input._data.ndim)


def _acc_dtype(input: Tensor, dtype: Any) -> Any:
    if dtype is not None:
        return D.to_dtype(dtype).np_dtype
    return D.int64.np_dtype if input._data.dtype.kind in "biu" else None


def _scalar_case(input: Tensor) -> bool:
    return input._data.ndim == 0


def cumsum(input: Tensor, dim: int, *, dtype: Any = None, out: Tensor | None = None) -> Tensor:
    """Running sum along ``dim``; bool and integer inputs accumulate in int64.

    >>> import ember
    >>> ember.tensor([1, 2, 3]).cumsum(0)
    tensor([1, 3, 6])
    """
    d = _dim(input, dim)
    if _scalar_case(input):
        return write_out(cumsum(input.reshape(1), 0, dtype=dtype).reshape(()), out)
    return write_out(Cumsum.apply(input, dim=d, reverse=False, dtype=_acc_dtype(input, dtype)), out)


# ------------------------------------------------------------------------------------------- cumprod
class Cumprod(Node):
    def forward(self, x, dim=0, dtype=None):
        self.dim = dim
        y = self.xp.cumprod(x, axis=dim, dtype=dtype)
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        x, y = self.saved_tensors
        return _cumprod_grad(x, y, g, self.dim)


def _cumprod_grad(x: Tensor, y: Tensor, g: Tensor, dim: int) -> Tensor:
    """Vector-Jacobian product of ``y = cumprod(x)``: ``sum_{k>=i} g_k prod_{j<=k, j!=i} x_j``.

    Without zeros that is ``revcumsum(g*y) / x``. With a first zero at ``z`` on a line: positions
    before ``z`` use the same formula (they do not divide by zero), ``z`` itself gets
    ``revcumsum(g * cumprod(x with x_z := 1))``, positions after ``z`` get ``x_z * (the same rule
    on that modified line)`` - zero in value, so only built when the gradient is itself recorded
    (for correct second derivatives).
    """
    from .pointwise import where
    from .reduction import sum as sum_
    xd = x._data
    zero = xd == 0
    if not zero.any():
        return cumsum_(g * y, dim, True) / x
    xp = _xp(x)
    cz = xp.cumsum(zero, axis=dim)
    before = _wrap(cz == 0, x._device)
    first_a = zero & (cz == 1)
    first = _wrap(first_a, x._device)
    out = where(before, cumsum_(g * y, dim, True) / where(before, x, 1.0), 0.0)
    x1 = where(first, 1.0, x)
    y1 = cumprod(x1, dim)
    out = out + where(first, cumsum_(g * y1, dim, True), 0.0)
    if _state.enabled:
        after = _wrap((cz >= 1) & ~first_a, x._device)
        xz = sum_(where(first, x, 0.0), dim, keepdim=True)
        out = out + where(after, xz * _cumprod_grad(x1, y1, g, dim), 0.0)
    return out


def _xp(x: Tensor) -> Any:
    from ..autograd.graph import _xp_of
    return _xp_of(x._device)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None, out: Tensor | None = None) -> Tensor:
    """Running product along ``dim``; the gradient is exact with zeros in the input.

    >>> import ember
    >>> ember.tensor([1., 2., 3.]).cumprod(0)
    tensor([1., 2., 6.])
    """
    d = _dim(input, dim)
    if _scalar_case(input):
        return write_out(cumprod(input.reshape(1), 0, dtype=dtype).reshape(()), out)
    return write_out(Cumprod.apply(input, dim=d, dtype=_acc_dtype(input, dtype)), out)


# ----------------------------------------------------------------------------------- cummax / cummin
class CumMax(Node):
    ufunc = "maximum"

    def forward(self, x, dim=0):
        xp = self.xp
        self.dim, self.in_shape = dim, x.shape
        values = getattr(xp, self.ufunc).accumulate(x, axis=dim)
        # the index moves to every position that equals the running extremum (ties: the latest),
        # and to every NaN (NaN propagates, like PyTorch)
        mark = x == values
        if x.dtype.kind in "fc":
            mark |= x != x
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        pos = xp.arange(x.shape[dim], dtype=xp.int64).reshape(shape)
        idx = xp.maximum.accumulate(xp.where(mark, pos, 0), axis=dim)
        self.idx = idx
        return values, idx

    def backward(self, g, _gi=None):
        return put_along(g, self.idx, self.dim, self.in_shape)

    @classmethod
    def name(cls) -> str:
        return "CummaxBackward0"


class CumMin(CumMax):
    ufunc = "minimum"

    @classmethod
    def name(cls) -> str:
        return "CumminBackward0"


def _cumext(name: str, cls: type, input: Tensor, dim: Any, out: Any) -> Any:
    d = _dim(input, dim)
    if _scalar_case(input):
        v, i = cls.apply(input.reshape(1), dim=0)
        v, i = v.reshape(()), i.reshape(())
    else:
        v, i = cls.apply(input, dim=d)
    if out is not None:
        v, i = write_out(v, out[0]), write_out(i, out[1])
    return getattr(return_types, name)(v, i)


def cummax(input: Tensor, dim: int, *, out: Any = None) -> Any:
    """Running maximum along ``dim`` and where it was found, as ``(values, indices)``.

    >>> import ember
    >>> ember.tensor([1., 3., 2.]).cummax(0).indices
    tensor([0, 1, 1])
    """
    return _cumext("cummax", CumMax, input, dim, out)


def cummin(input: Tensor, dim: int, *, out: Any = None) -> Any:
    """Running minimum along ``dim`` and where it was found, as ``(values, indices)``.

    >>> import ember
    >>> ember.tensor([3., 1., 2.]).cummin(0).values
    tensor([3., 1., 1.])
    """
    return _cumext("cummin", CumMin, input, dim, out)


# ------------------------------------------------------------------------------------- logcumsumexp
class LogCumSumExp(Node):
    def forward(self, x, dim=0, reverse=False):
        xp = self.xp
        self.dim, self.reverse = dim, reverse
        with _np.errstate(invalid="ignore"):  # NaN inputs give NaN quietly, like PyTorch
            if reverse:
                y = xp.flip(xp.logaddexp.accumulate(xp.flip(x, dim), axis=dim), dim).copy()
            else:
                y = xp.logaddexp.accumulate(x, axis=dim)
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        # d y_k / d x_i = exp(x_i - y_k): sum the positive and negative parts of g separately in
        # log space (log-sum-exp of the reversed scan), so nothing overflows
        from .pointwise import where, exp, log
        x, y = self.saved_tensors
        ninf = float("-inf")
        yd = y._data
        y = where(_wrap(yd == ninf, y._device), 0.0, y)  # all -inf prefixes: avoid -inf - -inf
        gd = g._data
        pos, neg = _wrap(gd > 0, g._device), _wrap(gd < 0, g._device)
        lp = where(pos, log(where(pos, g, 1.0)), ninf) - y
        ln = where(neg, log(where(neg, -g, 1.0)), ninf) - y
        rp = LogCumSumExp.apply(lp, dim=self.dim, reverse=not self.reverse)
        rn = LogCumSumExp.apply(ln, dim=self.dim, reverse=not self.reverse)
        return exp(x + rp) - exp(x + rn)


def logcumsumexp(input: Tensor, dim: int, *, out: Tensor | None = None) -> Tensor:
    """``log(cumsum(exp(input), dim))`` computed stably.

    >>> import ember
    >>> ember.tensor([0., 0.]).logcumsumexp(0)
    tensor([0.0000, 0.6931])
    """
    d = _dim(input, dim)
    if input._data.dtype.kind not in "fc" and input._data.dtype.name != "bfloat16":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_torch_name(input.dtype)}'")
    if _scalar_case(input):
        return write_out(logcumsumexp(input.reshape(1), 0).reshape(()), out)
    return write_out(LogCumSumExp.apply(input, dim=d), out)


# ---------------------------------------------------------------------------------------------- diff
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """``n``-th forward difference along ``dim``, optionally after joining ``prepend``/``append``.

    >>> import ember
    >>> ember.diff(ember.tensor([1, 4, 9, 16]))
    tensor([3, 5, 7])
    """
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, nd)
    parts = [input]
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            from ._util import as_tensor
            extra = as_tensor(extra, device=input._device)
        if extra._data.ndim != nd or any(a != b for i, (a, b) in enumerate(zip(extra._data.shape,
                                                                                   input._data.shape)) if i != d):
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        if name == "prepend":
            parts.insert(0, extra)
        else:
            parts.append(extra)
    x = input
    if len(parts) > 1:
        dt = parts[0].dtype
        for p in parts[1:]:
            dt = D.promote_types(dt, p.dtype)
        x = concat_([p if p.dtype is dt else p.to(dt) for p in parts], d)
    is_bool = x._data.dtype.kind == "b"
    for _ in range(n):
        length = x._data.shape[d]
        if length == 0:
            break
        hi, lo = narrow_(x, d, 1, length - 1), narrow_(x, d, 0, length - 1)
        if is_bool:
            from .pointwise import logical_xor
            x = logical_xor(hi, lo)
        else:
            x = hi - lo
    if n == 0 and x is input:
        return input.clone() if hasattr(input, "clone") else input * 1
    return x


# ------------------------------------------------------------------------------------------- methods
for _n in __all__:
    method(_n, globals()[_n])
method("cumsum_", lambda self, dim, *, dtype=None: inplace(self, cumsum, dim, dtype=dtype))
method("cumprod_", lambda self, dim, *, dtype=None: inplace(self, cumprod, dim, dtype=dtype))
