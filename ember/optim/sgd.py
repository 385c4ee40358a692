"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.SGD([w], lr=0.1, momentum=0.9)
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .._tensor import _wrap
from ..autograd.graph import _xp_of
from .optimizer import Optimizer, _FlatGroup, _add_scaled_, _bump, _check_lr, _grad_array, _to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """``torch.optim.SGD``: ``p -= lr * (g + weight_decay * p)`` with optional (Nesterov) momentum.

    State per parameter: ``momentum_buffer`` (only when ``momentum != 0``).
    ``foreach=True`` updates each (device, dtype) group of parameters over flat arrays (see
    ``Optimizer._flat_groups``); ``None`` (the default) and ``False`` update parameter by parameter, as
    PyTorch does on the CPU. ``fused`` and ``differentiable`` are accepted and change nothing.
    """

    _tensor_step = False

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        self._check_fused(fused, foreach, differentiable)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one SGD step; ``closure`` re-evaluates the model and returns the loss."""
        return self._step_groups(closure, lambda group: ("momentum_buffer",) if group["momentum"] != 0 else ())

    def _step_per_parameter(self, group: dict) -> None:
        lr = float(_to_scalar(group["lr"]))
        momentum, dampening, nesterov = group["momentum"], group["dampening"], group["nesterov"]
        wd, maximize = group["weight_decay"], group["maximize"]
        for p in group["params"]:
            if p._grad is None:
                continue
            xp = _xp_of(p._device)
            g, fresh = _grad_array(p, xp, maximize, wd)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:  # the first step: the buffer starts as (a copy of) the gradient
                    buf = state["momentum_buffer"] = _wrap(g if fresh else g.copy(), p._device)
                    fresh = False  # g is the buffer now
                else:
                    _update_momentum(buf._data, g, momentum, dampening, xp)
                g, fresh = _nesterov(g, buf._data, fresh, momentum, xp) if nesterov else (buf._data, False)
            _add_scaled_(p._data, g, -lr, fresh, xp)
            _bump(p)

    def _step_flat(self, group: dict, flat: _FlatGroup) -> None:
        """The ``foreach`` step: the same arithmetic as the per-parameter one, over the flat arrays."""
        g, fresh = flat.grads(group["maximize"], group["weight_decay"]), True
        momentum = group["momentum"]
        if momentum != 0:
            buf = flat.state["momentum_buffer"]
            _update_momentum(buf, g, momentum, group["dampening"], flat.xp)
            g, fresh = _nesterov(g, buf, True, momentum, flat.xp) if group["nesterov"] else (buf, False)
        flat.add_to_params(g, -float(_to_scalar(group["lr"])), fresh)


def _update_momentum(buf: Any, g: Any, momentum: float, dampening: float, xp: Any) -> None:
    """``buf = momentum * buf + (1 - dampening) * g`` in place."""
    buf *= momentum
    if dampening == 0:
        buf += g
    else:
        buf += xp.multiply(g, 1 - dampening)


def _nesterov(g: Any, buf: Any, fresh: bool, momentum: float, xp: Any) -> tuple:
    """Nesterov's direction ``g + momentum * buf`` (a temporary; ``fresh`` says ``g`` is one to reuse)."""
    t = xp.multiply(buf, momentum)
    if fresh:
        g += t
        return g, True
    t += g
    return t, True
