"""``linear`` and ``bilinear`` (functional forms).

``linear`` is one node, ``x @ W^T + b``, so a layer costs one recorded op and its backward
three BLAS calls at most.

>>> import ember
>>> import ember.nn.functional as F
>>> F.linear(ember.ones(2, 3), ember.ones(4, 3), ember.zeros(4)).shape
ember.Size([2, 4])
"""
from __future__ import annotations

from typing import Any

from ..._ops._util import Tensor
from ...autograd.graph import Node
from ..._backend.parallel import parallel_for, rows_per_piece

__all__ = ["linear", "bilinear"]


class Linear(Node):
    def forward(self, x, w, b=None):
        if self._recording:  # x is needed only for dW, w only for dx
            needs = self.needs_input_grad
            self.save_for_backward(x if needs[1] else None, w if needs[0] else None)
        if x.ndim > 2:  # NumPy's stacked matmul with a transposed operand skips BLAS: fold the batch dims
            y = (x.reshape(-1, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            y = x @ w.T
        if b is not None:
            _add_bias_(self.xp, y, b)
        return y

    def backward(self, g):
        x, w = self.saved_tensors
        needs = self.needs_input_grad
        gx = g @ w if needs[0] else None
        gw = None
        if needs[1]:
            if g.dim() == 2:
                gw = g.t() @ x
            else:  # fold leading batch dims
                gw = g.reshape(-1, g.shape[-1]).t() @ x.reshape(-1, x.shape[-1])
        gb = None
        if len(needs) > 2 and needs[2]:
            gb = g.sum(tuple(range(g.dim() - 1))) if g.dim() > 1 else g
        return gx, gw, gb

    def fast_backward(self, g):
        x, w = self.saved_arrays
        needs = self.needs_input_grad
        gx = None
        if needs[0]:  # fold batch dims as in forward: one GEMM instead of one per batch entry
            gx = (g.reshape(-1, g.shape[-1]) @ w).reshape(g.shape[:-1] + (w.shape[1],)) if g.ndim > 2 else g @ w
        gw = None
        if needs[1]:
            gw = (g.T @ x) if g.ndim == 2 else g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])
        gb = None
        if len(needs) > 2 and needs[2]:
            gb = _sum_rows(self.xp, g) if g.ndim > 1 else g
        return gx, gw, gb

    @classmethod
    def name(cls) -> str:
        return "AddmmBackward0"


def _add_bias_(xp: Any, y: Any, b: Any) -> None:
    """``y += b`` in place (y is the fresh GEMM result), rows split across the intra-op threads when large:
    a single-threaded bias add measured ~15 % of the GEMM's time for (2048, 128) @ (128, 512) at 2 threads."""
    if y.size == 0:  # nothing to add (and a (0, 0) reshape with -1 would be ambiguous)
        return
    rows = y.reshape(-1, y.shape[-1])
    parallel_for(rows.shape[0], lambda lo, hi: xp.add(rows[lo:hi], b, out=rows[lo:hi]),
                 min_chunk=rows_per_piece(rows.shape[1]), xp=xp)


def _sum_rows(xp: Any, g: Any) -> Any:
    """``g`` summed over all but its last dim; for floats as ``ones @ g`` (a BLAS GEMV): measured 2-2.5x
    faster than NumPy's reduction over the leading axes (e.g. 0.74 vs 1.5 ms for a 700 x 10000 gradient)."""
    if g.dtype.kind != "f" or g.dtype.itemsize < 4:
        return g.sum(axis=tuple(range(g.ndim - 1)))
    rows = g.reshape(-1, g.shape[-1])
    return xp.ones(rows.shape[0], dtype=g.dtype) @ rows


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` over the last dim of ``input``."""
    if input.dim() == 0 or weight.dim() not in (1, 2):
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {input.dim()}D and "
                           f"{weight.dim()}D")
    if weight.dim() == 1:
        out = input @ weight
        return out + bias if bias is not None else out
    if input.shape[-1] != weight.shape[1]:
        rows = 1
        for s in input.shape[:-1]:
            rows *= s
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and "
                           f"{weight.shape[1]}x{weight.shape[0]})")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_tn(input)} and {_tn(weight)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        # a bias of another shape is expanded to the output, as PyTorch's addmm does (expand raises its errors
        # and sums the gradient back to the bias's shape)
        out_shape = tuple(input.shape[:-1]) + (weight.shape[0],)
        return linear(input, weight) + bias.expand(out_shape)
    if input.dim() == 1:
        return Linear.apply(input.unsqueeze(0), weight, bias).squeeze(0)
    return Linear.apply(input, weight, bias) if bias is not None else Linear.apply(input, weight)


def _tn(t: Tensor) -> str:
    from ..._ops._util import _torch_name
    return _torch_name(t.dtype)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` for weight (out, in1, in2)."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError("bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    if weight.dim() != 3 or weight.shape[1] != input1.shape[-1] or weight.shape[2] != input2.shape[-1]:
        raise RuntimeError("bilinear(): weight size does not match input sizes")
    from ..._ops.blas import einsum
    y = einsum("...i,kij,...j->...k", input1, weight, input2)
    return y + bias if bias is not None else y
