"""Adadelta: step sizes from running averages of squared gradients and squared updates.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.Adadelta([w])
>>> (w * w).sum().backward(); opt.step()
"""
from __future__ import annotations

from typing import Any, Callable

from .optimizer import (Optimizer, _FlatGroup, _add_scaled_, _addcmul_, _as_real, _bump, _check_lr, _check_nonneg,
                        _grad_array, _init_state, _to_scalar)

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
        return self._step_groups(closure, lambda group: _BUFFERS)

    def _step_per_parameter(self, group: dict) -> None:
        lr = float(_to_scalar(group["lr"]))
        for p, xp, state in self._params_with_grad(group):
            if len(state) == 0:
                _init_state(state, p, *_BUFFERS)
            state["step"]._data += 1
            g, _ = _grad_array(p, xp, group["maximize"], group["weight_decay"])
            delta = _adadelta_delta(_as_real(g), _as_real(state["square_avg"]._data),
                                    _as_real(state["acc_delta"]._data), group, xp)
            _add_scaled_(_as_real(p._data), delta, -lr, True, xp)
            _bump(p)

    def _step_flat(self, group: dict, flat: _FlatGroup) -> None:
        """The ``foreach`` step: the same arithmetic as the per-parameter one, over the flat arrays."""
        for p in flat.params:
            self.state[p]["step"]._data += 1
        g = flat.grads(group["maximize"], group["weight_decay"])
        _adadelta_delta(_as_real(g), _as_real(flat.state["square_avg"]), _as_real(flat.state["acc_delta"]), group,
                        flat.xp, out=_as_real(flat.scratch))  # the update, written into the scratch buffer
        flat.add_to_params(flat.scratch, -float(_to_scalar(group["lr"])))


_BUFFERS = ("square_avg", "acc_delta")


def _adadelta_delta(g: Any, square_avg: Any, acc_delta: Any, group: dict, xp: Any, out: Any = None) -> Any:
    """Update the running averages in place and return the (unscaled) step ``delta`` (into ``out`` if given).

    ``sqrt(acc_delta + eps) / sqrt(square_avg + eps)`` is taken as one square root of the quotient: equal up
    to rounding, one pass fewer than PyTorch's two square roots.
    """
    rho, eps = group["rho"], group["eps"]
    square_avg *= rho
    scratch = _addcmul_(square_avg, g, g, 1 - rho, xp)
    delta = xp.add(acc_delta, eps, out=out)
    delta /= xp.add(square_avg, eps, out=scratch)
    xp.sqrt(delta, out=delta)
    delta *= g
    acc_delta *= rho
    _addcmul_(acc_delta, delta, delta, 1 - rho, xp, scratch=scratch)
    return delta
