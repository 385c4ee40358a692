"""RAdam: Adam with a variance-rectified adaptive learning rate.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.RAdam([w])
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .optimizer import (Optimizer, _as_real, _bump, _check_betas, _check_lr, _check_nonneg, _decayed_grad,
                        _init_state, _next_step, _to_scalar, _update_moments)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """``torch.optim.RAdam``. State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``."""

    def __init__(self, params: Any, lr: Any = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one RAdam step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            beta1, beta2 = group["betas"]
            eps, wd, maximize, decoupled = group["eps"], group["weight_decay"], group["maximize"], \
                group["decoupled_weight_decay"]
            for p, xp, state in self._params_with_grad(group):
                if len(state) == 0:
                    _init_state(state, p, "exp_avg", "exp_avg_sq")
                step = _next_step(state)
                g = _decayed_grad(p, xp, lr, wd, decoupled, maximize)
                param, g = _as_real(p._data), _as_real(g)
                exp_avg, exp_avg_sq = _as_real(state["exp_avg"]._data), _as_real(state["exp_avg_sq"]._data)
                _update_moments(exp_avg, exp_avg_sq, g, beta1, beta2, xp)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                update = xp.divide(exp_avg, bias_correction1)
                update *= lr
                # the length of the approximated simple moving average decides whether the variance is tractable
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = xp.sqrt(exp_avg_sq)
                    adaptive += eps
                    xp.reciprocal(adaptive, out=adaptive)
                    adaptive *= bias_correction2 ** 0.5
                    update *= adaptive
                    update *= rect
                param -= update
                _bump(p)
        return loss
