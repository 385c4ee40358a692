"""Convolutions: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d`` (functional forms).

Three nodes, each the adjoint of another in one of its arguments, so every derivative of every
order is again one of them (double backward works without composite fallbacks):

- ``Convolution(x, w, b)``: im2col + one GEMM per group (``ember/_backend/im2col.py``);
  d/dx is ``ConvTranspose(g, w)``, d/dw is ``ConvWeight(x, g)``.
- ``ConvTranspose(x, w, b)``: GEMM + col2im; d/dx is ``Convolution(g, w)``, d/dw is ``ConvWeight(g, x)``.
- ``ConvWeight(x, g)``: the weight gradient, bilinear in x and g; d/dx is ``ConvTranspose(g, gw)``,
  d/dg is ``Convolution(x, gw)``.

>>> import ember
>>> import ember.nn.functional as F
>>> F.conv2d(ember.ones(1, 1, 4, 4), ember.ones(2, 1, 3, 3)).shape
ember.Size([1, 2, 2, 2])
"""
from __future__ import annotations

import math
import numbers
from typing import Any

from ..._ops._util import Tensor, _torch_name
from ..._backend import im2col as K
from ...autograd.graph import Node
from .padding import pad as _pad

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


# ------------------------------------------------------------------------------------------ nodes
def _crop(xp: Any, y: Any, padding: tuple, spatial: tuple) -> Any:
    if not any(padding) and y.shape[2:] == tuple(spatial):
        return y
    return y[(slice(None), slice(None)) + tuple(slice(p, p + n) for p, n in zip(padding, spatial))]


def _bias_shape(b: Any, nd: int) -> Any:
    return b.reshape((-1,) + (1,) * nd)


def _input_grad(xp: Any, g: Any, w: Any, stride: tuple, padding: tuple, dilation: tuple, groups: int,
                spatial: tuple) -> Any:
    """The adjoint of the convolution in its input (no bias): output grad (N, O, *out) -> (N, C, *spatial)."""
    full = tuple(s + 2 * p for s, p in zip(spatial, padding))
    shape = (g.shape[0], w.shape[1] * groups) + full
    if all(s == 1 for s in stride):
        # the correlation form computes every input position, so it pays only when the conv keeps the size
        # ('same'-like padding); for 'valid' convs GEMM + col2im does fewer flops (measured: LeNet-5, MNIST CNN),
        # and its wide form beats the window-by-window col2im there (1.15-1.8x)
        if math.prod(spatial) <= 1.1 * math.prod(g.shape[2:]):
            y = K.conv_input_stride1(xp, g, w, spatial, padding, dilation, groups)
            if y is not None:
                return y
        if groups == 1:
            return xp.ascontiguousarray(_crop(xp, K.conv_input_wide(xp, g, w, shape, dilation), padding, spatial))
    y = K.conv_input(xp, g, w, shape, stride, dilation, groups)
    return xp.ascontiguousarray(_crop(xp, y, padding, spatial))


# Column matrices up to this size are kept from the forward for the weight gradient (per conv layer;
# e.g. 19 MB for the 32x32 convs of the small ResNet, 42 MB for the MNIST CNN's second conv).
_KEEP_COLS_MAX_BYTES = 256 << 20


class Convolution(Node):
    """Cross-correlation of x (N, C, *S) with w (O, C/groups, *k), zero padding symmetric per dim."""

    def forward(self, x, w, b=None, stride=(), padding=(), dilation=(), groups=1):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.has_bias = b is not None
        xp = self.xp
        keep = self._recording and self.needs_input_grad[1]
        y = K.conv_forward(xp, K.pad_zeros(xp, x, padding), w, stride, dilation, groups, keep_cols=keep)
        cols = None
        if keep:
            y, cols = y
            if cols.nbytes > _KEEP_COLS_MAX_BYTES:
                cols = None
        self.save_for_backward(x, w, cols)      # cols is freed with the other saved values after backward
        if b is not None:
            y += _bias_shape(b, len(stride))
        return y

    def fast_backward(self, g):
        x, w, cols = self.saved_arrays
        xp = self.xp
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = _input_grad(xp, g, w, self.stride, self.padding, self.dilation, self.groups, tuple(x.shape[2:]))
        if needs[1]:
            xpad = x if cols is not None else K.pad_zeros(xp, x, self.padding)
            gw = K.conv_weight(xp, xpad, g, tuple(w.shape[2:]), self.stride, self.dilation, self.groups, cols=cols)
        if self.has_bias and needs[2]:
            gb = g.sum((0,) + tuple(range(2, g.ndim)))
        return gx, gw, gb

    def backward(self, g):
        x, w = self.saved_tensors[:2]
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = ConvTranspose.apply(g, w, stride=self.stride, padding=self.padding, dilation=self.dilation,
                                     groups=self.groups, spatial=tuple(x.shape[2:]))
        if needs[1]:
            gw = ConvWeight.apply(x, g, kernel=tuple(w.shape[2:]), stride=self.stride, padding=self.padding,
                                  dilation=self.dilation, groups=self.groups)
        if self.has_bias and needs[2]:
            gb = g.sum((0,) + tuple(range(2, g.dim())))
        return gx, gw, gb

    @classmethod
    def name(cls) -> str:
        return "ConvolutionBackward0"


class ConvTranspose(Node):
    """Adjoint of ``Convolution`` in its input: x (N, O, *in), w (O, C/groups, *k) -> (N, C, *spatial)."""

    def forward(self, x, w, b=None, stride=(), padding=(), dilation=(), groups=1, spatial=()):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.has_bias = b is not None
        self.save_for_backward(x, w)
        y = _input_grad(self.xp, x, w, stride, padding, dilation, groups, spatial)
        if b is not None:
            y += _bias_shape(b, len(stride))
        return y

    def backward(self, g):
        x, w = self.saved_tensors
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = Convolution.apply(g, w, stride=self.stride, padding=self.padding, dilation=self.dilation,
                                   groups=self.groups)
        if needs[1]:
            gw = ConvWeight.apply(g, x, kernel=tuple(w.shape[2:]), stride=self.stride, padding=self.padding,
                                  dilation=self.dilation, groups=self.groups)
        if self.has_bias and needs[2]:
            gb = g.sum((0,) + tuple(range(2, g.dim())))
        return gx, gw, gb

    @classmethod
    def name(cls) -> str:
        return "ConvolutionBackward0"


class ConvWeight(Node):
    """The weight gradient of ``Convolution``: input x (N, C, *S), output grad g (N, O, *out) -> (O, C/g, *k)."""

    def forward(self, x, g, kernel=(), stride=(), padding=(), dilation=(), groups=1):
        self.kernel, self.stride, self.padding, self.dilation, self.groups = kernel, stride, padding, dilation, groups
        self.save_for_backward(x, g)
        xp = self.xp
        return K.conv_weight(xp, K.pad_zeros(xp, x, padding), g, kernel, stride, dilation, groups)

    def backward(self, ggw):
        x, g = self.saved_tensors
        needs = self.needs_input_grad
        gx = gg = None
        if needs[0]:
            gx = ConvTranspose.apply(g, ggw, stride=self.stride, padding=self.padding, dilation=self.dilation,
                                     groups=self.groups, spatial=tuple(x.shape[2:]))
        if needs[1]:
            gg = Convolution.apply(x, ggw, stride=self.stride, padding=self.padding, dilation=self.dilation,
                                   groups=self.groups)
            # the forward windows may cover fewer positions than a fresh conv when the input has slack
            if tuple(gg.shape[2:]) != tuple(g.shape[2:]):
                gg = gg[(slice(None), slice(None)) + tuple(slice(0, s) for s in g.shape[2:])]
        return gx, gg

    @classmethod
    def name(cls) -> str:
        return "ConvolutionBackwardBackward0"


# ------------------------------------------------------------------------------------ arguments
def _tuple(v: Any, nd: int, name: str) -> tuple:
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return (int(v),) * nd
    if isinstance(v, Tensor):
        v = v.tolist()
    try:
        t = tuple(int(a) for a in v)
    except TypeError:
        raise TypeError(f"argument '{name}' must be tuple of ints, not {type(v).__name__}") from None
    if len(t) == 1:
        return t * nd
    if len(t) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} values to match the "
                           f"convolution dimensions, but got {name}={list(t)}")
    return t


def _check_input(input: Any, weight: Any, nd: int, fname: str) -> bool:
    """Validate dims; returns whether the input is unbatched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"{fname}(): argument 'weight' (position 2) must be Tensor, not {type(weight).__name__}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fname}, but got "
                           f"input of size: {list(input.shape)}")
    if weight.dim() != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions" if weight.dim() < 3 else
                           f"Expected {weight.dim() - 1}D (unbatched) or {weight.dim()}D (batched) input to "
                           f"conv{weight.dim() - 2}d, but got input of size: {list(input.shape)}")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {_torch_name(input.dtype)} but found {_torch_name(weight.dtype)}")
    return input.dim() == nd + 1


def _check_common(stride: tuple, padding: tuple, dilation: tuple, groups: int) -> None:
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")


def _check_bias(bias: Any, weight: Tensor, n: int) -> None:
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != n):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{n} elements, but got bias of size {list(bias.shape)} instead")
    if bias is not None and bias.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {_torch_name(weight.dtype)} but found {_torch_name(bias.dtype)}")


def _conv(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any,
          groups: int, nd: int) -> Tensor:
    fname = f"conv{nd}d"
    unbatched = _check_input(input, weight, nd, fname)
    x = input.unsqueeze(0) if unbatched else input
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    groups = int(groups)
    kernel = tuple(weight.shape[2:])
    extra = None  # right-side extra zero padding for 'same' with an even total
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            padding = tuple(t // 2 for t in total)
            if any(t % 2 for t in total):
                extra = tuple(t % 2 for t in total)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _tuple(padding, nd, "padding")
    _check_common(stride, padding, dilation, groups)
    o, cg = weight.shape[0], weight.shape[1]
    if o < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {list(weight.shape)} instead")
    if o % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(weight.shape)}] instead")
    if x.shape[1] != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(x.shape)} to have {cg * groups} channels, but got {x.shape[1]} channels instead")
    _check_bias(bias, weight, o)
    if extra is not None:
        x = _pad(x, tuple(v for e in reversed(extra) for v in (0, e)))
    padded = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    eff = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                           f"size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input size")
    y = Convolution.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups) \
        if bias is not None else \
        Convolution.apply(x, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return y.squeeze(0) if unbatched else y


def _conv_transpose(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                    output_padding: Any, groups: int, dilation: Any, nd: int) -> Tensor:
    fname = f"conv_transpose{nd}d"
    if isinstance(padding, str):
        raise TypeError(f"{fname}(): argument 'padding' must be tuple of ints, not str")
    unbatched = _check_input(input, weight, nd, fname)
    x = input.unsqueeze(0) if unbatched else input
    stride = _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    dilation = _tuple(dilation, nd, "dilation")
    output_padding = _tuple(output_padding, nd, "output_padding")
    groups = int(groups)
    _check_common(stride, padding, dilation, groups)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)) or any(
            op < 0 for op in output_padding):
        names = ["depth", "height", "width"][3 - nd:] if nd > 1 else ["width"]
        parts = [f"output_padding_{n}: {v}" for n, v in zip(names, output_padding)] + \
            [f"stride_{n}: {v}" for n, v in zip(names, stride)] + [f"dilation_{n}: {v}" for n, v in zip(names, dilation)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got " + " ".join(parts))
    cin = weight.shape[0]
    if cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(weight.shape)}] instead")
    if x.shape[1] != cin:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} "
                           f"to have {cin} channels, but got {x.shape[1]} channels instead")
    cout = weight.shape[1] * groups
    _check_bias(bias, weight, cout)
    spatial = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                    zip(x.shape[2:], stride, padding, dilation, weight.shape[2:], output_padding))
    if any(s <= 0 for s in spatial):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). Calculated output "
                           f"size per channel: ({' x '.join(map(str, spatial))}). Output size is too small")
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, spatial=spatial)
    y = ConvTranspose.apply(x, weight, bias, **kw) if bias is not None else ConvTranspose.apply(x, weight, **kw)
    return y.squeeze(0) if unbatched else y


# ------------------------------------------------------------------------------------ public API
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution of (N, C, L) or (C, L) with weight (O, C/groups, k).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.conv1d(ember.ones(1, 2, 5), ember.ones(3, 2, 3), padding="same").shape
    ember.Size([1, 3, 5])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution of (N, C, H, W) or (C, H, W) with weight (O, C/groups, kH, kW).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.conv2d(ember.ones(1, 1, 5, 5), ember.ones(1, 1, 3, 3), stride=2).shape
    ember.Size([1, 1, 2, 2])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D convolution of (N, C, D, H, W) or (C, D, H, W) with weight (O, C/groups, kD, kH, kW).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.conv3d(ember.ones(1, 1, 3, 3, 3), ember.ones(1, 1, 3, 3, 3)).shape
    ember.Size([1, 1, 1, 1, 1])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed 1-D convolution of (N, C_in, L) with weight (C_in, C_out/groups, k).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.conv_transpose1d(ember.ones(1, 2, 4), ember.ones(2, 3, 3), stride=2).shape
    ember.Size([1, 3, 9])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed 2-D convolution of (N, C_in, H, W) with weight (C_in, C_out/groups, kH, kW).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.conv_transpose2d(ember.ones(1, 2, 4, 4), ember.ones(2, 3, 3, 3), stride=2, output_padding=1).shape
    ember.Size([1, 3, 10, 10])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed 3-D convolution of (N, C_in, D, H, W) with weight (C_in, C_out/groups, kD, kH, kW).

    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.conv_transpose3d(ember.ones(1, 2, 2, 2, 2), ember.ones(2, 1, 2, 2, 2)).shape
    ember.Size([1, 1, 3, 3, 3])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)
