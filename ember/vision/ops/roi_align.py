"""RoIAlign (He et al., Mask R-CNN) and RoIPool: fixed-size feature maps for boxes, as torchvision computes them.

Each output bin averages bilinear samples on a regular grid inside the bin. The sampling positions and
bilinear weights depend only on the boxes, so the op is linear in the input: forward is a weighted gather
and backward the matching scatter-add, each the other's adjoint (which also gives double backward).
Gradients flow to ``input`` only, as in torchvision (boxes get none).

>>> import ember
>>> from ember.vision.ops import roi_align
>>> x = ember.arange(16.).reshape(1, 1, 4, 4)
>>> roi_align(x, ember.tensor([[0., 0., 0., 3., 3.]]), output_size=2, aligned=True).shape
ember.Size([1, 1, 2, 2])
"""
from __future__ import annotations

from typing import Any

from ... import nn
from ..._backend.im2col import take_adjoint
from ..._tensor import Tensor, _wrap
from ...autograd.graph import Node, _xp_of

__all__ = ["roi_align", "RoIAlign", "roi_pool", "RoIPool"]


def _pair(v: Any) -> tuple:
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ValueError(f"output_size must be an int or a pair of ints, got {v}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _rois_array(boxes: Any, like: Tensor) -> Any:
    """``Tensor[K, 5]`` (batch index, x1, y1, x2, y2) from either that or a list of per-image ``Tensor[L, 4]``."""
    xp = _xp_of(like.device)
    if isinstance(boxes, (list, tuple)):
        for b in boxes:
            if not isinstance(b, Tensor) or b.dim() != 2 or b.shape[1] != 4:
                raise ValueError("The boxes in the list should be Tensors of shape [L, 4]")
        parts = [xp.concatenate([xp.full((b.shape[0], 1), i, dtype=like._data.dtype),
                                 b.detach()._data.astype(like._data.dtype)], axis=1)
                 for i, b in enumerate(boxes)]
        return xp.concatenate(parts, axis=0) if parts else xp.zeros((0, 5), like._data.dtype)
    if not isinstance(boxes, Tensor):
        raise TypeError(f"boxes must be a Tensor or a list of Tensors, got {type(boxes).__name__}")
    if boxes.dim() != 2 or boxes.shape[1] != 5:
        raise ValueError(f"The boxes tensor shape is not correct as Tensor[K, 5], got {tuple(boxes.shape)}")
    return boxes.detach()._data.astype(like._data.dtype)


def _sampling_plan(xp: Any, rois: Any, height: int, width: int, ph: int, pw: int, spatial_scale: float,
                   sampling_ratio: int, aligned: bool) -> tuple:
    """Flat input indices (into N*H*W) and weights, each ``(K, ph, pw, S)``, for all bilinear taps of every bin.

    The per-box adaptive grid (``ceil(roi_size / bins)`` samples per bin side) differs between boxes; the grid is
    padded to the largest one and the padding samples get weight 0.
    """
    dt = rois.dtype
    k = rois.shape[0]
    offset = 0.5 if aligned else 0.0
    batch = rois[:, 0].astype(xp.int64)
    x1 = rois[:, 1] * spatial_scale - offset
    y1 = rois[:, 2] * spatial_scale - offset
    rw = rois[:, 3] * spatial_scale - offset - x1
    rh = rois[:, 4] * spatial_scale - offset - y1
    if not aligned:  # legacy behaviour: force malformed boxes to 1x1
        rw = xp.maximum(rw, 1.0)
        rh = xp.maximum(rh, 1.0)
    bin_h = rh / ph
    bin_w = rw / pw
    if sampling_ratio > 0:
        gh = xp.full(k, sampling_ratio, dtype=xp.int64)
        gw = gh.copy()
    else:
        gh = xp.maximum(xp.ceil(rh / ph), 0).astype(xp.int64)
        gw = xp.maximum(xp.ceil(rw / pw), 0).astype(xp.int64)
    count = xp.maximum(gh * gw, 1).astype(dt)
    gmax_h = max(int(gh.max()) if k else 1, 1)
    gmax_w = max(int(gw.max()) if k else 1, 1)
    iy = xp.arange(gmax_h, dtype=dt)
    ix = xp.arange(gmax_w, dtype=dt)
    # sample coordinates: y (K, ph, gh), x (K, pw, gw)
    ghf = xp.maximum(gh, 1).astype(dt)[:, None, None]
    gwf = xp.maximum(gw, 1).astype(dt)[:, None, None]
    y = (y1[:, None, None] + xp.arange(ph, dtype=dt)[None, :, None] * bin_h[:, None, None]
         + (iy[None, None, :] + 0.5) * bin_h[:, None, None] / ghf)
    x = (x1[:, None, None] + xp.arange(pw, dtype=dt)[None, :, None] * bin_w[:, None, None]
         + (ix[None, None, :] + 0.5) * bin_w[:, None, None] / gwf)
    valid_y = (iy[None, None, :] < gh[:, None, None]) & (y >= -1.0) & (y <= height)
    valid_x = (ix[None, None, :] < gw[:, None, None]) & (x >= -1.0) & (x <= width)

    def taps(c: Any, size: int) -> tuple:
        c = xp.maximum(c, 0.0)
        low = xp.floor(c).astype(xp.int64)
        at_edge = low >= size - 1
        low = xp.where(at_edge, size - 1, low)
        high = xp.where(at_edge, size - 1, low + 1)
        c = xp.where(at_edge, low.astype(dt), c)
        frac = c - low.astype(dt)
        return low, high, 1.0 - frac, frac

    yl, yh, wyl, wyh = taps(y, height)
    xl, xh, wxl, wxh = taps(x, width)
    wy = xp.stack([wyl, wyh], axis=-1) * valid_y[..., None]          # (K, ph, gh, 2)
    wx = xp.stack([wxl, wxh], axis=-1) * valid_x[..., None]          # (K, pw, gw, 2)
    iyy = xp.stack([yl, yh], axis=-1)
    ixx = xp.stack([xl, xh], axis=-1)
    # outer product over (gh, 2) x (gw, 2) taps -> (K, ph, pw, gh*2*gw*2)
    w = (wy[:, :, None, :, :, None, None] * wx[:, None, :, None, None, :, :]) / count[:, None, None, None, None,
                                                                                    None, None]
    idx = (batch[:, None, None, None, None, None, None] * (height * width)
           + iyy[:, :, None, :, :, None, None] * width + ixx[:, None, :, None, None, :, :])
    s = gmax_h * 2 * gmax_w * 2
    return idx.reshape(k, ph, pw, s), w.reshape(k, ph, pw, s).astype(dt)


def _gather(xp: Any, x: Any, idx: Any, w: Any) -> Any:
    """(N, C, H, W) -> (K, C, ph, pw): weighted sum of the taps.

    One vectorised step per tap slot (at most 4 * grid_h * grid_w of them), so memory stays at one
    (K, ph, pw, C) block instead of (K, ph, pw, taps, C).
    """
    n, c, h, wd = x.shape
    flat = x.reshape(n, c, h * wd).transpose(0, 2, 1).reshape(n * h * wd, c)
    k, ph, pw, s = idx.shape
    out = xp.zeros((k, ph, pw, c), dtype=x.dtype)
    for j in range(s):
        out += w[..., j, None] * flat[idx[..., j]]
    return xp.ascontiguousarray(out.transpose(0, 3, 1, 2))


def _scatter(xp: Any, g: Any, idx: Any, w: Any, shape: tuple) -> Any:
    """Adjoint of :func:`_gather`: (K, C, ph, pw) -> (N, C, H, W)."""
    n, c, h, wd = shape
    gt = g.transpose(0, 2, 3, 1)                                       # (K, ph, pw, C)
    out = xp.zeros((n * h * wd, c), dtype=g.dtype)
    for j in range(idx.shape[-1]):   # the backend's scatter-add (sorted reduceat on NumPy, add.at elsewhere)
        out += take_adjoint(xp, (w[..., j, None] * gt).reshape(-1, c), idx[..., j].reshape(-1), 0, n * h * wd)
    return xp.ascontiguousarray(out.reshape(n, h, wd, c).transpose(0, 3, 1, 2))


class RoiAlignBackward0(Node):
    def forward(self, x: Any, idx: Any = None, w: Any = None) -> Any:
        self.idx, self.w, self.shape = idx, w, x.shape
        return _gather(self.xp, x, idx, w)

    def backward(self, g: Tensor) -> tuple:
        return (_RoiAlignAdjoint.apply(g, idx=self.idx, w=self.w, shape=self.shape),)


class _RoiAlignAdjoint(Node):
    def forward(self, g: Any, idx: Any = None, w: Any = None, shape: tuple = ()) -> Any:
        self.idx, self.w = idx, w
        return _scatter(self.xp, g, idx, w, shape)

    def backward(self, gg: Tensor) -> tuple:
        return (RoiAlignBackward0.apply(gg, idx=self.idx, w=self.w),)


def _check_input(input: Tensor) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a Tensor, got {type(input).__name__}")
    if input.dim() != 4:
        raise ValueError(f"input must be 4-D (N, C, H, W), got {input.dim()}-D")
    if not input.is_floating_point():
        raise RuntimeError(f"roi_align expects a floating point input, got {input.dtype}")


def roi_align(input: Tensor, boxes: Any, output_size: Any, spatial_scale: float = 1.0, sampling_ratio: int = -1,
              aligned: bool = False) -> Tensor:
    """Pool each box of ``boxes`` (``Tensor[K, 5]`` or a list of ``Tensor[L, 4]``) to ``output_size`` by RoIAlign.

    ``sampling_ratio <= 0`` samples ``ceil(box_size / output_size)`` points per bin side; ``aligned=True`` shifts
    box coordinates by -0.5 pixel so pixel centres line up (the Detectron2 convention).

    >>> import ember
    >>> roi_align(ember.ones(1, 2, 8, 8), [ember.tensor([[0., 0., 4., 4.]])], 2).shape
    ember.Size([1, 2, 2, 2])
    """
    _check_input(input)
    ph, pw = _pair(output_size)
    xp = _xp_of(input.device)
    rois = _rois_array(boxes, input)
    _, _, h, w = input.shape
    idx, wts = _sampling_plan(xp, rois, h, w, ph, pw, float(spatial_scale), int(sampling_ratio), bool(aligned))
    return RoiAlignBackward0.apply(input, idx=idx, w=wts)


class RoIAlign(nn.Module):
    """Module form of :func:`roi_align`.

    >>> RoIAlign((7, 7), spatial_scale=0.25, sampling_ratio=2)
    RoIAlign(output_size=(7, 7), spatial_scale=0.25, sampling_ratio=2, aligned=False)
    """

    def __init__(self, output_size: Any, spatial_scale: float, sampling_ratio: int, aligned: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input: Tensor, rois: Any) -> Tensor:
        return roi_align(input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
                f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned})")


def roi_pool(input: Tensor, boxes: Any, output_size: Any, spatial_scale: float = 1.0) -> Tensor:
    """Max over the (quantised) cells of each box (Fast R-CNN's RoIPool); empty bins give 0.

    >>> import ember
    >>> roi_pool(ember.ones(1, 1, 4, 4), ember.tensor([[0., 0., 0., 3., 3.]]), 2).shape
    ember.Size([1, 1, 2, 2])
    """
    _check_input(input)
    ph, pw = _pair(output_size)
    xp = _xp_of(input.device)
    rois = _rois_array(boxes, input)
    n, c, h, w = input.shape
    # round half away from zero, like C's round()
    rnd = lambda v: xp.sign(v) * xp.floor(xp.abs(v) + 0.5)  # noqa: E731
    x1 = rnd(rois[:, 1] * spatial_scale).astype(xp.int64)
    y1 = rnd(rois[:, 2] * spatial_scale).astype(xp.int64)
    x2 = rnd(rois[:, 3] * spatial_scale).astype(xp.int64)
    y2 = rnd(rois[:, 4] * spatial_scale).astype(xp.int64)
    rh = xp.maximum(y2 - y1 + 1, 1).astype(rois.dtype)
    rw = xp.maximum(x2 - x1 + 1, 1).astype(rois.dtype)
    p_h = xp.arange(ph, dtype=rois.dtype)
    p_w = xp.arange(pw, dtype=rois.dtype)
    hs = xp.clip(xp.floor(p_h[None] * (rh / ph)[:, None]).astype(xp.int64) + y1[:, None], 0, h)  # (K, ph)
    he = xp.clip(xp.ceil((p_h[None] + 1) * (rh / ph)[:, None]).astype(xp.int64) + y1[:, None], 0, h)
    ws = xp.clip(xp.floor(p_w[None] * (rw / pw)[:, None]).astype(xp.int64) + x1[:, None], 0, w)
    we = xp.clip(xp.ceil((p_w[None] + 1) * (rw / pw)[:, None]).astype(xp.int64) + x1[:, None], 0, w)
    # membership masks of every pixel row/column in every bin, then a masked max over the image
    rows = xp.arange(h)
    cols = xp.arange(w)
    my = (rows[None, None] >= hs[..., None]) & (rows[None, None] < he[..., None])   # (K, ph, H)
    mx = (cols[None, None] >= ws[..., None]) & (cols[None, None] < we[..., None])   # (K, pw, W)
    mask = my[:, :, None, :, None] & mx[:, None, :, None, :]                        # (K, ph, pw, H, W)
    from ... import where, tensor as _t
    x = input[_wrap(rois[:, 0].astype(xp.int64), input.device)]                    # (K, C, H, W)
    m = _wrap(mask[:, None], input.device)                                          # (K, 1, ph, pw, H, W)
    neg = _t(float("-inf"), dtype=input.dtype, device=input.device)
    vals = where(m, x[:, :, None, None], neg).amax(dim=(-2, -1))
    empty = _wrap(~mask.any(axis=(-2, -1))[:, None], input.device)
    return where(empty, _t(0.0, dtype=input.dtype, device=input.device), vals)


class RoIPool(nn.Module):
    """Module form of :func:`roi_pool`.

    >>> RoIPool((2, 2), 1.0)
    RoIPool(output_size=(2, 2), spatial_scale=1.0)
    """

    def __init__(self, output_size: Any, spatial_scale: float) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input: Tensor, rois: Any) -> Tensor:
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale})"
