"""Normalization layers (functional forms): batch, layer, group, instance, RMS and local response norm.

``batch_norm``, ``layer_norm``, ``group_norm`` and ``instance_norm`` share one fused node, ``_Norm``:
it normalises ``x`` over some axes (optionally of a grouped view of ``x``), applies the affine
weight/bias, and updates running statistics in the same pass. Its backward is the standard formula
``dx = inv_std * (gy - mean(gy) - x_hat * mean(gy * x_hat))``; under ``create_graph=True`` it
recomputes ``x_hat`` and ``inv_std`` from ``x`` with ember ops so second derivatives are exact.

>>> import ember
>>> import ember.nn.functional as F
>>> F.layer_norm(ember.tensor([[1., 3.]]), (2,))
tensor([[-1.0000,  1.0000]])
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

from ..._ops._util import Tensor, to_float, wrap_dim
from ...autograd.graph import Node
from ...autograd.grad_mode import _state, no_grad
from ..._backend.parallel import parallel_for, rows_per_piece

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "local_response_norm",
           "normalize"]


class _Norm(Node):
    """y = x_hat * w + b with x_hat = (x - mean) / sqrt(var + eps) over ``axes`` of ``x.reshape(gshape)``.

    ``w`` and ``b`` arrive already shaped to broadcast against ``x``. ``running`` is
    ``(running_mean, running_var, momentum)`` (arrays updated in place) or None.
    """

    def forward(self, x, w, b, gshape=None, axes=(), eps=1e-5, running=None):
        xp = self.xp
        self.gshape, self.axes, self.eps = gshape, axes, eps
        xg = x.reshape(gshape) if gshape is not None else x
        if x.size == 0:
            mean = xp.zeros([1 if i in axes else s for i, s in enumerate(xg.shape)], x.dtype)
            var = xp.zeros_like(mean)
            xc = xg
        else:
            mean = xg.mean(axis=axes, keepdims=True)
            xc = xg - mean
            sq = xc * xc
            var = sq.mean(axis=axes, keepdims=True)
        inv = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        # reuse the fresh x*x and x-mean buffers for x_hat and y: every new full-size array costs page
        # faults, which measured a quarter of batch norm's forward time on ResNet-sized maps
        reuse = x.size > 0 and xc.dtype == xp.result_type(xc, inv)
        xhat = (xp.multiply(xc, inv, out=sq) if reuse else xc * inv).reshape(x.shape)
        if w is None:
            y = xhat
        elif reuse and xc.dtype == xp.result_type(xhat, w) and xp.broadcast_shapes(x.shape, w.shape) == x.shape:
            y = xp.multiply(xhat, w, out=xc.reshape(x.shape))
        else:
            y = xhat * w
        if b is not None:
            if y is xhat or y.dtype != xp.result_type(y, b) or xp.broadcast_shapes(y.shape, b.shape) != y.shape:
                y = y + b
            else:
                y += b  # a fresh array: add in place, one pass and no allocation
        if running is not None and x.size:
            rm, rv, momentum = running
            n = xg.size // mean.size  # elements behind each statistic
            c = rm.shape[0]
            # batch norm: stats (1, C, 1...); instance norm: (N, C, 1...) averaged over the batch
            m = mean.reshape(-1, c).mean(0)
            v = var.reshape(-1, c).mean(0) * (n / (n - 1) if n > 1 else float("nan"))
            rm *= 1 - momentum
            rm += (momentum * m).astype(rm.dtype, copy=False)
            rv *= 1 - momentum
            rv += (momentum * v).astype(rv.dtype, copy=False)
        self.save_for_backward(x, w, xhat, inv)
        return y.astype(x.dtype, copy=False)

    def fast_backward(self, g):
        """``backward`` on raw arrays in fewer passes (no graph is recorded on this path).

        When ``w`` is constant along the normalised axes (batch/instance norm), ``mean(g * w)`` and
        ``mean(g * w * x_hat)`` are ``w`` times the bias and weight gradients, so the three gradients
        share two reductions and ``dx`` takes four in-place passes.
        """
        x, w, xhat, inv = self.saved_arrays
        xp = self.xp
        gshape, axes = self.gshape, self.axes
        need = self.needs_input_grad
        lead = x.ndim - (w.ndim if w is not None else 0)
        per_channel = gshape is None and (w is None or all(w.shape[i - lead] == 1 for i in axes if i >= lead))
        if x.size == 0 or not per_channel:
            return self._fast_backward_general(g, x, w, xhat, inv)
        n = x.size // inv.size
        sg = g.sum(axis=axes, keepdims=True)                  # the engine sums these down to w's/b's shape
        gxh = g * xhat
        sgx = gxh.sum(axis=axes, keepdims=True)
        gx = None
        if need[0]:
            # dx = inv * w * (g - sg/n - x_hat * sgx/n), built in place from x_hat * (sgx/n)
            gx = xp.multiply(xhat, sgx / n, out=gxh) if gxh.dtype == xp.result_type(xhat, sgx) else xhat * (sgx / n)
            gx -= g
            gx += sg / n
            gx *= -(inv if w is None else inv * w)
        gw = sgx if len(need) > 1 and need[1] else None
        gb = sg if len(need) > 2 and need[2] else None
        return gx, gw, gb

    def _fast_backward_general(self, g, x, w, xhat, inv):
        gshape, axes = self.gshape, self.axes
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gy = g if w is None else g * w
            if x.size == 0:
                gx = gy.reshape(x.shape)
            else:
                gyg = gy.reshape(gshape) if gshape is not None else gy
                xh = xhat.reshape(gshape) if gshape is not None else xhat
                m1 = gyg.mean(axis=axes, keepdims=True)
                m2 = (gyg * xh).mean(axis=axes, keepdims=True)
                gx = xh * m2
                gx -= gyg
                gx += m1
                gx *= -inv
                gx = gx.reshape(x.shape)
        if len(need) > 1 and need[1]:
            gw = g * xhat
        if len(need) > 2 and need[2]:
            gb = g
        return gx, gw, gb

    def backward(self, g):
        x, w, xhat, inv = self.saved_tensors
        gshape, axes = self.gshape, self.axes
        if _state.enabled:
            # create_graph: rebuild x_hat and inv_std from x so their dependence on x is recorded
            xg = x.reshape(gshape) if gshape is not None else x
            mean = xg.mean(axes, keepdim=True)
            xc = xg - mean
            inv = ((xc * xc).mean(axes, keepdim=True) + self.eps).rsqrt()
            xhat = (xc * inv).reshape(tuple(x.shape))
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gy = g if w is None else g * w
            if gshape is not None:
                gy = gy.reshape(gshape)
                xh = xhat.reshape(gshape)
            else:
                xh = xhat
            if x.numel() == 0:
                gx = gy.reshape(tuple(x.shape))
            else:
                gx = (inv * (gy - gy.mean(axes, keepdim=True) - xh * (gy * xh).mean(axes, keepdim=True)))
                gx = gx.reshape(tuple(x.shape))
        if len(need) > 1 and need[1]:
            gw = g * xhat  # the engine sums it down to w's broadcast shape
        if len(need) > 2 and need[2]:
            gb = g
        return gx, gw, gb

    @classmethod
    def name(cls) -> str:
        return "NativeBatchNormBackward0"


class _BatchNorm(_Norm):
    """Batch norm: ``_Norm`` over (N, *spatial) per channel, with a (N, C, L) rows fast path.

    Seen as rows (N, C, L), the per-channel sums are matrix-vector products (BLAS) and the sums of
    products are ``vecdot`` over the rows (no temporaries); NumPy's reductions over axes (0, 2, 3)
    measured 3-5x slower on the small ResNet's maps. The forward makes two read-only and four
    read-write passes over x (seven with reductions before), the backward two and four. Saved values
    have ``_Norm``'s layout, so its ``backward`` (double backward) applies.
    """

    def forward(self, x, w, b, gshape=None, axes=(), eps=1e-5, running=None):
        if not _channel_rows_path(x, w, b, gshape, axes):
            return super().forward(x, w, b, gshape=gshape, axes=axes, eps=eps, running=running)
        xp = self.xp
        self.gshape, self.axes, self.eps = None, axes, eps
        n, c = x.shape[:2]
        rows = x.reshape(n, c, -1)
        count = n * rows.shape[2]
        ones = xp.ones(rows.shape[2], x.dtype)
        mean = (rows @ ones).sum(0) / count
        xhat = rows - mean[:, None]
        var = _row_dots(xp, xhat, xhat).sum(0) / count
        inv = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat *= inv[:, None]
        y = xhat.copy() if w is None else xhat * w.reshape(c, 1)
        if b is not None:
            y += b.reshape(c, 1)
        if running is not None:
            rm, rv, momentum = running
            unbiased = var * (count / (count - 1) if count > 1 else float("nan"))
            rm *= 1 - momentum
            rm += (momentum * mean).astype(rm.dtype, copy=False)
            rv *= 1 - momentum
            rv += (momentum * unbiased).astype(rv.dtype, copy=False)
        self.save_for_backward(x, w, xhat.reshape(x.shape), inv.reshape((1, c) + (1,) * (x.ndim - 2)))
        return y.reshape(x.shape)

    def fast_backward(self, g):
        x, w, xhat, inv = self.saved_arrays
        if not _channel_rows_path(x, w, None, self.gshape, self.axes):
            return super().fast_backward(g)
        xp = self.xp
        need = self.needs_input_grad
        n, c = x.shape[:2]
        g_rows = g.reshape(n, c, -1)
        xhat_rows = xhat.reshape(n, c, -1)
        count = n * g_rows.shape[2]
        sum_g = (g_rows @ xp.ones(g_rows.shape[2], g.dtype)).sum(0)
        sum_g_xhat = _row_dots(xp, g_rows, xhat_rows).sum(0)
        gx = None
        if need[0]:
            # dx = inv * w * (g - sum_g/count - x_hat * sum_g_xhat/count), in place from x_hat * (sum_g_xhat/count)
            gx = xhat_rows * (sum_g_xhat / count)[:, None]
            gx -= g_rows
            gx += (sum_g / count)[:, None]
            gx *= -(inv.reshape(c, 1) if w is None else inv.reshape(c, 1) * w.reshape(c, 1))
            gx = gx.reshape(x.shape)
        stat_shape = (c,) + (1,) * (x.ndim - 2)
        gw = sum_g_xhat.reshape(stat_shape) if len(need) > 1 and need[1] else None
        gb = sum_g.reshape(stat_shape) if len(need) > 2 and need[2] else None
        return gx, gw, gb


def _channel_rows_path(x: Any, w: Any, b: Any, gshape: Any, axes: tuple) -> bool:
    """Whether batch norm can run on (N, C, L) rows: BLAS dtypes, spatial dims, per-channel (C, 1...) affine."""
    stat_shape = x.shape[1:2] + (1,) * (x.ndim - 2)
    return (gshape is None and x.ndim >= 3 and x.size > 0 and x.dtype.name in _ROWS_DTYPES
            and axes == (0,) + tuple(range(2, x.ndim))
            and (w is None or (w.dtype == x.dtype and w.shape == stat_shape))
            and (b is None or (b.dtype == x.dtype and b.shape == stat_shape)))


def _row_dots(xp: Any, a: Any, b: Any) -> Any:
    """``sum(a * b, -1)`` without the product's temporary."""
    if hasattr(xp, "vecdot"):
        return xp.vecdot(a, b)
    return xp.einsum("...l,...l->...", a, b)  # pragma: no cover - backends without vecdot


class _LayerNorm(_Norm):
    """Layer norm: ``_Norm`` over the trailing axes, with a row-matrix fast path for float32/float64.

    Seen as rows (R, D), every reduction of the forward and backward is a matrix-vector product (BLAS) or
    a row dot product instead of a NumPy reduction over short rows, which measured 4x slower for (2048, 128);
    and the weight and bias gradients come back already reduced to their shape, so the engine has no
    broadcast sums to do. Saved values have ``_Norm``'s layout, so its ``backward`` (double backward) applies.
    """

    def forward(self, x, w, b, gshape=None, axes=(), eps=1e-5, running=None):
        if not _rows_fast_path(x, w, b, axes, running):
            return super().forward(x, w, b, gshape=gshape, axes=axes, eps=eps, running=running)
        xp = self.xp
        self.gshape, self.axes, self.eps = None, axes, eps
        rows = x.reshape(-1, _size_prod(x.shape[x.ndim - len(axes):]))
        n_rows, d = rows.shape
        mean_weights = xp.full(d, 1.0 / d, x.dtype)
        w_row = None if w is None else w.reshape(-1)
        b_row = None if b is None else b.reshape(-1)
        xhat, y = xp.empty_like(rows), xp.empty_like(rows)
        inv = xp.empty(n_rows, x.dtype)

        def normalise_rows(start: int, stop: int) -> None:  # rows are independent: split across threads
            r, xh, out = rows[start:stop], xhat[start:stop], y[start:stop]
            xp.subtract(r, (r @ mean_weights)[:, None], out=xh)
            var = _row_dots(xp, xh, xh)
            var *= x.dtype.type(1.0 / d)
            var += x.dtype.type(eps)
            xp.sqrt(var, out=var)
            row_inv = xp.divide(1.0, var, out=inv[start:stop])
            xh *= row_inv[:, None]
            if w_row is None:
                out[...] = xh  # never hand out the saved x_hat itself
            else:
                xp.multiply(xh, w_row, out=out)
            if b_row is not None:
                out += b_row

        parallel_for(n_rows, normalise_rows, min_chunk=rows_per_piece(d), xp=xp)
        stat_shape = x.shape[:x.ndim - len(axes)] + (1,) * len(axes)
        self.save_for_backward(x, w, xhat.reshape(x.shape), inv.reshape(stat_shape))
        return y.reshape(x.shape)

    def fast_backward(self, g):
        x, w, xhat, inv = self.saved_arrays
        if not _rows_fast_path(x, w, None, self.axes, None):
            return super().fast_backward(g)
        xp = self.xp
        need = self.needs_input_grad
        d = _size_prod(x.shape[x.ndim - len(self.axes):])
        g_rows = g.reshape(-1, d)
        xhat = xhat.reshape(-1, d)
        inv = inv.reshape(-1)
        g_xhat = xp.empty_like(g_rows)
        gx = xp.empty_like(g_rows) if need[0] else None
        # dx = inv * (g*w - mean(g*w) - x_hat * mean(g*w*x_hat)); both means are products with w/d
        w_rows = xp.full(d, 1.0 / d, g.dtype) if w is None else w.reshape(-1) * g.dtype.type(1.0 / d)

        def rows_backward(start: int, stop: int) -> None:  # row-local work, split across threads
            gr, xh, gxh = g_rows[start:stop], xhat[start:stop], g_xhat[start:stop]
            xp.multiply(gr, xh, out=gxh)
            if gx is None:
                return
            mean_gw, mean_gw_xhat = gr @ w_rows, gxh @ w_rows
            out = gx[start:stop]
            if w is None:
                out[...] = gr
            else:
                xp.multiply(gr, w.reshape(-1), out=out)
            out -= xh * mean_gw_xhat[:, None]
            out -= mean_gw[:, None]
            out *= inv[start:stop, None]

        parallel_for(g_rows.shape[0], rows_backward, min_chunk=rows_per_piece(d), xp=xp)
        row_ones = xp.ones(g_rows.shape[0], g.dtype)
        gw = (row_ones @ g_xhat).reshape(w.shape) if len(need) > 1 and need[1] else None
        gb = None
        if len(need) > 2 and need[2]:
            gb = (row_ones @ g_rows).reshape(g.shape[g.ndim - len(self.axes):])
        if gx is not None:
            gx = gx.reshape(x.shape)
        return gx, gw, gb

    @classmethod
    def name(cls) -> str:
        return "NativeLayerNormBackward0"


_ROWS_DTYPES = frozenset(("float32", "float64"))


def _rows_fast_path(x: Any, w: Any, b: Any, axes: tuple, running: Any) -> bool:
    """Whether layer norm can run as (rows, d) matrix products: BLAS dtypes, trailing axes, no empty dims."""
    k = len(axes)
    return (running is None and k > 0 and x.size > 0 and x.dtype.name in _ROWS_DTYPES
            and axes == tuple(range(x.ndim - k, x.ndim))
            and (w is None or (w.dtype == x.dtype and w.shape == x.shape[x.ndim - k:]))
            and (b is None or (b.dtype == x.dtype and b.shape == x.shape[x.ndim - k:])))


class _GroupNorm(_Norm):
    @classmethod
    def name(cls) -> str:
        return "NativeGroupNormBackward0"


def _channel_shape(x: Tensor) -> tuple:
    """Shape that broadcasts a per-channel (dim 1) vector against ``x``."""
    return (x.shape[1],) + (1,) * (x.dim() - 2)


def _per_channel(t: Tensor | None, x: Tensor) -> Tensor | None:
    if t is None or x.dim() <= 2:
        return t
    return t.reshape(_channel_shape(x))


def _check_channels(name: str, t: Tensor | None, c: int) -> None:
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def _check_channel_args(c: int, **tensors: Tensor | None) -> None:
    """Each given per-channel tensor (weight, bias, running stats) has ``c`` elements (PyTorch's error)."""
    for name, t in tensors.items():
        _check_channels(name, t, c)


def _size_prod(sizes: Sequence[int]) -> int:
    return math.prod(sizes)


def _verify_batch_size(size: Any) -> None:
    if size[0] * _size_prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size: Any) -> None:
    if _size_prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def _bump(*ts: Tensor | None) -> None:
    """Running statistics were updated in place: bump their version counters like an in-place op."""
    for t in ts:
        if t is not None:
            t._vc[0] += 1


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) over the batch and spatial dims.

    In training the batch statistics are used and ``running_mean``/``running_var`` (if given) are
    updated in place with ``momentum`` (the variance unbiased); otherwise the running statistics are used.

    >>> F.batch_norm(ember.tensor([[1.], [3.]]), None, None, training=True)
    tensor([[-1.0000],
            [ 1.0000]])
    """
    if input.dim() < 2:
        wrap_dim(1, input.dim())  # PyTorch's IndexError for the missing channel dim
    if training:
        _verify_batch_size(input.shape)
    _check_channel_args(input.shape[1], weight=weight, bias=bias, running_mean=running_mean,
                        running_var=running_var)
    x = to_float(input)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        return _affine_eval(x, running_mean, running_var, weight, bias, eps)
    axes = (0,) + tuple(range(2, x.dim()))
    running = None
    if running_mean is not None and running_var is not None:
        running = (running_mean._data, running_var._data, 0.0 if momentum is None else momentum)
    out = _BatchNorm.apply(x, _per_channel(weight, x), _per_channel(bias, x), axes=axes, eps=eps,
                           running=running)
    if running is not None:
        _bump(running_mean, running_var)
    return out


def _affine_eval(x: Tensor, rm: Tensor, rv: Tensor, weight: Tensor | None, bias: Tensor | None,
                 eps: float) -> Tensor:
    """Inference-mode batch norm, ``x * scale + shift``: per-channel scale/shift first, then two passes over x."""
    with no_grad():
        inv = (rv.to(x.dtype) + eps).rsqrt()
        mean = rm.to(x.dtype)
    scale = inv if weight is None else weight * inv
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    return x * _per_channel(scale, x) + _per_channel(shift, x)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims.

    >>> F.instance_norm(ember.tensor([[[1., 3.]]])).shape
    ember.Size([1, 1, 2])
    """
    if input.dim() < 2:
        wrap_dim(1, input.dim())
    if use_input_stats:
        _verify_spatial_size(input.shape)
    _check_channel_args(input.shape[1], weight=weight, bias=bias, running_mean=running_mean,
                        running_var=running_var)
    x = to_float(input)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        return _affine_eval(x, running_mean, running_var, weight, bias, eps)
    axes = tuple(range(2, x.dim()))
    running = None
    if running_mean is not None and running_var is not None:
        running = (running_mean._data, running_var._data, momentum)
    out = _Norm.apply(x, _per_channel(weight, x), _per_channel(bias, x), axes=axes, eps=eps, running=running)
    if running is not None:
        _bump(running_mean, running_var)
    return out


def _shape_tuple(normalized_shape: Any) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_normalized(input: Tensor, shape: tuple, weight: Tensor | None, bias: Tensor | None) -> None:
    k = len(shape)
    if k == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
                           "one element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {list(shape)}")
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims, then scale by ``weight`` and shift by ``bias``.

    >>> F.layer_norm(ember.tensor([[1., 3.]]), [2])
    tensor([[-1.0000,  1.0000]])
    """
    shape = _shape_tuple(normalized_shape)
    _check_normalized(input, shape, weight, bias)
    x = to_float(input)
    axes = tuple(range(x.dim() - len(shape), x.dim()))
    return _LayerNorm.apply(x, weight, bias, axes=axes, eps=eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Split the channels (dim 1) into ``num_groups`` groups and normalise each group of each sample.

    >>> F.group_norm(ember.ones(2, 4, 3), 2).shape
    ember.Size([2, 4, 3])
    """
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {list(input.shape)} and num_groups={num_groups}")
    _verify_batch_size([n * c // num_groups, num_groups] + list(input.shape[2:]))
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    x = to_float(input)
    gshape = (n, num_groups, -1 if x.numel() else (c // num_groups) * _size_prod(x.shape[2:]))
    return _GroupNorm.apply(x, _per_channel(weight, x), _per_channel(bias, x), gshape=gshape, axes=(2,), eps=eps)


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x**2) + eps) * weight`` over the trailing ``normalized_shape`` dims.

    ``eps=None`` uses the machine epsilon of the input's dtype, as PyTorch.

    >>> F.rms_norm(ember.tensor([[3., 4.]]), [2])
    tensor([[0.8485, 1.1314]])
    """
    shape = _shape_tuple(normalized_shape)
    _check_normalized(input, shape, weight, None)
    x = to_float(input)
    if eps is None:
        import numpy as np
        eps = float(np.finfo(x._data.dtype).eps) if x._data.dtype.kind == "f" else 1.1920928955078125e-07
    dims = tuple(range(x.dim() - len(shape), x.dim()))
    y = x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Divide each element by ``(k + alpha/size * sum of squares over `size` neighbouring channels) ** beta``.

    >>> F.local_response_norm(ember.ones(1, 3, 2), 2).shape
    ember.Size([1, 3, 2])
    """
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    from ..._ops.join import cat
    from ..._creation import zeros
    sq = input * input
    c = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    pads = []
    if before:
        pads.append(zeros((input.shape[0], before) + tuple(input.shape[2:]), dtype=sq.dtype, device=sq.device))
    pads.append(sq)
    if after:
        pads.append(zeros((input.shape[0], after) + tuple(input.shape[2:]), dtype=sq.dtype, device=sq.device))
    padded = cat(pads, 1) if len(pads) > 1 else sq
    # window sum along channels: one slice per window offset (size is small), never per element
    total = padded.narrow(1, 0, c)
    for j in range(1, size):
        total = total + padded.narrow(1, j, c)
    div = (total * (alpha / size) + k) ** beta
    return input / div


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``.

    >>> F.normalize(ember.tensor([[3., 4.]]))
    tensor([[0.6000, 0.8000]])
    """
    from ..._ops._util import write_out
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps)
    return write_out(input / denom, out)
