"""Joining and splitting: cat, stack and their h/v/d/column variants; split, chunk, tensor_split,
h/v/dsplit, unbind and narrow.

The split family returns views of the input (one node, many outputs). Their backward puts each
output's gradient back into its region of an input-shaped gradient: when the pieces tile the dim
that is one ``cat``; otherwise (``tensor_split`` with unsorted indices) a sum of zero-padded pieces.

>>> import ember
>>> a, b = ember.arange(6.).split([2, 4])
>>> ember.cat([b, a]).tolist()
[2.0, 3.0, 4.0, 5.0, 0.0, 1.0]
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

from .. import _dtype as D
from ..autograd.graph import Node
from ._util import Tensor, _torch_name, _wrap, method, wrap_dim, write_out

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "split", "chunk", "tensor_split", "hsplit", "vsplit", "dsplit", "unbind", "narrow"]


def _region(dim: int, start: int, stop: int) -> tuple:
    return (slice(None),) * dim + (slice(start, stop),)


# ------------------------------------------------------------------------------------------ nodes
class Cat(Node):
    def forward(self, *arrays, dim=0, skip=()):
        # ``skip``: legacy empty 1-D inputs, which PyTorch ignores whatever the other shapes are
        self.dim, self.skip = dim, skip
        kept = [a for i, a in enumerate(arrays) if i not in skip]
        self.bounds = _bounds_of([a.shape[dim] for a in kept])
        self.dtypes = [a.dtype for a in arrays]
        return self.xp.concatenate(kept, axis=dim)

    def backward(self, g):
        pieces = iter(Split.apply(g, dim=self.dim, bounds=self.bounds))
        return tuple(_wrap(self.xp.zeros((0,), self.dtypes[i]), self._device) if i in self.skip else next(pieces)
                     for i in range(len(self.dtypes)))


class Stack(Node):
    def forward(self, *arrays, dim=0):
        self.dim = dim
        return self.xp.stack(arrays, axis=dim)

    def backward(self, g):
        return Unbind.apply(g, dim=self.dim)


class Split(Node):
    """Views ``x[..., a:b, ...]`` along ``dim`` for each ``(a, b)`` in ``bounds``."""
    is_view = True

    def forward(self, x, dim=0, bounds=()):
        self.in_shape, self.dim, self.bounds = x.shape, dim, bounds
        return tuple(x[_region(dim, a, b)] for a, b in bounds)

    def backward(self, *grads):
        return _place(self, grads, self.in_shape, self.dim, self.bounds)


class Slice(Node):
    """One view ``x[..., start:stop, ...]`` (narrow)."""
    is_view = True

    def forward(self, x, dim=0, start=0, stop=0):
        self.in_shape, self.dim, self.start, self.stop = x.shape, dim, start, stop
        return x[_region(dim, start, stop)]

    def backward(self, g):
        return SliceScatter.apply(g, shape=self.in_shape, dim=self.dim, start=self.start, stop=self.stop)


class SliceScatter(Node):
    """Zeros of ``shape`` with ``src`` written at ``[..., start:stop, ...]`` (the gradient of a slice)."""

    def forward(self, src, shape=(), dim=0, start=0, stop=0):
        self.dim, self.start, self.stop = dim, start, stop
        out = self.xp.zeros(shape, src.dtype)
        out[_region(dim, start, stop)] = src
        return out

    def backward(self, g):
        return Slice.apply(g, dim=self.dim, start=self.start, stop=self.stop)


class Unbind(Node):
    is_view = True

    def forward(self, x, dim=0):
        self.dim = dim
        # iterating the moved array makes the n views in C, not in a Python loop of indexing calls
        return tuple(self.xp.moveaxis(x, dim, 0)) if x.shape[dim] else ()

    def backward(self, *grads):
        return Stack.apply(*grads, dim=self.dim)


def _bounds_of(sizes: Sequence[int]) -> tuple:
    out, pos = [], 0
    for s in sizes:
        out.append((pos, pos + s))
        pos += s
    return tuple(out)


def _place(node: Node, grads: tuple, in_shape: tuple, dim: int, bounds: tuple) -> Any:
    """The input-shaped gradient of pieces ``bounds`` of ``dim`` (ember ops, so it differentiates again)."""
    tiles = bounds and bounds[0][0] == 0 and bounds[-1][1] == in_shape[dim] and all(
        bounds[i][1] == bounds[i + 1][0] for i in range(len(bounds) - 1))
    if tiles:
        return Cat.apply(*grads, dim=dim) if len(grads) > 1 else grads[0]
    total = None
    for g, (a, b) in zip(grads, bounds):
        if b <= a:
            continue
        part = SliceScatter.apply(g, shape=in_shape, dim=dim, start=a, stop=b)
        total = part if total is None else total + part
    if total is None:  # every piece empty
        return _wrap(node.xp.zeros(in_shape, node._in_meta[0][1]), node._device)
    return total


# -------------------------------------------------------------------------------------- joining
def _tensor_list(tensors: Any, fname: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return list(tensors)


def _nonempty(tensors: Any, fname: str) -> list:
    ts = _tensor_list(tensors, fname)
    if not ts:
        raise RuntimeError(f"{fname} expects a non-empty TensorList")
    return ts


def _promote_all(tensors: list) -> list:
    dt = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not dt:
            dt = D.promote_types(dt, t.dtype)
    return [t if t.dtype is dt else t.to(dt) for t in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Concatenate tensors along an existing dim (inputs are promoted to a common dtype).

    >>> ember.cat([ember.zeros(2, 3), ember.ones(1, 3)]).shape
    ember.Size([3, 3])
    """
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    # empty 1-D tensors are skipped (legacy behaviour PyTorch keeps)
    skip = tuple(i for i, t in enumerate(tensors) if t._data.shape == (0,))
    kept = [t for i, t in enumerate(tensors) if i not in skip]
    tensors = _promote_all(tensors)
    if not kept:
        wrap_dim(dim, 1)
        return write_out(Cat.apply(*tensors, dim=0, skip=()), out)
    ref = kept[0]._data.shape
    d = wrap_dim(dim, len(ref))
    for i, t in enumerate(tensors):
        if i in skip:
            continue
        s = t._data.shape
        if len(s) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(ref)} and {len(s)}")
        for k in range(len(ref)):
            if k != d and s[k] != ref[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size {ref[k]} "
                                   f"but got size {s[k]} for tensor number {i} in the list.")
    return write_out(Cat.apply(*tensors, dim=d, skip=skip), out)


concat = cat
concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Join equally shaped tensors along a new dim.

    >>> ember.stack([ember.zeros(2), ember.ones(2)], dim=1).shape
    ember.Size([2, 2])
    """
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(ref) + 1)
    return write_out(Stack.apply(*_promote_all(tensors), dim=d), out)


def hstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Concatenate column-wise (along dim 1, or dim 0 for 1-D inputs).

    >>> ember.hstack([ember.zeros(2), ember.ones(3)]).shape
    ember.Size([5])
    """
    from .shape import atleast_1d
    ts = atleast_1d(_nonempty(tensors, "hstack"))
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Concatenate row-wise (inputs made at least 2-D).

    >>> ember.vstack([ember.zeros(3), ember.ones(3)]).shape
    ember.Size([2, 3])
    """
    from .shape import atleast_2d
    return cat(atleast_2d(_nonempty(tensors, "vstack")), 0, out=out)


row_stack = vstack


def dstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Concatenate depth-wise (along dim 2, inputs made at least 3-D).

    >>> ember.dstack([ember.zeros(3), ember.ones(3)]).shape
    ember.Size([1, 3, 2])
    """
    from .shape import atleast_3d
    return cat(atleast_3d(_nonempty(tensors, "dstack")), 2, out=out)


def column_stack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Stack 0-D/1-D tensors as columns (and 2-D ones as they are) along dim 1.

    >>> ember.column_stack([ember.zeros(3), ember.ones(3)]).shape
    ember.Size([3, 2])
    """
    ts = _nonempty(tensors, "column_stack")
    ts = [t.reshape(t._data.size, 1) if t._data.ndim <= 1 else t for t in ts]
    return cat(ts, 1, out=out)


# ------------------------------------------------------------------------------------ splitting
def _split_dim(tensor: Tensor, dim: int) -> int:
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    return wrap_dim(dim, tensor._data.ndim)


def _int_arg(x: Any) -> int | None:
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return int(x)
    return None


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the listed sizes (views).

    >>> [p.shape[0] for p in ember.arange(5).split(2)]
    [2, 2, 1]
    """
    d = _split_dim(tensor, dim)
    n = tensor._data.shape[d]
    size = _int_arg(split_size_or_sections)
    if isinstance(split_size_or_sections, Tensor) and split_size_or_sections.ndim == 0:
        size = int(split_size_or_sections.item())
    if size is not None:
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        k = max(-(-n // size), 1) if size else 1
        sizes = [size] * (k - 1) + [n - size * (k - 1)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                               f"split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sizes}")
    return Split.apply(tensor, dim=d, bounds=_bounds_of(sizes))


def split_with_sizes(self: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    return split(self, list(split_sizes), dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into at most ``chunks`` equal pieces (views; the last may be smaller).

    >>> [p.shape[0] for p in ember.arange(6).chunk(4)]
    [2, 2, 2]
    """
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _split_dim(input, dim)
    n = input._data.shape[d]
    if n == 0:
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), d)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:
    """Split into ``sections`` near-equal pieces, or at the given indices (Python slicing rules; views).

    >>> [p.shape[0] for p in ember.arange(7).tensor_split(3)]
    [3, 2, 2]
    """
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg.dtype is not D.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{_torch_name(arg.dtype)}")
        if arg.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {arg.ndim} dims")
        arg = int(arg.item()) if arg.ndim == 0 else [int(i) for i in arg.tolist()]
    sections = _int_arg(arg)
    if sections is not None:
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        q, r = divmod(n, sections)
        return Split.apply(input, dim=d, bounds=_bounds_of([q + 1] * r + [q] * (sections - r)))
    if not isinstance(arg, (list, tuple)) or not all(_int_arg(i) is not None for i in arg):
        raise TypeError(f"tensor_split() received an invalid combination of arguments - got "
                        f"({type(arg).__name__}), but expected one of: (tuple of ints indices, int dim), "
                        "(Tensor tensor_indices_or_sections, int dim), (int sections, int dim)")
    cuts = [None] + [int(i) for i in arg] + [None]
    bounds = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        start, stop, _ = slice(a, b).indices(n)
        bounds.append((start, max(start, stop)))
    return Split.apply(input, dim=d, bounds=tuple(bounds))


def _dir_split(name: str, dim: int, min_dim: int):
    def fn(input: Tensor, indices_or_sections: Any) -> tuple:
        nd = input._data.ndim
        if nd < min_dim:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} dimension, but got a "
                               f"tensor with {nd} dimensions!")
        d = dim if nd > 1 or name != "hsplit" else 0
        sections = _int_arg(indices_or_sections)
        if sections is not None:
            size = input._data.shape[d]
            if sections == 0 or size % sections:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the "
                                   f"dimension {size} is not divisible by the split_size {sections}!")
        return tensor_split(input, indices_or_sections, d)
    fn.__name__ = name
    fn.__doc__ = (f"``tensor_split`` along dim {dim} (sections must divide the size evenly).\n\n"
                  f"    >>> len(ember.zeros(4, 4, 4).{name}(2))\n    2\n    ")
    return fn


hsplit = _dir_split("hsplit", 1, 1)
vsplit = _dir_split("vsplit", 0, 2)
dsplit = _dir_split("dsplit", 2, 3)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """All slices along ``dim``, with that dim removed (views).

    >>> [t.tolist() for t in ember.tensor([[1, 2], [3, 4]]).unbind(1)]
    [[1, 3], [2, 4]]
    """
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, dim=wrap_dim(dim, input._data.ndim))


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The view ``input[..., start:start + length, ...]`` along ``dim`` (negative ``start`` counts from the end).

    >>> ember.arange(5).narrow(0, 1, 2).tolist()
    [1, 2]
    """
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, Tensor):
        start = start.__index__()
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return Slice.apply(input, dim=d, start=start, stop=start + length)


for _n in ("split", "chunk", "tensor_split", "hsplit", "vsplit", "dsplit", "unbind", "narrow", "split_with_sizes"):
    method(_n, globals()[_n])
