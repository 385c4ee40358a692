"""Small helpers shared by weight/spectral normalisation (differentiable ember ops)."""
from __future__ import annotations

from ..._tensor import Tensor


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dim except ``dim`` (kept, size 1 elsewhere); ``dim=-1``: the whole norm.

    >>> norm_except_dim(ember.ones(4, 3), 2, 0).shape
    ember.Size([4, 1])
    """
    from ...linalg import vector_norm
    if dim == -1:
        return vector_norm(v, pow)
    dim = dim % v.dim() if v.dim() else 0
    others = tuple(d for d in range(v.dim()) if d != dim)
    return vector_norm(v, pow, dim=others, keepdim=True)


def normalize(x: Tensor, eps: float) -> Tensor:
    """``x / max(||x||_2, eps)`` for a 1-D ``x`` (as ``F.normalize(x, dim=0, eps=eps)``)."""
    from ...linalg import vector_norm
    return x / vector_norm(x, 2, dim=0, keepdim=True).clamp(min=eps)
