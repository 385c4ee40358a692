"""Array kernels for convolution and pooling: windows (im2col), col2im and the conv GEMMs.

Everything here works on raw backend arrays (NumPy or CuPy: both have ``sliding_window_view``,
strided slicing and batched ``matmul``) and knows nothing of autograd; the nodes in
``ember/nn/_functional/conv.py`` and ``pooling.py`` call these from ``forward``.

Layouts (``nd`` spatial dims, ``K`` = prod(kernel), ``P`` = prod(out)):
- ``windows(x)``: a strided *view* (N, C, *out, *kernel) of an already padded input;
- the conv forward copies it once into a column matrix and runs one (batched) GEMM per group;
- ``col2im`` is the adjoint of ``windows``: a scatter-add of (N, C, *kernel, *out) columns, looping
  over the K kernel offsets only (each offset is one strided add of a whole (N, C, *out) block);
- ``conv_input_stride1`` replaces GEMM + col2im for stride-1 convs that keep their size: the input
  gradient is then a plain correlation of the zero-padded gradient with the flipped, transposed kernel;
- ``conv_input_wide`` is GEMM + col2im for the other stride-1 convs, on flattened planes so that each
  kernel offset's scatter-add is one shifted slice add of long rows.
"""
from __future__ import annotations

import itertools
from typing import Any

from .parallel import parallel_for, rows_per_piece

# Column matrices with at most this many rows (C_g * K) use a per-sample batched GEMM: OpenBLAS is
# slow on one (O x small) @ (small x N*P) product, fast on N of them. Larger ones use one big GEMM.
_BATCHED_MAX_ROWS = 32


def out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """Output length of a window of ``k`` taps (dilation ``d``) with stride ``s`` over ``size + 2p``."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def pad_zeros(xp: Any, x: Any, pad: tuple, value: float = 0.0, right: tuple | None = None) -> Any:
    """``x`` with ``pad[i]`` (left) and ``right[i]`` (default ``pad[i]``) elements of ``value`` around spatial dim i."""
    right = pad if right is None else right
    if not any(pad) and not any(right):
        return x
    nd = len(pad)
    lead = x.ndim - nd
    shape = x.shape[:lead] + tuple(n + a + b for n, a, b in zip(x.shape[lead:], pad, right))
    out = xp.full(shape, value, dtype=x.dtype) if value != 0 else xp.zeros(shape, dtype=x.dtype)
    out[(slice(None),) * lead + tuple(slice(a, a + n) for a, n in zip(pad, x.shape[lead:]))] = x
    return out


def windows(xp: Any, x: Any, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """A strided view (..., *out, *kernel) of the windows of ``x`` over its last ``len(kernel)`` dims."""
    nd = len(kernel)
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    axes = tuple(range(x.ndim - nd, x.ndim))
    v = xp.lib.stride_tricks.sliding_window_view(x, eff, axis=axes)
    if all(s == 1 for s in stride) and all(d == 1 for d in dilation):
        return v
    lead = x.ndim - nd
    key = (slice(None),) * lead + tuple(slice(None, None, s) for s in stride) + \
        tuple(slice(None, None, d) for d in dilation)
    return v[key]


def col2im(xp: Any, cols: Any, shape: tuple, stride: tuple, dilation: tuple) -> Any:
    """Adjoint of ``windows``: sum columns (..., *kernel, *out) into an array of ``shape`` (..., *spatial)."""
    nd = len(stride)
    kernel = cols.shape[cols.ndim - 2 * nd: cols.ndim - nd]
    out_sp = cols.shape[cols.ndim - nd:]
    lead = cols.ndim - 2 * nd
    out = xp.zeros(shape, dtype=cols.dtype)
    head = (slice(None),) * lead
    for off in itertools.product(*(range(k) for k in kernel)):
        key = head + tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                           for o, d, s, n in zip(off, dilation, stride, out_sp))
        out[key] += cols[head + off]
    return out


def _group_matmul(xp: Any, a: Any, b: Any, trans_b: bool = False) -> Any:
    """``a[g] @ b[g]`` (or ``b[g].T``) for each group as 2-D ``dot`` calls.

    ``dot`` always reaches BLAS with transpose flags; NumPy's ``matmul`` can take a non-BLAS loop for
    transposed or broadcast operands (measured: 2.5 s instead of 1 ms for (6, 50176) @ (50176, 25).T).
    """
    groups = a.shape[0]
    # BLAS needs unit stride in one dim: gradients are often broadcast (stride-0) views
    if 0 in a.strides:
        a = xp.ascontiguousarray(a)
    if 0 in b.strides:
        b = xp.ascontiguousarray(b)
    if trans_b:
        # (b @ a^T)^T: OpenBLAS splits the larger output dim across threads, and under CPU contention
        # this orientation measured 1.5-4x faster than a @ b^T for the (O, N*P) x (N*P, C*K) weight grad
        if groups == 1:
            return xp.dot(b[0], a[0].T).T[None]
        out = xp.empty((groups, a.shape[1], b.shape[1]), dtype=xp.result_type(a, b))
        for i in range(groups):
            out[i] = xp.dot(b[i], a[i].T).T
        return out
    if groups == 1:
        return xp.dot(a[0], b[0])[None]
    out = xp.empty((groups, a.shape[1], b.shape[2]), dtype=xp.result_type(a, b))
    for i in range(groups):
        out[i] = xp.dot(a[i], b[i])
    return out


def _prod(t: tuple) -> int:
    p = 1
    for s in t:
        p *= s
    return p


def conv_forward(xp: Any, x: Any, w: Any, stride: tuple, dilation: tuple, groups: int,
                 keep_cols: bool = False) -> Any:
    """Cross-correlation of a padded input (N, C, *S) with weight (O, C/groups, *k): (N, O, *out).

    With ``keep_cols`` returns ``(y, cols)``: the column matrix is exactly what ``conv_weight`` needs, so
    the weight gradient can skip rebuilding it (the copy measured as much as the weight GEMM itself).
    """
    nd = w.ndim - 2
    kernel = w.shape[2:]
    n = x.shape[0]
    o, cg = w.shape[:2]
    win = windows(xp, x, kernel, stride, dilation)           # (N, C, *out, *k) view
    out_sp = win.shape[2:2 + nd]
    p, k = _prod(out_sp), _prod(kernel)
    wm = xp.ascontiguousarray(w).reshape(groups, o // groups, cg * k)
    sp = tuple(range(2, 2 + nd))
    kk = tuple(range(2 + nd, 2 + 2 * nd))
    if cg * k <= _BATCHED_MAX_ROWS:
        # per-sample columns (N, G, Cg*K, P): W @ cols lands directly in (N, O, P); the samples are split
        # across the intra-op threads (the column copy and the small GEMMs release the GIL)
        cols = xp.empty((n, groups, cg * k, p), x.dtype)
        y = xp.empty((n, groups, o // groups, p), xp.result_type(wm, x))
        tiles = cols.reshape((n, x.shape[1]) + tuple(kernel) + tuple(out_sp))

        def per_samples(a, b):
            xp.copyto(tiles[a:b], win[a:b].transpose((0, 1) + kk + sp))
            xp.matmul(wm, cols[a:b], out=y[a:b])

        parallel_for(n, per_samples, min_chunk=rows_per_piece(cols[0].size), xp=xp)
        return _with_cols(y.reshape((n, o) + out_sp), cols, keep_cols)
    # one GEMM per group over all samples: cols (G, Cg*K, N*P), copied a block of channels at a time
    # across the intra-op threads (BLAS threads the GEMM itself)
    cols = xp.empty((groups, cg * k, n * p), x.dtype)
    tiles = cols.reshape((x.shape[1],) + tuple(kernel) + (n,) + tuple(out_sp))
    order = (1,) + kk + (0,) + sp
    parallel_for(x.shape[1], lambda a, b: xp.copyto(tiles[a:b], win[:, a:b].transpose(order)),
                 min_chunk=rows_per_piece(tiles[0].size), xp=xp)
    y = _group_matmul(xp, wm, cols)                          # (G, O/G, N*P)
    y = xp.ascontiguousarray(xp.swapaxes(y.reshape((o, n) + out_sp), 0, 1))
    return _with_cols(y, cols, keep_cols)


def _with_cols(y: Any, cols: Any, keep_cols: bool) -> Any:
    return (y, cols) if keep_cols else y


def conv_weight(xp: Any, x: Any, g: Any, kernel: tuple, stride: tuple, dilation: tuple, groups: int,
                cols: Any = None) -> Any:
    """Gradient of the conv weight: padded input (N, C, *S) and output grad (N, O, *out) -> (O, C/groups, *k).

    ``cols``: the column matrix ``conv_forward(..., keep_cols=True)`` built from the same ``x``.
    """
    nd = len(kernel)
    n, c = x.shape[:2]
    o = g.shape[1]
    cg = c // groups
    out_sp = g.shape[2:]
    p, k = _prod(out_sp), _prod(kernel)
    if cols is not None and cols.ndim == 4:
        # per-sample columns (N, G, Cg*K, P): N small GEMMs summed (measured 1.6-2x faster than
        # transposing both operands into one GEMM, for LeNet's and the MNIST CNN's first convs)
        gm = g.reshape(n, groups, o // groups, p)
        gw = xp.matmul(gm, xp.swapaxes(cols, 2, 3)).sum(0)
        return gw.reshape((o, cg) + tuple(kernel))
    if cols is None:
        win = windows(xp, x, kernel, stride, dilation)
        # the window view may hold more positions than g when the padded input has slack at the end
        win = win[(slice(None), slice(None)) + tuple(slice(0, s) for s in out_sp)]
        sp = tuple(range(2, 2 + nd))
        kk = tuple(range(2 + nd, 2 + 2 * nd))
        # columns (G, Cg*K, N*P) as in conv_forward's big-GEMM layout; gw = g (G, O/G, N*P) @ cols^T
        cols = win.transpose((1,) + kk + (0,) + sp).reshape(groups, cg * k, n * p)
    gm = g.reshape(n, groups, o // groups, p).transpose(1, 2, 0, 3).reshape(groups, o // groups, n * p)
    gw = _group_matmul(xp, gm, cols, trans_b=True)                             # (G, O/G, Cg*K)
    return gw.reshape((o, cg) + tuple(kernel))


def conv_input(xp: Any, g: Any, w: Any, shape: tuple, stride: tuple, dilation: tuple, groups: int) -> Any:
    """Adjoint of ``conv_forward`` in its input: output grad (N, O, *out), weight (O, C/g, *k) -> (N, C, *S).

    ``shape`` is the padded input's shape; this is also the forward of a transposed convolution.
    """
    nd = w.ndim - 2
    kernel = tuple(w.shape[2:])
    n, o = g.shape[:2]
    cg = w.shape[1]
    out_sp = tuple(g.shape[2:])
    p, k = _prod(out_sp), _prod(kernel)
    wt = xp.swapaxes(w.reshape(groups, o // groups, cg * k), 1, 2)             # (G, Cg*K, O/G) view
    gm = g.reshape(n, groups, o // groups, p).transpose(1, 2, 0, 3).reshape(groups, o // groups, n * p)
    cols = _group_matmul(xp, wt, gm)                                            # (G, Cg*K, N*P)
    cols = cols.reshape((groups * cg,) + kernel + (n,) + out_sp)
    # view as (N, C, *k, *out) for col2im (each offset's block is a strided (N, C, *out) view)
    cols = cols.transpose((nd + 1, 0) + tuple(range(1, nd + 1)) + tuple(range(nd + 2, 2 * nd + 2)))
    return col2im(xp, cols, shape, stride, dilation)


def conv_input_wide(xp: Any, g: Any, w: Any, shape: tuple, dilation: tuple) -> Any:
    """``conv_input`` for stride 1 and one group, with a col2im of long contiguous runs.

    Each input plane is flattened; ``g`` is zero-padded to the full width of every trailing spatial dim
    (the "wide" output: P = out_0 * S_1 * ... positions). Kernel offset ``off`` then maps output
    position ``q`` to input position ``q + shift(off)``, so the scatter-add of the columns is one shifted
    slice add per offset, over whole (C, N, P) blocks; the zero columns of the padded ``g`` give zero
    columns, which land harmlessly in the wrap-around positions. Measured against GEMM + ``col2im``
    (whose rows are only out_w long): 1.8x faster on LeNet-5's second conv, 1.15x on the MNIST CNN's.
    """
    nd = w.ndim - 2
    kernel = tuple(w.shape[2:])
    n, o = g.shape[:2]
    c = w.shape[1]
    spatial = tuple(shape[2:])
    out_sp = tuple(g.shape[2:])
    plane = [_prod(spatial[d + 1:]) for d in range(nd)]            # flat stride of each spatial dim
    size, wide = _prod(spatial), out_sp[0] * plane[0]
    shifts = [sum(i * d * st for i, d, st in zip(off, dilation, plane))
              for off in itertools.product(*(range(k) for k in kernel))]
    gw = xp.zeros((o, n, out_sp[0]) + spatial[1:], dtype=g.dtype)
    gw[(slice(None),) * 3 + tuple(slice(0, s) for s in out_sp[1:])] = xp.swapaxes(g, 0, 1)
    # rows ordered (offset, channel): each offset's block (C, N*P) is contiguous
    wt = xp.ascontiguousarray(w.reshape(o, c, -1).transpose(2, 1, 0)).reshape(-1, o)
    cols = xp.dot(wt, gw.reshape(o, -1)).reshape(len(shifts), c, n, wide)
    out = xp.zeros((c, n, max(size, shifts[-1] + wide)), dtype=g.dtype)

    def add_shifted(c0, c1):  # channel blocks across the intra-op threads
        for t, sh in enumerate(shifts):
            out[c0:c1, :, sh:sh + wide] += cols[t, c0:c1]

    parallel_for(c, add_shifted, min_chunk=rows_per_piece(n * wide), xp=xp)
    return xp.ascontiguousarray(xp.swapaxes(out[:, :, :size], 0, 1)).reshape(shape)


def flip_transpose(xp: Any, w: Any, groups: int) -> Any:
    """Weight (O, C/groups, *k) -> (C, O/groups, *k) with every kernel flipped: the correlation kernel of the adjoint."""
    nd = w.ndim - 2
    o, cg = w.shape[:2]
    wg = w.reshape((groups, o // groups, cg) + tuple(w.shape[2:]))
    wt = xp.swapaxes(wg, 1, 2).reshape((groups * cg, o // groups) + tuple(w.shape[2:]))
    return wt[(slice(None), slice(None)) + (slice(None, None, -1),) * nd]


def conv_input_stride1(xp: Any, g: Any, w: Any, spatial: tuple, padding: tuple, dilation: tuple,
                       groups: int) -> Any:
    """``conv_input`` for stride 1, cropped to ``spatial``: a correlation of the zero-padded ``g`` with the
    flipped, transposed kernel (im2col + GEMM), instead of GEMM + a col2im scatter-add.

    Returns None when a padding exceeds the kernel's reach (the caller falls back to ``conv_input``).
    """
    kernel = w.shape[2:]
    left = tuple(d * (k - 1) - p for d, k, p in zip(dilation, kernel, padding))
    # correlation output length = n + left + right - d*(k-1) must equal the input's length
    right = tuple(s - n + d * (k - 1) - a for s, n, d, k, a in zip(spatial, g.shape[2:], dilation, kernel, left))
    if any(a < 0 for a in left) or any(b < 0 for b in right):
        return None
    gp = pad_zeros(xp, g, left, right=right)
    return conv_forward(xp, gp, flip_transpose(xp, w, groups), (1,) * len(kernel), dilation, groups)


def take_adjoint(xp: Any, g: Any, idx: Any, axis: int, n: int) -> Any:
    """Adjoint of ``xp.take(x, idx, axis)`` for an input of length ``n`` along ``axis``: a scatter-add of ``g``.

    NumPy: sort the indices once and sum runs of equal indices with ``add.reduceat`` (two passes over
    ``g``); other backends use ``add.at``.
    """
    shape = list(g.shape)
    shape[axis] = n
    out = xp.zeros(shape, dtype=g.dtype)
    key = (slice(None),) * (axis % g.ndim)
    if g.size == 0 or len(idx) == 0:
        return out
    if hasattr(xp.add, "reduceat"):
        order = xp.argsort(idx, kind="stable")
        sidx = idx[order]
        starts = xp.flatnonzero(xp.concatenate([xp.ones(1, dtype=bool), sidx[1:] != sidx[:-1]]))
        out[key + (sidx[starts],)] = xp.add.reduceat(xp.take(g, order, axis), starts, axis)
    else:  # pragma: no cover - CuPy
        xp.add.at(out, key + (idx,), g)
    return out
