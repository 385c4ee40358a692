"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_``, ``get_total_norm``, ``clip_grads_with_norm_``.

Norms are computed per gradient with one array reduction each, then combined; scaling runs in
place on the gradient arrays under no-grad (as PyTorch's). The common 2-norm of float32/float64
gradients reads each gradient once (blocked dot products, summed in float64) and scales in place with
``out=``: on the word LM's 4.8M gradient entries this is about 4x cheaper than the generic path, which
squares into temporaries and writes every scaled gradient through a copy.

>>> import ember
>>> p = ember.nn.Parameter(ember.ones(4)); p.grad = ember.full((4,), 3.)
>>> ember.nn.utils.clip_grad_norm_([p], max_norm=1.0)
tensor(6.)
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors: Any) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _grads(parameters: Any) -> list:
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def get_total_norm(tensors: Any, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The ``norm_type`` norm of all ``tensors`` together (as if concatenated into one vector).

    >>> ember.nn.utils.get_total_norm([ember.tensor([3.]), ember.tensor([4.])])
    tensor(5.)
    """
    from ...linalg import vector_norm
    from ..._creation import tensor as _tensor
    from ..._ops.join import stack
    tensors = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return _tensor(0.0)
    total = _two_norm(tensors) if norm_type == 2.0 else None
    if total is not None:
        _check_finite(total, norm_type, error_if_nonfinite)
        return total
    with no_grad():
        norms = [vector_norm(t, norm_type) for t in tensors]
        dtypes = {n.dtype for n in norms}
        if len(dtypes) > 1:  # mixed dtypes: combine in the widest one
            from ..._dtype import promote_types
            dt = norms[0].dtype
            for n in norms[1:]:
                dt = promote_types(dt, n.dtype)
            norms = [n.to(dt) for n in norms]
        total = vector_norm(stack(norms), norm_type)
    _check_finite(total, norm_type, error_if_nonfinite)
    return total


def _check_finite(total: Tensor, norm_type: float, error_if_nonfinite: bool) -> None:
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")


_DOT_BLOCK = 4096  # elements per float32/float64 dot product; the block sums add up in float64


def _two_norm(tensors: list) -> Tensor | None:
    """The 2-norm of real float32/float64 tensors of one dtype and device, without full-size temporaries.

    None when the generic path is needed (other dtypes, mixed dtypes or devices).
    """
    from ..._backend import backend_for
    from ..._tensor import _wrap
    first = tensors[0]._data
    dtype, dev = first.dtype, tensors[0].device
    if dtype.name not in ("float32", "float64") or any(t._data.dtype != dtype or t.device != dev for t in tensors):
        return None
    xp = backend_for(dev).xp
    total = 0.0
    for t in tensors:
        flat = t._data.reshape(-1)
        whole = flat.size - flat.size % _DOT_BLOCK
        blocks = flat[:whole].reshape(-1, 1, _DOT_BLOCK)
        tail = flat[whole:]
        # one dot product per block (a batched (1 x B) @ (B x 1) matmul), read once, no squared copy
        total += float((blocks @ blocks.transpose(0, 2, 1)).sum(dtype=xp.float64)) + float(xp.dot(tail, tail))
    return _wrap(xp.asarray(math.sqrt(total), dtype=dtype), dev)


def clip_grads_with_norm_(parameters: Any, max_norm: float, total_norm: Tensor, foreach: bool | None = None) -> None:
    """Scale the gradients of ``parameters`` by ``max_norm / (total_norm + 1e-6)`` when that is below 1.

    >>> ember.nn.utils.clip_grads_with_norm_([p], 1.0, ember.tensor(6.))
    """
    grads = _grads(parameters)
    if not grads:
        return
    max_norm = float(max_norm)
    with no_grad():
        coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            c = coef.to(g.dtype)
            data = g._data
            if type(data) is np.ndarray and data.flags.writeable and g.device == c.device:
                # what ``g.mul_(c)`` does without grad (multiply, bump the version), minus its temporary copy
                np.multiply(data, c._data, out=data)
                g._vc[0] += 1
            else:
                g.mul_(c)


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Clip the gradients of ``parameters`` in place so their total norm is at most ``max_norm``;
    returns the total norm before clipping (a tensor).

    >>> ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    """
    parameters = _as_list(parameters)  # a generator is consumed twice
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_``."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Any, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient of ``parameters`` into ``[-clip_value, clip_value]`` in place.

    >>> ember.nn.utils.clip_grad_value_(model.parameters(), 0.5)
    """
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
