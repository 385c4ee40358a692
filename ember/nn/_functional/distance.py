"""Distances and similarities (functional forms): ``pairwise_distance``, ``cosine_similarity``, ``pdist``, ``cdist``.

>>> import ember
>>> import ember.nn.functional as F
>>> F.pairwise_distance(ember.tensor([[0., 0.]]), ember.tensor([[3., 4.]]), eps=0.0)
tensor([5.])
"""
from __future__ import annotations

from typing import Any

from ..._ops._util import Tensor, as_tensor, to_float, wrap_dim
from ...autograd.graph import Node

# cdist is ``torch.cdist`` in PyTorch (not in nn.functional): defined here, exported by the package if wanted
__all__ = ["pairwise_distance", "cosine_similarity", "pdist"]


def _c_name(dt: Any) -> str:
    from ..._ops._util import _torch_name
    return _torch_name(dt)


class _ClampMinPassThrough(Node):
    """max(x, eps) whose gradient passes through unchanged.

    PyTorch clamps the norms in ``cosine_similarity`` in place under no_grad, so the clamp is
    invisible to autograd; this node reproduces that: clamped value, identity derivative.
    """

    def forward(self, x, eps=0.0):
        return self.xp.maximum(x, x.dtype.type(eps))

    def backward(self, g):
        return g


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """p-norm of ``x1 - x2 + eps`` over the last dim (inputs broadcast).

    >>> F.pairwise_distance(ember.tensor([1., 1.]), ember.tensor([1., 1.]), eps=0.0)
    tensor(0.)
    """
    x1, x2 = as_tensor(x1), as_tensor(x2)
    n = max(x1.dim(), x2.dim())
    diff = to_float(x1 - x2) + eps
    if n == 0:
        return diff.abs() if p != 0 else (diff != 0).to(diff.dtype)
    return diff.norm(p, n - 1, keepdim=keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (inputs broadcast).

    Each input is divided by its own norm clamped to ``eps`` (PyTorch 2.x semantics).

    >>> F.cosine_similarity(ember.tensor([[1., 0.]]), ember.tensor([[1., 1.]]))
    tensor([0.7071])
    """
    from ..._ops.shape import broadcast_tensors
    from ... import _dtype as D
    x1, x2 = as_tensor(x1), as_tensor(x2)
    dt = D.result_type_of(x1, x2)
    if not dt.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {_c_name(dt)}")
    x1, x2 = x1.to(dt), x2.to(dt)
    x1, x2 = broadcast_tensors(x1, x2)
    d = wrap_dim(dim, x1.dim())
    n1 = _ClampMinPassThrough.apply(x1.norm(2, d, keepdim=True), eps=eps)
    n2 = _ClampMinPassThrough.apply(x2.norm(2, d, keepdim=True), eps=eps)
    return ((x1 / n1) * (x2 / n2)).sum(d)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """p-norm distances between every pair of rows ``i < j`` of a 2-D input, as a flat vector.

    >>> F.pdist(ember.tensor([[0., 0.], [3., 4.], [0., 1.]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if not input.is_floating_point():
        raise RuntimeError(f"pdist only supports floating-point dtypes")
    import numpy as np
    from ..._creation import tensor
    i, j = np.triu_indices(input.shape[0], 1)  # index bookkeeping only; the math stays on the device
    ii = tensor(i.astype(np.int64), device=input.device)
    jj = tensor(j.astype(np.int64), device=input.device)
    return (input.index_select(0, ii) - input.index_select(0, jj)).norm(p, 1)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between each row of ``x1`` (B, P, M) and each row of ``x2`` (B, R, M): (B, P, R).

    >>> F.cdist(ember.tensor([[0., 0.]]), ember.tensor([[3., 4.]]))
    tensor([[5.]])
    """
    if x1.dim() < 2 or x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if not x1.is_floating_point() or not x2.is_floating_point():
        raise RuntimeError("cdist only supports floating-point dtypes, X1 got: " + str(x1.dtype).split(".")[-1])
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p, -1)
