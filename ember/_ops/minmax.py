"""Extrema: max, min (all elements, along a dim, or of two tensors), amax, amin, aminmax, argmax, argmin.

``max(input)`` and ``amax`` share the gradient evenly among tied elements, like PyTorch;
``max(input, dim)`` returns ``(values, indices)`` and sends the gradient to that index only.
"""
from __future__ import annotations

import numbers
from typing import Any

from .. import return_types
from ..autograd.graph import Node
from ._util import Tensor, _wrap, dims_arg, method, write_out
from ._along import put_along
from .reduction import _restore_dims, _dims, _check_nonempty, _even_share, _squeezed

__all__ = ["max", "min", "amax", "amin", "aminmax", "argmax", "argmin"]


# ------------------------------------------------------------------------------------------- amax/amin
class AMax(Node):
    op = "max"

    def forward(self, x, dims=None, keepdim=False):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        y = getattr(x, self.op)(axis=dims, keepdims=True)
        self.save_for_backward(x)
        self.y_keep = y
        return y if keepdim else y.reshape(_squeezed(x.shape, dims))

    def backward(self, g):
        x, = self.saved_tensors
        w = _even_share(x, _wrap(self.y_keep, self._device), self.dims)
        return _restore_dims(g, self.in_shape, self.dims, self.keepdim) * w


class AMin(AMax):
    op = "min"


class MaxAll(AMax):
    """``max(input)`` without dim (shares ties evenly)."""

    @classmethod
    def name(cls) -> str:
        return "MaxBackward1"


class MinAll(AMin):
    @classmethod
    def name(cls) -> str:
        return "MinBackward1"


def amax(input: Tensor, dim: Any = (), keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """Maximum over ``dim`` (all dims by default); the gradient is shared evenly among ties.

    >>> import ember
    >>> ember.tensor([[1., 5.], [7., 2.]]).amax(1)
    tensor([5., 7.])
    """
    return _amaxmin("amax", AMax, input, dim, keepdim, out)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """Minimum over ``dim`` (all dims by default); the gradient is shared evenly among ties.

    >>> import ember
    >>> ember.tensor([[1., 5.], [7., 2.]]).amin(1)
    tensor([1., 2.])
    """
    return _amaxmin("amin", AMin, input, dim, keepdim, out)


def _amaxmin(name: str, cls: type, input: Tensor, dim: Any, keepdim: bool, out: Any) -> Tensor:
    dims = _dims(input, dim)
    _check_nonempty(name, input, dims)
    return write_out(cls.apply(input, dims=dims, keepdim=keepdim), out)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False, out: Any = None) -> Any:
    """``(min, max)`` in one call, as ``ember.return_types.aminmax``.

    >>> import ember
    >>> ember.aminmax(ember.tensor([3., 1., 2.])).max
    tensor(3.)
    """
    if dim is None and input._data.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    dims = None if dim is None else _dims(input, int(dim))
    if dims is not None and input._data.shape[dims[0]] == 0:
        raise IndexError(f"aminmax(): Expected reduction dim {dims[0]} to have non-zero size.")
    if dims is None and keepdim:
        dims = tuple(range(input._data.ndim))
    lo, hi = AMin.apply(input, dims=dims, keepdim=keepdim), AMax.apply(input, dims=dims, keepdim=keepdim)
    if out is not None:
        lo, hi = write_out(lo, out[0]), write_out(hi, out[1])
    return return_types.aminmax(lo, hi)


# ----------------------------------------------------------------------------------------- max / min
class MaxDim(Node):
    """``max(input, dim)``: values and the index of the first maximum; gradient to that index only."""
    arg = "argmax"

    def forward(self, x, dim=0, keepdim=False):
        xp = self.xp
        self.in_shape, self.dim, self.keepdim = x.shape, dim, keepdim
        idx = getattr(xp, self.arg)(x, axis=dim, keepdims=True)
        self.idx = idx
        values = xp.take_along_axis(x, idx, axis=dim)
        if not keepdim:
            values, idx = xp.squeeze(values, dim), xp.squeeze(idx, dim)
        return values, idx.astype(xp.int64, copy=False)

    def backward(self, g, _gi=None):
        g = _restore_dims(g, self.in_shape, (self.dim,), self.keepdim)
        return put_along(g, self.idx, self.dim, self.in_shape, unique=True)

    @classmethod
    def name(cls) -> str:
        return "MaxBackward0"


class MinDim(MaxDim):
    arg = "argmin"

    @classmethod
    def name(cls) -> str:
        return "MinBackward0"


def _maxmin(name: str, input: Tensor, dim: Any, keepdim: bool, out: Any) -> Any:
    if isinstance(dim, Tensor):  # binary form: elementwise maximum / minimum
        from .pointwise_binary import maximum, minimum  # lazily: that module is a sibling family
        fn = maximum if name == "max" else minimum
        return fn(input, dim, out=out)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}() received an invalid combination of arguments: keepdim requires dim")
        _check_nonempty(name, input, None)
        return write_out((MaxAll if name == "max" else MinAll).apply(input, dims=None, keepdim=False), out)
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    nd = input._data.ndim
    d = dims_arg(int(dim), nd)[0]
    if nd == 0:
        values, idx = (MaxDim if name == "max" else MinDim).apply(input.reshape(1), dim=0, keepdim=False)
        values, idx = values.reshape(()), idx.reshape(())
    else:
        _check_nonempty(name, input, (d,))
        values, idx = (MaxDim if name == "max" else MinDim).apply(input, dim=d, keepdim=keepdim)
    if out is not None:
        values, idx = write_out(values, out[0]), write_out(idx, out[1])
    return getattr(return_types, name)(values, idx)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:
    """The maximum: of all elements (a tensor), along ``dim`` (``(values, indices)``), or of two tensors.

    >>> import ember
    >>> ember.tensor([[1., 5.], [7., 2.]]).max(dim=1).indices
    tensor([1, 0])
    """
    return _maxmin("max", input, dim, keepdim, out)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:
    """The minimum: of all elements, along ``dim`` (``(values, indices)``), or of two tensors.

    >>> import ember
    >>> ember.tensor([[1., 5.], [7., 2.]]).min(dim=1).values
    tensor([1., 2.])
    """
    return _maxmin("min", input, dim, keepdim, out)


# --------------------------------------------------------------------------------------- argmax/min
class _Arg(Node):
    differentiable = False

    def forward(self, x, fn="argmax", dim=None, keepdim=False):
        xp = self.xp
        if dim is None:
            r = getattr(xp, fn)(x.reshape(-1))
            return xp.asarray(r, dtype=xp.int64).reshape((1,) * x.ndim if keepdim else ())
        return getattr(xp, fn)(x, axis=dim, keepdims=keepdim).astype(xp.int64, copy=False)


def _argmaxmin(fn: str, input: Tensor, dim: Any, keepdim: bool, out: Any) -> Tensor:
    if input._data.dtype.kind == "b":
        raise RuntimeError(f"{fn}(): does not support bool input")
    nd = input._data.ndim
    if dim is None:
        if input._data.size == 0:
            raise IndexError(f"{fn}(): Expected reduction dim to be specified for input.numel() == 0.")
        return write_out(_Arg.apply(input, fn=fn, dim=None, keepdim=keepdim), out)
    d = dims_arg(int(dim), nd)[0]
    if nd == 0:
        return write_out(_Arg.apply(input, fn=fn, dim=None, keepdim=False), out)
    _check_nonempty(fn, input, (d,))
    return write_out(_Arg.apply(input, fn=fn, dim=d, keepdim=keepdim), out)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False, *, out: Any = None) -> Tensor:
    """Index of the (first) maximum, of the flattened input or along ``dim`` (int64).

    >>> import ember
    >>> ember.tensor([[1., 5.], [7., 2.]]).argmax()
    tensor(2)
    """
    return _argmaxmin("argmax", input, dim, keepdim, out)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False, *, out: Any = None) -> Tensor:
    """Index of the (first) minimum, of the flattened input or along ``dim`` (int64).

    >>> import ember
    >>> ember.tensor([[1., 5.], [7., 2.]]).argmin(1)
    tensor([0, 1])
    """
    return _argmaxmin("argmin", input, dim, keepdim, out)


# ----------------------------------------------------------------------------------------------- methods
for _n in __all__:
    method(_n, globals()[_n])
