"""Dropout variants (functional forms). Masks come from ember's generator, so ``manual_seed`` reproduces them.

>>> import ember
>>> import ember.nn.functional as F
>>> F.dropout(ember.ones(4), p=0.5, training=False)
tensor([1., 1., 1., 1.])
"""
from __future__ import annotations

import math
from typing import Any

from ..._ops._util import Tensor
from ..._ops.inplace import inplace as _inplace

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _bernoulli_mask(shape: tuple, keep: float, like: Tensor) -> Tensor:
    from ..._random import rand
    return (rand(shape, dtype=like.dtype, device=like.device) < keep).to(like.dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (training only)."""
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        fn = lambda x: x * 0.0  # noqa: E731
    else:
        mask = _bernoulli_mask(tuple(input.shape), 1 - p, input) * (1.0 / (1 - p))
        fn = lambda x: x * mask  # noqa: E731
    return _inplace(input, fn) if inplace else fn(input)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched_dims: int) -> Tensor:
    _check_p(p)
    if not training or p == 0:
        return input
    unbatched = input.dim() == batched_dims - 1
    x = input.unsqueeze(0) if unbatched else input
    shape = tuple(x.shape[:2]) + (1,) * (x.dim() - 2)
    mask = _bernoulli_mask(shape, 1 - p, x) * (1.0 / (1 - p)) if p < 1 else None
    fn = (lambda t: t * mask) if mask is not None else (lambda t: t * 0.0)
    out = _inplace(x, fn) if inplace else fn(x)
    return out.squeeze(0) if unbatched else out


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
                           "a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) inputs."""
    return _feature_dropout(input, p, training, inplace, 4)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) inputs."""
    return _feature_dropout(input, p, training, inplace, 5)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance."""
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        fn = lambda x: x * 0.0  # noqa: E731
        return _inplace(input, fn) if inplace else fn(input)
    alpha = _SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    keep = _bernoulli_mask(tuple(input.shape), 1 - p, input)
    # dropped units go to SELU's saturation value; the affine (a, b) restores mean 0 and variance 1
    b = (keep - 1 + p) * (alpha * a)
    fn = lambda x: x * keep * a + b  # noqa: E731
    return _inplace(input, fn) if inplace else fn(input)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        fn = lambda x: x * 0.0  # noqa: E731
        return _inplace(input, fn) if inplace else fn(input)
    alpha = _SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    keep = _bernoulli_mask(shape, 1 - p, input)
    b = (keep - 1 + p) * (alpha * a)
    fn = lambda x: x * keep * a + b  # noqa: E731
    return _inplace(input, fn) if inplace else fn(input)
