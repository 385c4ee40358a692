"""Adam (with AMSGrad, L2 or decoupled weight decay, maximize).

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.Adam([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .._tensor import Tensor
from ..autograd.graph import _xp_of
from .optimizer import (Optimizer, _as_real, _bump, _check_betas, _check_lr, _check_nonneg, _decayed_grad,
                        _init_state, _next_step, _to_scalar, _update_moments, _zeros_state)

__all__ = ["Adam"]


class Adam(Optimizer):
    """``torch.optim.Adam``. State per parameter: ``step`` (0-d float32), ``exp_avg``, ``exp_avg_sq``
    and, with ``amsgrad``, ``max_exp_avg_sq``.

    ``foreach``, ``capturable``, ``differentiable`` and ``fused`` are accepted and change nothing:
    every path runs the same in-place array update.
    """

    def __init__(self, params: Any, lr: Any = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor) and betas[i].numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(_to_scalar(b) for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one Adam step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            beta1, beta2 = (float(_to_scalar(b)) for b in group["betas"])
            eps, wd, amsgrad = group["eps"], group["weight_decay"], group["amsgrad"]
            maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                xp = _xp_of(p._device)
                state = self.state[p]
                if len(state) == 0:
                    _init_state(state, p, "exp_avg", "exp_avg_sq")
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_state(p)
                step = _next_step(state)
                g = _decayed_grad(p, xp, lr, wd, decoupled, maximize)
                param, g = _as_real(p._data), _as_real(g)
                exp_avg, exp_avg_sq = _as_real(state["exp_avg"]._data), _as_real(state["exp_avg_sq"]._data)
                _update_moments(exp_avg, exp_avg_sq, g, beta1, beta2, xp)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                step_size = lr / bias_correction1
                if amsgrad:
                    m = _as_real(state["max_exp_avg_sq"]._data)
                    xp.maximum(m, exp_avg_sq, out=m)
                    denom = xp.sqrt(m)
                else:
                    denom = xp.sqrt(exp_avg_sq)
                denom /= bias_correction2_sqrt
                denom += eps
                xp.divide(exp_avg, denom, out=denom)
                denom *= -step_size
                param += denom
                _bump(p)
        return loss
