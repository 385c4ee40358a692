"""Reductions: sum, mean, ... (``dim`` as int or tuple, ``keepdim``, ``dtype``)."""
from __future__ import annotations

from typing import Any

from .. import _dtype as D
from ..autograd.graph import Node
from ._util import Tensor, dims_arg, method, write_out

__all__ = ["sum", "mean"]


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


class Sum(Node):
    def forward(self, x, dims=None, keepdim=False, dtype=None):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        return x.sum(axis=dims, keepdims=keepdim, dtype=dtype)

    def backward(self, g):
        return _restore_dims(g, self.in_shape, self.dims, self.keepdim).expand(self.in_shape)


def _sum_dtype(input: Tensor, dtype: Any) -> Any:
    if dtype is not None:
        return D.to_dtype(dtype).np_dtype
    k = input._data.dtype.kind
    if k in "biu":  # integer sums accumulate in int64, like PyTorch
        return D.int64.np_dtype
    return None


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
        out: Tensor | None = None) -> Tensor:
    """Sum over all elements or over ``dim``.

    >>> import ember
    >>> ember.tensor([[1, 2], [3, 4]]).sum(dim=0)
    tensor([4, 6])
    """
    dims = dims_arg(dim, input._data.ndim)
    if dims == ():
        dims = None if not isinstance(dim, (list, tuple)) else tuple(range(input._data.ndim))
    return write_out(Sum.apply(input, dims=dims, keepdim=keepdim, dtype=_sum_dtype(input, dtype)), out)


class Mean(Node):
    def forward(self, x, dims=None, keepdim=False, dtype=None):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        y = x.mean(axis=dims, keepdims=keepdim, dtype=dtype)
        self.count = max(x.size, 1) // max(y.size, 1) if x.size else 0
        return y

    def backward(self, g):
        g = _restore_dims(g, self.in_shape, self.dims, self.keepdim)
        return g.expand(self.in_shape) / self.count if self.count else g.expand(self.in_shape) * float("nan")


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         out: Tensor | None = None) -> Tensor:
    """Arithmetic mean; integer inputs need a floating ``dtype`` (as in PyTorch).

    >>> import ember
    >>> ember.tensor([1., 2., 3.]).mean()
    tensor(2.)
    """
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    elif input._data.dtype.kind in "biu":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {_name(input.dtype)}")
    dims = dims_arg(dim, input._data.ndim)
    if dims == ():
        dims = None if not isinstance(dim, (list, tuple)) else tuple(range(input._data.ndim))
    return write_out(Mean.apply(input, dims=dims, keepdim=keepdim), out)


def _name(d: D.dtype) -> str:
    from ._util import _torch_name
    return _torch_name(d)


method("sum", sum)
method("mean", mean)
