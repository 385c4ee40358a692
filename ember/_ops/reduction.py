"""Reductions: sum, mean, nansum, nanmean, prod, var/std (+ _mean), logsumexp, norm, all/any,
count_nonzero (max/min and friends live in ``minmax.py``).

``dim`` is an int or a tuple of ints where PyTorch allows one, ``keepdim`` keeps reduced dims as
size 1. Backward re-inserts the reduced dims (``_restore_dims``) and broadcasts; selections
(max along a dim) scatter the gradient back with ``put_along``; ties of full reductions
(``amax``, ``max()``) share the gradient evenly, like PyTorch.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as _np  # only for errstate (silencing 0/0 warnings), never for math on data

from .. import _dtype as D
from ..autograd.graph import Node
from ..autograd.grad_mode import _state
from ._util import Tensor, _wrap, dims_arg, method, write_out, to_float, _torch_name

__all__ = ["sum", "mean", "nansum", "nanmean", "prod", "var", "std", "var_mean", "std_mean", "logsumexp", "norm",
           "all", "any", "count_nonzero"]

_max = max  # the builtin, before this module shadows it


# ------------------------------------------------------------------------------------------ helpers
def _restore_dims(g: Tensor, in_shape: tuple, dims: tuple | None, keepdim: bool) -> Tensor:
    """Reshape a reduced gradient so it broadcasts against the input (re-insert reduced dims)."""
    if keepdim or not in_shape:
        return g
    if dims is None:
        return g.reshape((1,) * len(in_shape))
    shape = list(in_shape)
    for d in dims:
        shape[d] = 1
    return g.reshape(tuple(shape))


def _restore_shape(g: Any, in_shape: tuple, dims: tuple | None, keepdim: bool) -> Any:
    """``_restore_dims`` on a raw array (for fast backward paths)."""
    if keepdim or not in_shape:
        return g
    if dims is None:
        return g.reshape((1,) * len(in_shape))
    shape = list(in_shape)
    for d in dims:
        shape[d] = 1
    return g.reshape(tuple(shape))


def _dims(input: Tensor, dim: Any, empty_means_all: bool = True) -> tuple | None:
    """Normalised reduction dims: None for 'all dims', else a tuple of distinct non-negative dims."""
    nd = input._data.ndim
    if isinstance(dim, bool):
        raise TypeError("dim must be int or tuple of ints, not bool")
    dims = dims_arg(dim, nd)
    if dims is None or nd == 0:
        return None
    if dims == ():
        return None if empty_means_all else ()
    if len(dims) == nd:
        return tuple(sorted(dims))
    return dims


def _const(x: Tensor, array: Any) -> Tensor:
    """A constant (non-differentiable) tensor on ``x``'s device."""
    return _wrap(array, x._device)


def _count(shape: tuple, dims: tuple | None) -> int:
    return math.prod(shape) if dims is None else math.prod(shape[d] for d in dims)


def _is_float(t: Tensor) -> bool:
    return t._data.dtype.kind in "fc" or t._data.dtype.name == "bfloat16"


def _int_to_int64(input: Tensor, dtype: Any) -> Any:
    """The accumulation dtype of sum/prod/cumsum: ``dtype`` if given, int64 for bool/integers."""
    if dtype is not None:
        return D.to_dtype(dtype).np_dtype
    if input._data.dtype.kind in "biu":
        return D.int64.np_dtype
    return None


def _check_nonempty(name: str, input: Tensor, dims: tuple | None) -> None:
    """Reductions without an identity (max, amax, argmax ...) refuse empty reductions like PyTorch."""
    shape = input._data.shape
    if dims is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return
    for d in dims:
        if shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _even_share(x: Tensor, y: Tensor, dims: tuple | None) -> Tensor:
    """Weights that split a gradient evenly among the elements equal to the reduced result (ties)."""
    xd, yd = x._data, y._data
    mask = (xd == yd) | ((xd != xd) & (yd != yd))  # NaN results select the NaNs
    cnt = mask.sum(axis=dims, keepdims=True)
    return _const(x, (mask / cnt).astype(xd.dtype, copy=False))


# ------------------------------------------------------------------------------------------ sum/mean
class Sum(Node):
    def forward(self, x, dims=None, keepdim=False, dtype=None):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        return x.sum(axis=dims, keepdims=keepdim, dtype=dtype)

    def backward(self, g):
        return _restore_dims(g, self.in_shape, self.dims, self.keepdim).expand(self.in_shape)

    def fast_backward(self, g):
        return (self.xp.broadcast_to(_restore_shape(g, self.in_shape, self.dims, self.keepdim), self.in_shape),)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
        out: Tensor | None = None) -> Tensor:
    """Sum over all elements or over ``dim``; bool and integer inputs sum in int64.

    >>> import ember
    >>> ember.tensor([[1, 2], [3, 4]]).sum(dim=0)
    tensor([4, 6])
    """
    dims = _dims(input, dim)
    return write_out(Sum.apply(input, dims=dims, keepdim=keepdim, dtype=_int_to_int64(input, dtype)), out)


class Mean(Node):
    def forward(self, x, dims=None, keepdim=False):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        self.count = _count(x.shape, dims)
        if x.size and self.count:
            return x.mean(axis=dims, keepdims=keepdim)
        with _quiet(self.xp):  # empty reductions: nan without NumPy's warning, like PyTorch
            return x.mean(axis=dims, keepdims=keepdim)

    def backward(self, g):
        g = _restore_dims(g, self.in_shape, self.dims, self.keepdim).expand(self.in_shape)
        return g / self.count if self.count else g * float("nan")

    def fast_backward(self, g):
        g = _restore_shape(g, self.in_shape, self.dims, self.keepdim) / (self.count if self.count else float("nan"))
        return (self.xp.broadcast_to(g, self.in_shape),)


def _float_dtype_check(name: str, input: Tensor, dtype: Any) -> Tensor:
    if dtype is not None:
        return input.to(D.to_dtype(dtype))
    if not _is_float(input):
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {_torch_name(input.dtype)}")
    return input


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         out: Tensor | None = None) -> Tensor:
    """Arithmetic mean; integer inputs need a floating ``dtype`` (as in PyTorch).

    >>> import ember
    >>> ember.tensor([1., 2., 3.]).mean()
    tensor(2.)
    """
    input = _float_dtype_check("mean", input, dtype)
    return write_out(Mean.apply(input, dims=_dims(input, dim), keepdim=keepdim), out)


class _quiet:
    """Silence NumPy's warnings (empty means, 0/0) where PyTorch returns nan/inf quietly."""

    def __init__(self, xp: Any):
        self.xp = xp

    def __enter__(self) -> None:
        import warnings
        import numpy
        self._err = numpy.errstate(all="ignore")
        self._err.__enter__()
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._w.__exit__(*exc)
        self._err.__exit__(*exc)


class NanSum(Node):
    def forward(self, x, dims=None, keepdim=False, dtype=None):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        self.save_for_backward(x)
        return self.xp.nansum(x, axis=dims, keepdims=keepdim, dtype=dtype)

    def backward(self, g):
        x, = self.saved_tensors
        keep = _const(x, (x._data == x._data).astype(x._data.dtype))
        return _restore_dims(g, self.in_shape, self.dims, self.keepdim) * keep


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
           out: Tensor | None = None) -> Tensor:
    """Sum treating NaN as zero.

    >>> import ember
    >>> ember.nansum(ember.tensor([1., float('nan'), 2.]))
    tensor(3.)
    """
    dims = _dims(input, dim)
    return write_out(NanSum.apply(input, dims=dims, keepdim=keepdim, dtype=_int_to_int64(input, dtype)), out)


class NanMean(Node):
    def forward(self, x, dims=None, keepdim=False):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        keep = x == x
        cnt = keep.sum(axis=dims, keepdims=True)
        with _np.errstate(all="ignore"):  # all-NaN lines: nan, quietly
            self.weight = (keep / cnt).astype(x.dtype, copy=False) if x.size else keep.astype(x.dtype)
            s = self.xp.nansum(x, axis=dims, keepdims=keepdim)
            return (s / cnt.reshape(s.shape)).astype(x.dtype, copy=False)

    def backward(self, g):
        w = _wrap(self.weight, self._device)
        return _restore_dims(g, self.in_shape, self.dims, self.keepdim) * w


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
            out: Tensor | None = None) -> Tensor:
    """Mean over the non-NaN elements.

    >>> import ember
    >>> ember.nanmean(ember.tensor([1., float('nan'), 3.]))
    tensor(2.)
    """
    if dtype is None and not _is_float(input):
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_torch_name(input.dtype)}")
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    return write_out(NanMean.apply(input, dims=_dims(input, dim), keepdim=keepdim), out)


def _squeezed(shape: tuple, dims: tuple | None) -> tuple:
    if dims is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in dims)


# ---------------------------------------------------------------------------------------------- prod
class Prod(Node):
    def forward(self, x, dim=None, keepdim=False, dtype=None):
        self.in_shape, self.dim, self.keepdim = x.shape, dim, keepdim
        y = x.prod(axis=dim, keepdims=keepdim, dtype=dtype)
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        x, y = self.saved_tensors
        dims = None if self.dim is None else (self.dim,)
        g = _restore_dims(g, self.in_shape, dims, self.keepdim)
        y = _restore_dims(y, self.in_shape, dims, self.keepdim)
        return g * _prod_grad(x, y, self.dim)


def _prod_grad(x: Tensor, y: Tensor, dim: int | None) -> Tensor:
    """d prod(x, dim) / dx: the product of the other elements of each line, correct with zeros.

    Lines without zeros use ``y / x``. In a line with zeros, only its first zero ``z`` gets a
    first-order gradient, ``prod(x with x_z := 1)``; the others get ``x_z * (same rule on that
    modified line)``, which is zero in value but carries the right second derivative, so it is
    built only when a graph of the gradient is being recorded.
    """
    if dim is None:
        if x._data.ndim == 0:
            return x * 0 + 1
        return _prod_grad(x.reshape(-1), y.reshape(1), 0).reshape(x._data.shape)
    xp = _xp(x)
    xd = x._data
    zero = xd == 0
    if not zero.any():
        return y / x
    from .pointwise import where
    cz = xp.cumsum(zero, axis=dim)
    first = _const(x, zero & (cz == 1))
    has = _const(x, zero.any(axis=dim, keepdims=True))
    safe = where(_const(x, zero), 1.0, x)
    x1 = where(first, 1.0, x)
    p1 = prod(x1, dim, keepdim=True)
    zero_lines = where(first, p1, 0.0)
    if _state.enabled:
        xz = sum(where(first, x, 0.0), dim, keepdim=True)
        zero_lines = zero_lines + where(first, 0.0, xz * _prod_grad(x1, p1, dim))
    return where(has, zero_lines, y / safe)


def _xp(x: Tensor) -> Any:
    from ..autograd.graph import _xp_of
    return _xp_of(x._device)


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         out: Tensor | None = None) -> Tensor:
    """Product of all elements or along one dim; bool and integer inputs multiply in int64.

    >>> import ember
    >>> ember.tensor([[1., 2.], [3., 4.]]).prod(1)
    tensor([ 2., 12.])
    """
    if dim is not None and not (isinstance(dim, numbers.Integral) and not isinstance(dim, bool)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    nd = input._data.ndim
    d = None if dim is None else dims_arg(int(dim), nd)[0]
    if nd == 0:
        d = None
    y = Prod.apply(input, dim=d, keepdim=keepdim and d is not None, dtype=_int_to_int64(input, dtype))
    return write_out(y, out)


# ------------------------------------------------------------------------------------------- var/std
class Var(Node):
    def forward(self, x, dims=None, correction=1, keepdim=False):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        self.denom = _max(_count(x.shape, dims) - correction, 0)
        self.save_for_backward(x)
        if self.denom and x.size:
            return self.xp.var(x, axis=dims, ddof=correction, keepdims=keepdim)
        with _quiet(self.xp):  # no degrees of freedom: inf/nan quietly, like PyTorch
            return self.xp.sum((x - x.mean(axis=dims, keepdims=True)) ** 2, axis=dims, keepdims=keepdim) / \
                float(self.denom)

    def backward(self, g):
        x, = self.saved_tensors
        g = _restore_dims(g, self.in_shape, self.dims, self.keepdim)
        centred = x - mean(x, self.dims, keepdim=True)
        return g * centred * (2.0 / self.denom if self.denom else float("inf"))


class Std(Var):
    def forward(self, x, dims=None, correction=1, keepdim=False):
        y = self.xp.sqrt(Var.forward(self, x, dims, correction, keepdim))
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        from .pointwise import where
        x, y = self.saved_tensors
        g = _restore_dims(g, self.in_shape, self.dims, self.keepdim)
        y = _restore_dims(y, self.in_shape, self.dims, self.keepdim)
        zero = _const(y, y._data == 0)  # PyTorch gives zero gradient where std == 0
        centred = x - mean(x, self.dims, keepdim=True)
        scale = 1.0 / self.denom if self.denom else float("inf")
        return where(zero, 0.0, g * centred * scale / where(zero, 1.0, y))


def _var_args(name: str, input: Tensor, dim: Any, unbiased: Any, correction: Any) -> tuple:
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments: unbiased and correction "
                        "cannot both be given")
    if not _is_float(input):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return _dims(input, dim), correction


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None, out: Tensor | None = None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default; ``unbiased=False`` means 0).

    >>> import ember
    >>> ember.tensor([1., 2., 3., 4.]).var(correction=0)
    tensor(1.2500)
    """
    dims, c = _var_args("var", input, dim, unbiased, correction)
    return write_out(Var.apply(input, dims=dims, correction=c, keepdim=keepdim), out)


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None, out: Tensor | None = None) -> Tensor:
    """Standard deviation over ``dim`` (see ``var``).

    >>> import ember
    >>> ember.tensor([1., 3.]).std()
    tensor(1.4142)
    """
    dims, c = _var_args("std", input, dim, unbiased, correction)
    return write_out(Std.apply(input, dims=dims, correction=c, keepdim=keepdim), out)


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: Any = None, out: Any = None) -> tuple:
    """``(var, mean)`` over ``dim``.

    >>> import ember
    >>> ember.var_mean(ember.tensor([1., 3.]))
    (tensor(2.), tensor(2.))
    """
    return _spread_and_mean(Var, "var_mean", input, dim, unbiased, keepdim, correction, out)


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: Any = None, out: Any = None) -> tuple:
    """``(std, mean)`` over ``dim``.

    >>> import ember
    >>> ember.std_mean(ember.tensor([1., 3.]))
    (tensor(1.4142), tensor(2.))
    """
    return _spread_and_mean(Std, "std_mean", input, dim, unbiased, keepdim, correction, out)


def _spread_and_mean(node: type, name: str, input: Tensor, dim: Any, unbiased: Any, keepdim: bool,
                     correction: Any, out: Any) -> tuple:
    """``(var or std, mean)`` over the same dims, with the same argument handling and ``out=`` pair."""
    dims, c = _var_args(name, input, dim, unbiased, correction)
    spread = node.apply(input, dims=dims, correction=c, keepdim=keepdim)
    m = Mean.apply(input, dims=dims, keepdim=keepdim)
    if out is not None:
        spread, m = write_out(spread, out[0]), write_out(m, out[1])
    return spread, m


# ------------------------------------------------------------------------------------------ logsumexp
class LogSumExp(Node):
    def forward(self, x, dims=None, keepdim=False):
        xp = self.xp
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        if x.size == 0:
            m = xp.zeros(_squeezed(x.shape, dims) if not keepdim else
                         tuple(1 if dims is None or i in dims else s for i, s in enumerate(x.shape)), x.dtype)
            with _quiet(xp):
                y = xp.log(xp.sum(xp.exp(x), axis=dims, keepdims=keepdim))
            self.save_for_backward(x, y)
            return y
        # shift by the maximum so exp never overflows; infinite maxima shift by 0 instead
        m = xp.max(x, axis=dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)
        with _np.errstate(all="ignore"):
            y = xp.log(xp.sum(xp.exp(x - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            y = y.reshape(_squeezed(x.shape, dims))
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        from .pointwise import exp
        x, y = self.saved_tensors
        g = _restore_dims(g, self.in_shape, self.dims, self.keepdim)
        y = _restore_dims(y, self.in_shape, self.dims, self.keepdim)
        return g * exp(x - y)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """``log(sum(exp(input), dim))`` computed without overflow.

    >>> import ember
    >>> ember.logsumexp(ember.tensor([0., 0.]), 0)
    tensor(0.6931)
    """
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be tuple of ints, not NoneType")
    input = to_float(input)
    return write_out(LogSumExp.apply(input, dims=_dims(input, dim), keepdim=keepdim), out)


# ------------------------------------------------------------------------------------------------ norm
class Norm(Node):
    def forward(self, x, p=2.0, dims=None, keepdim=False):
        xp = self.xp
        self.in_shape, self.dims, self.keepdim, self.p = x.shape, dims, keepdim, p
        a = xp.abs(x)
        with _np.errstate(all="ignore"):
            if p == math.inf:
                y = a.max(axis=dims, keepdims=keepdim)
            elif p == -math.inf:
                y = a.min(axis=dims, keepdims=keepdim)
            elif p == 0:
                y = (x != 0).sum(axis=dims, keepdims=keepdim).astype(x.dtype)
            elif p == 1:
                y = a.sum(axis=dims, keepdims=keepdim)
            elif p == 2:
                y = xp.sqrt((a * a).sum(axis=dims, keepdims=keepdim))
            else:
                y = ((a ** p).sum(axis=dims, keepdims=keepdim)) ** (1.0 / p)
        y = xp.asarray(y, dtype=x.dtype)
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        from .pointwise import where, abs as abs_
        x, y = self.saved_tensors
        p = self.p
        g = _restore_dims(g, self.in_shape, self.dims, self.keepdim)
        if p == 0:
            return x * 0 * g
        if p == 1:
            return g * x.sign()
        y = _restore_dims(y, self.in_shape, self.dims, self.keepdim)
        if math.isinf(p):
            ad = _wrap(self.xp.abs(x._data), x._device)
            return g * x.sign() * _even_share(ad, y, self.dims)
        zero = _const(y, y._data == 0)  # the norm of a zero vector has gradient 0, like PyTorch
        ysafe = where(zero, 1.0, y)
        if p == 2:
            return where(zero, 0.0, g * x / ysafe)
        xzero = _const(x, x._data == 0)
        ax = where(xzero, 1.0, abs_(x))
        return where(zero, 0.0, g * x.sign() * ax ** (p - 1) / ysafe ** (p - 1))


class NuclearNorm(Node):
    """Sum of singular values over the last two dims; the gradient is ``U @ Vh``."""

    def forward(self, x):
        u, s, vh = self.xp.linalg.svd(x, full_matrices=False)
        self.uvh = u @ vh
        self.save_for_backward(x)
        return s.sum(axis=-1).astype(x.dtype, copy=False)

    def backward(self, g):
        x, = self.saved_tensors
        g = g.reshape(tuple(g.shape) + (1, 1))
        return _NuclearGrad.apply(g, x, uvh=self.uvh)


class _NuclearGrad(Node):
    """``g * U @ Vh``: linear in ``g``; its derivative through the SVD is not implemented and raises
    (never a silently wrong second derivative)."""

    def forward(self, g, x, uvh=None):
        self.uvh = uvh
        return g * uvh

    def backward(self, gg):
        if self.needs_input_grad[1]:
            raise RuntimeError("ember: the second derivative of norm(p='nuc') with respect to its input is "
                               "not implemented")
        return (gg * _wrap(self.uvh, gg._device)).sum((-2, -1), keepdim=True), None


def _nuclear_norm(input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    nd = input._data.ndim
    if dim is None:
        dim = (0, 1) if nd == 2 else tuple(range(nd))
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    d0, d1 = (dims_arg(d, nd)[0] for d in dims)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    rest = [i for i in range(nd) if i not in (d0, d1)]
    x = input.permute(rest + [d0, d1]) if rest + [d0, d1] != list(range(nd)) else input
    y = NuclearNorm.apply(x)
    if keepdim:
        shape = list(input._data.shape)
        shape[d0] = shape[d1] = 1
        y = y.reshape(tuple(shape))
    return y


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, out: Tensor | None = None,
         dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default); ``p`` a number, ``inf``, ``-inf`` or ``'fro'``.

    >>> import ember
    >>> ember.norm(ember.tensor([3., 4.]))
    tensor(5.)
    """
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    if not _is_float(input):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_torch_name(input.dtype)}")
    if isinstance(p, str):
        if p == "nuc":
            return write_out(_nuclear_norm(input, dim, keepdim), out)
        if p != "fro":
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
        if dim is not None and not isinstance(dim, numbers.Integral) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
        p = 2.0
    if p is None:
        p = 2.0
    dims = _dims(input, dim)
    p = float(p)
    if math.isinf(p) and input._data.size == 0:
        shape = input._data.shape
        for d in (range(len(shape)) if dims is None else dims):
            if shape[d] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {'-' if p < 0 else ''}inf norm on the "
                                   f"dimension {d}because this dimension is empty and the operation does not "
                                   "have an identity")
    return write_out(Norm.apply(input, p=p, dims=dims, keepdim=keepdim), out)


# ------------------------------------------------------------------------------------ all/any/count
class _Logic(Node):
    differentiable = False

    def forward(self, x, fn="all", dims=None, keepdim=False):
        r = getattr(self.xp, fn)(x, axis=dims, keepdims=keepdim)
        return r.astype(x.dtype) if x.dtype == self.xp.uint8 else r


def _logic(fn: str, input: Tensor, dim: Any, keepdim: bool, out: Any) -> Tensor:
    dims = _dims(input, dim, empty_means_all=False)
    if dims == ():
        r = _Logic.apply(input, fn=fn, dims=(), keepdim=True)
    else:
        r = _Logic.apply(input, fn=fn, dims=dims, keepdim=keepdim)
    return write_out(r, out)


def all(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """True where every element (over ``dim``) is non-zero; uint8 inputs give uint8.

    >>> import ember
    >>> ember.tensor([[True, False], [True, True]]).all(1)
    tensor([False,  True])
    """
    return _logic("all", input, dim, keepdim, out)


def any(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """True where some element (over ``dim``) is non-zero; uint8 inputs give uint8.

    >>> import ember
    >>> ember.tensor([[True, False], [False, False]]).any(1)
    tensor([ True, False])
    """
    return _logic("any", input, dim, keepdim, out)


class _CountNonzero(Node):
    differentiable = False

    def forward(self, x, dims=None):
        return self.xp.asarray(self.xp.count_nonzero(x, axis=dims), dtype=self.xp.int64)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """Number of non-zero elements (over ``dim``), as int64.

    >>> import ember
    >>> ember.count_nonzero(ember.tensor([0, 1, 2]))
    tensor(2)
    """
    dims = _dims(input, dim)
    return _CountNonzero.apply(input, dims=dims)


# ----------------------------------------------------------------------------------------------- methods
for _n in __all__:
    if _n not in ("var_mean", "std_mean"):  # functions only, as in PyTorch
        method(_n, globals()[_n])
