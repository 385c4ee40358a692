"""Stochastic weight averaging and EMA of model weights (``torch.optim.swa_utils``).

>>> import ember
>>> model = ember.nn.Module()
>>> model.w = ember.nn.Parameter(ember.ones(2))
>>> swa = AveragedModel(model)
>>> swa.update_parameters(model)
>>> int(swa.n_averaged)
1
"""
from __future__ import annotations

import itertools
import math
import warnings
from copy import deepcopy
from typing import Any, Callable, Iterable

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from .lr_scheduler import LRScheduler, _format_param
from .optimizer import Optimizer, _lerp_

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _is_float(t: Tensor) -> bool:
    return t.is_floating_point() or t.is_complex()


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """An in-place EMA update over lists of tensors: ``ema = decay * ema + (1 - decay) * current``.

    >>> fn = get_ema_multi_avg_fn(0.9)
    """
    _check_decay(decay)

    def ema_update(ema_param_list: list, current_param_list: list, _: Any) -> None:
        with no_grad():
            if _is_float(ema_param_list[0]):
                for e, c in zip(ema_param_list, current_param_list):
                    _lerp_(e._data, c._data, 1 - decay, _xp(e))
                    e._vc[0] += 1
            else:
                for e, c in zip(ema_param_list, current_param_list):
                    e.copy_(e * decay + c * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """An in-place running mean over lists of tensors: ``avg += (current - avg) / (n + 1)``.

    >>> fn = get_swa_multi_avg_fn()
    """

    def swa_update(averaged_param_list: list, current_param_list: list, num_averaged: Any) -> None:
        with no_grad():
            n = int(num_averaged) if isinstance(num_averaged, Tensor) else num_averaged
            if _is_float(averaged_param_list[0]):
                for a, c in zip(averaged_param_list, current_param_list):
                    _lerp_(a._data, c._data, 1 / (n + 1), _xp(a))
                    a._vc[0] += 1
            else:
                for a, c in zip(averaged_param_list, current_param_list):
                    a.copy_(a + (c - a) * (1.0 / (n + 1)))
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """``avg_fn(ema, current, n) -> decay * ema + (1 - decay) * current``.

    >>> fn = get_ema_avg_fn(0.9)
    """
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn() -> Callable:
    """``avg_fn(avg, current, n) -> avg + (current - avg) / (n + 1)``.

    >>> fn = get_swa_avg_fn()
    """

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def _xp(t: Tensor) -> Any:
    from ..autograd.graph import _xp_of
    return _xp_of(t._device)


class AveragedModel(Module):
    """A copy of ``model`` whose parameters (and, with ``use_buffers``, buffers) hold a running average.

    ``avg_fn(avg, current, n) -> Tensor`` or ``multi_avg_fn(avg_list, current_list, n)`` choose the
    average (default: the equal-weight SWA mean). ``n_averaged`` counts the updates (an int64 buffer).

    >>> import ember
    >>> m = ember.nn.Module(); m.w = ember.nn.Parameter(ember.zeros(1))
    >>> ema = AveragedModel(m, multi_avg_fn=get_ema_multi_avg_fn(0.99))
    """

    def __init__(self, model: Module, device: Any = None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        from .. import tensor, long
        self.register_buffer("n_averaged", tensor(0, dtype=long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (the first call copies them)."""
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        avg_list, cur_list = [], []
        first = int(self.n_averaged) == 0
        with no_grad():
            for p_avg, p_model in zip(mine, theirs):
                cur = p_model.detach()
                if cur.device != p_avg.device:
                    cur = cur.to(p_avg.device)
                avg_list.append(p_avg.detach())
                cur_list.append(cur)
                if first:
                    p_avg.detach().copy_(cur)
            if not first:
                if self.avg_fn is None:
                    # grouped by dtype, as PyTorch's multi-tensor path groups by device and dtype
                    groups: dict = {}
                    for a, c in zip(avg_list, cur_list):
                        key = (str(a.device), a.dtype)
                        groups.setdefault(key, ([], []))
                        groups[key][0].append(a)
                        groups[key][1].append(c)
                    for a_list, c_list in groups.values():
                        if self.multi_avg_fn is not None:
                            self.multi_avg_fn(a_list, c_list, self.n_averaged.to(a_list[0].device))
                        else:
                            avg_fn = get_swa_avg_fn()
                            n = self.n_averaged.to(a_list[0].device)
                            for a, c in zip(a_list, c_list):
                                a.copy_(avg_fn(a, c, n))
                else:
                    for a, c in zip(avg_list, cur_list):
                        a.copy_(self.avg_fn(a, c, self.n_averaged.to(a.device)))
            if not self.use_buffers:
                # buffers (e.g. BatchNorm running statistics) follow the model, not an average
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged.add_(1)


def _is_batchnorm(m: Module) -> bool:
    try:
        from ..nn.modules.batchnorm import _BatchNorm
        if isinstance(m, _BatchNorm):
            return True
    except ImportError:
        pass
    # any module that keeps BatchNorm-style running statistics qualifies
    return hasattr(m, "running_mean") and hasattr(m, "momentum") and hasattr(m, "reset_running_stats")


def update_bn(loader: Iterable, model: Module, device: Any = None) -> None:
    """Recompute BatchNorm running statistics with one pass over ``loader`` (after weight averaging).

    Each batch (or its first element, for ``(input, target)`` pairs) is fed to ``model`` in train mode
    with ``momentum=None``, so the statistics become the cumulative average over the data.

    >>> import ember
    >>> update_bn([ember.zeros(2, 3)], ember.nn.Module())
    """
    momenta = {}
    for module in model.modules():
        if _is_batchnorm(module):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's rate to ``swa_lr`` over ``anneal_epochs`` (cos or linear), then hold it.

    >>> import ember
    >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=1.0)
    >>> s = SWALR(opt, swa_lr=0.05, anneal_epochs=5)
    """

    def __init__(self, optimizer: Optimizer, swa_lr: Any, anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # recover the rate the annealing started from, then move one step further along the schedule
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
