"""Matrix products: matmul (every broadcasting case), mm, bmm, mv, dot, outer, addmm, ...

``matmul`` brings 1-D operands to 2-D with (differentiable) unsqueeze, multiplies with
one node, and squeezes back; batch broadcasting is reduced in backward by the engine.
"""
from __future__ import annotations

from typing import Any

from ..autograd.graph import Node
from ._util import Tensor, method, promote, write_out

__all__ = ["matmul", "mm"]


class MatMul(Node):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, g):
        a, b = self.saved_tensors
        ga = g @ b.mT if self.needs_input_grad[0] else None
        gb = a.mT @ g if self.needs_input_grad[1] else None
        return ga, gb

    @classmethod
    def name(cls) -> str:
        return "MmBackward0"


def _shape_str(x: Tensor) -> str:
    return "x".join(str(s) for s in x._data.shape)


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting rules for 1-D and batched operands.

    >>> import ember
    >>> (ember.ones(2, 3) @ ember.ones(3)).shape
    ember.Size([2])
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other if isinstance(input, Tensor) else input).__name__}")
    a, b = input, other
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_tn(a)} != {_tn(b)}")
    na, nb = a._data.ndim, b._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    ka = a._data.shape[-1]
    kb = b._data.shape[-2] if nb >= 2 else b._data.shape[0]
    if ka != kb:
        if na == 1 and nb == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{ka}] and src [{kb}] to have the same "
                               "number of elements, but got " f"{ka} and {kb} elements respectively")
        sa = f"{a._data.shape[-2] if na >= 2 else 1}x{ka}"
        sb = f"{kb}x{b._data.shape[-1] if nb >= 2 else 1}"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    if na >= 2 and nb >= 2 and (na > 2 or nb > 2):
        import numpy as np
        try:
            np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
        except ValueError:
            raise RuntimeError(f"The size of tensor a ({a._data.shape[-3] if na > 2 else 1}) must match the size "
                               f"of tensor b ({b._data.shape[-3] if nb > 2 else 1}) at non-singleton dimension "
                               "0") from None
    if na == 1 and nb == 1:
        return write_out(MatMul.apply(a.unsqueeze(0), b.unsqueeze(1)).reshape(()), out)
    if na == 1:
        return write_out(MatMul.apply(a.unsqueeze(0), b).squeeze(-2), out)
    if nb == 1:
        return write_out(MatMul.apply(a, b.unsqueeze(1)).squeeze(-1), out)
    return write_out(MatMul.apply(a, b), out)


def _tn(x: Tensor) -> str:
    from ._util import _torch_name
    return _torch_name(x.dtype)


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Product of two 2-D matrices."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2, out=out)


method("matmul", matmul)
method("mm", mm)
method("__matmul__", lambda self, other: matmul(self, other))
method("__rmatmul__", lambda self, other: matmul(other, self))
