"""Dimension-wise gather and scatter: ``gather``, ``scatter*``, ``index_select``, ``index_add/copy/fill``,
``index_reduce``, ``take_along_dim``.

Each op turns ``(dim, index)`` into an advanced-index key and reuses the nodes of
``indexing.py``: gathers are ``AdvIndex`` (backward: scatter-add), scatters are ``IndexPut``
(backward: gather). ``gather``'s key is an open grid: ``index`` along ``dim`` and broadcast
``arange``s along the other dims. Reductions (``scatter_reduce``, ``index_reduce``) have
their own node whose backward is written with those same ops, so double backward works.

>>> import ember
>>> ember.tensor([[1., 2.], [3., 4.]]).gather(1, ember.tensor([[1], [0]]))
tensor([[2.],
        [3.]])
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..autograd.grad_mode import _state
from ..autograd.graph import Node, _xp_of
from .._tensor import _wrap
from ._util import Tensor, method, wrap_dim, write_out, _torch_name
from .indexing import AdvIndex, BasicIndex, IndexPut, _fill_value
from .inplace import inplace

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "index_copy",
           "index_fill", "index_reduce", "take_along_dim"]

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


# =============================================================================== keys
def _grid_key(idx: Any, dim: int, xp: Any) -> tuple:
    """The advanced key reading ``x[i0, .., index[i], .., in]`` for every position ``i`` of ``index``."""
    shape = idx.shape
    n = len(shape)
    key = []
    for d in range(n):
        if d == dim:
            key.append(idx)
        else:
            s = [1] * n
            s[d] = shape[d]
            key.append(xp.arange(shape[d]).reshape(s))
    return tuple(key)


def _dim_key(idx: Any, dim: int) -> tuple:
    """The key selecting ``index`` along ``dim`` and everything along the other dims."""
    return (slice(None),) * dim + (idx,)


def _region(src: Tensor, shape: tuple) -> Tensor:
    """The leading ``shape`` block of ``src`` (scatter reads only that much of a larger src)."""
    if src._data.shape == shape:
        return src
    return BasicIndex.apply(src, basic=tuple(slice(0, n) for n in shape) + (Ellipsis,))


# ========================================================================= validation
def _check_index_dtype(index: Any, op: str, allowed: str = "int32/int64", exc: type = RuntimeError,
                       msg: str | None = None) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    dt = index._data.dtype
    ok = dt == np.int64 or (allowed == "int32/int64" and dt == np.int32)
    if not ok:
        raise exc(msg.format(_torch_name(index.dtype)) if msg else f"{op}(): Expected dtype {allowed} for index")


def _check_range(a: Any, dim: int, size: int, exc: type = RuntimeError, prefix: str = "",
                 allow_neg: bool = False) -> None:
    if a.size == 0:
        return
    lo = -size if allow_neg else 0
    if int(a.min()) >= lo and int(a.max()) < size:
        return
    bad = a[(a < lo) | (a >= size)].reshape(-1)
    raise exc(f"{prefix}index {int(bad[0])} is out of bounds for dimension {dim} with size {size}")


def _shape1(t: Tensor) -> tuple:
    return t._data.shape if t._data.ndim else (1,)


def _gather_checks(input: Tensor, dim: int, index: Tensor) -> int:
    _check_index_dtype(index, "gather")
    n = max(input._data.ndim, 1)
    dim = wrap_dim(dim, input._data.ndim)
    if index._data.size == 0:
        return dim
    xs, ix = _shape1(input), _shape1(index)
    if len(ix) != n:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d in range(n):
        if d != dim and ix[d] > xs[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                               f"larger than self {list(input.shape)} apart from dimension {dim}")
    _check_range(index._data, dim, xs[dim])
    return dim


def _scatter_checks(input: Tensor, dim: int, index: Tensor, src: Any) -> int:
    _check_index_dtype(index, "scatter")
    dim = wrap_dim(dim, input._data.ndim)
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index._data.size == 0:
        return dim
    n = max(input._data.ndim, 1)
    xs, ix = _shape1(input), _shape1(index)
    if len(ix) != n:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor):
        ss = _shape1(src)
        if len(ss) != n:
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    else:
        ss = ix
    if any((d != dim and ix[d] > xs[d]) or ix[d] > ss[d] for d in range(n)):
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} apart "
                           f"from dimension {dim} and to be no larger size than src "
                           f"{list(src.shape) if isinstance(src, Tensor) else list(index.shape)}")
    _check_range(index._data, dim, xs[dim])
    return dim


def _as1(t: Tensor) -> Tensor:
    return t.reshape(1) if t._data.ndim == 0 else t


# ============================================================================= gather
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False,
           out: Tensor | None = None) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` (for ``dim=0``); ``index`` has ``input``'s number of dims.

    >>> import ember
    >>> ember.tensor([1., 2., 3.]).gather(0, ember.tensor([2, 2, 0]))
    tensor([3., 3., 1.])
    """
    dim = _gather_checks(input, dim, index)
    if index._data.size == 0:
        from .._tensor import _wrap as w
        return write_out(w(_xp_of(input._device).zeros(index._data.shape, input._data.dtype), input._device), out)
    x, idx = _as1(input), _as1(index)
    r = AdvIndex.apply(x, adv=_grid_key(idx._data, dim, _xp_of(input._device)))
    return write_out(r if index._data.ndim else r.reshape(()), out)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None, *, out: Tensor | None = None) -> Tensor:
    """Pick values along ``dim`` at ``indices`` (broadcast against ``input`` in the other dims).

    >>> import ember
    >>> x = ember.tensor([[10., 30., 20.]])
    >>> ember.take_along_dim(x, x.argsort(dim=1), dim=1)
    tensor([[10., 20., 30.]])
    """
    if not isinstance(indices, Tensor) or indices._data.dtype != np.int64:
        got = _torch_name(indices.dtype) if isinstance(indices, Tensor) else type(indices).__name__
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {got}")
    if dim is None:
        return write_out(gather(input.reshape(-1), 0, indices.reshape(-1)), out)
    nd = input._data.ndim
    if indices._data.ndim != nd:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {nd} dimensions for input, and {indices._data.ndim} dimensions for indices")
    dim = wrap_dim(dim, nd)
    if nd == 0:
        return write_out(gather(input, 0, indices), out)
    ishape = list(input._data.shape)
    ishape[dim] = indices._data.shape[dim]
    try:
        bshape = np.broadcast_shapes(tuple(ishape), indices._data.shape)
    except ValueError:
        raise RuntimeError(f"shape mismatch: input {list(input.shape)} and indices {list(indices.shape)} cannot be "
                           f"broadcast apart from dimension {dim}") from None
    idx = indices if indices._data.shape == bshape else indices.expand(bshape)
    sshape = list(bshape)
    sshape[dim] = input._data.shape[dim]
    x = input if input._data.shape == tuple(sshape) else input.expand(sshape)
    return write_out(gather(x, dim, idx), out)


# ============================================================================ scatter
class _ScatterLegacyReduce(Node):
    """``scatter(..., reduce='add'|'multiply')``: computed, but PyTorch has no derivative for it either."""

    def forward(self, x, src, key=(), reduce="add"):
        y = x.copy()
        (self.xp.add if reduce == "add" else self.xp.multiply).at(y, key, src)
        return y

    def backward(self, g):
        raise RuntimeError("derivative for aten::scatter is not implemented")

    @classmethod
    def name(cls) -> str:
        return "ScatterBackward1"


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None, *,
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or a number ``value``) written at ``index`` along ``dim``.

    >>> import ember
    >>> ember.zeros(3).scatter(0, ember.tensor([2, 0]), ember.tensor([5., 6.]))
    tensor([6., 0., 5.])
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if isinstance(src, Tensor) is False and not isinstance(src, (numbers.Number, np.generic)):
        raise TypeError(f"scatter(): argument 'src' must be Tensor or Number, not {type(src).__name__}")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    dim = _scatter_checks(input, dim, index, src)
    if index._data.size == 0:
        return input.clone()
    x, idx = _as1(input), _as1(index)
    key = _grid_key(idx._data, dim, _xp_of(input._device))
    if isinstance(src, Tensor):
        src = _region(_as1(src), idx._data.shape)
    if reduce is not None:
        r = _ScatterLegacyReduce.apply(x, src, key=key, reduce=reduce)
    else:
        r = IndexPut.apply(x, src, adv=key, accumulate=False)
    return r if input._data.ndim else r.reshape(())


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (duplicates accumulate).

    >>> import ember
    >>> ember.zeros(3).scatter_add(0, ember.tensor([0, 0, 2]), ember.tensor([1., 2., 3.]))
    tensor([3., 0., 3.])
    """
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    dim = _scatter_checks(input, dim, index, src)
    if index._data.size == 0:
        return input.clone()
    x, idx = _as1(input), _as1(index)
    key = _grid_key(idx._data, dim, _xp_of(input._device))
    r = IndexPut.apply(x, _region(_as1(src), idx._data.shape), adv=key, accumulate=True)
    return r if input._data.ndim else r.reshape(())


# ===================================================================== scatter_reduce
class ScatterReduce(Node):
    """``x`` with ``src`` reduced into the places ``key`` ('sum', 'prod', 'mean', 'amax', 'amin')."""

    def forward(self, x, src, key=(), reduce="sum", include_self=True):
        xp = self.xp
        self.key, self.reduce, self.include_self = key, reduce, include_self
        out = x.copy()
        if not include_self:
            hit = xp.zeros(x.shape, bool)
            hit[key] = True
            out[hit] = _identity(reduce, x.dtype)
            self.hit = hit
        if reduce in ("sum", "mean"):
            xp.add.at(out, key, src)
        elif reduce == "prod":
            xp.multiply.at(out, key, src)
        elif reduce == "amax":
            xp.maximum.at(out, key, src)
        else:
            xp.minimum.at(out, key, src)
        if reduce == "mean":
            count = xp.zeros(x.shape, np.int64)
            xp.add.at(count, key, 1)
            if include_self:
                count += 1
            count = xp.maximum(count, 1)
            self.count = count
            out = xp.floor_divide(out, count).astype(x.dtype) if x.dtype.kind in "iub" else \
                (out / count).astype(x.dtype, copy=False)
        self.save_for_backward(x, src, out)
        return out

    def backward(self, g):
        x, src, out = self.saved_tensors
        xp, key, red = self.xp, self.key, self.reduce
        gx = gsrc = None
        keep = None if self.include_self else _const(~self.hit, g)
        if red in ("sum", "mean"):
            gs = g / _const(self.count, g) if red == "mean" else g
            if self.needs_input_grad[0]:
                gx = gs if keep is None else gs * keep
            if self.needs_input_grad[1]:
                gsrc = AdvIndex.apply(gs, adv=key)
        elif red == "prod":
            if self.needs_input_grad[0]:
                if keep is None:  # d out / d x = product of what was scattered in: exact, no division by x
                    ones = _wrap(xp.ones(x._data.shape, x._data.dtype), x._device)
                    gx = g * ScatterReduce.apply(ones, src, key=key, reduce="prod", include_self=True)
                else:
                    gx = g * keep
            if self.needs_input_grad[1]:
                gsrc = self._prod_src_grad(g, x, src, out)
        else:  # amax / amin: split the gradient evenly among the tied winners
            xd, sd, od = x._data, src._data, out._data
            self_hit = xd == od
            if not self.include_self:
                self_hit &= ~self.hit
            src_hit = sd == od[key]
            n = self_hit.astype(g._data.dtype)
            xp.add.at(n, key, src_hit.astype(g._data.dtype))
            n = xp.maximum(n, 1)
            if self.needs_input_grad[0]:
                gx = g * _const(self_hit / n, g)
            if self.needs_input_grad[1]:
                gsrc = AdvIndex.apply(g / _const(n, g), adv=key) * _const(src_hit, g)
        return gx, gsrc

    def _prod_src_grad(self, g: Tensor, x: Tensor, src: Tensor, out: Tensor) -> Tensor:
        """d out / d src_j = the product of everything else reduced into src_j's place (zeros handled)."""
        from .pointwise import where
        xp, key = self.xp, self.key
        zero = src._data == 0
        if not zero.any():
            return AdvIndex.apply(g * out, adv=key) / src
        nz = xp.zeros(x._data.shape, np.int64)
        xp.add.at(nz, key, zero.astype(np.int64))
        nzg = nz[key]
        if _state.enabled and bool((zero & (nzg > 1)).any()):
            raise RuntimeError("scatter_reduce(): Double backward is unsupported for src when >1 zeros in src are "
                               "scattered to the same position. This may happen when the output of "
                               "scatter_reduce(reduce='prod') is used in a way that needs its second derivative.")
        zero_t = _wrap(zero, src._device)
        masked_src = where(zero_t, 1.0, src)
        # with the single zero in its place replaced by 1, the product is the product of the others
        others = ScatterReduce.apply(x, masked_src, key=key, reduce="prod", include_self=self.include_self)
        single = _wrap(zero & (nzg == 1), src._device)
        by_division = AdvIndex.apply(g * out, adv=key) / masked_src
        return where(single, AdvIndex.apply(g * others, adv=key), where(zero_t, 0.0, by_division))

    @classmethod
    def name(cls) -> str:
        return "ScatterReduceBackward0"


class IndexReduce(ScatterReduce):
    @classmethod
    def name(cls) -> str:
        return "IndexReduceBackward0"


def _identity(reduce: str, dt: Any) -> Any:
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = reduce == "amin"
    if dt.kind == "f":
        return np.inf if big else -np.inf
    if dt.kind == "b":
        return big
    info = np.iinfo(dt)
    return info.max if big else info.min


def _const(a: Any, like: Tensor) -> Tensor:
    """A constant tensor (no graph) in ``like``'s dtype: masks and counts used by backward."""
    return _wrap(a.astype(like._data.dtype), like._device)


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce ``src`` into a copy of ``input`` at ``index`` along ``dim`` with sum/prod/mean/amax/amin.

    >>> import ember
    >>> ember.zeros(2).scatter_reduce(0, ember.tensor([0, 0, 1]), ember.tensor([1., 5., 2.]), "amax")
    tensor([5., 2.])
    """
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not {type(src).__name__}")
    dim = _scatter_checks(input, dim, index, src)
    if index._data.size == 0:
        return input.clone()
    x, idx = _as1(input), _as1(index)
    key = _grid_key(idx._data, dim, _xp_of(input._device))
    r = ScatterReduce.apply(x, _region(_as1(src), idx._data.shape), key=key, reduce=reduce,
                            include_self=bool(include_self))
    return r if input._data.ndim else r.reshape(())


# ====================================================================== index_* (dim)
def _vector_index(index: Tensor, op: str) -> Tensor:
    if index._data.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, but got dim: {index._data.ndim} with type: "
                         f"{_torch_name(index.dtype)} and size: {list(index.shape)}")
    return index.reshape(-1) if index._data.ndim == 0 else index


def _check_source(input: Tensor, dim: int, index: Tensor, source: Tensor, op: str) -> None:
    xs, ss = _shape1(input), _shape1(source)
    if len(xs) != len(ss) or any(a != b for d, (a, b) in enumerate(zip(xs, ss)) if d != dim):
        if op == "index_copy_":
            raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. Got "
                               f"self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    if index._data.size != ss[dim]:
        raise RuntimeError(f"{op}(): Number of indices ({index._data.size}) should be equal to source.size(dim): "
                           f"({ss[dim]}), for dim: {dim}")


def index_select(input: Tensor, dim: int, index: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The entries of ``input`` at ``index`` (a 1-D int tensor) along ``dim``.

    >>> import ember
    >>> ember.tensor([[1., 2.], [3., 4.]]).index_select(0, ember.tensor([1, 1]))
    tensor([[3., 4.],
            [3., 4.]])
    """
    _check_index_dtype(index, "index_select", "int32 or int64")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    dim = wrap_dim(dim, input._data.ndim)
    idx = index.reshape(-1)._data
    n = _shape1(input)[dim]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise IndexError("index out of range in self")
    if input._data.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        return write_out(AdvIndex.apply(input.reshape(1), adv=(idx,)).reshape(()), out)
    return write_out(AdvIndex.apply(input, adv=_dim_key(idx, dim)), out)


def _index_write(input: Tensor, dim: int, index: Tensor, value: Any, accumulate: bool) -> Tensor:
    x = _as1(input)
    v = _as1(value) if isinstance(value, Tensor) and input._data.ndim == 0 else value
    r = IndexPut.apply(x, v, adv=_dim_key(index._data, dim), accumulate=accumulate)
    return r if input._data.ndim else r.reshape(())


def _index_source_args(name: str, input: Tensor, dim: int, index: Tensor, source: Tensor) -> tuple:
    """Validate ``index_add``/``index_reduce`` arguments like PyTorch; return the flat index and the dim."""
    _check_index_dtype(index, name + "_", msg=name + "_(): Expected dtype int32/int64 for index but got: {}")
    index = _vector_index(index, name + "_")
    dim = wrap_dim(dim, input._data.ndim)
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}_(): self ({_torch_name(input.dtype)}) and source "
                           f"({_torch_name(source.dtype)}) must have the same scalar type")
    _check_source(input, dim, index, source, name + "_")
    _check_range(index._data, dim, _shape1(input)[dim])
    return index, dim


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1,
              out: Tensor | None = None) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim`` (duplicates accumulate).

    >>> import ember
    >>> ember.zeros(3).index_add(0, ember.tensor([0, 0]), ember.tensor([1., 2.]))
    tensor([3., 0., 0.])
    """
    index, dim = _index_source_args("index_add", input, dim, index, source)
    if alpha != 1:
        source = source * alpha
    return write_out(_index_write(input, dim, index, source, True), out)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s.

    >>> import ember
    >>> ember.zeros(3).index_copy(0, ember.tensor([2]), ember.tensor([7.]))
    tensor([0., 0., 7.])
    """
    _check_index_dtype(index, "index_copy_", "int64",
                       msg="index_copy_(): Expected a long tensor for index, but got {}")
    index = _vector_index(index, "index_copy_")
    dim = wrap_dim(dim, input._data.ndim)
    if not isinstance(source, Tensor):
        raise TypeError(f"index_copy(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_torch_name(input.dtype)} and (source) {_torch_name(source.dtype)}")
    _check_source(input, dim, index, source, "index_copy_")
    _check_range(index._data, dim, _shape1(input)[dim], IndexError, "index_copy_(): ")
    return _index_write(input, dim, index, source, False)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of ``input`` with the slices at ``index`` along ``dim`` set to ``value`` (number or 0-d tensor).

    >>> import ember
    >>> ember.zeros(2, 2).index_fill(1, ember.tensor([0]), 5.)
    tensor([[5., 0.],
            [5., 0.]])
    """
    _check_index_dtype(index, "index_fill_", "int64", IndexError, "index_fill_(): Expected dtype int64 for index.")
    index = _vector_index(index, "index_fill_")
    dim = wrap_dim(dim, input._data.ndim)
    _check_range(index._data, dim, _shape1(input)[dim], IndexError, allow_neg=True)
    if isinstance(value, Tensor):
        value = _fill_value(input, value, "index_fill_")
    elif not isinstance(value, (numbers.Number, np.generic)):
        raise TypeError(f"index_fill(): argument 'value' must be Number or Tensor, not {type(value).__name__}")
    return _index_write(input, dim, index, value, False)


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """Reduce ``source``'s slices into a copy of ``input`` at ``index`` along ``dim`` (prod/mean/amax/amin).

    >>> import ember
    >>> ember.ones(2).index_reduce(0, ember.tensor([0, 0]), ember.tensor([2., 3.]), "prod")
    tensor([6., 1.])
    """
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    index, dim = _index_source_args("index_reduce", input, dim, index, source)
    x, s = _as1(input), _as1(source)
    r = IndexReduce.apply(x, s, key=_dim_key(index._data, dim), reduce=reduce, include_self=bool(include_self))
    return r if input._data.ndim else r.reshape(())


# ============================================================================= methods
def _inplace(fn: Any) -> Any:
    def m(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return inplace(self, fn, *args, **kwargs)
    m.__name__ = fn.__name__ + "_"
    return m


method("gather", gather)
method("take_along_dim", take_along_dim)
for _fn in (scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill, index_reduce):
    method(_fn.__name__, _fn)
    method(_fn.__name__ + "_", _inplace(_fn))
method("index_select", index_select)
