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
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
    if neg:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                               "unspecified dimension size -1 can be any value and is ambiguous")
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
    elif isinstance(dim, numbers.Integral):
        dims = (wrap_dim(dim, n),)
    else:
        dims = tuple(wrap_dim(d, n) for d in dim)
        if len(set(dims)) != len(dims):
            dup = next(d for d in dims if dims.count(d) > 1)
            raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
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
    s, e = wrap_dim(start_dim, n), wrap_dim(end_dim, n)
    if n == 0:
        return reshape(input, (1,))
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
Tensor.H = property(lambda self: _h_check(self).conj() if self.is_complex() else _h_check(self))
Tensor.mH = property(lambda self: Tensor.mT.fget(self).conj() if self.is_complex() else Tensor.mT.fget(self))


def _h_check(self: Tensor) -> Tensor:
    nd = self._data.ndim
    if nd not in (0, 2):
        hint = " For batches of matrices, consider using tensor.mH" if nd > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor.{hint}")
    return t(self)


def _mt_error(self: Tensor) -> None:
    raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self._data.ndim}-D "
                       "tensor.")


swapdims = swapaxes


def view_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.view(other.shape)``.

    >>> ember.arange(6).view_as(ember.zeros(2, 3)).shape
    ember.Size([2, 3])
    """
    return view(self, other._data.shape)


def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.reshape(other.shape)``.

    >>> ember.arange(6).reshape_as(ember.zeros(3, 2)).shape
    ember.Size([3, 2])
    """
    return reshape(self, other._data.shape)


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (a view when the layout allows, else a copy).

    >>> ember.zeros(2, 3).ravel().shape
    ember.Size([6])
    """
    return reshape(input, (-1,))


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one of them may be -1; a view).

    >>> ember.zeros(2, 6).unflatten(1, (2, 3)).shape
    ember.Size([2, 2, 3])
    """
    shape = input._data.shape
    if not shape:
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, len(shape))
    sizes = shape_args((sizes,) if isinstance(sizes, numbers.Integral) else (tuple(sizes),), "sizes")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = shape[d] if shape else 1
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
                           f"({n}) in the input tensor")
    if -1 in sizes:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


def _dim_list(x: Any) -> list:
    return [int(x)] if isinstance(x, numbers.Integral) else [int(d) for d in x]


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order (a view).

    >>> ember.zeros(2, 3, 4).movedim(0, -1).shape
    ember.Size([3, 4, 2])
    """
    n = input._data.ndim
    src, dst = _dim_list(source), _dim_list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    src = [wrap_dim(d, n) for d in src]
    dst = [wrap_dim(d, n) for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    if n == 0:
        return _alias(input)
    order = [-1] * n
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(d for d in range(n) if d not in src)
    order = [next(rest) if o == -1 else o for o in order]
    return Permute.apply(input, dims=tuple(order))


moveaxis = movedim


# ------------------------------------------------------------------------------------- unfold
def _as_strided(xp: Any, x: Any, shape: tuple, strides: tuple, writeable: bool = True) -> Any:
    st = xp.lib.stride_tricks
    if xp.__name__ == "numpy":
        return st.as_strided(x, shape, strides, writeable=writeable)
    return st.as_strided(x, shape, strides)


def _window_view(xp: Any, x: Any, dim: int, size: int, step: int, writeable: bool) -> Any:
    """Windows of ``size`` every ``step`` along ``dim``: dim becomes the window count, a last dim of ``size``."""
    n = (x.shape[dim] - size) // step + 1
    sh, st = x.shape, x.strides
    return _as_strided(xp, x, sh[:dim] + (n,) + sh[dim + 1:] + (size,),
                       st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],), writeable)


class Unfold(Node):
    is_view = True

    def forward(self, x, dim=0, size=1, step=1):
        self.in_shape, self.dim, self.size, self.step = x.shape, dim, size, step
        # overlapping windows alias one element several times: read-only, as PyTorch refuses writes there
        return _window_view(self.xp, x, dim, size, step, getattr(x.flags, "writeable", True) and step >= size)

    def backward(self, g):
        return UnfoldBackward.apply(g, shape=self.in_shape, dim=self.dim, size=self.size, step=self.step)


class UnfoldBackward(Node):
    """Sum the windows back into an input-shaped tensor (each element gets the grads of all its windows)."""

    def forward(self, g, shape=(), dim=0, size=1, step=1):
        self.dim, self.size, self.step = dim, size, step
        out = self.xp.zeros(shape, g.dtype)
        win = _window_view(self.xp, out, dim, size, step, True)
        if step >= size:
            win[...] = g
            return out
        # windows r, r+q, r+2q, ... never overlap when q*step >= size: q strided adds, q <= size
        q = -(-size // step)
        for r in range(q):
            idx = (slice(None),) * dim + (slice(r, None, q),)
            win[idx] += g[idx]
        return out

    def backward(self, gg):
        return Unfold.apply(gg, dim=self.dim, size=self.size, step=self.step)


def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All slices of length ``size`` every ``step`` along ``dimension``, as a new last dim (a view).

    >>> ember.arange(5.).unfold(0, 2, 1).shape
    ember.Size([4, 2])
    """
    nd = self._data.ndim
    d = wrap_dim(dimension, nd)
    n = self._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if nd == 0:
        from .join import narrow
        return narrow(reshape(self, (1,)), 0, 0, size)
    return Unfold.apply(self, dim=d, size=size, step=step)


# -------------------------------------------------------------------------- atleast / broadcast
def _atleast(tensors: tuple, fn: Any) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(fn(t) for t in tensors[0])
    if len(tensors) == 1:
        return fn(tensors[0])
    return tuple(fn(t) for t in tensors)


def _1d(t: Tensor) -> Tensor:
    return reshape(t, (1,)) if t._data.ndim == 0 else t


def _2d(t: Tensor) -> Tensor:
    nd = t._data.ndim
    return reshape(t, (1, 1)) if nd == 0 else unsqueeze(t, 0) if nd == 1 else t


def _3d(t: Tensor) -> Tensor:
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, (1, 1, 1))
    if nd == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    return unsqueeze(t, -1) if nd == 2 else t


def atleast_1d(*tensors: Any) -> Any:
    """Each input with at least one dim (0-d becomes shape (1,)); a tuple for several inputs.

    >>> ember.atleast_1d(ember.tensor(1.)).shape
    ember.Size([1])
    """
    return _atleast(tensors, _1d)


def atleast_2d(*tensors: Any) -> Any:
    """Each input with at least two dims (1-D of size N becomes (1, N)).

    >>> ember.atleast_2d(ember.zeros(3)).shape
    ember.Size([1, 3])
    """
    return _atleast(tensors, _2d)


def atleast_3d(*tensors: Any) -> Any:
    """Each input with at least three dims ((N,) -> (1, N, 1), (M, N) -> (M, N, 1)).

    >>> ember.atleast_3d(ember.zeros(2, 3)).shape
    ember.Size([2, 3, 1])
    """
    return _atleast(tensors, _3d)


def broadcast_shapes(*shapes: Any) -> Any:
    """The shape that tensors of these shapes broadcast to.

    >>> ember.broadcast_shapes((3, 1), (1, 4))
    ember.Size([3, 4])
    """
    from .._tensor import Size
    shapes = [(int(s),) if isinstance(s, numbers.Integral) else tuple(int(d) for d in s) for s in shapes]
    out: list = []
    for i, s in enumerate(shapes):
        if any(d < 0 for d in s):
            raise ValueError("Attempting to broadcast a dimension with negative length!")
        if len(s) > len(out):
            out = [1] * (len(s) - len(out)) + out
        for k in range(1, len(s) + 1):
            a, b = out[-k], s[-k]
            if a == 1:
                out[-k] = b
            elif b != 1 and b != a:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {b} at {-k}! Mismatching "
                                   f"argument at index {i} had {s}; but expected shape should be broadcastable "
                                   f"to {out}")
    return Size(out)


def _broadcast_pair(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                               f"non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """Expand all inputs to their common broadcast shape (views).

    >>> [t.shape for t in ember.broadcast_tensors(ember.zeros(3, 1), ember.zeros(4))]
    [ember.Size([3, 4]), ember.Size([3, 4])]
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape: tuple = ()
    for t in tensors:
        shape = _broadcast_pair(shape, t._data.shape)
    return tuple(expand(t, shape) for t in tensors)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D tensors: output ``i`` varies along dim ``i`` ('ij') or with the first two
    dims swapped ('xy', Cartesian). Outputs are expanded views.

    >>> [g.shape for g in ember.meshgrid(ember.zeros(2), ember.zeros(3), indexing="ij")]
    [ember.Size([2, 3]), ember.Size([2, 3])]
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"meshgrid(): expected Tensor, but got {type(t).__name__}")
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                               f"{t._data.ndim}-D tensor of shape {list(t._data.shape)}")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t._device != tensors[0]._device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    n = len(tensors)
    pos = list(range(n))
    if indexing == "xy" and n >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * n
    for i, t in enumerate(tensors):
        shape[pos[i]] = t._data.size
    out = []
    for i, t in enumerate(tensors):
        vshape = [1] * n
        vshape[pos[i]] = t._data.size
        out.append(expand(reshape(t, tuple(vshape)), tuple(shape)))
    return tuple(out)


method("view_as", view_as)
method("reshape_as", reshape_as)
method("ravel", ravel)
method("unflatten", unflatten)
method("movedim", movedim)
method("moveaxis", movedim)
method("unfold", unfold)
