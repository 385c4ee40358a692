"""Lookup tables (functional forms): ``embedding``, ``embedding_bag``, ``one_hot``.

``embedding`` is a row gather whose backward is a vectorised scatter-add of the gradient rows
into a zero table (duplicate indices accumulate); the two are each other's adjoint, so the
backward of the backward is the gather again and double backward works.

>>> import ember
>>> import ember.nn.functional as F
>>> F.embedding(ember.tensor([1, 0]), ember.tensor([[1., 2.], [3., 4.]]))
tensor([[3., 4.],
        [1., 2.]])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..._backend.im2col import take_adjoint
from ..._ops._util import Tensor
from ...autograd.graph import Node
from ...autograd.grad_mode import no_grad

__all__ = ["embedding", "embedding_bag", "one_hot"]


def _row_weights(xp: Any, idx: Any, num: int, padding_idx: int | None, scale_grad_by_freq: bool, dtype: Any) -> Any:
    """Per-position factors of the weight gradient: 0 at ``padding_idx``, 1/count with ``scale_grad_by_freq``."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    flat = idx.reshape(-1)
    w = xp.ones(flat.shape, dtype)
    if scale_grad_by_freq:
        counts = xp.bincount(flat, minlength=num)
        w = w / counts[flat].astype(dtype)
    if padding_idx is not None:
        w = w * (flat != padding_idx)
    return w.astype(dtype, copy=False)


def _scatter_rows(xp: Any, g: Any, idx: Any, pos_w: Any, num: int) -> Any:
    """A zero table of ``num`` rows with ``g``'s rows (times ``pos_w``) added at ``idx``; repeats accumulate.

    NumPy's ``add.at`` is slow per row (2.6 ms for a GPT's 2,048 token rows of 128 over an 80-symbol
    vocabulary); ``take_adjoint`` sorts the ids once and sums each id's rows with ``add.reduceat``, in the
    same order as ``add.at`` (so the sums are bit-identical).
    """
    row = g.shape[idx.ndim:]
    flat = g.reshape((idx.size,) + row)
    if pos_w is not None:
        flat = flat * pos_w.reshape((-1,) + (1,) * len(row))
    return take_adjoint(xp, flat, idx.reshape(-1), 0, num)


class _Gather(Node):
    """out[...] = weight[idx[...]] (times ``pos_w`` per position); backward scatter-adds rows."""

    def forward(self, weight, idx=None, pos_w=None, padding_idx=None, scale_grad_by_freq=False):
        self.idx, self.num, self.pos_w = idx, weight.shape[0], pos_w
        self.padding_idx, self.scale = padding_idx, scale_grad_by_freq
        out = self.xp.take(weight, idx, axis=0)
        if pos_w is not None:
            out = out * pos_w.reshape(idx.shape + (1,) * (weight.ndim - 1))
        return out

    def _grad_weights(self, dtype: Any) -> Any:
        w = self.pos_w
        if w is None and (self.padding_idx is not None or self.scale):
            w = _row_weights(self.xp, self.idx, self.num, self.padding_idx, self.scale, dtype)
        return w

    def backward(self, g):
        return _ScatterRows.apply(g, idx=self.idx, pos_w=self._grad_weights(g._data.dtype), num=self.num)

    def fast_backward(self, g):
        return (_scatter_rows(self.xp, g, self.idx, self._grad_weights(g.dtype), self.num),)

    @classmethod
    def name(cls) -> str:
        return "EmbeddingBackward0"


class _ScatterRows(Node):
    """table[idx[k]] += g[k] * pos_w[k] into a zero table of ``num`` rows (the adjoint of ``_Gather``)."""

    def forward(self, g, idx=None, pos_w=None, num=0):
        self.idx, self.pos_w = idx, pos_w
        return _scatter_rows(self.xp, g, idx, pos_w, num)

    def backward(self, gg):
        return _Gather.apply(gg, idx=self.idx, pos_w=self.pos_w)

    @classmethod
    def name(cls) -> str:
        return "EmbeddingDenseBackwardBackward0"


def _xp(t: Tensor) -> Any:
    from ..._backend import backend_for
    return backend_for(t.device).xp


def _check_indices(input: Tensor, name: str = "embedding") -> None:
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {_tensor_type(input)} instead (while checking arguments for {name})")


def _tensor_type(t: Tensor) -> str:
    return "torch." + {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                       "bool": "BoolTensor", "uint8": "ByteTensor", "int8": "CharTensor",
                       "int16": "ShortTensor"}.get(t.dtype.name, "Tensor")


def _check_range(idx: Any, num: int) -> None:
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num):
        raise IndexError("index out of range in self")


def _padding(padding_idx: int | None, num: int) -> int | None:
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= num:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = num + padding_idx
    return padding_idx


def _renorm_(weight: Tensor, idx: Any, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the rows of ``weight`` used by ``idx`` whose norm exceeds ``max_norm``."""
    with no_grad():
        data = weight._data
        xp = _xp(weight)
        rows = xp.unique(idx.reshape(-1))
        sub = data[rows]
        norms = (xp.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type) if norm_type != float("inf") \
            else xp.abs(sub).max(axis=1)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(data.dtype)
        data[rows] = sub * scale[:, None]
        weight._vc[0] += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at the integer positions in ``input``: output shape ``input.shape + (dim,)``.

    ``padding_idx`` rows get no gradient; ``max_norm`` renormalises the looked-up rows in place first;
    ``scale_grad_by_freq`` divides each row's gradient by its count in the batch.

    >>> F.embedding(ember.tensor([[0]]), ember.eye(2)).shape
    ember.Size([1, 1, 2])
    """
    _check_indices(input)
    num = weight.shape[0]
    padding_idx = _padding(padding_idx, num)
    idx = input._data
    _check_range(idx, num)
    if sparse and weight.requires_grad:
        raise NotImplementedError("ember has no sparse gradients: use embedding(..., sparse=False)")
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    return _Gather.apply(weight, idx=idx.astype("int64", copy=False), padding_idx=padding_idx,
                         scale_grad_by_freq=scale_grad_by_freq)


class _SegmentSum(Node):
    """out[b] = sum of rows x[k] with bag[k] == b (empty bags are zero); backward gathers rows."""

    def forward(self, x, bag=None, nbags=0):
        self.bag = bag
        out = self.xp.zeros((nbags,) + x.shape[1:], x.dtype)
        self.xp.add.at(out, bag, x)
        return out

    def backward(self, g):
        return _Gather.apply(g, idx=self.bag)


class _SegmentMax(Node):
    """out[b, d] = max of x[k, d] over k in bag b (empty bags are zero); the gradient goes to the argmax."""

    def forward(self, x, bag=None, nbags=0):
        xp = self.xp
        out = xp.full((nbags,) + x.shape[1:], -xp.inf, x.dtype)
        xp.maximum.at(out, bag, x)
        # the first position per (bag, column) that attains the max receives the gradient
        k = xp.arange(x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
        cand = xp.where(x == out[bag], k, x.shape[0])
        first = xp.full(out.shape, x.shape[0], cand.dtype)
        xp.minimum.at(first, bag, cand)
        win = cand == first[bag]
        self.mask, self.bag = win.astype(x.dtype), bag
        return xp.where(xp.isinf(out) & (out < 0), 0, out).astype(x.dtype, copy=False)

    def backward(self, g):
        from ..._tensor import _wrap
        return _Gather.apply(g, idx=self.bag) * _wrap(self.mask, g.device)


_MODES = ("sum", "mean", "max")


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of the embeddings of each bag, without materialising the per-index embeddings' graph twice.

    ``input`` is 2-D (one bag per row) or 1-D with ``offsets`` giving where each bag starts.

    >>> F.embedding_bag(ember.tensor([0, 1, 1]), ember.eye(2), ember.tensor([0, 1]), mode="sum")
    tensor([[1., 0.],
            [0., 2.]])
    """
    import numpy as np
    from ..._creation import tensor as _tensor
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, "
                         f"then it must have the same shape as the input ({tuple(input.shape)})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        b, l = input.shape
        offs = np.arange(0, b * l, l, dtype=np.int64) if l else np.zeros(b, np.int64)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        offs = np.asarray(offsets.cpu().numpy(), np.int64)
        if include_last_offset:
            offs = offs[:-1]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in _MODES:
        raise ValueError(f"mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                  "on GitHub.")
    _check_indices(input, "embedding_bag")
    n = input.shape[0]
    if offs.size and offs[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {int(offs[0])}")
    if offs.size and (np.any(np.diff(offs) < 0) or offs[-1] > n):
        raise RuntimeError(f"offsets[-1] can not be greater than input's length ({n}), but got {int(offs[-1])}")
    num = weight.shape[0]
    padding_idx = _padding(padding_idx, num)
    nbags = offs.size
    bag = (np.searchsorted(offs, np.arange(n), side="right") - 1).astype(np.int64)
    idx = input.cpu().numpy().astype(np.int64, copy=False)
    bad = np.flatnonzero((idx < 0) | (idx >= num))
    if bad.size:
        raise RuntimeError(f"Index {int(bad[0])} of input takes value {int(idx[bad[0]])} which is not in the valid "
                           f"range [0, {num})")
    keep = None
    if padding_idx is not None:
        keep = idx != padding_idx
        idx, bag = idx[keep], bag[keep]
    if max_norm is not None:
        _renorm_(weight, input._data if keep is None else input._data[_tensor(keep)._data], max_norm, norm_type)
    if sparse and weight.requires_grad:
        raise NotImplementedError("ember has no sparse gradients: use embedding_bag(..., sparse=False)")
    dev = weight.device
    rows = embedding(_tensor(idx, device=dev), weight, scale_grad_by_freq=scale_grad_by_freq)
    if per_sample_weights is not None:
        psw = per_sample_weights if keep is None else per_sample_weights[_tensor(keep, device=dev)]
        rows = rows * psw.unsqueeze(1).to(rows.dtype)
    bag_dev = _tensor(bag, device=dev)._data
    if mode == "max":
        return _SegmentMax.apply(rows, bag=bag_dev, nbags=nbags)
    out = _SegmentSum.apply(rows, bag=bag_dev, nbags=nbags)
    if mode == "mean":
        counts = np.bincount(bag, minlength=nbags).astype(np.float64)
        inv = _tensor(np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0), dtype=out.dtype, device=dev)
        out = out * inv.unsqueeze(1)
    return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each index (-1 infers the count).

    >>> F.one_hot(ember.tensor([0, 2]))
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    from ..._tensor import _wrap
    if tensor.dtype.name != "int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    data = tensor._data
    xp = _xp(tensor)
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if int(data.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(data.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (data[..., None] == xp.arange(num_classes, dtype=data.dtype)).astype(xp.int64)
    return _wrap(out, tensor.device)
