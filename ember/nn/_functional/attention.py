"""Attention (functional forms): ``scaled_dot_product_attention`` and ``multi_head_attention_forward``.

``scaled_dot_product_attention`` is one fused node: scores, a stable softmax, dropout and the weighted
sum of values run as a few BLAS calls in forward. The node has a second output, the attention
probabilities ``P``; saving it as an *output* (not a constant) puts it in the graph, so the backward
(written with ember ops) can itself be differentiated: double backward works.

>>> import ember
>>> import ember.nn.functional as F
>>> q = k = v = ember.ones(2, 3, 4)
>>> F.scaled_dot_product_attention(q, k, v).shape
ember.Size([2, 3, 4])
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..._ops._util import Tensor, _torch_name
from ..._backend.parallel import run_ranges as _run_ranges, split as _split
from ...autograd.graph import Node
from ... import _dtype as D

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


class _Attention(Node):
    """``out = (softmax(scale * q @ k^T + mask) * drop) @ v``; outputs ``(out, P)`` with P before dropout.

    ``safe=True`` gives rows whose scores are all -inf zero probabilities (PyTorch's SDPA);
    ``safe=False`` gives NaN there (a plain softmax, as in ``MultiheadAttention`` with weights).
    """

    materialize_grads = False  # the probabilities output is usually unused: no zero buffer for it

    def forward(self, q, k, v, mask=None, drop=None, scale=1.0, safe=True):
        self.scale, self.drop = scale, drop
        p = _attention_probs(self.xp, q, k, mask, scale, safe)
        out = (p if drop is None else p * drop) @ v
        if self._recording:
            self.save_for_backward(q, k, v, p)
        return out, p

    def backward(self, g_out, g_p):
        q, k, v, p = self.saved_tensors
        return _attention_grads(q, k, v, p, g_out, g_p, self.drop, self.scale, self.needs_input_grad)

    @classmethod
    def name(cls) -> str:
        return "ScaledDotProductAttentionBackward0"


def _attention_probs(xp: Any, q: Any, k: Any, mask: Any, scale: float, safe: bool) -> Any:
    """``softmax(scale * q @ k^T + mask)`` over the last axis, on arrays (the scores are normalised in place)."""
    s = q @ xp.swapaxes(k, -1, -2)
    s *= scale  # s is a fresh array: scale, mask and normalise it in place
    if mask is not None:  # callers check that the mask broadcasts to the scores without growing them
        xp.add(s, mask, out=s, casting="unsafe")
    if s.shape[-1] == 0:  # no keys: every row attends to nothing and the output is zero
        return s
    # Softmax is the same for any finite shift of a row; the max (the usual shift) over 64-wide rows
    # costs as much as the exp (measured on (32, 4, 64, 64) scores), so shift by each row's first score and
    # keep the result when no row sum overflowed (or met -inf or NaN), else take the max-shifted path.
    with np.errstate(over="ignore", invalid="ignore"):
        p = xp.subtract(s, s[..., :1])
        xp.exp(p, out=p)
        den = _row_sums(xp, p)
        if bool(xp.isfinite(den).all()):
            p /= den
            return p
    m = s.max(axis=-1, keepdims=True)
    if safe:
        m[~xp.isfinite(m)] = 0  # fully masked rows: exp(-inf) = 0 everywhere, not NaN
    with np.errstate(invalid="ignore"):  # -inf - -inf: NaN rows are intended when not safe
        s -= m
        p = xp.exp(s, out=s)
        den = _row_sums(xp, p)
        if safe:
            den[den == 0] = 1
        p /= den
    return p


def _row_sums(xp: Any, a: Any) -> Any:
    """``a.sum(-1, keepdims=True)`` as a product with ones: BLAS, ~6x faster than NumPy's reduction
    over 64-wide rows (measured on (32, 4, 64, 64) float32 scores)."""
    if a.dtype.char not in "fd":  # BLAS dtypes only (NumPy's half matmul is a slow loop)
        return a.sum(axis=-1, keepdims=True)
    return (a @ xp.ones(a.shape[-1], a.dtype))[..., None]


def _attention_grads(q: Any, k: Any, v: Any, p: Any, g_out: Any, g_p: Any, drop: Any, scale: float,
                     needs: tuple) -> tuple:
    """Gradients (q, k, v, mask) of ``_Attention`` in ember ops (so they can be differentiated again)."""
    if g_out is None:
        if g_p is None:
            return None, None, None, None
        gv = None
        gp = g_p
    else:
        pd = p if drop is None else p * drop
        gv = pd.transpose(-2, -1) @ g_out if needs[2] else None
        gp = g_out @ v.transpose(-2, -1)
        if drop is not None:
            gp = gp * drop
        if g_p is not None:
            gp = gp + g_p
    gs = p * (gp - (gp * p).sum(-1, keepdim=True))  # softmax backward
    gq = (gs @ k) * scale if needs[0] else None
    gk = (gs.transpose(-2, -1) @ q) * scale if needs[1] else None
    gm = gs if len(needs) > 3 and needs[3] else None
    return gq, gk, gv, gm


# ----------------------------------------------------------------- packed self-attention (one node)
def _head_view(a: Any, part: int, parts: int, heads: int, batch_first: bool) -> Any:
    """The (N, H, L, head_dim) view of part ``part`` of a packed (N, L, parts * E) array ((L, N, ...) if not
    ``batch_first``): heads are strided views, never copies (matmul runs BLAS on them as they are)."""
    d0, d1 = a.shape[0], a.shape[1]
    split = a.reshape(d0, d1, parts, heads, a.shape[2] // (parts * heads))[:, :, part]
    return split.transpose(0, 2, 1, 3) if batch_first else split.transpose(1, 2, 0, 3)


def _matmul_into(xp: Any, a: Any, b: Any, out: Any) -> None:
    """``out[...] = a @ b`` for a strided ``out``: NumPy's matmul writes it directly; other backends copy."""
    if xp is np:
        np.matmul(a, b, out=out)
    else:
        out[...] = a @ b


def _row_blocks(L: int, S: int, causal: bool) -> tuple:
    """``(first row, end row, keys)`` blocks of the score matrix that attention computes.

    With a causal mask (L == S) the rows are cut in two halves and the first half stops at its last row's
    key (the keys after it are masked for all its rows), so 3/4 of the scores are computed. Measured on the
    char-GPT step (4 heads, 64 positions): the forward gains ~15 %, the backward (which then adds two key
    and value gradient blocks) loses part of it: ~1 % of the step. Four blocks lost 3 % to per-matmul overhead.
    """
    if not causal or L != S or L < 32:
        return ((0, L, S),)
    half = L // 2
    return ((0, half, half), (half, L, L))


class _PackedSelfAttention(Node):
    """Self-attention from the packed in-projection ``qkv`` (N, L, 3E) to the merged heads (N, L, E).

    One node instead of chunk, head split (reshape copies), attention, head merge (permute copy) and
    their backward nodes: heads are strided views of ``qkv``, the output matmul writes straight into
    the merged layout, and the backward writes the q, k and v gradients into one packed array (no cat).
    ``(L, N, ...)`` layouts with ``batch_first=False``. A causal mask skips the fully masked score block
    (``_row_blocks``). Double backward recomputes through ``_Attention``.
    """

    def forward(self, qkv, mask=None, drop=None, heads=1, scale=1.0, batch_first=True, causal=False):
        xp = self.xp
        self.mask, self.drop, self.heads, self.scale, self.batch_first = mask, drop, heads, scale, batch_first
        q, k, v = (_head_view(qkv, i, 3, heads, batch_first) for i in range(3))
        out = xp.empty(qkv.shape[:2] + (qkv.shape[2] // 3,), qkv.dtype)
        out_heads = _head_view(out, 0, 1, heads, batch_first)
        self.blocks = _row_blocks(q.shape[-2], k.shape[-2], causal)
        # the batch is split across the intra-op threads (BLAS and NumPy's loops release the GIL); the
        # backward reuses the same ranges, since it reads each range's saved probabilities
        per_sample = q[0].size * k.shape[-2] // max(q.shape[-1], 1)
        batched_mask = mask is not None and getattr(mask, "ndim", 0) > 2  # (L, S) masks only are split
        self.ranges = [(0, q.shape[0])] if xp is not np or batched_mask else \
            _split(q.shape[0], min_chunk=max(1, (1 << 15) // max(per_sample, 1)))
        probs = {}

        def body(n0, n1):
            found = []
            for r0, r1, keys in self.blocks:
                p = _attention_probs(xp, q[n0:n1, ..., r0:r1, :], k[n0:n1, ..., :keys, :],
                                     None if mask is None else mask[..., r0:r1, :keys], scale, safe=True)
                pd = p if drop is None else p * drop[n0:n1, ..., r0:r1, :keys]
                _matmul_into(xp, pd, v[n0:n1, ..., :keys, :], out_heads[n0:n1, ..., r0:r1, :])
                found.append(p)
            probs[n0] = found

        _run_ranges(self.ranges, body)
        if self._recording:
            self.save_for_backward(qkv, *(p for n0, _ in self.ranges for p in probs[n0]))
        return out

    def fast_backward(self, g):
        qkv, *flat_probs = self.saved_arrays
        xp, heads, bf, drop = self.xp, self.heads, self.batch_first, self.drop
        q, k, v = (_head_view(qkv, i, 3, heads, bf) for i in range(3))
        g_heads = _head_view(g, 0, 1, heads, bf)
        grad = xp.empty_like(qkv)
        gq, gk, gv = (_head_view(grad, i, 3, heads, bf) for i in range(3))
        nb = len(self.blocks)
        probs = {n0: flat_probs[i * nb:(i + 1) * nb] for i, (n0, _) in enumerate(self.ranges)}

        def body(n0, n1):
            # the last block reaches every key: it writes the k and v gradients, the others add into theirs
            for (r0, r1, keys), p in reversed(tuple(zip(self.blocks, probs[n0]))):
                whole = keys == k.shape[-2]
                g_rows, q_rows = g_heads[n0:n1, ..., r0:r1, :], q[n0:n1, ..., r0:r1, :]
                gk_n, gv_n = gk[n0:n1], gv[n0:n1]
                d = None if drop is None else drop[n0:n1, ..., r0:r1, :keys]
                pd_t = xp.swapaxes(p if d is None else p * d, -1, -2)
                if whole:
                    _matmul_into(xp, pd_t, g_rows, gv_n)
                else:
                    gv_n[..., :keys, :] += pd_t @ g_rows
                gs = g_rows @ xp.swapaxes(v[n0:n1, ..., :keys, :], -1, -2)
                if d is not None:
                    gs *= d
                gs *= p  # softmax backward: p * (gp - sum(gp * p)), built in place
                gs -= p * _row_sums(xp, gs)
                gs *= self.scale
                _matmul_into(xp, gs, k[n0:n1, ..., :keys, :], gq[n0:n1, ..., r0:r1, :])
                if whole:
                    _matmul_into(xp, xp.swapaxes(gs, -1, -2), q_rows, gk_n)
                else:
                    gk_n[..., :keys, :] += xp.swapaxes(gs, -1, -2) @ q_rows

        _run_ranges(self.ranges, body)
        return (grad,)

    def backward(self, g):
        qkv = self.saved_tensors[0]
        heads, bf, drop = self.heads, self.batch_first, self.drop
        e = qkv.shape[2] // 3

        def split(t: Tensor, parts: int) -> Tensor:  # (d0, d1, parts * E) -> (parts, N, H, L, hd)
            t = t.reshape(t.shape[0], t.shape[1], parts, heads, e // heads)
            return t.permute(2, 0, 3, 1, 4) if bf else t.permute(2, 1, 3, 0, 4)

        q, k, v = split(qkv, 3).unbind(0)
        # recompute P as an output of a recorded node, so these gradients are differentiable in q and k
        _, p = _Attention.apply(q, k, v, self.mask, drop=drop, scale=self.scale, safe=True)
        gq, gk, gv, _ = _attention_grads(q, k, v, p, split(g, 1)[0], None, drop, self.scale, (True,) * 3)
        from ..._ops.join import stack
        grad = stack([gq, gk, gv], 0)  # (3, N, H, L, hd) back to the packed layout
        grad = grad.permute(1, 3, 0, 2, 4) if bf else grad.permute(3, 1, 0, 2, 4)
        return grad.reshape(qkv.shape[0], qkv.shape[1], 3 * e)

    @classmethod
    def name(cls) -> str:
        return "ScaledDotProductAttentionBackward0"


def _shape(t: Tensor) -> list:
    return list(t.shape)


def _check_tensor(x: Any, name: str, pos: int | None = None) -> None:
    if not isinstance(x, Tensor):
        where = f" (position {pos})" if pos is not None else ""
        raise TypeError(f"scaled_dot_product_attention(): argument '{name}'{where} must be Tensor, not "
                        f"{type(x).__name__}")


def _float_mask(mask: Tensor, like: Tensor) -> Any:
    """A bool mask (True = take part) as an additive array of 0 / -inf; a float mask passes through."""
    if mask.dtype is D.bool_:
        dt = like._data.dtype.type
        return _xp(like).where(mask._data, dt(0), dt(-math.inf))
    return mask


def _attend(query: Tensor, key: Tensor, value: Tensor, mask: Any, dropout_p: float, scale: float,
            safe: bool) -> tuple:
    """Run the fused node; returns ``(output, probabilities before dropout, dropout multiplier or None)``."""
    drop = None
    if dropout_p > 0.0:
        batch = np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
        shape = tuple(batch) + (query.shape[-2], key.shape[-2])
        if mask is not None:
            shape = np.broadcast_shapes(shape, tuple(mask.shape))
        drop = _dropout_multiplier(shape, dropout_p, query)
    out, p = _Attention.apply(query, key, value, mask, drop=drop, scale=scale, safe=safe)
    return out, p, drop


def _dropout_multiplier(shape: tuple, dropout_p: float, like: Tensor) -> Any:
    """The array that multiplies the attention probabilities: 0 (dropped) or 1/(1-p); carries the rescale."""
    from ..._random import rand
    keep = 1.0 - dropout_p
    r = rand(shape, dtype=like.dtype, device=like.device)._data
    return (r < keep) * like._data.dtype.type(1.0 / keep) if keep > 0 else r * 0  # p == 1 drops everything


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over (..., L, E) / (..., S, E) / (..., S, Ev) inputs.

    ``attn_mask``: bool (True = may attend) or float (added to the scores), broadcastable to (..., L, S).
    ``is_causal`` masks keys after each query (top-left aligned, as ``ones(L, S).tril()``). Rows that may
    attend to nothing give zeros. ``enable_gqa`` repeats key/value heads (dim -3) to match the query's.

    >>> F.scaled_dot_product_attention(ember.ones(4, 8), ember.ones(5, 8), ember.ones(5, 2)).shape
    ember.Size([4, 2])
    """
    _check_tensor(query, "query", 1)
    _check_tensor(key, "key", 2)
    _check_tensor(value, "value", 3)
    if attn_mask is not None:
        _check_tensor(attn_mask, "attn_mask")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead.")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_lower(query)} key.dtype: {_lower(key)} and value.dtype: {_lower(value)} instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"expected scalar type Float but found {_torch_name(query.dtype)}")
    if attn_mask is not None and attn_mask.dtype is not D.bool_ and attn_mask.dtype is not D.float32 \
            and attn_mask.dtype != query.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_lower(attn_mask)} and  query.dtype: {_lower(query)} instead.")
    if attn_mask is not None and is_causal:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if dropout_p > 1.0:  # PyTorch accepts a negative p (no dropout)
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{_prod(key.shape[:-2])}, {query.shape[-1]}] but got: "
                           f"[{_prod(key.shape[:-2])}, {key.shape[-1]}].")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{_prod(value.shape[:-2])}, {key.shape[-2]}] but got: "
                           f"[{_prod(value.shape[:-2])}, {value.shape[-2]}].")
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk != 0 or hq % hv != 0:
            raise RuntimeError("Number of heads in key and value must divide the number of heads in query")
        if hk != hq:
            key = key.repeat_interleave(hq // hk, -3)
        if hv != hq:
            value = value.repeat_interleave(hq // hv, -3)
    _check_batch(query, key, value)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    mask: Any = None
    if is_causal:
        mask = _causal_mask(_xp(query), L, S, query._data.dtype)
    elif attn_mask is not None:
        scores = tuple(np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]))) + (L, S)
        try:
            full = tuple(np.broadcast_shapes(scores, tuple(attn_mask.shape)))
        except ValueError:
            full = None
        if full != scores:
            _mask_mismatch(scores, tuple(attn_mask.shape), full)
        mask = _float_mask(attn_mask, query)
    return _attend(query, key, value, mask, dropout_p, scale, safe=True)[0]


_CAUSAL_MASKS: dict = {}


def _causal_mask(xp: Any, L: int, S: int, dtype: Any) -> Any:
    """The additive (L, S) mask of ``is_causal`` (0 on and below the diagonal, -inf above), built once per
    size: ops only read it (added into fresh score arrays), never write it."""
    key = (xp.__name__, L, S, dtype)
    mask = _CAUSAL_MASKS.get(key)
    if mask is None:
        if len(_CAUSAL_MASKS) >= 64:  # bounded: a few distinct sequence lengths is the common case
            _CAUSAL_MASKS.clear()
        allowed = xp.tril(xp.ones((L, S), dtype=bool))
        mask = _CAUSAL_MASKS[key] = xp.where(allowed, dtype.type(0), dtype.type(-math.inf))
    return mask


def _xp(t: Tensor) -> Any:
    from ...autograd.graph import _xp_of
    return _xp_of(t._device)


def _lower(t: Tensor) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "int64": "long int", "int32": "int", "bool": "bool"}.get(t.dtype.name, t.dtype.name)


def _prod(shape: Any) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _check_batch(query: Tensor, key: Tensor, value: Tensor) -> None:
    qb, kb, vb = tuple(query.shape[:-2]), tuple(key.shape[:-2]), tuple(value.shape[:-2])
    for a, b in ((qb, kb), (qb, vb), (kb, vb)):
        n = max(len(a), len(b))
        for i in range(1, n + 1):
            sa = a[-i] if i <= len(a) else 1
            sb = b[-i] if i <= len(b) else 1
            if sa != sb and sa != 1 and sb != 1:
                raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                                   f"non-singleton dimension {n - i}")


def _mask_mismatch(scores: tuple, mask: tuple, full: tuple | None) -> None:
    if full is not None:  # broadcastable, but it would grow the scores
        raise RuntimeError(f"output with shape {list(scores)} doesn't match the broadcast shape {list(full)}")
    n = max(len(scores), len(mask))
    for i in range(1, n + 1):
        a = scores[-i] if i <= len(scores) else 1
        b = mask[-i] if i <= len(mask) else 1
        if a != b and a != 1 and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                               f"non-singleton dimension {n - i}")
    raise RuntimeError(f"attn_mask of shape {list(mask)} cannot be broadcast to {list(scores)}")  # pragma: no cover


# ------------------------------------------------------------------------------------- masks
def _none_or_dtype(input: Tensor | None) -> Any:
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or ember.Tensor")


def _canonical_mask(mask: Tensor | None, mask_name: str, other_type: Any, other_name: str, target_type: Any,
                    check_other: bool = True) -> Tensor | None:
    """A bool mask (True = masked out) as a float mask of 0 / -inf in ``target_type``; float masks pass."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{mask_name} must be a Tensor, not {type(mask).__name__}")
    is_float = mask.is_floating_point()
    if mask.dtype is not D.bool_ and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.")
    if not is_float:
        from ..._creation import zeros_like
        mask = zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


# ----------------------------------------------------------------------------- multi-head attention
def _mha_shape_check(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None,
                     attn_mask: Tensor | None, num_heads: int) -> bool:
    """Whether the inputs are batched; AssertionError (as PyTorch) for inconsistent ranks."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{tuple(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def _in_projection(query: Tensor, key: Tensor, value: Tensor, w: Tensor, b: Tensor | None) -> tuple:
    """Packed (3E, E) projection; self-attention costs one matmul, otherwise one per input."""
    from .linear import linear
    E = query.shape[-1]
    if key is value and query is key:
        return linear(query, w, b).chunk(3, dim=-1)
    wq, wk, wv = w.chunk(3)
    bq, bk, bv = b.chunk(3) if b is not None else (None, None, None)
    if key is value:
        k, v = linear(key, w[E:], b[E:] if b is not None else None).chunk(2, dim=-1)
        return linear(query, wq, bq), k, v
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def _separate_projection(query: Tensor, key: Tensor, value: Tensor, wq: Tensor, wk: Tensor, wv: Tensor,
                         b: Tensor | None) -> tuple:
    from .linear import linear
    Eq, Ek, Ev = query.shape[-1], key.shape[-1], value.shape[-1]
    for w, shape, name in ((wq, (Eq, Eq), "query"), (wk, (Eq, Ek), "key"), (wv, (Eq, Ev), "value")):
        if tuple(w.shape) != shape:
            raise AssertionError(f"expecting {name} weights shape of {shape}, but got {tuple(w.shape)}")
    bq, bk, bv = b.chunk(3) if b is not None else (None, None, None)
    for bb, name in ((bq, "query"), (bk, "key"), (bv, "value")):
        if bb is not None and tuple(bb.shape) != (Eq,):
            raise AssertionError(f"expecting {name} bias shape of {(Eq,)}, but got {tuple(bb.shape)}")
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def _packed_self_attention(x: Tensor, num_heads: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                           out_proj_weight: Tensor, out_proj_bias: Tensor | None, attn_mask: Tensor | None,
                           is_causal: bool, dropout_p: float, batch_first: bool) -> Tensor | None:
    """Self-attention of ``x`` through ``_PackedSelfAttention``, or None where the general path must run.

    ``x`` is (N, L, E) with ``batch_first``, else (L, N, E); ``attn_mask`` is canonical (float or None) and
    ignored with ``is_causal`` (callers raise PyTorch's error when neither is given); ``dropout_p`` is 0
    outside training. Taken when the general path would compute the same thing with
    the fused SDPA kernel: no padding mask, no weights, no extra key/value rows, a causal or (L, L)
    constant mask. Also skipped while ``ember.onnx`` traces (it exports the general path's ops).
    """
    from ...autograd import graph
    if graph._tracer is not None or in_proj_weight is None or x.dim() != 3 or x.numel() == 0 \
            or not x.is_floating_point() or dropout_p > 1.0:
        return None
    embed_dim = x.shape[2]
    seq = x.shape[1] if batch_first else x.shape[0]
    if embed_dim % num_heads or tuple(in_proj_weight.shape) != (3 * embed_dim, embed_dim):
        return None
    mask = None
    if is_causal:
        mask = _causal_mask(_xp(x), seq, seq, x._data.dtype)
    elif attn_mask is not None:
        if tuple(attn_mask.shape) != (seq, seq) or attn_mask.dtype != x.dtype or attn_mask.requires_grad:
            return None
        mask = attn_mask._data
    from .linear import linear
    qkv = linear(x, in_proj_weight, in_proj_bias)
    batch = x.shape[0] if batch_first else x.shape[1]
    drop = _dropout_multiplier((batch, num_heads, seq, seq), dropout_p, x) if dropout_p > 0.0 else None
    out = _PackedSelfAttention.apply(qkv, mask=mask, drop=drop, heads=num_heads, causal=is_causal,
                                     scale=1.0 / math.sqrt(embed_dim // num_heads), batch_first=batch_first)
    return linear(out, out_proj_weight, out_proj_bias)


def _heads_or_static(t: Tensor, static: Tensor | None, name: str, batch_heads: int, head_dim: int) -> Tensor:
    """(S, N, E) -> (N * H, S, head_dim), or the given precomputed ``static_k``/``static_v`` after PyTorch's checks."""
    if static is None:
        return t.reshape(t.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True, key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                                 static_k: Tensor | None = None, static_v: Tensor | None = None,
                                 average_attn_weights: bool = True, is_causal: bool = False) -> tuple:
    """Multi-head attention on sequence-first inputs (L, N, E) or unbatched (L, E); returns (output, weights).

    Masks follow ``nn.MultiheadAttention``: a bool mask marks positions that may NOT be attended (True),
    a float mask is added to the scores. ``weights`` is (N, L, S) averaged over heads, (N, H, L, S) with
    ``average_attn_weights=False``, or None when ``need_weights=False``.

    >>> x = ember.ones(5, 2, 4)
    >>> w, b = ember.ones(12, 4), ember.zeros(12)
    >>> F.multi_head_attention_forward(x, x, x, 4, 2, w, b, None, None, False, 0.0, ember.ones(4, 4), None)[0].shape
    ember.Size([5, 2, 4])
    """
    from ..._creation import zeros
    from ..._ops.join import cat
    from .linear import linear
    from .padding import pad

    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint alone drives the causal mask of the fused kernel
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the padding is merged into an explicit mask below
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if is_batched and query is key and key is value and key_padding_mask is None and not need_weights \
            and not use_separate_proj_weight and bias_k is None and bias_v is None and not add_zero_attn \
            and static_k is None and static_v is None:
        out = _packed_self_attention(query, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                                     attn_mask, is_causal, dropout_p if training else 0.0, batch_first=False)
        if out is not None:
            return out, None
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight, k_proj_weight or "
                                 "v_proj_weight is None")
        q, k, v = _separate_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given or both be None")

    # (L, N, E) -> (N * H, L, head_dim): heads become batch entries
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads_or_static(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads_or_static(v, static_v, "static_v", bsz * num_heads, head_dim)

    if add_zero_attn:
        zero = zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = cat([k, zero], dim=1)
        v = cat([v, zero], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1) \
            .reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    scale = 1.0 / math.sqrt(head_dim)
    if need_weights:
        if is_causal and attn_mask is None:  # pragma: no cover - excluded above, kept as PyTorch's guard
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        # a plain softmax here: fully masked rows give NaN weights and outputs, as in PyTorch
        if attn_mask is not None and attn_mask.dtype != q.dtype:
            raise RuntimeError(f"Input dtypes must be the same, got: input {_lower(attn_mask)}, batch1: "
                               f"{_lower(q)}, batch2: {_lower(k)}")
        out, weights, drop = _attend(q, k, v, attn_mask, dropout_p, scale, safe=False)
        if drop is not None:  # the returned weights are the dropped ones that multiplied v
            from ..._tensor import _wrap
            weights = weights * _wrap(drop, weights.device)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 and attn_mask.dim() == 3 \
            else attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None

