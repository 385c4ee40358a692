"""Connectionist Temporal Classification loss (``F.ctc_loss``).

Forward is the alpha recursion in log space and backward the beta recursion; both are
vectorised over the batch and the extended label positions (blank, l1, blank, l2, ..., blank),
so Python loops only over time steps.

The gradient is the exact derivative with respect to ``log_probs``:
``-exp(logsumexp_{s: l'_s = c}(alpha_t(s) + beta_t(s)) - log_probs[t, c] - log p)``.
PyTorch's CTC kernel returns this plus ``exp(log_probs)`` (a term that vanishes once chained
through ``log_softmax``); composed with ``log_softmax`` both give the same gradient.

>>> import ember
>>> import ember.nn.functional as F
>>> lp = ember.randn(5, 1, 3).log_softmax(2)
>>> F.ctc_loss(lp, ember.tensor([[1, 2]]), (5,), (2,)).shape
ember.Size([])
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..._ops._util import Tensor
from ...autograd.graph import Node

__all__ = ["ctc_loss"]

_NEG_INF = -np.inf


def _lse(xp: Any, *terms: Any) -> Any:
    """Elementwise log(sum(exp(terms))), -inf where every term is -inf (no NaN, no warning)."""
    m = terms[0]
    for t in terms[1:]:
        m = xp.maximum(m, t)
    finite = xp.isfinite(m)
    m_safe = xp.where(finite, m, 0)
    s = 0
    for t in terms:
        s = s + xp.exp(t - m_safe)
    with np.errstate(divide="ignore"):
        return xp.where(finite, m_safe + xp.log(s), _NEG_INF)


def _shift(xp: Any, a: Any, k: int) -> Any:
    """Shift along the last axis by ``k`` (>0: towards larger s; <0: towards smaller), filling -inf."""
    out = xp.full(a.shape, _NEG_INF, a.dtype)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


class CtcLoss(Node):
    """Per-sample negative log-likelihood (N,) of padded targets; log_probs (T, N, C)."""

    def forward(self, lp, targets, input_lengths, target_lengths, blank=0, zero_infinity=False):
        xp = self.xp
        T, N, C = lp.shape
        S = targets.shape[1]
        L = 2 * S + 1
        il = input_lengths.astype(np.int64)
        tl = target_lengths.astype(np.int64)
        s_idx = xp.arange(L)
        # extended labels: blank at even s, targets at odd s; positions past 2*tl hold blank (never used)
        ext = xp.full((N, L), blank, np.int64)
        if S:
            ext[:, 1::2] = targets
        valid = s_idx[None, :] <= 2 * tl[:, None]                       # (N, L)
        ext = xp.where(valid, ext, blank)
        # s -> s + 2 skips a blank: allowed into odd s >= 3 when the label differs from the one two back
        skip = xp.zeros((N, L), bool)
        if L > 2:
            skip[:, 2:] = (s_idx[2:] % 2 == 1)[None, :] & (ext[:, 2:] != ext[:, :-2])
        lp_ext = xp.take_along_axis(lp, xp.broadcast_to(ext[None], (T, N, L)), axis=2)  # (T, N, L)
        neg = xp.asarray(_NEG_INF, lp.dtype)

        # alpha recursion (log space)
        alpha = xp.full((T, N, L), _NEG_INF, lp.dtype)
        if T:
            a0 = xp.full((N, L), _NEG_INF, lp.dtype)
            a0[:, 0] = lp_ext[0, :, 0]
            if L > 1:
                a0[:, 1] = xp.where(tl > 0, lp_ext[0, :, 1], neg)
            alpha[0] = a0
            for t in range(1, T):
                prev = alpha[t - 1]
                alpha[t] = _lse(xp, prev, _shift(xp, prev, 1), xp.where(skip, _shift(xp, prev, 2), neg)) + lp_ext[t]
        # log p = lse(alpha[il-1, 2tl], alpha[il-1, 2tl-1]); il == 0 gives p = 1 for empty targets, 0 otherwise
        n_idx = xp.arange(N)
        t_last = xp.maximum(il - 1, 0)
        end = alpha[t_last, n_idx, 2 * tl] if T else xp.full(N, _NEG_INF, lp.dtype)
        end2 = xp.where(tl > 0, alpha[t_last, n_idx, xp.maximum(2 * tl - 1, 0)], neg) if T else end
        logp = _lse(xp, end, end2)
        logp = xp.where(il == 0, xp.where(tl == 0, 0.0, _NEG_INF), logp).astype(lp.dtype, copy=False)
        nll = -logp
        inf = xp.isinf(nll)
        if zero_infinity:
            nll = xp.where(inf, 0, nll).astype(lp.dtype, copy=False)
        self.dims = (T, N, C, L)
        self.zero_infinity = zero_infinity
        self.saved = (lp_ext, alpha, ext, skip, il, tl, logp, inf)
        return nll

    def _grad(self):
        """d nll[n] / d log_probs[t, n, c] as an array (T, N, C), by the beta recursion."""
        xp = self.xp
        T, N, C, L = self.dims
        lp_ext, alpha, ext, skip, il, tl, logp, inf = self.saved
        s_idx = xp.arange(L)
        neg = xp.asarray(_NEG_INF, lp_ext.dtype)
        end_mask = (s_idx[None, :] == 2 * tl[:, None]) | ((s_idx[None, :] == 2 * tl[:, None] - 1) & (tl[:, None] > 0))
        # skip into s + 2 (from s) is allowed when skip[s + 2]
        skip_from = _shift(xp, skip.astype(lp_ext.dtype), -2) > 0
        beta = xp.full((T, N, L), _NEG_INF, lp_ext.dtype)
        nxt = xp.full((N, L), _NEG_INF, lp_ext.dtype)
        for t in range(T - 1, -1, -1):
            rec = _lse(xp, nxt, _shift(xp, nxt, -1), xp.where(skip_from, _shift(xp, nxt, -2), neg)) + lp_ext[t]
            init = xp.where(end_mask, lp_ext[t], neg)
            cur = xp.where((t == il - 1)[:, None], init, xp.where((t < il - 1)[:, None], rec, neg))
            beta[t] = cur
            nxt = cur
        # alpha_t(s) beta_t(s) / y_t(l'_s) / p, scattered onto the classes l'_s (bincount: one pass, no loops)
        with np.errstate(invalid="ignore"):
            occ = xp.exp(alpha + beta - lp_ext - logp[None, :, None])
        occ = xp.where(xp.isfinite(occ), occ, 0)
        t_ok = xp.arange(T)[:, None] < il[None, :]                    # (T, N)
        occ = occ * t_ok[:, :, None]
        flat = ((xp.arange(T)[:, None, None] * N + xp.arange(N)[None, :, None]) * C + ext[None]).ravel()
        total = xp.bincount(flat, weights=occ.ravel().astype(np.float64), minlength=T * N * C)
        grad = -total.reshape(T, N, C).astype(lp_ext.dtype)
        bad = inf[None, :, None] & t_ok[:, :, None]
        if self.zero_infinity:
            grad = xp.where(inf[None, :, None], 0, grad).astype(lp_ext.dtype, copy=False)
        else:  # an impossible alignment has no gradient: NaN like PyTorch
            grad = xp.where(bad, np.nan, grad).astype(lp_ext.dtype, copy=False)
        return grad

    def backward(self, g):
        grad = self._grad()
        return _CtcGrad.apply(g, grad), None, None, None

    @classmethod
    def name(cls) -> str:
        return "CtcLossBackward0"


class _CtcGrad(Node):
    """g[n] * dnll/dlog_probs: the first derivative; it has no derivative itself (as in PyTorch)."""

    def forward(self, g, grad):
        return grad * g[None, :, None]

    def backward(self, gg):
        raise RuntimeError("derivative for ctc_loss_backward is not implemented")

    @classmethod
    def name(cls) -> str:
        return "CtcLossBackwardBackward0"


def _lengths(x: Any, what: str, xp: Any) -> Any:
    if isinstance(x, Tensor):
        if x.is_floating_point() or x.dtype.name == "bool":
            raise RuntimeError(f"{what} must be an integer tensor, got {x.dtype}")
        return xp.asarray(x._data).reshape(-1).astype(np.int64)
    if isinstance(x, numbers.Integral):
        return xp.asarray([int(x)], np.int64)
    return xp.asarray([int(v) for v in x], np.int64)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of ``log_probs`` (T, N, C) (or unbatched (T, C)) against ``targets`` (padded (N, S) or 1-D
    concatenated), with ``input_lengths``/``target_lengths`` as tensors or tuples.

    ``reduction='mean'`` divides each loss by its target length (at least 1), then averages over the batch.

    >>> F.ctc_loss(ember.randn(4, 2, 3).log_softmax(2), ember.tensor([[1, 2], [1, 1]]), (4, 4), (2, 2))
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError("ctc_loss(): input_lengths and target_lengths must both be tensors or both be tuples "
                        f"of ints, got {type(input_lengths).__name__} and {type(target_lengths).__name__}")
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(f"ctc_loss(): expected log_probs to be 2-D (unbatched) or 3-D, got {log_probs.dim()}-D")
    if not log_probs.is_floating_point():
        raise RuntimeError(f"ctc_loss(): expected a floating point log_probs, got {log_probs.dtype}")
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        if targets.dim() == 1:
            targets = targets.unsqueeze(0)
    from ..._backend import backend_for
    xp = backend_for(log_probs.device).xp
    T, N, C = log_probs.shape
    il = _lengths(input_lengths, "input_lengths", xp)
    tl = _lengths(target_lengths, "target_lengths", xp)
    if il.shape[0] != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.shape[0] != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    _bounds(il, "input_lengths", 0, T)
    _bounds(tl, "target_lengths", 0, None)
    tg = xp.asarray(targets._data).astype(np.int64)
    if tg.ndim == 1:  # concatenated targets: scatter into a padded (N, S) array (one indexing op)
        if tg.shape[0] != int(tl.sum()):
            raise RuntimeError(f"Expected tensor to have size {int(tl.sum())} at dimension 0, but got size "
                               f"{tg.shape[0]} for argument #2 'targets' (while checking arguments for ctc_loss)")
        S = int(tl.max()) if N else 0
        padded = xp.full((N, S), blank, np.int64)
        starts = xp.concatenate([xp.zeros(1, np.int64), xp.cumsum(tl)[:-1]])
        pos = xp.arange(S)[None, :]
        take = pos < tl[:, None]
        padded[take] = tg[(starts[:, None] + pos)[take]]
        tg = padded
    elif tg.ndim == 2:
        S = int(tl.max()) if N else 0
        if tg.shape[1] < S:
            raise RuntimeError(f"Expected tensor to have size at least {S} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' (while checking arguments for ctc_loss)")
        if tg.shape[0] != N:
            raise RuntimeError(f"Expected tensor to have size {N} at dimension 0, but got size {tg.shape[0]} "
                               "for argument #2 'targets' (while checking arguments for ctc_loss)")
        tg = tg[:, :S]
    else:
        raise RuntimeError(f"ctc_loss(): targets must be 1-D or 2-D, got {tg.ndim}-D")
    used = xp.arange(tg.shape[1])[None, :] < tl[:, None]
    if used.any():
        vals = tg[used]
        if vals.min() < 0 or vals.max() >= C:
            bad = int(vals[(vals < 0) | (vals >= C)][0])
            raise IndexError(f"ctc_loss(): target {bad} is out of bounds for {C} classes")
    tg = xp.where(used, tg, blank)
    nll = CtcLoss.apply(log_probs, tg, il, tl, blank=blank, zero_infinity=zero_infinity)
    if reduction == "none":
        return nll.squeeze(0) if unbatched else nll
    if reduction == "sum":
        return nll.sum()
    from ..._tensor import _wrap
    denom = _wrap(xp.maximum(tl, 1).astype(log_probs.dtype.np_dtype), log_probs.device)
    return (nll / denom).mean()


def _bounds(v: Any, name: str, lo: int, hi: int | None) -> None:
    if v.size == 0:
        return
    if int(v.min()) < lo:
        raise RuntimeError(f"Expected {name} to have value at least {lo}, but got value {int(v.min())} "
                           "(while checking arguments for ctc_loss)")
    if hi is not None and int(v.max()) > hi:
        raise RuntimeError(f"Expected {name} to have value at most {hi}, but got value {int(v.max())} "
                           "(while checking arguments for ctc_loss)")

