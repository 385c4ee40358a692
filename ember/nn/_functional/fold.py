"""Sliding blocks and channel rearrangements: ``unfold``/``fold``, ``pixel_shuffle``/``pixel_unshuffle``,
``channel_shuffle``.

``unfold`` (im2col) and ``fold`` (col2im) are nodes that are each other's adjoint, so each is the
other's backward and double backward works. The shuffles are views and reshapes (ember ops).

>>> import ember
>>> import ember.nn.functional as F
>>> F.unfold(ember.ones(1, 2, 4, 4), 2).shape
ember.Size([1, 8, 9])
"""
from __future__ import annotations

import numbers
from typing import Any

from ..._ops._util import Tensor
from ..._backend import im2col as K
from ...autograd.graph import Node

__all__ = ["unfold", "fold", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"]


class Im2Col(Node):
    def forward(self, x, kernel=(), dilation=(), padding=(), stride=()):
        self.args = (kernel, dilation, padding, stride)
        self.spatial = x.shape[2:]
        xp = self.xp
        n, c = x.shape[:2]
        win = K.windows(xp, K.pad_zeros(xp, x, padding), kernel, stride, dilation)   # (N, C, oh, ow, kh, kw)
        return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel[0] * kernel[1], -1)

    def backward(self, g):
        return Col2Im.apply(g, spatial=self.spatial, args=self.args)

    @classmethod
    def name(cls) -> str:
        return "Im2ColBackward0"


class Col2Im(Node):
    def forward(self, cols, spatial=(), args=()):
        kernel, dilation, padding, stride = args
        self.args = args
        xp = self.xp
        n, ck, _ = cols.shape
        c = ck // (kernel[0] * kernel[1])
        out = tuple(K.out_size(s, k, st, p, d) for s, k, st, p, d in zip(spatial, kernel, stride, padding, dilation))
        full = (n, c) + tuple(s + 2 * p for s, p in zip(spatial, padding))
        y = K.col2im(xp, cols.reshape((n, c) + tuple(kernel) + out), full, stride, dilation)
        if any(padding):
            y = xp.ascontiguousarray(y[:, :, padding[0]:padding[0] + spatial[0], padding[1]:padding[1] + spatial[1]])
        return y

    def backward(self, g):
        kernel, dilation, padding, stride = self.args
        return Im2Col.apply(g, kernel=kernel, dilation=dilation, padding=padding, stride=stride)

    @classmethod
    def name(cls) -> str:
        return "Col2ImBackward0"


def _pair(v: Any, name: str) -> tuple:
    if isinstance(v, numbers.Integral):
        return (int(v),) * 2
    t = tuple(int(a) for a in v)
    if len(t) == 1:
        return t * 2
    if len(t) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(t)}")
    return t


def _fmt(t: tuple) -> str:
    return f"({t[0]}, {t[1]})"


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Extract sliding blocks: (N, C, H, W) -> (N, C * kH * kW, L) (``im2col``).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.unfold(ember.ones(2, 5, 5), 3, padding=1).shape
    ember.Size([18, 25])
    """
    k, d, p, s = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"), _pair(padding, "padding"), \
        _pair(stride, "stride")
    if input.dim() not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)")
    if any(v <= 0 for v in k) or any(v <= 0 for v in s) or any(v <= 0 for v in d) or any(v < 0 for v in p):
        raise RuntimeError(f"kernel_size, stride and dilation should be greater than zero and padding should be "
                           f"non-negative, but got kernel_size={_fmt(k)}, dilation={_fmt(d)}, padding={_fmt(p)}, "
                           f"stride={_fmt(s)}")
    x = input.unsqueeze(0) if input.dim() == 3 else input
    sp = tuple(x.shape[2:])
    blocks = tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for n, kk, ss, pp, dd in zip(sp, k, s, p, d))
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"Given input with spatial size {_fmt(sp)}, kernel_size={_fmt(k)}, dilation={_fmt(d)}, "
                           f"padding={_fmt(p)}, calculated shape of the array of sliding blocks as {_fmt(blocks)}, "
                           f"but its components must be at least one.")
    y = Im2Col.apply(x, kernel=k, dilation=d, padding=p, stride=s)
    return y.squeeze(0) if input.dim() == 3 else y


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum sliding blocks back into an image: (N, C * kH * kW, L) -> (N, C, H, W) (``col2im``).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.fold(ember.ones(1, 4, 4), (3, 3), 2)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    o = _pair(output_size, "output_size")
    k, d, p, s = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"), _pair(padding, "padding"), \
        _pair(stride, "stride")
    if input.dim() not in (2, 3) or any(v == 0 for v in input.shape[1:]):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    x = input.unsqueeze(0) if input.dim() == 2 else input
    if x.shape[1] % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size={_fmt(k)}.")
    blocks = tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for n, kk, ss, pp, dd in zip(o, k, s, p, d))
    if blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(f"Given output_size={_fmt(o)}, kernel_size={_fmt(k)}, dilation={_fmt(d)}, "
                           f"padding={_fmt(p)}, stride={_fmt(s)}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, "
                           f"but got input.size(2)={x.shape[2]}.")
    y = Col2Im.apply(x, spatial=o, args=(k, d, p, s))
    return y.squeeze(0) if input.dim() == 2 else y


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.pixel_shuffle(ember.ones(1, 8, 3, 3), 2).shape
    ember.Size([1, 2, 6, 6])
    """
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nl = len(lead)
    y = input.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(nl), nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.pixel_unshuffle(ember.ones(1, 2, 6, 6), 2).shape
    ember.Size([1, 8, 3, 3])
    """
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{w} is not divisible by {r}")
    nl = len(lead)
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(nl), nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave channels of ``groups`` groups: (N, g * k, *) -> channels reordered k-major.

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.channel_shuffle(ember.arange(4.).reshape(1, 4, 1), 2).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    g = int(groups)
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    n, c = input.shape[:2]
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {g} groups.")
    rest = tuple(input.shape[2:])
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest)


native_channel_shuffle = channel_shuffle
