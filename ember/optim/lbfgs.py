"""L-BFGS with an optional strong-Wolfe line search (after minFunc, as PyTorch's).

All parameters are handled as one flat vector. Scalars that PyTorch keeps as 0-d tensors
(``ys``, ``ro``, ``H_diag``, directional derivatives) stay backend scalars of the parameters'
dtype here too, so the arithmetic rounds like PyTorch's; they are stored in ``state`` as 0-d
tensors, giving the same ``state_dict`` layout.

>>> import ember
>>> x = ember.nn.Parameter(ember.tensor([1.5, 1.5]))
>>> opt = ember.optim.LBFGS([x], line_search_fn="strong_wolfe")
>>> def closure():
...     opt.zero_grad(); loss = ((x - 1) ** 2).sum(); loss.backward(); return loss
>>> _ = opt.step(closure)
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.graph import _xp_of
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _as_real, _bump, _check_lr, _to_scalar

__all__ = ["LBFGS"]


def _sqrt(x: Any) -> Any:
    return math.sqrt(x) if isinstance(x, (float, int)) else np.sqrt(x) if isinstance(x, np.generic) else x ** 0.5


def _cubic_interpolate(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any, bounds: tuple | None = None) -> Any:
    """Minimiser of the cubic through two points with values and slopes, clipped to the bounds."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = _sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func: Callable, x: list, t: Any, d: Any, f: float, g: Any, gtd: Any, xp: Any,
                  c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """Line search for a step ``t`` along ``d`` meeting the strong Wolfe conditions.

    Returns ``(f_new, g_new, t, evaluations)``. Gradients are fresh arrays that are never
    written to, so brackets can hold them without copies.
    """
    d_norm = xp.max(xp.abs(d))
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = xp.dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    # bracketing phase: grow the step until an interval holds a point meeting the conditions
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = xp.dot(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: shrink the bracket until a point meets the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # keep away from the bracket's ends unless progress stalls
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = xp.dot(g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _box(v: Any, dev: Any) -> Any:
    """Backend scalars/arrays become tensors for ``state`` (lists elementwise); numbers stay."""
    if isinstance(v, list):
        return [_box(x, dev) for x in v]
    if isinstance(v, (np.generic, np.ndarray)) or (hasattr(v, "shape") and not isinstance(v, Tensor)):
        xp = _xp_of(dev)
        return _wrap(xp.asarray(v), dev)
    return v


def _unbox(v: Any) -> Any:
    if isinstance(v, list):
        return [_unbox(x) for x in v]
    if isinstance(v, Tensor):
        return v._data[()] if v._data.ndim == 0 else v._data
    return v


class LBFGS(Optimizer):
    """``torch.optim.LBFGS``: one param group; ``step(closure)`` runs up to ``max_iter`` iterations.

    State (on the first parameter, as in PyTorch): ``func_evals``, ``n_iter``, ``d``, ``t``, ``old_dirs``,
    ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss`` and ``al``.
    """

    _tensor_step = False

    def __init__(self, params: Any, lr: Any = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        _check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self._numel_cache: int | None = None

    def _numel(self) -> int:
        if self._numel_cache is None:
            self._numel_cache = sum(2 * p.numel() if p.is_complex() else p.numel() for p in self._params)
        return self._numel_cache

    def _gather_flat_grad(self, xp: Any) -> Any:
        views = []
        for p in self._params:
            if p._grad is None:
                views.append(xp.zeros(_as_real(p._data).size, _as_real(p._data).dtype))
            else:
                views.append(_as_real(p._grad._data).reshape(-1))
        return xp.concatenate(views, 0)

    def _add_grad(self, step_size: Any, update: Any) -> None:
        offset = 0
        for p in self._params:
            a = _as_real(p._data)
            n = a.size
            a += (update[offset:offset + n] * step_size).reshape(a.shape)
            offset += n
            _bump(p)

    def _clone_param(self) -> list:
        return [p._data.copy() for p in self._params]

    def _set_param(self, params_data: list) -> None:
        for p, data in zip(self._params, params_data):
            p._data[...] = data
            _bump(p)

    def _directional_evaluate(self, closure: Callable, x: list, t: Any, d: Any, xp: Any) -> tuple:
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad(xp)
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; ``closure`` clears the gradients, computes and
        back-propagates the loss, and returns it. Returns the loss of the first evaluation."""
        with no_grad():
            return self._step(closure)

    def _step(self, closure: Callable[[], Any]) -> Any:
        group = self.param_groups[0]
        lr = _to_scalar(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        dev = self._params[0]._device
        xp = _xp_of(dev)

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad(xp)
        if xp.max(xp.abs(flat_grad)) <= tolerance_grad:  # already optimal
            return orig_loss

        d, t = _unbox(state.get("d")), _unbox(state.get("t"))
        old_dirs, old_stps, ro = _unbox(state.get("old_dirs")), _unbox(state.get("old_stps")), _unbox(state.get("ro"))
        H_diag, prev_flat_grad = _unbox(state.get("H_diag")), _unbox(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")
        al = _unbox(state["al"]) if "al" in state else None

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the descent direction from the two-loop recursion over the curvature history
            if state["n_iter"] == 1:
                d = xp.negative(flat_grad)
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = xp.subtract(flat_grad, prev_flat_grad)
                s = xp.multiply(d, t)
                ys = xp.dot(y, s)
                if ys > 1e-10:  # keep the pair only when the curvature condition holds
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / xp.dot(y, y)
                num_old = len(old_dirs)
                if al is None:
                    al = [None] * history_size
                    state["al"] = None  # keeps PyTorch's key order; filled in below
                q = xp.negative(flat_grad)
                for i in range(num_old - 1, -1, -1):
                    al[i] = xp.dot(old_stps[i], q) * ro[i]
                    q += old_dirs[i] * (-al[i])
                d = r = xp.multiply(q, H_diag)
                for i in range(num_old):
                    be_i = xp.dot(old_dirs[i], r) * ro[i]
                    r += old_stps[i] * (al[i] - be_i)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # step length: the first iteration scales by the gradient's size
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / xp.sum(xp.abs(flat_grad))) * lr
            else:
                t = lr
            gtd = xp.dot(flat_grad, d)
            if gtd > -tolerance_change:  # not a descent direction
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x: list, t: Any, d: Any) -> tuple:
                    return self._directional_evaluate(closure, x, t, d, xp)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd, xp,
                                                                  max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = xp.max(xp.abs(flat_grad)) <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    # re-evaluate only when another iteration follows (the closure may be expensive)
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad(xp)
                    opt_cond = xp.max(xp.abs(flat_grad)) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if xp.max(xp.abs(xp.multiply(d, t))) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = _box(d, dev)
        state["t"] = _box(t, dev)
        state["old_dirs"] = _box(old_dirs, dev)
        state["old_stps"] = _box(old_stps, dev)
        state["ro"] = _box(ro, dev)
        state["H_diag"] = _box(H_diag, dev)
        state["prev_flat_grad"] = _box(prev_flat_grad, dev)
        state["prev_loss"] = prev_loss
        if al is not None:
            state["al"] = _box(al, dev)
        return orig_loss
