"""Order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile,
nanquantile; and counting: unique, unique_consecutive, bincount, histc.

Selections return values with the indices they came from; their gradient is scattered back to
those indices (``put_along``), so it is written with ember ops and has second derivatives.
Full-reduction medians share the gradient evenly among ties, like PyTorch.
"""
from __future__ import annotations

import numbers
from typing import Any

from .. import return_types
from ..autograd.graph import Node
from ._util import Tensor, _wrap, method, wrap_dim, write_out, as_tensor, _torch_name
from ._along import put_along, take_along
from .reduction import _restore_dims, _even_share, _check_nonempty, _is_float

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile",
           "nanquantile", "unique", "unique_consecutive", "bincount", "histc"]


class Select(Node):
    """Values of ``x`` at ``idx`` along ``dim`` (``idx`` keeps the dim); gradient scattered back."""

    def forward(self, x, idx=None, dim=0, keepdim=True):
        self.in_shape, self.dim, self.keepdim, self.idx = x.shape, dim, keepdim, idx
        v = self.xp.take_along_axis(x, idx, axis=dim)
        return v if keepdim else self.xp.squeeze(v, dim)

    def backward(self, g):
        g = _restore_dims(g, self.in_shape, (self.dim,), self.keepdim)
        return put_along(g, self.idx, self.dim, self.in_shape, unique=True)


def _named(name: str) -> type:
    return type(name, (Select,), {"name": classmethod(lambda cls: f"{name}Backward0")})


_SortNode, _TopkNode, _KthNode = _named("Sort"), _named("Topk"), _named("Kthvalue")
_MedianNode, _NanMedianNode, _ModeNode = _named("Median"), _named("NanMedian"), _named("Mode")


def _dim(input: Tensor, dim: Any) -> int:
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"argument 'dim' must be int, not {type(dim).__name__}")
    return wrap_dim(int(dim), input._data.ndim)


def _xp(x: Tensor) -> Any:
    from ..autograd.graph import _xp_of
    return _xp_of(x._device)


def _select(cls: type, input: Tensor, idx: Any, dim: int, keepdim: bool, rtype: Any, out: Any = None) -> Any:
    xp = _xp(input)
    values = cls.apply(input, idx=idx, dim=dim, keepdim=keepdim)
    ind = idx if keepdim else xp.squeeze(idx, dim)
    indices = _wrap(ind.astype(xp.int64, copy=False), input._device)
    if out is not None:
        values, indices = write_out(values, out[0]), write_out(indices, out[1])
    return rtype(values, indices)


def _on_scalar(fn: Any, input: Tensor, *args: Any, **kwargs: Any) -> Any:
    """Run a dim-wise op on a 0-d tensor as on a 1-element vector, then drop the dim again."""
    r = fn(input.reshape(1), *args, **kwargs)
    return type(r)(*(t.reshape(()) for t in r))


# ---------------------------------------------------------------------------------------------- sort
def _argsort(xp: Any, x: Any, dim: int, descending: bool) -> Any:
    """Stable argsort; descending keeps equal elements in their original order (NaN sorts as largest)."""
    if not descending:
        return xp.argsort(x, axis=dim, kind="stable")
    n = x.shape[dim]
    i = xp.flip(xp.argsort(xp.flip(x, dim), axis=dim, kind="stable"), dim)
    return (n - 1) - i


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False, out: Any = None) -> Any:
    """Sorted values along ``dim`` and their original indices (always stable here).

    >>> import ember
    >>> ember.tensor([3., 1., 2.]).sort(descending=True).indices
    tensor([0, 2, 1])
    """
    d = _dim(input, dim)
    if input._data.ndim == 0:
        return _on_scalar(sort, input, 0, descending, stable=stable)
    idx = _argsort(_xp(input), input._data, d, descending)
    return _select(_SortNode, input, idx, d, True, return_types.sort, out)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``input`` along ``dim``.

    >>> import ember
    >>> ember.tensor([3., 1., 2.]).argsort()
    tensor([1, 2, 0])
    """
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Sort along the first dim (values only).

    >>> import ember
    >>> ember.msort(ember.tensor([[2., 1.], [1., 3.]]))
    tensor([[1., 1.],
            [2., 3.]])
    """
    return write_out(sort(input, 0).values, out)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *,
         out: Any = None) -> Any:
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices.

    >>> import ember
    >>> ember.tensor([1., 5., 3.]).topk(2).values
    tensor([5., 3.])
    """
    d = _dim(input, dim)
    if input._data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if input._data.ndim == 0:
        return _on_scalar(topk, input, k, 0, largest, sorted)
    xp = _xp(input)
    x = input._data
    if k == n or k == 0:
        idx = _argsort(xp, x, d, largest)
        if k == 0:
            idx = xp.take(idx, xp.arange(0), axis=d)
    else:
        # partial selection first (O(n)), then order only the k chosen ones
        part = xp.argpartition(x, n - k if largest else k - 1, axis=d)
        sl = [slice(None)] * x.ndim
        sl[d] = slice(n - k, n) if largest else slice(0, k)
        idx = part[tuple(sl)]
        if sorted:
            order = _argsort(xp, xp.take_along_axis(x, idx, axis=d), d, largest)
            idx = xp.take_along_axis(idx, order, axis=d)
    return _select(_TopkNode, input, idx, d, True, return_types.topk, out)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, out: Any = None) -> Any:
    """The ``k``-th smallest element along ``dim`` and its index.

    >>> import ember
    >>> ember.tensor([3., 1., 2.]).kthvalue(2)
    ember.return_types.kthvalue(
    values=tensor(2.),
    indices=tensor(2))
    """
    d = _dim(input, dim)
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    if input._data.ndim == 0:
        if k != 1:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
        return _on_scalar(kthvalue, input, k, 0, False)
    n = input._data.shape[d]
    _check_nonempty("kthvalue", input, (d,))
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    xp = _xp(input)
    idx = _kth_index(xp, input._data, k - 1, d)
    return _select(_KthNode, input, idx, d, keepdim, return_types.kthvalue, out)


def _kth_index(xp: Any, x: Any, k: int, d: int) -> Any:
    part = xp.argpartition(x, k, axis=d)
    sl = [slice(None)] * x.ndim
    sl[d] = slice(k, k + 1)
    return part[tuple(sl)]


# -------------------------------------------------------------------------------------------- median
class MedianAll(Node):
    """``median()`` / ``nanmedian()`` of all elements; ties share the gradient evenly."""
    skipnan = False

    def forward(self, x):
        xp = self.xp
        flat = x.reshape(-1)
        self.save_for_backward(x)
        if flat.size == 0:
            y = xp.asarray(xp.nan, dtype=x.dtype)
        elif self.skipnan:
            s = xp.sort(flat)  # NaNs sort last
            m = int((flat == flat).sum())
            y = s[(m - 1) // 2] if m else s[0]
        elif flat.dtype.kind in "fc" and bool((flat != flat).any()):  # NaN propagates
            y = xp.asarray(xp.nan, dtype=x.dtype)
        else:
            k = (flat.size - 1) // 2
            y = xp.partition(flat, k)[k]
        self.y = xp.asarray(y, dtype=x.dtype)
        return self.y

    def backward(self, g):
        x, = self.saved_tensors
        return g * _even_share(x, _wrap(self.y, x._device), None)

    @classmethod
    def name(cls) -> str:
        return "MedianBackward0"


class NanMedianAll(MedianAll):
    skipnan = True

    @classmethod
    def name(cls) -> str:
        return "NanmedianBackward0"


def _median(name: str, input: Tensor, dim: Any, keepdim: bool, out: Any) -> Any:
    nan_skip = name == "nanmedian"
    if input._data.dtype.kind == "b":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")
    if dim is None:
        return write_out((NanMedianAll if nan_skip else MedianAll).apply(input), out)
    d = _dim(input, dim)
    rtype = getattr(return_types, name)
    if input._data.ndim == 0:
        return _on_scalar(lambda t: _median(name, t, 0, False, None), input)
    _check_nonempty(name, input, (d,))
    xp = _xp(input)
    x = input._data
    n = x.shape[d]
    isfloat = x.dtype.kind in "fc"
    if nan_skip and isfloat:
        order = xp.argsort(x, axis=d, kind="stable")  # NaNs last
        valid = (x == x).sum(axis=d, keepdims=True)
        k = xp.maximum((valid - 1) // 2, 0)
        idx = xp.take_along_axis(order, k, axis=d)
    else:
        idx = _kth_index(xp, x, (n - 1) // 2, d)
        if isfloat:
            nan = x != x
            has = nan.any(axis=d, keepdims=True)
            if has.any():  # median propagates NaN and points at the first one
                idx = xp.where(has, xp.argmax(nan, axis=d, keepdims=True), idx)
    return _select(_NanMedianNode if nan_skip else _MedianNode, input, idx, d, keepdim, rtype, out)


def median(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:
    """Lower median of all elements (a tensor), or along ``dim`` as ``(values, indices)``; NaN propagates.

    >>> import ember
    >>> ember.tensor([4., 1., 3., 2.]).median()
    tensor(2.)
    """
    return _median("median", input, dim, keepdim, out)


def nanmedian(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:
    """Like ``median`` but ignoring NaNs.

    >>> import ember
    >>> ember.tensor([1., float('nan'), 3., 2.]).nanmedian()
    tensor(2.)
    """
    return _median("nanmedian", input, dim, keepdim, out)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out: Any = None) -> Any:
    """Most frequent value along ``dim`` (the smallest among equally frequent ones) and its last index.

    >>> import ember
    >>> ember.tensor([3, 1, 3, 1, 2]).mode()
    ember.return_types.mode(
    values=tensor(1),
    indices=tensor(3))
    """
    d = _dim(input, dim)
    if input._data.ndim == 0:
        return _on_scalar(mode, input, 0, False)
    _check_nonempty("mode", input, (d,))
    xp = _xp(input)
    x = input._data
    n = x.shape[d]
    order = xp.argsort(x, axis=d, kind="stable")
    s = xp.take_along_axis(x, order, axis=d)
    # run boundaries of equal values in the sorted line, and each position's run start / end
    shape = [1] * x.ndim
    shape[d] = n
    pos = xp.arange(n).reshape(shape)
    lo = [slice(None)] * x.ndim
    hi = [slice(None)] * x.ndim
    lo[d], hi[d] = slice(0, n - 1), slice(1, n)
    change = s[tuple(hi)] != s[tuple(lo)]
    edge_shape = list(x.shape)
    edge_shape[d] = 1
    edge = xp.ones(edge_shape, bool)
    starts = xp.concatenate([edge, change], axis=d)
    ends = xp.concatenate([change, edge], axis=d)
    start_pos = xp.maximum.accumulate(xp.where(starts, pos, 0), axis=d)
    end_pos = xp.flip(xp.minimum.accumulate(xp.flip(xp.where(ends, pos, n - 1), d), axis=d), d)
    count = end_pos - start_pos + 1
    best = xp.argmax(count, axis=d, keepdims=True)  # first = smallest value among the most frequent
    last = xp.take_along_axis(end_pos, best, axis=d)
    idx = xp.take_along_axis(order, last, axis=d)
    return _select(_ModeNode, input, idx, d, keepdim, return_types.mode, out)


# ------------------------------------------------------------------------------------------ quantile
_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name: str, input: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str, out: Any) -> Tensor:
    from .pointwise import where
    if not _is_float(input):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    xp = _xp(input)
    scalar_q = not isinstance(q, Tensor) or q._data.ndim == 0
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q._data.dtype != input._data.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        qa = q._data.reshape(-1)
        if qa.size and not bool(((qa >= 0) & (qa <= 1)).all()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    else:
        if not isinstance(q, numbers.Real) or isinstance(q, bool):
            raise TypeError(f"{name}(): argument 'q' must be float or Tensor, not {type(q).__name__}")
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        qa = xp.asarray([q], dtype=input._data.dtype)
    if input._data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    nd = input._data.ndim
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = _dim(input, dim)
        x = input.reshape(1) if nd == 0 else input
    # sorted values with the reduced dim last: (..., n)
    if x._data.ndim > 1 and d != x._data.ndim - 1:
        perm = [i for i in range(x._data.ndim) if i != d] + [d]
        x = x.permute(perm)
    sv = sort(x, -1).values
    n = sv._data.shape[-1]
    svd = sv._data
    qa = qa.astype(xp.float64)
    if name == "nanquantile":
        count = (svd == svd).sum(axis=-1, keepdims=True)
        pinned = count == 0  # all-NaN lines: point at the last (NaN) element
    else:
        count = xp.full(svd.shape[:-1] + (1,), n)
        pinned = svd[..., -1:] != svd[..., -1:]  # lines with NaN (sorted last) give NaN
    rank = xp.where(pinned, n - 1, qa * (count - 1))
    lo_i = xp.floor(rank).astype(xp.int64)
    hi_i = xp.ceil(rank).astype(xp.int64)
    if interpolation == "lower":
        r = take_along(sv, lo_i, -1)
    elif interpolation == "higher":
        r = take_along(sv, hi_i, -1)
    elif interpolation == "nearest":
        r = take_along(sv, xp.round(rank).astype(xp.int64), -1)  # round half to even, like PyTorch
    else:
        w = rank - lo_i if interpolation == "linear" else xp.full(rank.shape, 0.5)
        w = w.astype(svd.dtype)
        lo_v, hi_v = take_along(sv, lo_i, -1), take_along(sv, hi_i, -1)
        wt = _wrap(w, input._device)
        if interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
            # the interpolation weight depends on q: keep that dependence in the graph
            rank_t = q.reshape(-1) * _wrap((count - 1).astype(svd.dtype), input._device)
            wt = where(_wrap(pinned, input._device), 0.0, rank_t - _wrap(lo_i.astype(svd.dtype), input._device))
        small = _wrap(w < 0.5, input._device)
        # the same two-sided lerp as PyTorch, so results agree to the last bit
        r = where(small, lo_v + wt * (hi_v - lo_v), hi_v - (hi_v - lo_v) * (1 - wt))
    # r: (..., Q) -> (Q, ...)
    rn = r._data.ndim
    if rn > 1:
        r = r.permute([rn - 1] + list(range(rn - 1)))
    if keepdim:
        if dim is None:
            r = r.reshape((r._data.shape[0],) + (1,) * nd)
        elif nd:
            r = r.unsqueeze(d + 1)
    elif dim is not None and nd == 0:
        r = r.reshape((r._data.shape[0],))
    if scalar_q:
        r = r.reshape(r._data.shape[1:])
    return write_out(r, out)


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear", out: Tensor | None = None) -> Tensor:
    """The ``q``-quantiles along ``dim`` (all elements by default); ``q`` a float or a 1-D tensor.

    >>> import ember
    >>> ember.quantile(ember.tensor([1., 2., 3., 4.]), 0.5)
    tensor(2.5000)
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, out)


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear", out: Tensor | None = None) -> Tensor:
    """Like ``quantile`` but ignoring NaNs.

    >>> import ember
    >>> ember.nanquantile(ember.tensor([1., float('nan'), 3.]), 0.5)
    tensor(2.)
    """
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, out)


# ------------------------------------------------------------------------------- unique and counting
class _NoGrad(Node):
    """Outputs of ops PyTorch marks differentiable but cannot differentiate: backward raises."""
    op = ""
    error: type = NotImplementedError

    def forward(self, x, *rest, fn=None):
        return fn(x, *rest)

    def backward(self, *grads):
        raise self.error(self.op)


class _Unique(_NoGrad):
    op = "the derivative for 'unique' is not implemented."


class _Bincount(_NoGrad):
    op = "derivative for aten::bincount is not implemented"
    error = RuntimeError


def _finish_unique(out: Any, return_inverse: bool, return_counts: bool) -> Any:
    if not (return_inverse or return_counts):
        return out[0]
    res = [out[0]]
    if return_inverse:
        res.append(out[1])
    if return_counts:
        res.append(out[2])
    return tuple(res)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None) -> Any:
    """The distinct elements (or slices along ``dim``), sorted; optionally inverse indices and counts.

    >>> import ember
    >>> ember.unique(ember.tensor([3, 1, 3]), return_counts=True)
    (tensor([1, 3]), tensor([1, 2]))
    """
    xp = _xp(input)
    shape = input._data.shape
    d = None if dim is None else _dim(input, dim)

    def fn(x: Any) -> tuple:
        if d is None:
            u, inv, cnt = xp.unique(x.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
            inv = inv.reshape(shape)
        else:
            u, inv, cnt = xp.unique(x, return_inverse=True, return_counts=True, axis=d, equal_nan=False)
            inv = inv.reshape(-1)
        return u, inv.astype(xp.int64), cnt.astype(xp.int64)

    return _finish_unique(_Unique.apply(input, fn=fn), return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Collapse runs of equal consecutive elements (or slices along ``dim``).

    >>> import ember
    >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 1]))
    tensor([1, 2, 1])
    """
    xp = _xp(input)
    shape = input._data.shape
    d = None if dim is None else _dim(input, dim)

    def fn(x: Any) -> tuple:
        if d is None:
            lines = x.reshape(-1, 1)
        else:
            lines = xp.moveaxis(x, d, 0).reshape(x.shape[d], -1)
        n = lines.shape[0]
        mark = xp.ones(n, bool)
        if n > 1:
            mark[1:] = (lines[1:] != lines[:-1]).any(axis=1)
        keep = xp.nonzero(mark)[0]
        u = x.reshape(-1)[keep] if d is None else xp.take(x, keep, axis=d)
        inv = (xp.cumsum(mark) - 1).astype(xp.int64)
        inv = inv.reshape(shape) if d is None else inv
        cnt = xp.diff(xp.concatenate([keep, xp.asarray([n])])).astype(xp.int64)
        return u, inv, cnt

    return _finish_unique(_Unique.apply(input, fn=fn), return_inverse, return_counts)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Count occurrences of each non-negative integer (weighted sums with ``weights``).

    >>> import ember
    >>> ember.bincount(ember.tensor([0, 1, 1, 3]))
    tensor([1, 2, 0, 1])
    """
    xp = _xp(input)
    x = input._data
    if x.dtype.kind not in "iu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_torch_name(input.dtype)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if x.ndim != 1 or (x.size and int(x.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None:
        weights = as_tensor(weights, device=input._device)
        if weights._data.ndim != 1 or weights._data.shape[0] != x.shape[0]:
            raise RuntimeError("weights should be 1-d and have the same length as input")
        wdt = weights._data.dtype
        out_dt = wdt if wdt.kind == "f" else xp.float64  # float weights keep their dtype, others double

        def fn(xa: Any, w: Any) -> Any:
            return xp.bincount(xa, weights=w.astype(xp.float64), minlength=minlength).astype(out_dt)
        return _Bincount.apply(input, weights, fn=fn)
    return _Bincount.apply(input, fn=lambda xa: xp.bincount(xa, minlength=minlength).astype(xp.int64))


class _Histc(Node):
    differentiable = False

    def forward(self, x, bins=100, lo=0.0, hi=0.0):
        xp = self.xp
        flat = x.reshape(-1)
        valid = (flat >= lo) & (flat <= hi)  # NaNs fail both comparisons
        v = flat[valid].astype(xp.float64)
        idx = xp.floor((v - lo) * bins / (hi - lo)).astype(xp.int64)
        idx = xp.minimum(idx, bins - 1)  # the upper edge belongs to the last bin
        return xp.bincount(idx, minlength=bins)[:bins].astype(x.dtype)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0, *, out: Tensor | None = None) -> Tensor:
    """Histogram with ``bins`` equal bins over ``[min, max]`` (the data's range when both are equal).

    >>> import ember
    >>> ember.histc(ember.tensor([1., 2., 1.]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    if not _is_float(input):
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_torch_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = input._data
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    return write_out(_Histc.apply(input, bins=int(bins), lo=lo, hi=hi), out)


# ------------------------------------------------------------------------------------------- methods
for _n in __all__:
    if _n != "histc":
        method(_n, globals()[_n])
method("histc", histc)
