"""In-place operations, done once for every op.

``inplace(self, fn, *args)`` computes ``fn(self, *args)`` out of place and writes the
result into ``self``'s memory, so views of ``self`` see it. Around that write it does what
PyTorch's in-place ops promise:

- bumps the version counter, so a saved tensor that changed is caught in backward;
- refuses a leaf that requires grad (while grad mode is on);
- moves ``self`` to the new place in the graph;
- when ``self`` is a view of a tensor in a graph, rebases the base onto a ``CopySlices``
  node (the base's gradient is the incoming one with the view's region replaced by the
  gradient of the new values), so gradients through the base stay correct.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from ..autograd.grad_mode import _state, no_grad
from ..autograd.graph import Node, record_function
from .._tensor import Tensor, _wrap
from ._util import check_inplace_dtype

_LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_LEAF_MSG = "a view of a leaf Variable that requires grad is being used in an in-place operation."


def _any_requires_grad(args: tuple) -> bool:
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            return True
    return False


def _write(self: Tensor, out: Tensor) -> None:
    check_inplace_dtype(D._FROM_NP[out._data.dtype], D._FROM_NP[self._data.dtype])
    data = self._data
    if out._data is data:
        return
    if not getattr(data.flags, "writeable", True):  # NumPy flags read-only (broadcast) views; CuPy has none
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.")
    if out._data.shape != data.shape:
        try:
            ok = np.broadcast_shapes(out._data.shape, data.shape) == data.shape
        except ValueError:
            ok = False
        if not ok:
            _raise_shape(out, self)
    data[...] = out._data


def _raise_shape(out: Tensor, self: Tensor) -> None:
    raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                       f"{list(out.shape)}")


def inplace(self: Tensor, fn: Callable, *args: Any, **kwargs: Any) -> Tensor:
    """Run ``fn(self, *args, **kwargs)`` and store the result in ``self``. Returns ``self``."""
    if not _state.enabled or not (self._requires_grad or _any_requires_grad(args)):
        with no_grad():
            out = fn(self, *args, **kwargs)
        _write(self, out)
        self._vc[0] += 1
        return self
    if self._grad_fn is None and self._requires_grad:
        raise RuntimeError(_LEAF_MSG)
    base = self._base
    if base is not None and base._grad_fn is None and base._requires_grad:
        raise RuntimeError(_VIEW_LEAF_MSG)
    alias = self._shallow()
    out = fn(alias, *args, **kwargs)
    node = out._grad_fn
    if node is not None and node._saved is not None:
        # The op kept the old values for backward; they are about to be overwritten, so keep a copy.
        for i, entry in enumerate(node._saved):
            if entry[1] is alias:
                alias._data = alias._data.copy()
                alias._vc = [0]
                node._saved = node._saved[:i] + ((entry[0], alias, 0),) + node._saved[i + 1:]
    if out._data.dtype != self._data.dtype:
        check_inplace_dtype(D._FROM_NP[out._data.dtype], D._FROM_NP[self._data.dtype])
        out = out.to(D._FROM_NP[self._data.dtype])
    if out._data.shape != self._data.shape:
        out = out.expand(self._data.shape)
    _write(self, out)
    self._vc[0] += 1
    if base is not None and self._view_fn() is not None:
        _rebase_view(self, base, out)
        self._extra["view_version"] = self._vc[0]  # this view's graph place is current; others go stale
    else:
        self._grad_fn, self._output_nr, self._requires_grad = out._grad_fn, out._output_nr, out._requires_grad
    return self


class CopySlices(Node):
    """The base of a view after an in-place write into the view."""

    def __init__(self, view_fn: Callable, base_shape: tuple, base_dtype: Any):
        self.view_fn, self.base_shape, self.base_dtype = view_fn, base_shape, base_dtype

    @classmethod
    def name(cls) -> str:
        return "CopySlices"

    def backward(self, grad: Tensor) -> tuple:
        mask = _wrap(self.xp.zeros(self.base_shape, self.base_dtype), self._device)
        with no_grad():
            region = self.view_fn(mask)
        region._data[...] = 1
        keep = (1 - mask)
        grad_base = grad * keep if self.needs_input_grad[0] else None
        grad_value = self.view_fn(grad) if self.needs_input_grad[1] else None
        return grad_base, grad_value


def _rebase_view(view: Tensor, base: Tensor, value: Tensor) -> None:
    view_fn = view._view_fn()
    old_base = base._shallow()
    node = CopySlices(view_fn, base._data.shape, base._data.dtype)
    rebased = _wrap(base._data, base._device)
    record_function(node, (old_base, value), (rebased,))
    base._grad_fn, base._output_nr, base._requires_grad = rebased._grad_fn, 0, rebased._requires_grad
    if base._requires_grad:
        new_view = view_fn(base)
        view._grad_fn, view._output_nr, view._requires_grad = new_view._grad_fn, new_view._output_nr, True
