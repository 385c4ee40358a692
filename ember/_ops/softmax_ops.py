"""``ember.softmax`` / ``ember.log_softmax`` and the ``Tensor.softmax`` / ``Tensor.log_softmax`` methods.

The nodes live with the activations in ``ember/nn/_functional/activation.py``; they are imported on
first call so ``import ember`` does not load ``ember.nn``.

>>> import ember
>>> ember.tensor([0., 0.]).softmax(0)
tensor([0.5000, 0.5000])
"""
from __future__ import annotations

from typing import Any

from ._util import Tensor, method

__all__ = ["softmax", "log_softmax"]


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``.

    >>> ember.softmax(ember.tensor([0., 0.]), 0)
    tensor([0.5000, 0.5000])
    """
    from ..nn._functional.activation import softmax as _softmax
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably.

    >>> ember.log_softmax(ember.tensor([0., 0.]), 0)
    tensor([-0.6931, -0.6931])
    """
    from ..nn._functional.activation import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype=dtype)


method("softmax", softmax)
method("log_softmax", log_softmax)
