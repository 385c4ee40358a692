"""Loss functions (functional forms), with PyTorch's ``reduction`` ('none' | 'mean' | 'sum') and weights.

``nll_loss`` is one node: the gradient is a constant (target one-hot times weights) scaled by
the incoming gradient, so it is exact and twice differentiable; ``cross_entropy`` is
``nll_loss(log_softmax(x))`` (or the soft-label form with label smoothing).

>>> import ember
>>> import ember.nn.functional as F
>>> F.cross_entropy(ember.tensor([[2., 0.5]]), ember.tensor([0]))
tensor(0.2014)
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..._backend.parallel import parallel_for, rows_per_piece
from ..._ops._util import Tensor
from ...autograd.graph import Node
from .activation import log_softmax, softplus
from .ctc import ctc_loss  # noqa: F401  (exported with the losses)

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "soft_margin_loss",
           "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "triplet_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
           "multilabel_margin_loss", "ctc_loss"]


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='...' instead.",
                  stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_same_size(input: Tensor, target: Tensor, name: str) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have "
                      "the same size.", stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_same_size(input, target, "mse_loss")
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_same_size(input, target, "l1_loss")
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _where(cond: Tensor, a: Any, b: Any) -> Tensor:
    from ..._ops.pointwise import where
    return where(cond, a, b)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(_where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = (input - target).abs()
    loss = _where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _target_weights(xp: Any, x: Any, target: Any, weight: Any, ignore_index: int) -> tuple:
    """(target with ignored entries replaced by class 0, per-entry weight: 0 where ignored), after a bounds check."""
    c = x.shape[1]
    valid = target != ignore_index
    safe_t = xp.where(valid, target, 0)
    if valid.any() and (safe_t.min() < 0 or safe_t.max() >= c):
        bad = int(safe_t[(safe_t < 0) | (safe_t >= c)].ravel()[0])
        raise IndexError(f"Target {bad} is out of bounds.")
    w = (weight[safe_t] if weight is not None else xp.ones(safe_t.shape, x.dtype)) * valid
    return safe_t, w.astype(x.dtype, copy=False)


class NLLLoss(Node):
    """Negative log-likelihood of class indices; input (N, C, d...) log-probabilities."""

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean"):
        xp = self.xp
        safe_t, w = _target_weights(xp, x, target, weight, ignore_index)
        picked = xp.take_along_axis(x, xp.expand_dims(safe_t, 1), axis=1).squeeze(1)
        losses = -picked * w
        coeff = xp.zeros(x.shape, x.dtype)  # d loss_i / d x: -w at the target class
        xp.put_along_axis(coeff, xp.expand_dims(safe_t, 1), xp.expand_dims(-w, 1), axis=1)
        self.reduction = reduction
        if reduction == "none":
            self.save_for_backward(coeff)
            return losses
        if reduction == "sum":
            self.save_for_backward(coeff)
            return losses.sum()
        total = w.sum()
        self.save_for_backward(coeff / total if total != 0 else coeff * np.nan)
        return losses.sum() / total

    def backward(self, g):
        coeff, = self.saved_tensors
        if self.reduction == "none":
            return g.unsqueeze(1) * coeff, None, None
        return g * coeff, None, None

    def fast_backward(self, g):
        coeff, = self.saved_arrays
        if self.reduction == "none":
            return self.xp.expand_dims(g, 1) * coeff, None, None
        return g * coeff, None, None


# Rows of logits per block in CrossEntropyLoss's forward: about 256K elements (1 MB of float32), so the
# shifted block is still in cache for exp and the row sums (about 15 % faster than whole-array passes on
# 700 x 10000 logits).
_CE_BLOCK = 1 << 18


def _shifted_exp(xp: Any, x: Any) -> tuple:
    """(exp(x - rowmax), rowmax, row sums of the former) for logits (N, C), by blocks of rows."""
    n, c = x.shape
    e = xp.empty((n, c), x.dtype)
    row_max = xp.empty((n, 1), x.dtype)
    sums = xp.empty(n, x.dtype)
    if xp is not np:  # one pass per kernel on a GPU
        _shifted_exp_rows(xp, x, e, row_max, sums, 0, n, n)
        return e, row_max[:, 0], sums
    step = max(1, _CE_BLOCK // c)
    # row blocks split across the intra-op threads (NumPy's loops release the GIL)
    parallel_for(n, lambda a, b: _shifted_exp_rows(xp, x, e, row_max, sums, a, b, step),
                 min_chunk=max(step, rows_per_piece(c)), align=step)
    return e, row_max[:, 0], sums


def _shifted_exp_rows(xp: Any, x: Any, e: Any, row_max: Any, sums: Any, start: int, stop: int, step: int) -> None:
    for a in range(start, stop, step):
        b = min(a + step, stop)
        xb, eb, mb = x[a:b], e[a:b], row_max[a:b]
        xp.max(xb, axis=1, keepdims=True, out=mb)
        xp.subtract(xb, mb, out=eb)  # shifted so exp never overflows
        xp.exp(eb, out=eb)
        xp.sum(eb, axis=1, out=sums[a:b])


class CrossEntropyLoss(Node):
    """``nll_loss(log_softmax(x, 1), target)`` for logits (N, C) and class indices, as one node.

    Why one node: on the word LM's 700 x 10000 logits the two-node form made about a dozen passes over
    full-size arrays (log-probabilities, a one-hot coefficient array and its scaled copy, a second exp in
    backward ...). This one computes exp(x - max) and its row sums in forward (blocked, see ``_shifted_exp``)
    and in backward turns that array, in place, into softmax * scale minus the target entries. Under
    ``create_graph=True`` the backward is the same formula in ember ops (softmax of the saved logits), so
    double backward is exact. Deliberate difference (docs/differences.md): that path, and a second backward
    through a retained graph, need the logits unchanged; PyTorch would accept logits changed in place.
    """

    _exp_consumed = False  # fast_backward reused the saved exp array for the gradient

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean"):
        xp = self.xp
        safe_t, w = _target_weights(xp, x, target, weight, ignore_index)
        e, row_max, sums = _shifted_exp(xp, x)
        shifted_target = x[xp.arange(x.shape[0]), safe_t] - row_max
        losses = (xp.log(sums) - shifted_target) * w  # -log_softmax(x)[target] * w
        self.reduction = reduction
        if reduction == "mean":
            total = w.sum()
            # d mean / d loss_i = w_i / total; with no weight at all PyTorch's gradient is zero, not nan
            row_scale = w / total if total != 0 else xp.zeros_like(w)
            out = losses.sum() / total
        else:
            row_scale = w
            out = losses.sum() if reduction == "sum" else losses
        if self._recording:
            self.save_for_backward(x, e, sums, safe_t, row_scale)
        return out

    def fast_backward(self, g):
        # the logits are unpacked only when needed, so changing them in place after the loss is computed
        # does not break an ordinary backward (PyTorch's log_softmax saves its output, not its input)
        e, sums, safe_t, row_scale = self.saved_arrays_at(1, 2, 3, 4)
        xp = self.xp
        if self._exp_consumed:  # backward again through a retained graph: the saved array is a gradient now
            e, _, sums = _shifted_exp(xp, self.saved_arrays_at(0)[0])
        self._exp_consumed = True
        scale = g * row_scale  # (N,): g is 0-d for 'mean' / 'sum', per row for 'none'
        coef = (scale / sums)[:, None]
        if xp is np:  # softmax * scale, in place (no new 28 MB array), row blocks across the intra-op threads
            parallel_for(e.shape[0], lambda a, b: xp.multiply(e[a:b], coef[a:b], out=e[a:b]),
                         min_chunk=rows_per_piece(e.shape[1]))
        else:
            xp.multiply(e, coef, out=e)
        gx = e
        gx[xp.arange(gx.shape[0]), safe_t] -= scale
        return gx, None

    def backward(self, g):
        from ..._tensor import _wrap
        from .activation import softmax
        x, _, _, safe_t, row_scale = self.saved_tensors
        xp = self.xp
        onehot = xp.zeros(x.shape, x._data.dtype)
        onehot[xp.arange(x.shape[0]), safe_t._data] = 1
        scale = (g * row_scale).unsqueeze(1)
        return (softmax(x, 1) - _wrap(onehot, self._device)) * scale, None

    @classmethod
    def name(cls) -> str:
        return "NllLossBackward0"  # the loss's grad_fn in PyTorch


def _check_nll_args(input: Tensor, target: Tensor, weight: Tensor | None) -> bool:
    """PyTorch's argument checks of nll_loss / cross_entropy with class indices; returns whether unbatched."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if target.is_floating_point():
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    unbatched = input.dim() == 1
    if unbatched:
        if target.dim() != 0:
            raise RuntimeError("1D target tensor expected, multi-target not supported")
    elif target.dim() == 0 or input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.dim() else 1}).")
    elif tuple(input.shape[2:]) != tuple(target.shape[1:]):
        raise RuntimeError(f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, got "
                           f"{list(target.shape)}")
    n_classes = input.shape[1 if input.dim() > 1 else 0]
    if weight is not None and weight.numel() != n_classes:
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    return unbatched


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] (weighted), for log-probabilities ``input`` of shape (N, C, ...) or (C,)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = _check_nll_args(input, target, weight)
    if unbatched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    w = weight._data if weight is not None else None
    out = NLLLoss.apply(input, target._data, weight=w, ignore_index=ignore_index, reduction=reduction)
    if unbatched and reduction == "none":
        out = out.squeeze(0)
    return out


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits ``input`` (N, C, ...) with class indices or class probabilities ``target``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if (label_smoothing == 0 and not target.is_floating_point() and input.is_floating_point()
            and input.numel() > 0 and reduction in ("none", "mean", "sum")):
        return _fused_cross_entropy(input, target, weight, ignore_index, reduction)
    class_dim = 0 if input.dim() == 1 else 1
    logp = log_softmax(input, class_dim)
    n_classes = input.shape[class_dim]
    if target.is_floating_point():  # class probabilities
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected input and target to have the same shape when target holds "
                               f"probabilities, got {list(input.shape)} and {list(target.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        per = logp * target
        if weight is not None:
            shape = [1] * input.dim()
            shape[class_dim] = n_classes
            per = per * weight.reshape(shape)
        loss = -per.sum(class_dim)
        if reduction == "mean":
            return loss.sum() / (loss.numel() // 1 if input.dim() > 1 else 1) if input.dim() > 1 else loss
        return _reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return nll
    # smoothing term: -(1/C) sum_c w_c logp_c, masked at ignored targets, reduced like nll
    mask = (target != ignore_index)
    shape = [1] * input.dim()
    shape[class_dim] = n_classes
    wl = logp * weight.reshape(shape) if weight is not None else logp
    smooth = -wl.sum(class_dim) * mask.to(logp.dtype)
    if reduction == "none":
        smooth_r = smooth
    elif reduction == "sum":
        smooth_r = smooth.sum()
    else:
        if weight is not None:
            denom = (weight[target.masked_fill(~mask, 0)] * mask.to(weight.dtype)).sum() if hasattr(
                weight, "__getitem__") else None
            smooth_r = smooth.sum() / denom
        else:
            smooth_r = smooth.sum() / mask.sum().to(logp.dtype)
    return (1 - label_smoothing) * nll + (label_smoothing / n_classes) * smooth_r


def _fused_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                         reduction: str) -> Tensor:
    """Class-index cross entropy through the one-node ``CrossEntropyLoss``; (N, C, d...) become rows."""
    unbatched = _check_nll_args(input, target, weight)
    if unbatched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    spatial = tuple(input.shape[2:])
    if spatial:  # classes last, one row per (sample, position): a copy, still fewer passes than two nodes
        input = input.movedim(1, -1).reshape(-1, input.shape[1])
        target = target.reshape(-1)
    w = weight._data if weight is not None else None
    out = CrossEntropyLoss.apply(input, target._data, weight=w, ignore_index=ignore_index, reduction=reduction)
    if reduction == "none":
        if unbatched:
            out = out.squeeze(0)
        elif spatial:
            out = out.reshape((-1,) + spatial)
    return out


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)), with logs clamped at -100 like PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    if input.numel() and (float(input.detach().min()) < 0 or float(input.detach().max()) > 1):
        raise RuntimeError("all elements of input should be between 0 and 1")
    logp = input.log().clamp(min=-100)
    log1mp = (1 - input).log().clamp(min=-100)
    loss = -(target * logp + (1 - target) * log1mp)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on logits, stably: (1 - t) x + (1 + (pw - 1) t) softplus(-x)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    sp = softplus(-input)
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Pointwise KL divergence target * (log target - input); ``input`` holds log-probabilities."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        from ..._ops.pointwise_binary import xlogy
        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.dim() else 1)
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce(softplus(-target * input), reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        import math
        stirling = target * target.clamp(min=1).log() - target + 0.5 * (2 * math.pi * target.clamp(min=1)).log()
        loss = loss + _where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    import math
    if not isinstance(var, Tensor):
        from ..._creation import full as _full
        var = _full(input.shape, float(var), dtype=input.dtype)
    if var.dim() == input.dim() - 1 and tuple(var.shape) == tuple(input.shape[:-1]):
        var = var.unsqueeze(-1)
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var.clamp(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    eps = 1e-12
    cos = (input1 * input2).sum(-1) / ((input1 * input1).sum(-1) + eps).sqrt() / ((input2 * input2).sum(-1) + eps).sqrt()
    loss = _where(target == 1, 1 - cos, (cos - margin).clamp(min=0))
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = _where(target == 1, input, 0.0) + _where(target == -1, (margin - input).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        from ..._ops.pointwise_binary import minimum
        d_neg = minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction)


def _pairwise_distance(x1: Tensor, x2: Tensor, p: float, eps: float) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (as ``F.pairwise_distance``)."""
    from ...linalg import vector_norm
    return vector_norm(x1 - x2 + eps, p, dim=-1)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * -softplus(-input) + (1 - target) * -softplus(input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.dim() == 2 else input.unsqueeze(0)
    t = target if target.dim() == 1 else target.reshape(1)
    picked = x.gather(1, t.unsqueeze(1))
    m = (margin - picked + x).clamp(min=0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * weight[t].unsqueeze(1)
    mask = 1 - _one_hot_const(t, x.shape[1], x.dtype)
    loss = (m * mask).sum(1) / x.shape[1]
    if input.dim() == 1:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


def _one_hot_const(t: Tensor, n: int, dtype: Any) -> Tensor:
    from ..._tensor import _wrap
    arr = np.zeros(tuple(t.shape) + (n,), dtype=dtype.np_dtype)
    np.put_along_axis(arr, t._data[..., None], 1, axis=-1)
    return _wrap(arr, t.device)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x = input if input.dim() == 2 else input.unsqueeze(0)
    t = target if target.dim() == 2 else target.unsqueeze(0)
    tt = t._data
    n, c = x.shape
    is_target = np.zeros((n, c), bool)
    valid = np.zeros((n, c), bool)
    for i in range(n):  # per sample: targets end at the first -1 (a loop over rows, not elements)
        row = tt[i]
        end = np.argmax(row < 0) if (row < 0).any() else c
        is_target[i, row[:end]] = True
        valid[i, :end] = True
    from ..._tensor import _wrap
    picked = x.gather(1, _wrap(np.where(valid, tt, 0), x.device))  # (n, c): x[target_j]
    diff = (1 - picked.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)  # (n, j, k)
    mask = _wrap((valid[:, :, None] & ~is_target[:, None, :]).astype(x.dtype.np_dtype), x.device)
    loss = (diff * mask).sum((1, 2)) / c
    if input.dim() == 1:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)
