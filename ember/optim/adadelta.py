"""Adadelta: step sizes from running averages of squared gradients and squared updates.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.Adadelta([w])
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from ..autograd.graph import _xp_of
from .optimizer import (Optimizer, _addcmul_, _as_real, _bump, _check_lr, _check_nonneg, _grad_array, _init_state,
                        _to_scalar)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """``torch.optim.Adadelta``. State per parameter: ``step``, ``square_avg``, ``acc_delta``."""

    def __init__(self, params: Any, lr: Any = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonneg("epsilon", eps)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one Adadelta step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            rho, eps, wd, maximize = group["rho"], group["eps"], group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                xp = _xp_of(p._device)
                state = self.state[p]
                if len(state) == 0:
                    _init_state(state, p, "square_avg", "acc_delta")
                st = state["step"]._data
                st += 1
                g, _ = _grad_array(p, xp, maximize, wd)
                param, g = _as_real(p._data), _as_real(g)
                square_avg, acc_delta = _as_real(state["square_avg"]._data), _as_real(state["acc_delta"]._data)
                square_avg *= rho
                _addcmul_(square_avg, g, g, 1 - rho, xp)
                std = xp.add(square_avg, eps)
                xp.sqrt(std, out=std)
                delta = xp.add(acc_delta, eps)
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                acc_delta *= rho
                _addcmul_(acc_delta, delta, delta, 1 - rho, xp)
                delta *= -lr
                param += delta
                _bump(p)
        return loss
