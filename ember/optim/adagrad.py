"""Adagrad: per-coordinate learning rates from the running sum of squared gradients.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.Adagrad([w])
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .optimizer import (Optimizer, _as_real, _bump, _check_lr, _check_nonneg, _grad_array, _next_step,
                        _scalar_state, _to_scalar, _zeros_state)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``torch.optim.Adagrad``. State per parameter (made at construction, as in PyTorch): ``step`` and
    ``sum`` (filled with ``initial_accumulator_value``)."""

    def __init__(self, params: Any, lr: Any = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        _check_nonneg("weight_decay", weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check_nonneg("epsilon", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        self._check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar_state(0.0, p)
                state["sum"] = _zeros_state(p, initial_accumulator_value)
                if p.is_complex():  # PyTorch fills both the real and the imaginary part
                    state["sum"]._data += 1j * initial_accumulator_value

    def share_memory(self) -> None:
        """A no-op kept for API parity (NumPy state lives in this process)."""

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one Adagrad step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            lr_decay, eps, wd, maximize = group["lr_decay"], group["eps"], group["weight_decay"], group["maximize"]
            for p, xp, state in self._params_with_grad(group):
                step = _next_step(state)
                g, _ = _grad_array(p, xp, maximize, wd)
                clr = lr / (1 + (step - 1) * lr_decay)
                param, g, s = _as_real(p._data), _as_real(g), _as_real(state["sum"]._data)
                t = xp.multiply(g, g)
                s += t
                std = xp.sqrt(s)
                std += eps
                xp.divide(g, std, out=t)
                t *= -clr
                param += t
                _bump(p)
        return loss
