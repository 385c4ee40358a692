"""Ops that rearrange or replicate elements: repeat, tile, repeat_interleave, flip, roll, rot90,
the diagonal family (diagonal, diag, diag_embed, diagflat) and tril/triu.

All return new memory except ``diagonal``, which is a view.

>>> import ember
>>> ember.arange(3).repeat(2).tolist()
[0, 1, 2, 0, 1, 2]
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

from .. import _dtype as D
from ..autograd.graph import Node
from .inplace import inplace
from ._util import Tensor, _torch_name, method, shape_args, wrap_dim, write_out
from .shape import reshape, transpose

__all__ = ["tile", "repeat_interleave", "flip", "fliplr", "flipud", "roll", "rot90", "diagonal", "diag",
           "diag_embed", "diagflat", "tril", "triu"]


# ------------------------------------------------------------------------------- repeat / tile
class Repeat(Node):
    def forward(self, x, repeats=()):
        self.in_shape, self.repeats = x.shape, repeats
        return self.xp.tile(x, repeats)

    def backward(self, g):
        # split every output dim into (repeat, size) and sum over the repeat axes
        lead = len(self.repeats) - len(self.in_shape)
        padded = (1,) * lead + tuple(self.in_shape)
        inter = []
        for r, s in zip(self.repeats, padded):
            inter += [r, s]
        return g.reshape(inter).sum(dim=tuple(range(0, 2 * len(padded), 2))).reshape(self.in_shape)


def repeat(self: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dim (``sizes`` may add leading dims; a copy).

    >>> ember.zeros(2, 3).repeat(2, 1, 2).shape
    ember.Size([2, 2, 6])
    """
    sizes = shape_args(sizes, "repeats")
    if len(sizes) < self._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    if any(r < 0 for r in sizes):
        lead = len(sizes) - self._data.ndim
        target = [r * s for r, s in zip(sizes, (1,) * lead + tuple(self._data.shape))]
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(target)}: {target}")
    return Repeat.apply(self, repeats=sizes)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """``repeat`` that pads ``dims`` with leading 1s when it is shorter than ``input.ndim``.

    >>> ember.zeros(2, 3).tile((2,)).shape
    ember.Size([2, 6])
    """
    dims = shape_args((dims,) if isinstance(dims, numbers.Integral) else (tuple(dims),), "dims")
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return repeat(input, dims)


class RepeatInterleave(Node):
    """Repeat element ``i`` along ``dim`` ``repeats[i]`` times (``repeats`` an int or an int array)."""

    def forward(self, x, repeats=1, dim=0):
        self.repeats, self.dim, self.n = repeats, dim, x.shape[dim]
        return self.xp.repeat(x, repeats, axis=dim)

    def backward(self, g):
        if isinstance(self.repeats, int):  # each group of r consecutive slices sums to one input slice
            s = g.shape
            d = self.dim
            return g.reshape(s[:d] + (self.n, self.repeats) + s[d + 1:]).sum(d + 1)
        return SegmentSum.apply(g, repeats=self.repeats, dim=self.dim)


class SegmentSum(Node):
    """Sum consecutive runs of ``repeats[i]`` slices along ``dim`` (the adjoint of repeat_interleave)."""

    def forward(self, g, repeats=None, dim=0):
        self.repeats, self.dim = repeats, dim
        xp = self.xp
        shape = list(g.shape)
        shape[dim] = repeats.shape[0]
        out = xp.zeros(shape, g.dtype)
        nz = xp.nonzero(repeats)[0]
        if nz.size:
            starts = (xp.cumsum(repeats) - repeats)[nz]
            idx = (slice(None),) * dim + (nz,)
            out[idx] = xp.add.reduceat(g, starts, axis=dim)
        return out

    def backward(self, gg):
        return RepeatInterleave.apply(gg, repeats=self.repeats, dim=self.dim)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element (or slice along ``dim``) ``repeats`` times; ``repeats`` is an int or a tensor
    with one count per element. With a tensor alone, repeat its indices: ``repeat_interleave(t)``.

    >>> ember.tensor([1, 2]).repeat_interleave(2).tolist()
    [1, 1, 2, 2]
    """
    if repeats is None:  # repeat_interleave(repeats): indices 0..n-1 repeated
        counts = input
        if counts.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        from .._creation import arange
        return repeat_interleave(arange(counts.shape[0], device=counts.device), counts, 0,
                                 output_size=output_size)
    if dim is None:
        input = reshape(input, (-1,))
        d = 0
    elif input._data.ndim == 0:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    else:
        d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        input = reshape(input, (1,))
    n = input._data.shape[d]
    if isinstance(repeats, Tensor):
        if repeats.dtype.category != D._INT or repeats.dtype is D.uint8:
            raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for '
                                      f"'{_torch_name(repeats.dtype)}'")
        if repeats.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats.ndim == 0 or repeats.shape[0] == 1:
            repeats = int(repeats.reshape(-1)[0].item()) if repeats.numel() == 1 else repeats
        elif repeats.shape[0] != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{repeats.shape[0]} and input.size({d}) = {n}")
    if isinstance(repeats, Tensor):
        if repeats._device != input._device:
            raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices")
        reps = repeats._data.astype("int64")
        if (reps < 0).any():
            raise RuntimeError("repeats can not be negative")
        total = int(reps.sum())
    else:
        repeats = int(repeats)
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        reps, total = repeats, repeats * n
    if output_size is not None and output_size != total:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {total} but got {output_size}")
    return RepeatInterleave.apply(input, repeats=reps, dim=d)


# ------------------------------------------------------------------------------------ flip / roll
class Flip(Node):
    def forward(self, x, dims=()):
        self.dims = dims
        return self.xp.flip(x, axis=dims).copy()  # NumPy's flip is a view; PyTorch's is a copy

    def backward(self, g):
        return Flip.apply(g, dims=self.dims)


def _flip_dims(dims: Any, nd: int) -> tuple:
    dims = tuple(wrap_dim(int(d), nd) for d in dims)
    seen = set()
    for d in dims:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return dims


def flip(input: Tensor, dims: Sequence[int]) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy).

    >>> ember.arange(3).flip([0]).tolist()
    [2, 1, 0]
    """
    if isinstance(dims, numbers.Integral):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}")
    dims = _flip_dims(dims, input._data.ndim)
    return Flip.apply(input, dims=dims)


def _flip_method(self: Tensor, *dims: Any) -> Tensor:
    return flip(self, shape_args(dims, "dims"))


def fliplr(input: Tensor) -> Tensor:
    """Flip left/right (dim 1); needs at least 2 dims.

    >>> ember.tensor([[1, 2]]).fliplr().tolist()
    [[2, 1]]
    """
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, dims=(1,))


def flipud(input: Tensor) -> Tensor:
    """Flip up/down (dim 0); needs at least 1 dim.

    >>> ember.tensor([1, 2]).flipud().tolist()
    [2, 1]
    """
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, dims=(0,))


class Roll(Node):
    def forward(self, x, shifts=(), dims=()):
        self.shifts, self.dims = shifts, dims
        return self.xp.roll(x, shifts, axis=dims)

    def backward(self, g):
        return Roll.apply(g, shifts=tuple(-s for s in self.shifts), dims=self.dims)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Rotate elements by ``shifts`` along ``dims`` (over the flattened tensor when ``dims`` is None).

    >>> ember.arange(4).roll(1).tolist()
    [3, 0, 1, 2]
    """
    shifts = [int(shifts)] if isinstance(shifts, numbers.Integral) else [int(s) for s in shifts]
    dims_l = [] if dims is None else [int(dims)] if isinstance(dims, numbers.Integral) else [int(d) for d in dims]
    if dims is None and len(shifts) == 1:
        flat = reshape(input, (-1,))
        return reshape(Roll.apply(flat, shifts=tuple(shifts), dims=(0,)), input._data.shape)
    if len(shifts) != len(dims_l) or not shifts:
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims_l)}")
    nd = input._data.ndim
    return Roll.apply(input, shifts=tuple(shifts), dims=tuple(wrap_dim(d, nd) for d in dims_l))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first dim towards the second).

    >>> ember.tensor([[1, 2], [3, 4]]).rot90().tolist()
    [[2, 4], [1, 3]]
    """
    if not isinstance(k, numbers.Integral) or isinstance(k, bool):
        raise TypeError(f"rot90(): argument 'k' (position 2) must be int, not {type(k).__name__}")
    dims = list(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(Flip.apply(input, dims=(d1,)), d0, d1)
    if k == 2:
        return Flip.apply(input, dims=(d0, d1))
    if k == 3:
        return transpose(Flip.apply(input, dims=(d0,)), d0, d1)
    return input.clone()


# ------------------------------------------------------------------------------------ diagonals
def _writeable_like(view: Any, src: Any) -> Any:
    # NumPy hands out diagonals read-only; PyTorch's diagonal is a writable view
    flags = getattr(view, "flags", None)
    if flags is not None and getattr(src.flags, "writeable", False) and not getattr(flags, "writeable", True):
        try:
            flags.writeable = True
        except (ValueError, AttributeError):
            pass
    return view


class Diagonal(Node):
    is_view = True

    def forward(self, x, offset=0, dim1=0, dim2=1):
        self.in_shape, self.offset, self.dim1, self.dim2 = x.shape, offset, dim1, dim2
        return _writeable_like(self.xp.diagonal(x, offset, dim1, dim2), x)

    def backward(self, g):
        return DiagEmbed.apply(g, shape=self.in_shape, offset=self.offset, dim1=self.dim1, dim2=self.dim2)


class DiagEmbed(Node):
    """Zeros of ``shape`` with ``x`` written on the (``offset``, ``dim1``, ``dim2``) diagonal."""

    def forward(self, x, shape=(), offset=0, dim1=0, dim2=1):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2
        out = self.xp.zeros(shape, x.dtype)
        _writeable_like(self.xp.diagonal(out, offset, dim1, dim2), out)[...] = x
        return out

    def backward(self, g):
        return Diagonal.apply(g, offset=self.offset, dim1=self.dim1, dim2=self.dim2)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (``dim1``, ``dim2``) planes as a new last dim (a view).

    >>> ember.eye(3).diagonal().tolist()
    [1.0, 1.0, 1.0]
    """
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Put the last dim of ``input`` on the diagonal of new (``dim1``, ``dim2``) planes.

    >>> ember.diag_embed(ember.ones(2, 3)).shape
    ember.Size([2, 3, 3])
    """
    shape = input._data.shape
    nd = len(shape) + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = shape[-1] + abs(int(offset))
    rest = iter(shape[:-1])
    out_shape = tuple(m if i in (d1, d2) else next(rest) for i in range(nd))
    return DiagEmbed.apply(input, shape=out_shape, offset=int(offset), dim1=d1, dim2=d2)


def diag(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """1-D input: a square matrix with it on diagonal ``diagonal``; 2-D input: that diagonal (a copy).

    >>> ember.diag(ember.tensor([1, 2])).tolist()
    [[1, 0], [0, 2]]
    """
    nd = input._data.ndim
    if nd == 1:
        n = input._data.shape[0] + abs(int(diagonal))
        r = DiagEmbed.apply(input, shape=(n, n), offset=int(diagonal), dim1=0, dim2=1)
    elif nd == 2:
        r = Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1).clone()
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    return write_out(r, out)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on diagonal ``offset`` of a square matrix.

    >>> ember.diagflat(ember.ones(2, 2)).shape
    ember.Size([4, 4])
    """
    return diag(reshape(input, (-1,)), offset)


class Tril(Node):
    upper = False

    def forward(self, x, diagonal=0):
        self.diagonal = diagonal
        return self.xp.triu(x, diagonal) if self.upper else self.xp.tril(x, diagonal)

    def backward(self, g):
        return type(self).apply(g, diagonal=self.diagonal)


class Triu(Tril):
    upper = True


def _tri(input: Tensor, diagonal: int, upper: bool, out: Tensor | None) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions")
    return write_out((Triu if upper else Tril).apply(input, diagonal=int(diagonal)), out)


def tril(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Keep the lower triangle (``j - i <= diagonal``) of the last two dims, zero the rest.

    >>> ember.ones(2, 2).tril().tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    return _tri(input, diagonal, False, out)


def triu(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Keep the upper triangle (``j - i >= diagonal``) of the last two dims, zero the rest.

    >>> ember.ones(2, 2).triu().tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    """
    return _tri(input, diagonal, True, out)


method("repeat", repeat)
method("tile", tile)
method("repeat_interleave", repeat_interleave)
method("flip", _flip_method)
method("fliplr", fliplr)
method("flipud", flipud)
method("roll", roll)
method("rot90", rot90)
method("diagonal", diagonal)
method("diag", diag)
method("diag_embed", diag_embed)
method("diagflat", diagflat)
method("tril", tril)
method("triu", triu)
method("tril_", lambda self, diagonal=0: inplace(self, tril, diagonal))
method("triu_", lambda self, diagonal=0: inplace(self, triu, diagonal))
