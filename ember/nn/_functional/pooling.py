"""Pooling: max, average, adaptive, Lp pooling and max-unpooling (functional forms).

- Max pooling is one node returning (values, flat input indices); its backward is ``IndexScatter``
  (scatter-add of the gradient to the argmax positions), whose backward is ``IndexGather`` and vice
  versa, so double backward works. Ties go to the first index in the window, as in PyTorch.
- Average pooling is ``WindowSum`` (sum over windows of the zero-padded input) times a constant
  reciprocal divisor; ``WindowSum``'s backward is its adjoint ``WindowSumAdjoint`` (col2im) and back.
- Adaptive average pooling is separable: one small averaging matrix per dim, applied with matmul.

>>> import ember
>>> import ember.nn.functional as F
>>> F.max_pool2d(ember.arange(16.).reshape(1, 1, 4, 4), 2).tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
"""
from __future__ import annotations

import itertools
import math
import numbers
from typing import Any

import numpy as np

from ..._ops._util import Tensor
from ..._tensor import _wrap
from ..._backend import im2col as K
from ...autograd.graph import Node, _xp_of

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d",
           "lp_pool2d", "lp_pool3d"]


# ------------------------------------------------------------------------------------------ nodes
class IndexScatter(Node):
    """(N, C, *out) values scattered (added) into zeros (N, C, *shape) at flat spatial indices."""

    def forward(self, g, idx=None, shape=(), accumulate=True):
        # accumulate=False: indices are unique (non-overlapping windows), a plain assignment suffices
        self.idx, self.accumulate = idx, accumulate
        return _scatter_add(self.xp, g, idx, shape, accumulate)

    def backward(self, gg):
        return IndexGather.apply(gg, idx=self.idx, unique=not self.accumulate)

    @classmethod
    def name(cls) -> str:
        return "MaxPoolBackwardBackward0"


class IndexGather(Node):
    """Values of x (N, C, *S) at flat spatial indices idx (N, C, *out)."""

    def forward(self, x, idx=None, unique=False):
        self.idx, self.shape, self.unique = idx, x.shape[2:], unique
        n, c = x.shape[:2]
        return self.xp.take_along_axis(x.reshape(n, c, -1), idx.reshape(n, c, -1), axis=2).reshape(idx.shape)

    def backward(self, g):
        return IndexScatter.apply(g, idx=self.idx, shape=self.shape, accumulate=not self.unique)


def _flat_index(xp: Any, arg: Any, pos: list, strides: tuple, ksizes: tuple) -> Any:
    """Flat spatial input index of the winning tap: ``arg`` (N, C, *out) in [0, K), pos[d] (out_d, k_d)."""
    nd = len(pos)
    flat = 0
    rem = arg
    for d in range(nd - 1, -1, -1):
        kd = rem % ksizes[d]
        rem = rem // ksizes[d]
        shape = [1] * nd
        shape[d] = pos[d].shape[0]
        o = xp.arange(pos[d].shape[0]).reshape(shape)
        flat = flat + pos[d][o, kd] * strides[d]
    return flat


def _tap_dtype(xp: Any, k: int) -> Any:
    return xp.uint8 if k <= 255 else xp.int32


def _tiled_max(xp: Any, x: Any, kernel: tuple) -> tuple:
    """Max over non-overlapping windows (stride == kernel, no padding or dilation) of a contiguous ``x``
    (N, C, *S) whose spatial sizes are multiples of ``kernel``.

    One kernel dim at a time, last to first: the array is viewed as (outer, k, inner) and reduced over
    the k taps with ``maximum`` while ``greater`` records the winning tap. Strict ``>`` keeps the first
    tap on ties, and reducing the later dims first makes the overall winner the first in row-major
    order, as in PyTorch. Returns ``y`` and one winner array (outer, inner) per dim (``args[d]``; bool
    for k == 2, else small ints). Each dim's taps are first copied into contiguous (k, outer, inner)
    planes: ``maximum``/``greater`` on the strided taps measured 1.5-3x slower than copy + contiguous.
    No boolean-mask writes (``where``/``copyto(where=)``): with random masks they measured ~10x slower
    than arithmetic on the masks. NaN windows are left to the caller (``maximum`` propagates NaN).
    """
    nd = len(kernel)
    sp = x.shape[2:]
    cur = x
    args: list = [None] * nd
    for d in range(nd - 1, -1, -1):
        k = kernel[d]
        if k == 1:
            continue        # args[d] stays None: tap 0
        inner = 1
        for o, kk in zip(sp[d + 1:], kernel[d + 1:]):
            inner *= o // kk
        planes = cur.reshape(-1, k, inner).transpose(1, 0, 2).copy()      # (k, outer, inner)
        y = arg = None
        for t in range(1, k):
            best = planes[0] if y is None else y
            won = xp.greater(planes[t], best)
            y = xp.maximum(best, planes[t], out=y)      # a compact array, not a view of the planes
            if k == 2:
                arg = won
            else:
                if arg is None:
                    arg = xp.zeros(y.shape, dtype=_tap_dtype(xp, k))
                arg += won * (arg.dtype.type(t) - arg)      # arg = t where this tap won, branch-free
        args[d] = arg
        cur = y
    if cur is x:
        cur = x.copy()      # kernel of ones: the output must not alias the input
    out = tuple(s // k for s, k in zip(sp, kernel))
    return cur.reshape(x.shape[:2] + out), args


def _tiled_max_backward(xp: Any, g: Any, args: list, kernel: tuple, spatial: tuple) -> Any:
    """Gradient of ``_tiled_max`` for a finite ``g``: the winners' positions get ``g``, the rest zero.

    The reductions are undone first dim first: each winner array spreads the gradient over the k taps
    by multiplying with its 0/1 masks (branch-free; exact because ``g`` is finite).
    """
    cur = g
    for d, k in enumerate(kernel):
        arg = args[d]
        if k == 1:
            continue
        gf = cur.reshape(arg.shape)
        # written tap by tap into the strided (outer, k, inner) layout: a contiguous (k, outer, inner)
        # buffer plus one transposing copy measured 5x slower (NumPy copies the k axis innermost)
        spread = xp.empty((arg.shape[0], k, arg.shape[1]), dtype=g.dtype)
        if k == 2:
            xp.multiply(gf, arg, out=spread[:, 1])
            xp.subtract(gf, spread[:, 1], out=spread[:, 0])
        else:
            for t in range(k):
                xp.multiply(gf, arg == t, out=spread[:, t])
        cur = spread
    return cur.reshape(g.shape[:2] + tuple(spatial))


def _tiled_indices(xp: Any, args: list, kernel: tuple, y_shape: tuple, plane: tuple) -> Any:
    """Flat indices into each input plane (spatial sizes ``plane``) of the winners recorded by ``_tiled_max``."""
    nd = len(kernel)
    nc = y_shape[0] * y_shape[1]
    out = tuple(y_shape[2:])
    # open grids over (N*C, *out), and the winning input coordinate per dim found so far
    grids = [xp.arange(s).reshape((s,) + (1,) * (nd - i)) for i, s in enumerate((nc,) + out)]
    pos: list = []
    flat = 0
    for d in range(nd):
        # args[d] covers (N*C, S_0..S_{d-1}, o_d, ..., o_{nd-1}): read it at the winners of the earlier dims
        pos.append(grids[1 + d] * kernel[d])
        if args[d] is not None:
            a = args[d].reshape((nc,) + tuple(o * k for o, k in zip(out[:d], kernel[:d])) + out[d:])
            pos[d] = pos[d] + a[(grids[0],) + tuple(pos[:d]) + tuple(grids[1 + d:])].astype(xp.int64)
        stride = 1
        for s in plane[d + 1:]:
            stride *= s
        flat = flat + pos[d] * stride
    return xp.broadcast_to(flat, (nc,) + out).astype(xp.int64).reshape(y_shape)


def _scatter_add(xp: Any, g: Any, idx: Any, shape: tuple, accumulate: bool) -> Any:
    """Zeros (N, C, *shape) with ``g`` (N, C, *out) added (or, for unique ``idx``, written) at flat ``idx``."""
    n, c = g.shape[:2]
    size = 1
    for s in shape:
        size *= s
    if accumulate and hasattr(xp, "bincount") and g.size:
        base = (xp.arange(n * c) * size).reshape((n, c) + (1,) * (idx.ndim - 2))
        out = xp.bincount((idx + base).ravel(), weights=g.ravel(), minlength=n * c * size).astype(g.dtype)
    else:
        out = xp.zeros((n, c, size), dtype=g.dtype)
        xp.put_along_axis(out, idx.reshape(n, c, -1), g.reshape(n, c, -1), axis=2)
    return out.reshape((n, c) + tuple(shape))


class MaxPool(Node):
    """Max over windows: returns values and, with ``with_indices``, flat indices into each (H*W...) input plane.

    Non-overlapping windows (stride == kernel, no padding/dilation: the usual ``MaxPool2d(2)``) take
    ``_tiled_max``, which keeps only the per-dim winners and builds the flat indices on demand.
    """

    tiled: Any = None       # (kernel, cropped spatial sizes) on the tiled path; its winners are saved values
    idx: Any = None

    def forward(self, x, kernel=(), stride=(), padding=(), dilation=(), right=(), adaptive=None, with_indices=True):
        xp = self.xp
        nd = len(kernel) if adaptive is None else len(adaptive)
        sp = x.shape[2:]
        self.shape = sp
        self.unique = False
        if (adaptive is None and tuple(stride) == tuple(kernel) and not any(padding) and not any(right)
                and all(d == 1 for d in dilation) and x.dtype.kind in "fiu" and x.size):
            out = tuple(s // k for s, k in zip(sp, kernel))
            crop = tuple(o * k for o, k in zip(out, kernel))
            xc = x if crop == tuple(sp) else x[(slice(None), slice(None)) + tuple(slice(0, c) for c in crop)]
            y, args = _tiled_max(xp, xp.ascontiguousarray(xc), kernel)
            if x.dtype.kind != "f" or not bool(xp.isnan(y).any()):   # NaN windows: the generic path below
                self.tiled = (kernel, crop)
                self.y_shape = y.shape
                self.unique = True
                self.save_for_backward(*args)       # freed after backward, like other saved activations
                return (y, self._indices(args)) if with_indices else y
        fill = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        strides = tuple(int(np.prod(sp[d + 1:])) for d in range(nd))
        if adaptive is None and x.dtype.kind == "f" and bool(xp.isnan(x).any()):
            # NaN inputs take the generic argmax path below (PyTorch: the last NaN of a window wins)
            win = K.windows(xp, K.pad_zeros(xp, x, padding, fill, right), kernel, stride, dilation)
            pos = [(xp.arange(o) * s - p)[:, None] + (xp.arange(k) * d)[None, :]
                   for o, s, p, k, d in zip(win.shape[2:2 + nd], stride, padding, kernel, dilation)]
            cols = win.reshape(win.shape[:2 + nd] + (-1,))
        elif adaptive is None:
            self.unique = all(s >= d * (k - 1) + 1 for s, k, d in zip(stride, kernel, dilation))
            win = K.windows(xp, K.pad_zeros(xp, x, padding, fill, right), kernel, stride, dilation)
            out = win.shape[2:2 + nd]
            # running max over the kernel taps (strided views): no column copy; strict > keeps the first
            # index on ties, as PyTorch's kernel does
            y = arg = None
            for t, off in enumerate(itertools.product(*(range(k) for k in kernel))):
                v = win[(Ellipsis,) + off]
                if y is None:
                    y = v.copy()
                    arg = xp.zeros(y.shape, dtype=xp.int32)
                    continue
                m = v > y
                xp.copyto(y, v, where=m)
                xp.copyto(arg, t, where=m)
            # flat input index = window origin + the winning tap's offset
            table = xp.asarray([sum(o * d * st for o, d, st in zip(off, dilation, strides))
                                for off in itertools.product(*(range(k) for k in kernel))], dtype=xp.int64)
            base = 0
            for d in range(nd):
                shape = [1] * nd
                shape[d] = out[d]
                base = base + ((xp.arange(out[d], dtype=xp.int64) * stride[d] - padding[d]) * strides[d]).reshape(shape)
            idx = xp.take(table, arg) + base
            self.idx = idx
            return (y, idx) if with_indices else y
        else:
            # variable windows: gather each window's taps, repeating the last tap up to the widest window
            pos = [_adaptive_taps(xp, n, o) for n, o in zip(sp, adaptive)]
            key = (slice(None), slice(None))
            for d in range(nd):
                shape = [1] * (2 * nd)
                shape[d], shape[nd + d] = pos[d].shape
                key += (pos[d].reshape(shape),)
            cols = x[key]
            out = tuple(p.shape[0] for p in pos)
            cols = cols.reshape(x.shape[:2] + out + (-1,))
        ksizes = tuple(p.shape[1] for p in pos)
        arg = xp.argmax(cols, axis=-1)
        if x.dtype.kind == "f":
            nan = xp.isnan(cols)
            last_nan = cols.shape[-1] - 1 - xp.argmax(nan[..., ::-1], axis=-1)
            arg = xp.where(nan.any(-1), last_nan, arg)
        y = xp.take_along_axis(cols, arg[..., None], axis=-1)[..., 0]
        idx = _flat_index(xp, arg, pos, strides, ksizes).astype(xp.int64)
        self.idx = idx
        return (y, idx) if with_indices else y

    def _indices(self, args: Any = None) -> Any:
        """The flat input indices of the winners (on the tiled path, built from its winners on first use)."""
        if self.idx is None:
            args = self.saved_arrays if args is None else args
            self.idx = _tiled_indices(self.xp, list(args), self.tiled[0], self.y_shape, tuple(self.shape))
        return self.idx

    def fast_backward(self, g, gidx=None):
        xp = self.xp
        if self.tiled is not None and (g.dtype.kind != "f" or bool(xp.isfinite(g).all())):
            kernel, crop = self.tiled
            gx = _tiled_max_backward(xp, g, list(self.saved_arrays), kernel, crop)
            if crop != tuple(self.shape):
                full = xp.zeros(g.shape[:2] + tuple(self.shape), dtype=g.dtype)
                full[(slice(None), slice(None)) + tuple(slice(0, c) for c in crop)] = gx
                gx = full
            return (gx,)
        return (_scatter_add(xp, g, self._indices(), self.shape, not self.unique),)

    def backward(self, g, gidx=None):
        return IndexScatter.apply(g, idx=self._indices(), shape=self.shape,
                                  accumulate=not self.unique)

    @classmethod
    def name(cls) -> str:
        return "MaxPool2DWithIndicesBackward0"


def _adaptive_taps(xp: Any, n: int, o: int) -> Any:
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    kmax = int((end - start).max())
    taps = np.minimum(start[:, None] + np.arange(kmax)[None, :], (end - 1)[:, None])
    return xp.asarray(taps)


class WindowSum(Node):
    """Sum over the windows of the zero-padded input (average pooling before the divisor)."""

    def forward(self, x, kernel=(), stride=(), padding=(), right=()):
        self.args = (kernel, stride, padding, right)
        self.shape = x.shape
        xp = self.xp
        nd = len(kernel)
        win = K.windows(xp, K.pad_zeros(xp, x, padding, 0, right), kernel, stride, (1,) * nd)
        return win.sum(axis=tuple(range(win.ndim - nd, win.ndim)))

    def backward(self, g):
        return WindowSumAdjoint.apply(g, args=self.args, shape=self.shape)


class WindowSumAdjoint(Node):
    def forward(self, g, args=(), shape=()):
        self.args = args
        kernel, stride, padding, right = args
        xp = self.xp
        nd = len(kernel)
        cols = xp.broadcast_to(g.reshape(g.shape[:2] + (1,) * nd + g.shape[2:]), g.shape[:2] + kernel + g.shape[2:])
        full = shape[:2] + tuple(s + a + b for s, a, b in zip(shape[2:], padding, right))
        out = K.col2im(xp, cols, full, stride, (1,) * nd)
        return xp.ascontiguousarray(out[(slice(None), slice(None)) +
                                        tuple(slice(a, a + s) for a, s in zip(padding, shape[2:]))])

    def backward(self, gg):
        return WindowSum.apply(gg, *(), **dict(zip(("kernel", "stride", "padding", "right"), self.args)))


# ------------------------------------------------------------------------------------ arguments
def _tup(v: Any, nd: int, fname: str, what: str) -> tuple:
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return (int(v),) * nd
    t = tuple(int(a) for a in v)
    if len(t) == 1:
        return t * nd
    if len(t) != nd:
        names = {1: "a single int", 2: "a single int, or a tuple of two ints",
                 3: "a single int, or a tuple of three ints"}[nd]
        raise RuntimeError(f"{fname}: {what} must either be {names}")
    return t


def _batch(input: Tensor, nd: int, fname: str) -> tuple:
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
    if input.dim() == nd + 1:
        return input.unsqueeze(0), True
    return input, False


def _out_sizes(fname: str, x: Tensor, nd: int, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
               ceil_mode: bool) -> tuple:
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_size={list(kernel)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation={list(dilation)}")
    for p, k, d in zip(padding, kernel, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    sp = tuple(x.shape[2:])
    outs, rights = [], []
    for n, k, s, p, d in zip(sp, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1  # the last window must start inside the input or its left padding
        outs.append(o)
        rights.append(max((o - 1) * s + d * (k - 1) + 1 - n - p, 0))
    if any(o <= 0 for o in outs) or x.shape[1] == 0:
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
                           f"({'x'.join(map(str, (x.shape[1],) + tuple(outs)))}). Output size is too small")
    return tuple(outs), tuple(rights)


# ------------------------------------------------------------------------------------ max pooling
def _max_pool(input: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool) -> Any:
    fname = f"max_pool{nd}d"
    x, unbatched = _batch(input, nd, fname)
    kernel = _tup(kernel_size, nd, fname, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) else \
        _tup(stride, nd, fname, "stride")
    padding = _tup(padding, nd, fname, "padding")
    dilation = _tup(dilation, nd, fname, "dilation")
    _, right = _out_sizes(fname, x, nd, kernel, stride, padding, dilation, ceil_mode)
    if not return_indices:
        y = MaxPool.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation, right=right,
                          with_indices=False)
        return y.squeeze(0) if unbatched else y
    y, idx = MaxPool.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation, right=right)
    if unbatched:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return y, idx


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """1-D max pooling over (N, C, L) or (C, L); ``stride`` defaults to ``kernel_size``.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.max_pool1d(ember.tensor([[1., 3., 2., 0.]]), 2).tolist()
    [[3.0, 2.0]]
    """
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-D max pooling over (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.max_pool2d(ember.ones(1, 1, 4, 4), 2).shape
    ember.Size([1, 1, 2, 2])
    """
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.max_pool3d(ember.ones(1, 1, 4, 4, 4), 2).shape
    ember.Size([1, 1, 2, 2, 2])
    """
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = True) -> tuple:
    """``max_pool1d`` returning ``(values, indices)``."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = True) -> tuple:
    """``max_pool2d`` returning ``(values, indices)``."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = True) -> tuple:
    """``max_pool3d`` returning ``(values, indices)``."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


# ------------------------------------------------------------------------------------ avg pooling
def _divisor(xp: Any, sp: tuple, outs: tuple, kernel: tuple, stride: tuple, padding: tuple,
             count_include_pad: bool) -> Any:
    """Per-output-position divisor (separable: a product of one factor per dim)."""
    nd = len(sp)
    div = None
    for d, (n, o, k, s, p) in enumerate(zip(sp, outs, kernel, stride, padding)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        size = end - start
        if not count_include_pad:
            size = np.minimum(end, n) - np.maximum(start, 0)
        shape = [1] * nd
        shape[d] = o
        f = size.reshape(shape)
        div = f if div is None else div * f
    return xp.asarray(div)


def _avg_pool(input: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: Any) -> Tensor:
    fname = f"avg_pool{nd}d"
    x, unbatched = _batch(input, nd, fname)
    kernel = _tup(kernel_size, nd, fname, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) else \
        _tup(stride, nd, fname, "stride")
    padding = _tup(padding, nd, fname, "padding")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    outs, right = _out_sizes(fname, x, nd, kernel, stride, padding, (1,) * nd, ceil_mode)
    s = WindowSum.apply(x, kernel=kernel, stride=stride, padding=padding, right=right)
    xp = _xp_of(x._device)
    if divisor_override is not None:
        div = xp.asarray(float(divisor_override))
    else:
        div = _divisor(xp, tuple(x.shape[2:]), outs, kernel, stride, padding, count_include_pad)
    if not s.is_floating_point():  # integer pooling truncates, as PyTorch's CPU kernel does
        y = s.div(_wrap(div.astype(s._data.dtype), x._device), rounding_mode="trunc")
    else:
        y = s * _wrap((1.0 / div).astype(s._data.dtype), x._device)
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling over (N, C, L) or (C, L).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.avg_pool1d(ember.tensor([[1., 3., 2., 0.]]), 2).tolist()
    [[2.0, 1.0]]
    """
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling over (N, C, H, W) or (C, H, W).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.avg_pool2d(ember.ones(1, 1, 4, 4), 2, padding=1, count_include_pad=False).shape
    ember.Size([1, 1, 3, 3])
    """
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.avg_pool3d(ember.ones(1, 1, 4, 4, 4), 2).shape
    ember.Size([1, 1, 2, 2, 2])
    """
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


# ------------------------------------------------------------------------------------ adaptive
def _adaptive_size(output_size: Any, x: Tensor, nd: int, fname: str) -> tuple:
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise RuntimeError(f"{fname}: output_size must be {nd}")
    sp = tuple(x.shape[x.dim() - nd:])
    out = tuple(n if o is None else int(o) for o, n in zip(output_size, sp))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{fname}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{', '.join(map(str, out))}}}")
    return out


def _adaptive_input(input: Tensor, nd: int, fname: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(input.shape)}")
    for d in range(1 if input.dim() == nd + 2 else 0, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but "
                               f"input has sizes {list(input.shape)} with dimension {d} being empty")


def _avg_matrix(n: int, o: int, dtype: Any) -> np.ndarray:
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    j = np.arange(n)
    m = ((j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])).astype(np.float64)
    return (m / (end - start)[:, None]).astype(dtype)


def _adaptive_avg(input: Tensor, nd: int, output_size: Any) -> Tensor:
    fname = f"adaptive_avg_pool{nd}d"
    _adaptive_input(input, nd, fname)
    out = _adaptive_size(output_size, input, nd, fname)
    xp = _xp_of(input._device)
    y = input
    dim = input.dim()
    for d in range(nd):
        n = input.shape[dim - nd + d]
        if out[d] == n:
            continue
        m = _wrap(xp.asarray(_avg_matrix(n, out[d], input._data.dtype)), input._device)
        axis = dim - nd + d
        # contract the pooled dim with the (out, n) averaging matrix: one GEMM per dim
        y = (y.movedim(axis, -1) @ m.t()).movedim(-1, axis)
    if y is input:
        y = input * 1
    return y


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed output length.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.adaptive_avg_pool1d(ember.tensor([[1., 2., 3., 4.]]), 2).tolist()
    [[1.5, 3.5]]
    """
    return _adaptive_avg(input, 1, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed (H, W) (``None`` keeps that input size).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.adaptive_avg_pool2d(ember.ones(1, 3, 7, 7), 1).shape
    ember.Size([1, 3, 1, 1])
    """
    return _adaptive_avg(input, 2, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed (D, H, W).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.adaptive_avg_pool3d(ember.ones(1, 3, 4, 4, 4), 2).shape
    ember.Size([1, 3, 2, 2, 2])
    """
    return _adaptive_avg(input, 3, output_size)


def _adaptive_max(input: Tensor, nd: int, output_size: Any, return_indices: bool) -> Any:
    fname = f"adaptive_max_pool{nd}d"
    _adaptive_input(input, nd, fname)
    out = _adaptive_size(output_size, input, nd, fname)
    x, unbatched = (input.unsqueeze(0), True) if input.dim() == nd + 1 else (input, False)
    sp = tuple(x.shape[2:])
    if all(n % o == 0 for n, o in zip(sp, out)) and all(o > 0 for o in out):
        k = tuple(n // o for n, o in zip(sp, out))  # equal windows: a plain max pool
        y, idx = MaxPool.apply(x, kernel=k, stride=k, padding=(0,) * nd, dilation=(1,) * nd, right=(0,) * nd)
    else:
        y, idx = MaxPool.apply(x, adaptive=out)
    if unbatched:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed output length.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.adaptive_max_pool1d(ember.tensor([[1., 4., 3., 2.]]), 2).tolist()
    [[4.0, 3.0]]
    """
    return _adaptive_max(input, 1, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed (H, W).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.adaptive_max_pool2d(ember.ones(1, 3, 7, 7), 3).shape
    ember.Size([1, 3, 3, 3])
    """
    return _adaptive_max(input, 2, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed (D, H, W)."""
    return _adaptive_max(input, 3, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> tuple:
    return _adaptive_max(input, 1, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> tuple:
    return _adaptive_max(input, 2, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> tuple:
    return _adaptive_max(input, 3, output_size, True)


# ------------------------------------------------------------------------------------ unpool / lp
def _max_unpool(input: Tensor, indices: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any,
                output_size: Any) -> Tensor:
    fname = f"max_unpool{nd}d"
    kernel = _tup(kernel_size, nd, fname, "kernel_size")
    stride = kernel if stride is None else _tup(stride, nd, fname, "stride")
    padding = _tup(padding, nd, fname, "padding")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    if indices.dtype.is_floating_point:
        raise RuntimeError(f"elements in indices should be type int64 but got: {str(indices.dtype).split('.')[-1]}")
    sp = tuple(input.shape[input.dim() - nd:])
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(sp, stride, padding, kernel))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)
        if len(out) == nd + 2 or len(out) == nd + 1:
            out = out[-nd:]
        if len(out) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                             f"length of '{len(out)}'")
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < out[d] < hi:
                raise ValueError(f'invalid output_size "{out}" (dim {d} must be between {lo} and {hi})')
    x, unbatched = (input.unsqueeze(0), True) if input.dim() == nd + 1 else (input, False)
    idx = (indices.unsqueeze(0) if unbatched else indices)._data
    size = int(np.prod(out))
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
        raise RuntimeError(f"Found an invalid max index: {int(idx.max()) if int(idx.max()) >= size else int(idx.min())} "
                           f"(output volumes are of size {'x'.join(map(str, out))}")
    y = IndexScatter.apply(x, idx=idx, shape=out, accumulate=False)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Partial inverse of ``max_pool1d``: values placed at ``indices``, zeros elsewhere."""
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Partial inverse of ``max_pool2d``.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> y, i = F.max_pool2d(ember.arange(16.).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2).shape
    ember.Size([1, 1, 4, 4])
    """
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Partial inverse of ``max_pool3d``."""
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size)


def _lp_pool(input: Tensor, nd: int, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool) -> Tensor:
    from ..._ops.pointwise import sign, abs as _abs
    from .activation import relu
    kernel = _tup(kernel_size, nd, f"lp_pool{nd}d", "kernel_size")
    out = _avg_pool(input.pow(norm_type), nd, kernel, stride, 0, ceil_mode, True, None)
    return (sign(out) * relu(_abs(out))).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: ``(sum x^p)^(1/p)`` over each window.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.lp_pool1d(ember.tensor([[3., 4.]]), 2, 2).tolist()
    [[5.0]]
    """
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """2-D power-average pooling."""
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """3-D power-average pooling."""
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)
