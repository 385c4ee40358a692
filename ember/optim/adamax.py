"""Adamax: Adam with an infinity-norm second moment.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.Adamax([w])
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .optimizer import (Optimizer, _as_real, _bump, _check_betas, _check_lr, _check_nonneg, _grad_array,
                        _init_state, _lerp_, _next_step, _to_scalar)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """``torch.optim.Adamax``. State per parameter: ``step``, ``exp_avg``, ``exp_inf``."""

    def __init__(self, params: Any, lr: Any = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one Adamax step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            beta1, beta2 = group["betas"]
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            for p, xp, state in self._params_with_grad(group):
                if len(state) == 0:
                    _init_state(state, p, "exp_avg", "exp_inf")
                step = _next_step(state)
                g, _ = _grad_array(p, xp, maximize, wd)
                param, g = _as_real(p._data), _as_real(g)
                exp_avg, exp_inf = _as_real(state["exp_avg"]._data), _as_real(state["exp_inf"]._data)
                _lerp_(exp_avg, g, 1 - beta1, xp)
                exp_inf *= beta2
                norm = xp.abs(g)
                norm += eps
                xp.maximum(exp_inf, norm, out=exp_inf)
                clr = lr / (1 - beta1 ** step)
                xp.divide(exp_avg, exp_inf, out=norm)
                norm *= -clr
                param += norm
                _bump(p)
        return loss
