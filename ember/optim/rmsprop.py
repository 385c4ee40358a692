"""RMSprop (optionally centered, with momentum).

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.RMSprop([w])
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .optimizer import (Optimizer, _addcmul_, _as_real, _bump, _check_lr, _check_nonneg, _grad_array, _init_state,
                        _lerp_, _to_scalar, _zeros_state)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``torch.optim.RMSprop``. State per parameter: ``step``, ``square_avg``, and ``momentum_buffer``
    (when ``momentum > 0``) and ``grad_avg`` (when ``centered``)."""

    def __init__(self, params: Any, lr: Any = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_nonneg("weight_decay", weight_decay)
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one RMSprop step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            for p, xp, state in self._params_with_grad(group):
                if len(state) == 0:
                    _init_state(state, p, "square_avg")
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_state(p)
                    if centered:
                        state["grad_avg"] = _zeros_state(p)
                st = state["step"]._data
                st += 1
                g, _ = _grad_array(p, xp, maximize, wd)
                param, g = _as_real(p._data), _as_real(g)
                square_avg = _as_real(state["square_avg"]._data)
                square_avg *= alpha
                _addcmul_(square_avg, g, g, 1 - alpha, xp)
                if centered:
                    grad_avg = _as_real(state["grad_avg"]._data)
                    _lerp_(grad_avg, g, 1 - alpha, xp)
                    avg = xp.multiply(grad_avg, -1)
                    avg *= grad_avg
                    avg += square_avg
                    xp.sqrt(avg, out=avg)
                else:
                    avg = xp.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = _as_real(state["momentum_buffer"]._data)
                    buf *= momentum
                    xp.divide(g, avg, out=avg)
                    buf += avg
                    xp.multiply(buf, -lr, out=avg)
                else:
                    xp.divide(g, avg, out=avg)
                    avg *= -lr
                param += avg
                _bump(p)
        return loss
