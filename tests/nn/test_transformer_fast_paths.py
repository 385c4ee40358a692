"""The fast paths a Transformer step takes, checked against the general paths, finite differences and PyTorch:
packed self-attention (one node from the in-projection to the merged heads), the first-score shift of the
attention softmax (and its fall-back to the max shift), layer norm as row-matrix products, and float32 GELU."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.nn._functional.attention import _PackedSelfAttention, _packed_self_attention
from harness import OpSpec, cases, check_op
from parity import torch_or_skip


def _uses_packed(out):
    """Whether the packed self-attention node produced ``out`` (through the output projection)."""
    return any(isinstance(fn, _PackedSelfAttention) for fn, _ in out.grad_fn.next_functions)


def _mask(kind, L, dtype):
    if kind == "float":
        return ember.tensor(np.random.default_rng(1).standard_normal((L, L)), dtype=dtype)
    if kind == "bool":
        m = np.random.default_rng(2).random((L, L)) < 0.3
        m[:, 0] = False  # every row may attend somewhere
        return ember.tensor(m)
    if kind == "causal":
        return nn.Transformer.generate_square_subsequent_mask(L, dtype=dtype)
    return None


# ---------------------------------------------- packed self-attention through the shared op harness
def _packed_ref(x, w_in, b_in, w_out, b_out, heads=2, causal=True):
    """Float64 NumPy reference of causal batch-first self-attention from the packed in-projection."""
    n, L, e = x.shape
    hd = e // heads
    qkv = x @ w_in.T + b_in
    q, k, v = (qkv[..., i * e:(i + 1) * e].reshape(n, L, heads, hd).transpose(0, 2, 1, 3) for i in range(3))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd)
    if causal:
        s = np.where(np.triu(np.ones((L, L), bool), 1), -np.inf, s)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    out = (p @ v).transpose(0, 2, 1, 3).reshape(n, L, e)
    return out @ w_out.T + b_out


def _packed_op(x, w_in, b_in, w_out, b_out):
    out = _packed_self_attention(x, 2, w_in, b_in, w_out, b_out, None, True, 0.0, True)
    assert out is not None  # the packed node, not the general path
    return out


PACKED_SPECS = [
    # (N, L, E), in_proj (3E, E), (3E,), out_proj (E, E), (E,); L = 33 takes the two-block causal split
    OpSpec("packed_self_attention", _packed_op, _packed_ref,
           [((2, 5, 4), (12, 4), (12,), (4, 4), (4,)), ((1, 33, 4), (12, 4), (12,), (4, 4), (4,))],
           low=-1.0, high=1.0),
]


@pytest.mark.parametrize("spec,i,layout", cases(PACKED_SPECS))
def test_packed_self_attention_op(spec, i, layout):
    check_op(spec, i, layout)


# ------------------------------------------------------------------------ packed self-attention
@pytest.mark.parametrize("batch_first", [True, False], ids=["batch_first", "seq_first"])
@pytest.mark.parametrize("kind", [None, "causal", "float", "bool"])
def test_packed_self_attention_matches_general_path(batch_first, kind):
    ember.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    x = ember.randn(3, 5, 8, dtype=ember.float64, requires_grad=True)  # L != N, so each layout is checked
    L = x.shape[1] if batch_first else x.shape[0]
    mask = _mask(kind, L, ember.float64)
    kw = dict(need_weights=False, attn_mask=mask, is_causal=kind == "causal")
    fast = mha(x, x, x, **kw)[0]
    assert _uses_packed(fast)
    key = x.clone()  # not the same tensor: the general path (chunked projection, SDPA node)
    slow = mha(x, key, key, **kw)[0]
    assert not _uses_packed(slow)
    np.testing.assert_allclose(fast.detach().numpy(), slow.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = ember.randn(*fast.shape, dtype=ember.float64)
    params = [x, mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight]
    for a, b in zip(ember.autograd.grad(fast, params, g), ember.autograd.grad(slow, params, g)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch_first", [True, False], ids=["batch_first", "seq_first"])
@pytest.mark.parametrize("kind", [None, "causal", "float"])
def test_packed_self_attention_gradcheck_and_double_backward(batch_first, kind):
    ember.manual_seed(0)
    mha = nn.MultiheadAttention(6, 3, batch_first=batch_first).double()
    x = ember.randn(4, 4, 6, dtype=ember.float64, requires_grad=True)
    mask = _mask(kind, 4, ember.float64)

    def f(x, w_in, b_in, w_out):
        return F.multi_head_attention_forward(
            x if not batch_first else x.transpose(0, 1), x if not batch_first else x.transpose(0, 1),
            x if not batch_first else x.transpose(0, 1), 6, 3, w_in, b_in, None, None, False, 0.0, w_out,
            mha.out_proj.bias, need_weights=False, attn_mask=mask, is_causal=kind == "causal")[0]

    def g(x, w_in, b_in, w_out):  # the batch-first entry the module takes
        return _packed_self_attention(x, 3, w_in, b_in, w_out, mha.out_proj.bias, mask, kind == "causal", 0.0,
                                      batch_first=True)

    inputs = (x, mha.in_proj_weight.detach().requires_grad_(), mha.in_proj_bias.detach().requires_grad_(),
              mha.out_proj.weight.detach().requires_grad_())
    fn = g if batch_first else f
    assert _uses_packed(fn(*inputs))
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_packed_self_attention_dropout_draws_like_the_general_path():
    mha = nn.MultiheadAttention(8, 2, dropout=0.3, batch_first=True).double()
    x = ember.randn(2, 6, 8, dtype=ember.float64, requires_grad=True)
    ember.manual_seed(5)
    fast = mha(x, x, x, need_weights=False)[0]
    ember.manual_seed(5)
    slow = mha(x, x.clone(), x.clone(), need_weights=False)[0]
    assert _uses_packed(fast) and not _uses_packed(slow)
    np.testing.assert_allclose(fast.detach().numpy(), slow.detach().numpy(), rtol=1e-12, atol=1e-12)
    gf, = ember.autograd.grad(fast.sum(), [mha.in_proj_weight])
    gs, = ember.autograd.grad(slow.sum(), [mha.in_proj_weight])
    np.testing.assert_allclose(gf.numpy(), gs.numpy(), rtol=1e-10, atol=1e-12)


def test_packed_self_attention_float32_like_torch_encoder_layer():
    # the char-GPT block: pre-LN, GELU, causal, batch first; outputs and every parameter gradient
    torch = torch_or_skip()
    torch.manual_seed(0)
    kw = dict(dim_feedforward=64, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
    tl = torch.nn.TransformerEncoderLayer(32, 4, **kw)
    el = nn.TransformerEncoderLayer(32, 4, **kw)
    el.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tl.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 16, 32)).astype(np.float32)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(16)
    emask = nn.Transformer.generate_square_subsequent_mask(16)
    to, eo = tl(tx, src_mask=tmask, is_causal=True), el(ex, src_mask=emask, is_causal=True)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), atol=2e-5, rtol=1e-5)
    g = np.random.default_rng(1).standard_normal(to.shape).astype(np.float32)
    to.backward(torch.tensor(g))
    eo.backward(ember.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=2e-5, rtol=1e-4)
    tp = dict(tl.named_parameters())
    for name, p in el.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), atol=5e-5, rtol=1e-4, err_msg=name)


# ------------------------------------------------------------------------ softmax shift and fall-back
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["spread", "first_masked", "fully_masked_row", "nan"])
def test_attention_softmax_shift_falls_back_like_torch(case, dtype):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)).astype(dtype) for _ in range(3))
    mask = None
    if case == "spread":  # scores far above each row's first one: exp(s - s[0]) would overflow
        k[..., 1:, :] *= 60.0
        q *= 3.0
    elif case == "first_masked":
        mask = np.zeros((5, 5), dtype)
        mask[:, 0] = -np.inf
    elif case == "fully_masked_row":
        mask = np.zeros((5, 5), dtype)
        mask[2] = -np.inf
    else:
        q[0, 1, 2, 0] = np.nan
    em = None if mask is None else ember.tensor(mask)
    tm = None if mask is None else torch.tensor(mask)
    eq, ek, ev = (ember.tensor(a, requires_grad=True) for a in (q, k, v))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    eo = F.scaled_dot_product_attention(eq, ek, ev, attn_mask=em)
    to = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    eo_np, to_np = eo.detach().numpy(), to.detach().numpy()
    if case == "nan":  # a NaN score makes its row NaN (PyTorch's float32 CPU kernel differs here; float64 agrees)
        assert np.isnan(eo_np[0, 1, 2]).all()
        eo_np, to_np = np.delete(eo_np.reshape(-1, 4), 5 * 1 + 2, 0), np.delete(to_np.reshape(-1, 4), 5 * 1 + 2, 0)
    np.testing.assert_allclose(eo_np, to_np, rtol=tol, atol=tol)
    if case != "nan":
        g = rng.standard_normal(to.shape).astype(dtype)
        eg = ember.autograd.grad(eo, (eq, ek, ev), ember.tensor(g))
        tg = torch.autograd.grad(to, (tq, tk, tv), torch.tensor(g))
        for a, b in zip(eg, tg):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=10 * tol, atol=10 * tol)


def test_packed_self_attention_spread_scores_fall_back():
    ember.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True).double()
    with ember.no_grad():
        mha.in_proj_weight.mul_(40.0)  # scores spread by hundreds: the first-score shift overflows
    x = ember.randn(2, 6, 8, dtype=ember.float64)
    fast = mha(x, x, x, need_weights=False)[0]
    slow = mha(x, x.clone(), x.clone(), need_weights=False)[0]
    assert np.isfinite(fast.detach().numpy()).all()
    np.testing.assert_allclose(fast.detach().numpy(), slow.detach().numpy(), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------ layer norm as row products
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("shape,normalized", [((32, 16, 24), (24,)), ((4, 6, 5), (6, 5)), ((7,), (7,))])
def test_layer_norm_fast_path_like_torch(shape, normalized, affine):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
    w = rng.standard_normal(normalized).astype(np.float32) if affine != "none" else None
    b = rng.standard_normal(normalized).astype(np.float32) if affine == "both" else None
    g = rng.standard_normal(shape).astype(np.float32)
    ets = [ember.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    tts = [torch.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    pad = [None] * (3 - len(ets))
    eo = F.layer_norm(ets[0], normalized, *(ets[1:] + pad))
    to = torch.nn.functional.layer_norm(tts[0], normalized, *(tts[1:] + pad))
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), atol=2e-6, rtol=1e-5)
    for a, c in zip(ember.autograd.grad(eo, ets, ember.tensor(g)), torch.autograd.grad(to, tts, torch.tensor(g))):
        assert a.shape == c.shape
        np.testing.assert_allclose(a.numpy(), c.numpy(), atol=1e-4, rtol=1e-4)


def test_layer_norm_fast_path_noncontiguous_and_hooked_backward():
    # a transposed input and gradient; a hook on the node makes the engine use ``backward`` instead of
    # ``fast_backward``: both must give the same gradients
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((12, 10)), requires_grad=True)
    w = ember.tensor(rng.standard_normal(12), requires_grad=True)
    b = ember.tensor(rng.standard_normal(12), requires_grad=True)
    g = ember.tensor(rng.standard_normal((12, 10))).t()
    fast = ember.autograd.grad(F.layer_norm(x.t(), (12,), w, b), (x, w, b), g)
    y = F.layer_norm(x.t(), (12,), w, b)
    y.grad_fn.register_hook(lambda grads_in, grads_out: None)
    hooked = ember.autograd.grad(y, (x, w, b), g)
    for a, c in zip(fast, hooked):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, w, b: F.layer_norm(x.t(), (12,), w, b), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x.t(), (12,), w, b), (x, w, b))


def test_layer_norm_half_takes_the_general_path():
    x = ember.randn(4, 8).half()
    y = F.layer_norm(x, (8,))
    assert y.dtype is ember.float16
    ref = x.float()
    ref = (ref - ref.mean(-1, keepdim=True)) / (ref.var(-1, unbiased=False, keepdim=True) + 1e-5).sqrt()
    np.testing.assert_allclose(y.float().numpy(), ref.numpy(), atol=5e-3)


# ------------------------------------------------------------------------ float32 GELU
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_gelu_like_torch_over_the_whole_range(dtype):
    torch = torch_or_skip()
    with np.errstate(over="ignore"):  # +-1e30 is inf in float16
        x = np.concatenate([np.linspace(-12, 12, 20001), [0.0, -0.0, 1e-30, -1e-30, 1e30, -1e30, 40.0, -40.0,
                                                          np.inf, -np.inf, np.nan]]).astype(dtype)
    g = np.random.default_rng(0).standard_normal(x.shape).astype(dtype)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with np.errstate(all="ignore"):
        ey, ty = F.gelu(ex), torch.nn.functional.gelu(tx)
        eg, = ember.autograd.grad(ey, ex, ember.tensor(g))
        tg, = torch.autograd.grad(ty, tx, torch.tensor(g))
    assert ey.dtype == ex.dtype and eg.dtype == ex.dtype
    tol = {np.float32: 1e-6, np.float16: 2e-3, np.float64: 1e-12}[dtype]
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), atol=tol, rtol=tol, equal_nan=True)
    np.testing.assert_allclose(eg.numpy(), tg.numpy(), atol=tol, rtol=tol, equal_nan=True)


def test_gelu_float32_noncontiguous_zero_dim_no_grad_and_hooked_backward():
    torch = torch_or_skip()
    a = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    np.testing.assert_allclose(F.gelu(ember.tensor(a).t()).numpy(),
                               torch.nn.functional.gelu(torch.tensor(a).t()).numpy(), atol=1e-6)
    assert F.gelu(ember.tensor(np.float32(0.7))).shape == ()
    np.testing.assert_allclose(F.gelu(ember.tensor(np.float32(0.7))).item(),
                               torch.nn.functional.gelu(torch.tensor(0.7)).item(), atol=1e-6)
    with ember.no_grad():
        np.testing.assert_allclose(F.gelu(ember.tensor(a)).numpy(), torch.nn.functional.gelu(torch.tensor(a)).numpy(),
                                   atol=1e-6)
    x = ember.tensor(a, requires_grad=True)
    fast, = ember.autograd.grad(F.gelu(x).sum(), x)
    y = F.gelu(x)
    y.grad_fn.register_hook(lambda grads_in, grads_out: None)  # the engine calls ``backward`` (ember ops)
    hooked, = ember.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(fast.numpy(), hooked.numpy(), atol=1e-6)
    second, = ember.autograd.grad(ember.autograd.grad(F.gelu(x).sum(), x, create_graph=True)[0].sum(), x)
    xs = torch.tensor(a, requires_grad=True)
    tsecond, = torch.autograd.grad(torch.autograd.grad(torch.nn.functional.gelu(xs).sum(), xs,
                                                       create_graph=True)[0].sum(), xs)
    np.testing.assert_allclose(second.numpy(), tsecond.numpy(), atol=1e-5)


@pytest.mark.parametrize("L", [32, 37, 64, 70])
@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_packed_causal_row_blocks_match_the_general_path(L, dropout):
    # causal self-attention of 32+ positions skips the fully masked score block (two row blocks)
    mha = nn.MultiheadAttention(8, 2, dropout=dropout, batch_first=True).double()
    x = ember.randn(2, L, 8, dtype=ember.float64, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(L, dtype=ember.float64)
    kw = dict(need_weights=False, attn_mask=mask, is_causal=True)
    ember.manual_seed(3)
    fast = mha(x, x, x, **kw)[0]
    ember.manual_seed(3)
    slow = mha(x, x.clone(), x.clone(), **kw)[0]
    assert _uses_packed(fast) and not _uses_packed(slow)
    np.testing.assert_allclose(fast.detach().numpy(), slow.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = ember.randn(*fast.shape, dtype=ember.float64)
    params = [x, mha.in_proj_weight, mha.in_proj_bias]
    for a, b in zip(ember.autograd.grad(fast, params, g), ember.autograd.grad(slow, params, g)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_packed_causal_row_blocks_gradcheck_and_double_backward():
    ember.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=True).double()
    x = ember.randn(1, 33, 4, dtype=ember.float64, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(33, dtype=ember.float64)

    def f(x):
        return mha(x, x, x, need_weights=False, attn_mask=mask, is_causal=True)[0]

    assert _uses_packed(f(x))
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))
