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
        xp = self.xp
        self.scale, self.drop = scale, drop
        s = q @ xp.swapaxes(k, -1, -2)
        s *= scale  # s is a fresh array: scale, mask and normalise it in place
        if mask is not None:  # callers check that the mask broadcasts to the scores without growing them
            xp.add(s, mask, out=s, casting="unsafe")
        if s.shape[-1] == 0:  # no keys: every row attends to nothing and the output is zero
            p = s
        else:
            m = s.max(axis=-1, keepdims=True)
            if safe:
                m[~xp.isfinite(m)] = 0  # fully masked rows: exp(-inf) = 0 everywhere, not NaN
            with np.errstate(invalid="ignore"):  # -inf - -inf: NaN rows are intended when not safe
                s -= m
                p = xp.exp(s, out=s)
                den = p.sum(axis=-1, keepdims=True)
                if safe:
                    den[den == 0] = 1
                p /= den
        pd = p if drop is None else p * drop
        out = pd @ v
        if self._recording:
            self.save_for_backward(q, k, v, p)
        return out, p

    def backward(self, g_out, g_p):
        q, k, v, p = self.saved_tensors
        needs = self.needs_input_grad
        drop = self.drop
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
        gq = (gs @ k) * self.scale if needs[0] else None
        gk = (gs.transpose(-2, -1) @ q) * self.scale if needs[1] else None
        gm = gs if len(needs) > 3 and needs[3] else None
        return gq, gk, gv, gm

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
        from ..._random import rand
        batch = np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
        shape = tuple(batch) + (query.shape[-2], key.shape[-2])
        if mask is not None:
            shape = np.broadcast_shapes(shape, tuple(mask.shape))
        keep = 1.0 - dropout_p
        r = rand(shape, dtype=query.dtype, device=query.device)._data
        # the mask carries the 1/(1-p) rescale; p == 1 drops everything
        drop = (r < keep) * query._data.dtype.type(1.0 / keep) if keep > 0 else r * 0
    out, p = _Attention.apply(query, key, value, mask, drop=drop, scale=scale, safe=safe)
    return out, p, drop


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
        xp = _xp(query)
        allowed = xp.tril(xp.ones((L, S), dtype=bool))
        mask = xp.where(allowed, query._data.dtype.type(0), query._data.dtype.type(-math.inf))
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
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_k.shape[0] != bsz * num_heads:
            raise AssertionError(f"expecting static_k.size(0) of {bsz * num_heads}, but got {static_k.shape[0]}")
        if static_k.shape[2] != head_dim:
            raise AssertionError(f"expecting static_k.size(2) of {head_dim}, but got {static_k.shape[2]}")
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_v.shape[0] != bsz * num_heads:
            raise AssertionError(f"expecting static_v.size(0) of {bsz * num_heads}, but got {static_v.shape[0]}")
        if static_v.shape[2] != head_dim:
            raise AssertionError(f"expecting static_v.size(2) of {head_dim}, but got {static_v.shape[2]}")
        v = static_v

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

