"""Rprop: resilient backpropagation, sign-based steps with per-coordinate adaptive sizes.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.Rprop([w])
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .optimizer import (Optimizer, _as_real, _bump, _check_lr, _init_state, _to_scalar, _zeros_state)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """``torch.optim.Rprop``. State per parameter: ``step``, ``prev`` (the last gradient used) and
    ``step_size``."""

    def __init__(self, params: Any, lr: Any = 1e-2, etas: tuple = (0.5, 1.2), step_sizes: tuple = (1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one Rprop step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize = group["maximize"]
            for p, xp, state in self._params_with_grad(group):
                if len(state) == 0:
                    _init_state(state, p, "prev")
                    state["step_size"] = _zeros_state(p, lr)
                    if p.is_complex():
                        state["step_size"]._data += 1j * lr
                st = state["step"]._data
                st += 1
                g = p._grad._data
                g = _as_real(xp.negative(g) if maximize else g.copy())
                param, prev = _as_real(p._data), _as_real(state["prev"]._data)
                step_size = _as_real(state["step_size"]._data)
                sign = xp.multiply(g, prev)
                xp.sign(sign, out=sign)
                pos, neg = sign > 0, sign < 0
                sign.fill(1)
                sign[pos] = etaplus
                sign[neg] = etaminus
                step_size *= sign
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                g[neg] = 0  # after a sign change the step is skipped and the gradient forgotten
                xp.sign(g, out=sign)
                sign *= -1
                sign *= step_size
                param += sign
                prev[...] = g
                _bump(p)
        return loss
