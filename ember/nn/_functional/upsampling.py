"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area),
``grid_sample`` (bilinear/nearest on 4-D and 5-D, bicubic on 4-D; zeros/border/reflection padding) and ``affine_grid``.

Interpolation is separable: each spatial dim is resampled in turn by gathering taps along that dim
(the ``Take`` node of ``padding.py``, whose backward is a scatter-add) and weighting them with
constant coefficients, all ember ops, so gradients of any order work. ``grid_sample`` gathers the
corner values with ``IndexGather`` (pooling.py) and computes the weights from the grid with ember
ops, so it is differentiable in both the input and the grid.

>>> import ember
>>> import ember.nn.functional as F
>>> F.interpolate(ember.ones(1, 1, 2, 2), scale_factor=2).shape
ember.Size([1, 1, 4, 4])
"""
from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ..._ops._util import Tensor
from ..._tensor import _wrap
from ...autograd.graph import _xp_of
from .padding import Take
from .pooling import IndexGather, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample", "affine_grid"]

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_CUBIC_A = -0.75


def _const(x: Tensor, a: np.ndarray, axis: int) -> Tensor:
    """A constant coefficient vector shaped to broadcast along ``axis`` of ``x``."""
    shape = [1] * x.dim()
    shape[axis] = a.shape[0]
    xp = _xp_of(x._device)
    return _wrap(xp.asarray(a.reshape(shape).astype(x._data.dtype)), x._device)


def _scale(n: int, o: int, align_corners: bool, scale: float | None, dt: Any) -> Any:
    if align_corners:
        return dt((n - 1) / (o - 1)) if o > 1 else dt(0)
    return dt(1.0 / scale) if scale is not None and scale > 0 else dt(n) / dt(o)


def _resample_dim(x: Tensor, axis: int, o: int, mode: str, align_corners: bool, scale: float | None) -> Tensor:
    n = x.shape[axis]
    xp = _xp_of(x._device)
    # PyTorch computes source coordinates in the op's math type: float for float32 inputs
    dt = np.float64 if x._data.dtype == np.float64 else np.float32
    dst = np.arange(o, dtype=dt)
    if mode in ("nearest", "nearest-exact"):
        s = _scale(n, o, False, scale, dt)
        src = np.floor((dst + dt(0.5)) * s) if mode == "nearest-exact" else np.floor(dst * s)
        idx = np.minimum(src.astype(np.int64), n - 1)
        return Take.apply(x, idx=xp.asarray(idx), axis=axis)
    s = _scale(n, o, align_corners, scale, dt)
    if mode == "bicubic":
        src = dst * s if align_corners else s * (dst + dt(0.5)) - dt(0.5)
        i = np.floor(src).astype(np.int64)
        t = (src - i).astype(np.float64)
        a = _CUBIC_A
        w = [((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
             ((a + 2) * t - (a + 3)) * t * t + 1,
             ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
             ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a]
        y = None
        for k in range(4):
            idx = np.clip(i - 1 + k, 0, n - 1)
            term = Take.apply(x, idx=xp.asarray(idx), axis=axis) * _const(x, w[k], axis)
            y = term if y is None else y + term
        return y
    src = dst * s if align_corners else np.maximum(s * (dst + dt(0.5)) - dt(0.5), 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    l1 = (src - i0).astype(np.float64)
    y0 = Take.apply(x, idx=xp.asarray(i0), axis=axis)
    if n == 1:
        return y0
    y1 = Take.apply(x, idx=xp.asarray(i1), axis=axis)
    return y0 * _const(x, 1.0 - l1, axis) + y1 * _const(x, l1, axis)


def _aa_filter(x: np.ndarray, mode: str) -> np.ndarray:
    """The antialiasing kernels (PIL's): the triangle for bilinear, Keys' cubic with a = -0.5 for bicubic."""
    x = np.abs(x)
    if mode == "bilinear":
        return np.where(x < 1, 1 - x, 0)
    a = -0.5
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((x - 5) * x + 8) * x * a - 4 * a, 0))


def _resample_dim_aa(x: Tensor, axis: int, o: int, mode: str, align_corners: bool, scale: float | None) -> Tensor:
    """Antialiased resampling along ``axis``: when downsampling by ``s`` the filter is stretched by ``s`` (its
    support grows to ``s`` times the kernel's), so every input sample contributes; the taps of each output are
    normalised to sum to one. All outputs' taps are gathered at once (o * K indices) and reduced over K."""
    n = x.shape[axis]
    xp = _xp_of(x._device)
    dt = np.float64 if x._data.dtype == np.float64 else np.float32
    s = _scale(n, o, align_corners, scale, dt)
    half = dt(1.0 if mode == "bilinear" else 2.0)
    support = half * s if s >= 1 else half
    invscale = dt(1) / s if s >= 1 else dt(1)
    center = s * (np.arange(o, dtype=dt) + dt(0.5))
    # int64 casts truncate toward zero, as the reference kernel does
    xmin = np.maximum((center - support + dt(0.5)).astype(np.int64), 0)
    xsize = np.minimum((center + support + dt(0.5)).astype(np.int64), n) - xmin
    k = max(int(xsize.max()), 1)
    j = np.arange(k)
    pos = xmin[:, None] + j[None, :]
    w = _aa_filter((pos - center[:, None] + dt(0.5)).astype(dt) * invscale, mode).astype(dt)
    w = np.where(j[None, :] < xsize[:, None], w, dt(0))
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total != 0, w / np.where(total != 0, total, 1), w)
    idx = np.clip(pos, 0, n - 1).reshape(-1)
    taps = Take.apply(x, idx=xp.asarray(idx), axis=axis)
    taps = taps.reshape(*x.shape[:axis], o, k, *x.shape[axis + 1:])
    wshape = [1] * taps.dim()
    wshape[axis], wshape[axis + 1] = o, k
    wt = _wrap(xp.asarray(w.reshape(wshape).astype(x._data.dtype)), x._device)
    return (taps * wt).sum(axis + 1)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, *spatial) to ``size`` or by ``scale_factor``.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.interpolate(ember.tensor([[[0., 1.]]]), size=3, mode="linear", align_corners=True).tolist()
    [[[0.0, 0.5, 1.0]]]
    """
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    nd = input.dim() - 2
    if nd < 1:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    sp = list(input.shape[2:])
    scales: list | None = None
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {sp} and output size of {list(size)}. Please provide "
                                 f"input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 f"format.")
            out = [int(v) for v in size]
        else:
            out = [int(size)] * nd
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {sp} and scale_factor of shape "
                                 f"{list(scale_factor)}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                                 f"and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(v) for v in scale_factor]
        else:
            scales = [float(scale_factor)] * nd
        out = [int(math.floor(float(n) * s)) for n, s in zip(sp, scales)]
        if recompute_scale_factor:
            scales = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias and (mode not in ("bilinear", "bicubic") or nd != 2):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor "
                         "as input")
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({', '.join(map(str, sp))})"
                           f" output ({', '.join(map(str, out))})")
    want = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode)
    if (want is not None and nd != want) or nd > 3:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {want + 2 if want else 3}D input"
                                  if want else f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.dim()}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | "
                                  f"area | nearest-exact (got {mode})")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](input, tuple(out))
    y = input
    for d in range(nd):
        sc = scales[d] if scales else None
        y = (_resample_dim_aa(y, 2 + d, out[d], mode, bool(align_corners), sc) if antialias
             else _resample_dim(y, 2 + d, out[d], mode, bool(align_corners), sc))
    if y is input:
        y = input * 1
    return y


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------------------------ grid_sample
def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    from ..._ops.pointwise import floor, abs as _abs
    from ..._ops.pointwise_binary import fmod
    from ..._ops.compare import where
    if twice_low == twice_high:
        return coord * 0
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = _abs(coord - lo)
    extra = fmod(c, span)
    flips = floor(c / span).detach()
    even = (flips._data % 2) == 0
    return where(_wrap(even, coord._device), extra + lo, span - extra + lo)


def _source(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    from ..._ops.pointwise_binary import clamp
    c = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        c = clamp(c, 0, size - 1)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        c = clamp(c, 0, size - 1)
    return c


def _corner(input: Tensor, pos: list) -> Tensor:
    """Values of input (N, C, *S) at integer positions ``pos[d]`` (N, *out) per spatial dim, zero outside."""
    xp = _xp_of(input._device)
    n, c = input.shape[:2]
    sp = input.shape[2:]
    valid = None
    flat = 0
    for d, (p, size) in enumerate(zip(pos, sp)):
        v = (p >= 0) & (p < size)
        valid = v if valid is None else valid & v
        flat = flat + xp.clip(p, 0, size - 1) * int(np.prod(sp[d + 1:], dtype=np.int64))
    flat = xp.where(valid, flat, 0).astype(xp.int64)
    idx = xp.ascontiguousarray(xp.broadcast_to(flat[:, None], (n, c) + flat.shape[1:]))
    vals = IndexGather.apply(input, idx=idx)
    if bool(valid.all()):
        return vals
    return vals * _wrap(valid[:, None].astype(input._data.dtype), input._device)


def _cubic_weights(t: Tensor) -> list:
    """Keys' cubic convolution weights (A = -0.75) of the taps at -1, 0, 1, 2 for fractional offsets ``t``."""
    a = _CUBIC_A
    u, v, r = t + 1, 1 - t, 2 - t
    return [((a * u - 5 * a) * u + 8 * a) * u - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * v - (a + 3)) * v * v + 1,
            ((a * r - 5 * a) * r + 8 * a) * r - 4 * a]


def _tap_coords(xp: Any, c: Any, size: int, padding_mode: str, align_corners: bool) -> Any:
    """Integer tap coordinates (float array ``c``) mapped through the padding, as bicubic sampling reads them."""
    if padding_mode == "border":
        c = xp.clip(c, 0, size - 1)
    elif padding_mode == "reflection":
        lo2, hi2 = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if lo2 == hi2:
            c = c * 0
        else:
            lo, span = lo2 / 2, (hi2 - lo2) / 2
            d = xp.abs(c - lo)
            extra = xp.fmod(d, span)
            even = (xp.floor(d / span) % 2) == 0
            c = xp.where(even, extra + lo, span - extra + lo)
        c = xp.clip(c, 0, size - 1)
    return c.astype(xp.int64)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) / (N, C, D, H, W) at the normalised [-1, 1] (x, y[, z]) positions of ``grid``
    (N, Ho, Wo, 2) / (N, Do, Ho, Wo, 3). 5-D ``bilinear`` is trilinear; ``bicubic`` is 4-D only.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.grid_sample(ember.ones(1, 1, 3, 3), ember.zeros(1, 2, 2, 2), align_corners=False).shape
    ember.Size([1, 1, 2, 2])
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if grid.dim() < 1 or grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got "
                           f"grid with sizes {list(grid.shape)}")
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and input.dim() != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    align = bool(align_corners)
    nd = input.dim() - 2
    sp = input.shape[2:]
    xp = _xp_of(input._device)
    if input.shape[0] == 0:
        # an empty batch: nothing to gather (keeps the result attached to input's graph)
        return input.flatten(2)[:, :, :0].reshape(0, input.shape[1], *grid.shape[1:-1])
    # the grid's last dim is ordered (x, y[, z]) = (W, H[, D]): reversed spatial order
    coords = [grid[..., nd - 1 - d] for d in range(nd)]
    if mode == "bicubic":
        # taps at floor - 1 .. floor + 2 of the unpadded coordinate; padding maps each tap, not the coordinate
        src = [_unnormalize(coords[d], sp[d], align) for d in range(nd)]
        base = [xp.floor(c._data) for c in src]
        wts = [_cubic_weights(c - _wrap(b, c._device)) for c, b in zip(src, base)]
        taps = [[_tap_coords(xp, b + (k - 1), size, padding_mode, align) for k in range(4)]
                for b, size in zip(base, sp)]
        out = None
        for ky in range(4):
            for kx in range(4):
                term = _corner(input, [taps[0][ky], taps[1][kx]]) * (wts[0][ky] * wts[1][kx]).unsqueeze(1)
                out = term if out is None else out + term
        return out
    src = [_source(coords[d], sp[d], padding_mode, align) for d in range(nd)]
    if mode == "nearest":
        return _corner(input, [xp.rint(c._data).astype(xp.int64) for c in src])
    base = [xp.floor(c._data) for c in src]
    frac = [c - _wrap(b, c._device) for c, b in zip(src, base)]     # weight of the upper neighbour per dim
    base = [b.astype(xp.int64) for b in base]
    out = None
    for corner in itertools.product((0, 1), repeat=nd):
        wt = None
        for d, up in enumerate(corner):
            f = frac[d] if up else 1 - frac[d]
            wt = f if wt is None else wt * f
        term = _corner(input, [b + up for b, up in zip(base, corner)]) * wt.unsqueeze(1)
        out = term if out is None else out + term
    return out


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps ``theta`` (N, 2, 3) / (N, 3, 4).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.affine_grid(ember.tensor([[[1., 0., 0.], [0., 1., 0.]]]), [1, 1, 2, 2], align_corners=True)[0, 0].tolist()
    [[-1.0, -1.0], [1.0, -1.0]]
    """
    size = list(size)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[1:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size ember.Size({size}). "
                             f"Got {theta.shape}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[1:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size ember.Size({size}). "
                             f"Got {theta.shape}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    align = bool(align_corners)
    xp = _xp_of(theta._device)
    dt = theta._data.dtype

    def lin(n: int) -> np.ndarray:
        if n <= 1:
            return np.zeros(max(n, 1))
        v = np.linspace(-1.0, 1.0, n)
        return v if align else v * (n - 1) / n

    # base grid (*spatial, nd + 1) with coordinates ordered x, y[, z], then 1
    axes = [lin(n) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")                 # each (*spatial), first axis = D or H
    coords = [m for m in reversed(mesh)] + [np.ones(tuple(spatial))]
    base = np.stack(coords, axis=-1).reshape(-1, len(spatial) + 1).astype(dt)
    n = size[0]
    grid = _wrap(xp.asarray(base), theta._device) @ theta.transpose(1, 2)   # (N, P, nd)
    return grid.reshape(n, *spatial, len(spatial))
