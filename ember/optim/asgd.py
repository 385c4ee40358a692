"""ASGD: averaged stochastic gradient descent.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.ASGD([w])
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .optimizer import (Optimizer, _as_real, _bump, _check_lr, _check_nonneg, _grad_array, _next_step,
                        _scalar_state, _to_scalar, _zeros_state)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """``torch.optim.ASGD``. State per parameter: ``step``, ``eta`` and ``mu`` (0-d float32) and ``ax``
    (the running average of the parameter)."""

    def __init__(self, params: Any, lr: Any = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr(lr)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one ASGD step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p, xp, state in self._params_with_grad(group):
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p, on_device=True)
                    state["eta"] = _scalar_state(lr, p, on_device=True)
                    state["mu"] = _scalar_state(1.0, p, on_device=True)
                    state["ax"] = _zeros_state(p)
                step = _next_step(state)
                g, _ = _grad_array(p, xp, maximize, wd)
                param, g, ax = _as_real(p._data), _as_real(g), _as_real(state["ax"]._data)
                eta = float(state["eta"]._data)
                param *= 1 - lambd * eta  # decay term
                param += xp.multiply(g, -eta)
                mu = state["mu"]._data
                if float(mu) != 1:
                    t = xp.subtract(param, ax)
                    t *= mu
                    ax += t
                else:
                    ax[...] = param
                state["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                state["mu"]._data[...] = 1 / max(1, step - t0)
                _bump(p)
        return loss
