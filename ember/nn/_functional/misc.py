"""Sampling helpers (functional forms): ``gumbel_softmax``.

>>> import ember
>>> import ember.nn.functional as F
>>> F.gumbel_softmax(ember.zeros(2, 3), hard=True).sum(-1)
tensor([1., 1.])
"""
from __future__ import annotations

from ..._ops._util import Tensor, wrap_dim
from .activation import softmax

__all__ = ["gumbel_softmax"]


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """Sample from the Gumbel-softmax distribution: ``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g``.

    ``hard=True`` returns one-hot samples whose gradient is the soft sample's (straight-through).
    The noise comes from ember's generator, so ``ember.manual_seed`` reproduces it.

    >>> F.gumbel_softmax(ember.zeros(4), tau=0.5).shape
    ember.Size([4])
    """
    from ..._creation import empty_like, zeros_like
    d = wrap_dim(dim, logits.dim())
    gumbels = -empty_like(logits).exponential_().log()  # Gumbel(0, 1) = -log(Exp(1))
    y_soft = softmax((logits + gumbels) / tau, d)
    if not hard:
        return y_soft
    index = y_soft.max(d, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(d, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
