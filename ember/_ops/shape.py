"""Shape ops: views (view, reshape, expand, transpose, permute, squeeze, unsqueeze, ...)
and copies (cat, stack, flip, roll, repeat, ...).

View ops set ``is_view = True``: their outputs share memory and the version counter
with the input, and the machinery records how to rebuild them from their base (for
in-place writes through views).
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Sequence

from ..autograd.graph import Node
from ._util import Tensor, method, shape_args, wrap_dim

__all__ = ["reshape", "permute", "transpose", "t", "squeeze", "unsqueeze", "flatten", "swapaxes", "swapdims",
           "broadcast_to", "unflatten", "movedim", "moveaxis", "ravel", "atleast_1d", "atleast_2d", "atleast_3d",
           "broadcast_shapes", "broadcast_tensors", "meshgrid"]


def _infer_shape(shape: tuple, numel: int) -> tuple:
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    if neg:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif math.prod(shape) != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Node):
    is_view = True

    def forward(self, x, shape=()):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)

    @classmethod
    def name(cls) -> str:
        return "ViewBackward0"


class View(Reshape):
    def forward(self, x, shape=()):
        self.in_shape = x.shape
        v = x.view()
        try:
            v.shape = shape
        except AttributeError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") \
                from None
        return v


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """Same data with a new shape; a view when the memory layout allows, else a copy.

    >>> import ember
    >>> ember.arange(6).reshape(2, -1).shape
    ember.Size([2, 3])
    """
    shape = _infer_shape(shape_args(shape, "shape"), input._data.size)
    if shape == input._data.shape:
        return Reshape.apply(input, shape=shape) if input._requires_grad else _alias(input)
    return Reshape.apply(input, shape=shape)


def _alias(x: Tensor) -> Tensor:
    """A new tensor object on the same data (a view in PyTorch's sense)."""
    return Reshape.apply(x, shape=x._data.shape)


def view(self: Tensor, *shape: Any) -> Tensor:
    """A view with a new shape (never copies), or a reinterpretation as another dtype."""
    from .. import _dtype as D
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        return _view_dtype(self, shape[0])
    shape = _infer_shape(shape_args(shape, "shape"), self._data.size)
    return View.apply(self, shape=shape)


def _view_dtype(self: Tensor, dt: Any) -> Tensor:
    if dt.np_dtype == self._data.dtype:
        return _alias(self)
    if self._requires_grad:
        raise RuntimeError("view(dtype) is not differentiable")
    from .._tensor import _wrap
    out = _wrap(self._data.view(dt.np_dtype), self._device)
    out._vc, out._base = self._vc, self
    return out


class Expand(Node):
    is_view = True

    def forward(self, x, shape=()):
        self.in_shape = x.shape
        return self.xp.broadcast_to(x, shape)

    def backward(self, g):
        from ..autograd.engine import _sum_to_shape
        return _sum_to_shape(g, self.in_shape)


def expand(self: Tensor, *sizes: Any) -> Tensor:
    """Broadcast size-1 dims to larger sizes without copying (-1 keeps a dim)."""
    sizes = shape_args(sizes, "size")
    shape = self._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            target.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            target.append(cur)
        elif cur == s or cur == 1:
            target.append(s)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(shape)}")
    target = tuple(target)
    if target == shape:
        return _alias(self)
    return Expand.apply(self, shape=target)


def expand_as(self: Tensor, other: Tensor) -> Tensor:
    return expand(self, other._data.shape)


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    return expand(input, size)


class Permute(Node):
    is_view = True

    def forward(self, x, dims=()):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, g):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return g.permute(inv)


def permute(input: Tensor, *dims: Any) -> Tensor:
    """Reorder dimensions (a view)."""
    dims = shape_args(dims, "dims")
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
                           f"to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims=dims)


class Transpose(Node):
    is_view = True

    def forward(self, x, dim0=0, dim1=1):
        self.dim0, self.dim1 = dim0, dim1
        return self.xp.swapaxes(x, dim0, dim1)

    def backward(self, g):
        return g.transpose(self.dim0, self.dim1)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    n = input._data.ndim
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    if n == 0:
        return _alias(input)
    return Transpose.apply(input, dim0=d0, dim1=d1)


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    if input._data.ndim < 2:
        return _alias(input)
    return Transpose.apply(input, dim0=0, dim1=1)


class Squeeze(Node):
    is_view = True

    def forward(self, x, dims=None):
        self.in_shape = x.shape
        return x.reshape(tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1)))

    def backward(self, g):
        return g.reshape(self.in_shape)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Remove dims of size 1 (all, one, or a tuple of them)."""
    n = input._data.ndim
    if dim is None:
        dims = tuple(range(n))
    elif isinstance(dim, int):
        dims = (wrap_dim(dim, n),)
    else:
        dims = tuple(wrap_dim(d, n) for d in dim)
    return Squeeze.apply(input, dims=dims)


class Unsqueeze(Node):
    is_view = True

    def forward(self, x, dim=0):
        self.dim = dim
        return self.xp.expand_dims(x, dim)

    def backward(self, g):
        return g.squeeze(self.dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at ``dim`` (a view)."""
    return Unsqueeze.apply(input, dim=wrap_dim(dim, input._data.ndim + 1))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    shape = input._data.shape
    n = len(shape)
    if n == 0:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, n), wrap_dim(end_dim, n)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return _alias(input)
    new = shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:]
    return reshape(input, new)


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    return transpose(input, axis0, axis1)


method("reshape", reshape)
method("view", view)
method("expand", expand)
method("expand_as", expand_as)
method("broadcast_to", broadcast_to)
method("permute", permute)
method("transpose", transpose)
method("swapaxes", swapaxes)
method("swapdims", swapaxes)
method("t", t)
method("squeeze", squeeze)
method("unsqueeze", unsqueeze)
method("flatten", flatten)
Tensor.T = property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1))))
Tensor.mT = property(lambda self: transpose(self, -2, -1) if self._data.ndim >= 2 else _mt_error(self))
Tensor.H = property(lambda self: t(self).conj() if self.is_complex() else t(self))
Tensor.mH = property(lambda self: Tensor.mT.fget(self).conj() if self.is_complex() else Tensor.mT.fget(self))


def _mt_error(self: Tensor) -> None:
    raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self._data.ndim}-D "
                       "tensor.")
