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
from .optimizer import Optimizer, _bump, _check_lr, _grad_array, _to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """``torch.optim.SGD``: ``p -= lr * (g + weight_decay * p)`` with optional (Nesterov) momentum.

    State per parameter: ``momentum_buffer`` (only when ``momentum != 0``).
    ``foreach``, ``fused`` and ``differentiable`` are accepted; the update is the same array code.
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
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one SGD step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            momentum, dampening = group["momentum"], group["dampening"]
            nesterov, wd, maximize = group["nesterov"], group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                xp = _xp_of(p._device)
                g, fresh = _grad_array(p, xp, maximize, wd)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = _wrap(g if fresh else g.copy(), p._device)
                        state["momentum_buffer"] = buf
                        fresh = False  # g is the buffer now
                    else:
                        b = buf._data
                        b *= momentum
                        if dampening == 0:
                            b += g
                        else:
                            b += xp.multiply(g, 1 - dampening)
                    if nesterov:
                        t = xp.multiply(buf._data, momentum)
                        t += g
                        g, fresh = t, True
                    else:
                        g, fresh = buf._data, False
                if fresh:
                    g *= -lr
                    p._data += g
                else:
                    p._data += xp.multiply(g, -lr)
                _bump(p)
        return loss
