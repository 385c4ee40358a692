"""Stochastic depth (Huang et al., "Deep Networks with Stochastic Depth"): drop whole residual branches.

>>> import ember
>>> from ember.vision.ops import stochastic_depth
>>> stochastic_depth(ember.ones(4, 3), p=0.5, mode="row", training=False).shape
ember.Size([4, 3])
"""
from __future__ import annotations

from ... import nn
from ..._tensor import Tensor

__all__ = ["stochastic_depth", "StochasticDepth"]


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """Zero each row (``mode="row"``) or the whole batch (``"batch"``) with probability ``p``; scale by 1/(1-p).

    >>> import ember
    >>> stochastic_depth(ember.ones(2, 2), 0.0, "row").sum().item()
    4.0
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.dim() - 1) if mode == "row" else [1] * input.dim()
    noise = input.new_empty(size).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class StochasticDepth(nn.Module):
    """Module form of :func:`stochastic_depth` (active only in training mode).

    >>> StochasticDepth(0.2, "row")
    StochasticDepth(p=0.2, mode=row)
    """

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
