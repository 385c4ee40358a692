"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.NAdam([w])
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .optimizer import (Optimizer, _as_real, _bump, _check_betas, _check_lr, _check_nonneg, _decayed_grad,
                        _next_step, _scalar_state, _to_scalar, _update_moments, _zeros_state)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """``torch.optim.NAdam``. State per parameter: ``step``, ``mu_product`` (0-d float32, the running
    product of the momentum schedule), ``exp_avg``, ``exp_avg_sq``."""

    def __init__(self, params: Any, lr: Any = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one NAdam step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            beta1, beta2 = group["betas"]
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            momentum_decay, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
            for p, xp, state in self._params_with_grad(group):
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p)
                    state["mu_product"] = _scalar_state(1.0, p)
                    state["exp_avg"] = _zeros_state(p)
                    state["exp_avg_sq"] = _zeros_state(p)
                step = _next_step(state)
                bias_correction2 = 1 - beta2 ** step
                g = _decayed_grad(p, xp, lr, wd, decoupled, maximize)
                param, g = _as_real(p._data), _as_real(g)
                exp_avg, exp_avg_sq = _as_real(state["exp_avg"]._data), _as_real(state["exp_avg_sq"]._data)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mp = state["mu_product"]._data
                mp *= mu  # kept in float32, as PyTorch does
                mu_product = float(mp)
                _update_moments(exp_avg, exp_avg_sq, g, beta1, beta2, xp)
                denom = xp.divide(exp_avg_sq, bias_correction2)
                xp.sqrt(denom, out=denom)
                denom += eps
                t = xp.divide(g, denom)
                t *= -lr * (1.0 - mu) / (1.0 - mu_product)
                param += t
                xp.divide(exp_avg, denom, out=t)
                t *= (-lr * mu_next) / (1.0 - mu_product * mu_next)
                param += t
                _bump(p)
        return loss
