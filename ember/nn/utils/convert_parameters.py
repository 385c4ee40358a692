"""``parameters_to_vector`` and ``vector_to_parameters``.

>>> import ember
>>> ps = [ember.nn.Parameter(ember.ones(2, 2)), ember.nn.Parameter(ember.zeros(3))]
>>> ember.nn.utils.parameters_to_vector(ps).shape
ember.Size([7])
"""
from __future__ import annotations

from typing import Iterable

from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(param: Tensor, old: object) -> object:
    dev = param.device
    if old is not None and dev != old:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return dev


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Flatten and concatenate ``parameters`` into one 1-D tensor (differentiable).

    >>> ember.nn.utils.parameters_to_vector([ember.ones(2)])
    tensor([1., 1.])
    """
    from ..._ops.join import cat
    dev = None
    vec = []
    for p in parameters:
        dev = _check_same_device(p, dev)
        vec.append(p.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy slices of the 1-D ``vec`` into ``parameters`` (replacing each parameter's ``.data``).

    >>> ember.nn.utils.vector_to_parameters(ember.arange(7.), ps)
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    dev = None
    pointer = 0
    for p in parameters:
        dev = _check_same_device(p, dev)
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
