"""Attention: ``scaled_dot_product_attention`` through the harness and against PyTorch; ``MultiheadAttention``
and ``multi_head_attention_forward`` against PyTorch (outputs, weights, input and parameter gradients), init,
state_dict layout, dropout statistics and error types."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from harness import OpSpec, cases, check_op
from parity import assert_parity, assert_same_error, torch_or_skip


# ------------------------------------------------------------------------------------ reference
def _sdpa_ref(q, k, v, mask=None, causal=False, scale=None):
    """float64 NumPy attention; rows that may attend to nothing give zeros (PyTorch's SDPA)."""
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        mask = np.tril(np.ones((L, S), bool))
    if mask is not None:
        s = s + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask)
    if S == 0:
        return np.zeros(s.shape[:-1] + (v.shape[-1],))
    m = s.max(-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(s - m)
    d = e.sum(-1, keepdims=True)
    p = e / np.where(d == 0, 1.0, d)
    return p @ v


def _with_bool_mask(mask_shape, fully_masked_row=None):
    def make(rng, shapes):
        arrs = [rng.uniform(-2, 2, s) for s in shapes[:3]]
        m = rng.random(mask_shape) < 0.7
        m[..., 0] = True  # every row may attend somewhere ...
        if fully_masked_row is not None:
            m[..., fully_masked_row, :] = False  # ... except this one
        return arrs + [m]
    return make


def _sdpa(**kw):
    return lambda q, k, v, *m: F.scaled_dot_product_attention(q, k, v, *m, **kw)


SDPA = [
    OpSpec("sdpa", _sdpa(), _sdpa_ref,
           [((2, 3, 4), (2, 5, 4), (2, 5, 3)), ((3, 4), (5, 4), (5, 2)), ((1, 2), (1, 2), (1, 1))]),
    OpSpec("sdpa_broadcast", _sdpa(), _sdpa_ref,
           [((2, 2, 3, 4), (2, 5, 4), (5, 3)), ((2, 1, 3, 4), (1, 3, 5, 4), (1, 1, 5, 2))]),
    OpSpec("sdpa_empty", _sdpa(), _sdpa_ref, [((2, 0, 4), (2, 5, 4), (2, 5, 3)), ((2, 3, 4), (2, 0, 4), (2, 0, 3))]),
    OpSpec("sdpa_float_mask", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
           lambda q, k, v, m: _sdpa_ref(q, k, v, m),
           [((2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)), ((2, 3, 4), (2, 5, 4), (2, 5, 3), (2, 1, 5))]),
    OpSpec("sdpa_bool_mask", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
           lambda q, k, v, m: _sdpa_ref(q, k, v, m), [((2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5))],
           make=_with_bool_mask((3, 5)), nondiff=(3,)),
    OpSpec("sdpa_fully_masked_row", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
           lambda q, k, v, m: _sdpa_ref(q, k, v, m), [((2, 3, 4), (2, 5, 4), (2, 5, 3), (2, 3, 5))],
           make=_with_bool_mask((2, 3, 5), fully_masked_row=1), nondiff=(3,)),
    OpSpec("sdpa_causal", _sdpa(is_causal=True), lambda q, k, v: _sdpa_ref(q, k, v, causal=True),
           [((2, 4, 3), (2, 4, 3), (2, 4, 2)), ((3, 3), (5, 3), (5, 2)), ((5, 3), (3, 3), (3, 2))]),
    OpSpec("sdpa_scale", _sdpa(scale=0.3), lambda q, k, v: _sdpa_ref(q, k, v, scale=0.3),
           [((2, 3, 4), (2, 5, 4), (2, 5, 3))]),
    OpSpec("sdpa_gqa", _sdpa(enable_gqa=True),
           lambda q, k, v: _sdpa_ref(q, np.repeat(k, 2, axis=-3), np.repeat(v, 2, axis=-3)),
           [((1, 4, 3, 2), (1, 2, 5, 2), (1, 2, 5, 3))]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SDPA))
def test_sdpa_harness(spec, i, layout):
    check_op(spec, i, layout)


# ------------------------------------------------------------------------------------ sdpa vs PyTorch
SDPA_PARITY = [
    dict(shapes=[(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)]),
    dict(shapes=[(2, 3, 4, 8), (3, 6, 8), (6, 5)]),
    dict(shapes=[(4, 8), (6, 8), (6, 5)], kw=dict(is_causal=True)),
    dict(shapes=[(2, 6, 6, 8), (2, 6, 6, 8), (2, 6, 6, 5)], kw=dict(is_causal=True)),
    dict(shapes=[(2, 4, 8), (2, 6, 8), (2, 6, 5)], mask="bool"),
    dict(shapes=[(2, 4, 8), (2, 6, 8), (2, 6, 5)], mask="bool_full_row"),
    dict(shapes=[(2, 4, 8), (2, 6, 8), (2, 6, 5)], mask="float"),
    dict(shapes=[(2, 6, 4, 8), (2, 2, 6, 8), (2, 2, 6, 5)], kw=dict(enable_gqa=True, scale=0.2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", SDPA_PARITY,
                         ids=lambda c: "-".join(f"{k}" for k in c.get("kw", {})) + c.get("mask", ""))
def test_sdpa_parity(case, dtype):
    torch = torch_or_skip()
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(dtype) for s in case["shapes"]]
    kw = case.get("kw", {})
    L, S = case["shapes"][0][-2], case["shapes"][1][-2]
    if case.get("mask") == "float":
        arrays.append(rng.standard_normal((L, S)).astype(dtype))
    elif case.get("mask"):
        m = rng.random((2, L, S)) < 0.6
        m[..., 0] = True
        if case["mask"] == "bool_full_row":
            m[1, 2] = False
        arrays.append(m)
    tol = dict(atol=1e-5, rtol=1e-4) if dtype == np.float32 else dict(atol=1e-11, rtol=1e-9)
    assert_parity(lambda *a: F.scaled_dot_product_attention(*a, **kw),
                  lambda *a: torch.nn.functional.scaled_dot_product_attention(*a, **kw), arrays, **tol)


def test_sdpa_dropout_zero_is_exact_and_eval_like():
    q, k, v = ember.randn(2, 3, 4, 8), ember.randn(2, 3, 5, 8), ember.randn(2, 3, 5, 6)
    a = F.scaled_dot_product_attention(q, k, v)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
    assert np.array_equal(a.numpy(), b.numpy())


def test_sdpa_dropout_statistics():
    # value = identity makes the output the dropped attention matrix itself: zeros with probability p,
    # the rest scaled by 1/(1-p)
    p = 0.3
    q, k = ember.randn(64, 16, 8, dtype=ember.float64), ember.randn(64, 16, 8, dtype=ember.float64)
    eye = ember.eye(16, dtype=ember.float64)
    ref = F.scaled_dot_product_attention(q, k, eye).numpy()
    got = F.scaled_dot_product_attention(q, k, eye, dropout_p=p).numpy()
    dropped = got == 0
    assert abs(dropped.mean() - p) < 0.02
    np.testing.assert_allclose(got[~dropped], ref[~dropped] / (1 - p), rtol=1e-12)
    # the expectation is unchanged
    outs = [F.scaled_dot_product_attention(q[:4], k[:4], eye, dropout_p=0.5).numpy() for _ in range(200)]
    ratio = np.mean(outs, 0) / ref[:4]  # each entry: mean 1, std 1/sqrt(200) for p = 0.5
    assert abs(ratio.mean() - 1) < 0.01 and np.abs(ratio - 1).max() < 5 / math.sqrt(200)
    # p == 1 drops everything
    assert not F.scaled_dot_product_attention(q, k, eye, dropout_p=1.0).numpy().any()


def test_sdpa_dropout_gradient_uses_the_same_mask():
    ember.manual_seed(3)
    q = ember.randn(2, 4, 8, dtype=ember.float64, requires_grad=True)
    k, v = ember.randn(2, 5, 8, dtype=ember.float64), ember.randn(2, 5, 3, dtype=ember.float64)
    # the value gradient is (P * mask)^T @ g; with g = ones it is the column sums of the dropped matrix
    v.requires_grad_(True)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    out.sum().backward()
    ember.manual_seed(3)
    _ = ember.randn(2, 4, 8, dtype=ember.float64)  # replay the draws made before the mask
    _ = ember.randn(2, 5, 8, dtype=ember.float64), ember.randn(2, 5, 3, dtype=ember.float64)
    dropped = F.scaled_dot_product_attention(q.detach(), k, ember.eye(5, dtype=ember.float64), dropout_p=0.4)
    np.testing.assert_allclose(v.grad.numpy(), np.repeat(dropped.numpy().sum(1)[..., None], 3, -1), rtol=1e-12)


def test_sdpa_grad_fn_and_float32_dtype():
    q = ember.randn(2, 3, 4, requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q)
    assert out.dtype is ember.float32 and out.grad_fn is not None
    # a float32 mask is accepted with float64 inputs (as PyTorch)
    q64 = q.detach().double()
    assert F.scaled_dot_product_attention(q64, q64, q64, attn_mask=ember.zeros(3, 3)).dtype is ember.float64


# ------------------------------------------------------------------------------------ MultiheadAttention
def _copy_to_ember(tm, em, dtype):
    em.to(dtype)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _module_parity(make, call_kw, shapes, masks=None, dtype=np.float64, train=False, same=(), weights_grad=True):
    """Build the module in both, copy weights, run, compare output/weights/every gradient."""
    torch = torch_or_skip()
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    tm = make(torch.nn).to(tdt)
    em = make(nn)
    _copy_to_ember(tm, em, ember.float64 if dtype == np.float64 else ember.float32)
    assert list(em.state_dict()) == list(tm.state_dict())
    tm.train(train)
    em.train(train)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    for i, j in same:  # self-attention: the very same tensor object
        e_in[j], t_in[j] = e_in[i], t_in[i]
    masks = masks or {}
    e_m = {k: ember.tensor(v) for k, v in masks.items()}
    t_m = {k: torch.tensor(v) for k, v in masks.items()}
    e_out, t_out = em(*e_in, **e_m, **call_kw), tm(*t_in, **t_m, **call_kw)
    e_out = list(e_out) if isinstance(e_out, tuple) else [e_out]
    t_out = list(t_out) if isinstance(t_out, tuple) else [t_out]
    tol = dict(atol=2e-5, rtol=1e-4) if dtype == np.float32 else dict(atol=1e-10, rtol=1e-8)
    e_loss, t_loss = 0, 0
    for k, (e, t) in enumerate(zip(e_out, t_out)):
        assert (e is None) == (t is None)
        if t is None:
            continue
        assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype).replace("torch", "ember")
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), equal_nan=True, **tol)
        if k > 0 and not weights_grad:
            continue
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        e_loss = e_loss + (e * ember.tensor(w)).sum()
        t_loss = t_loss + (t * torch.tensor(w)).sum()
    e_loss.backward()
    t_loss.backward()
    for e, t in zip(e_in, t_in):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), equal_nan=True, **tol)
    tp = dict(tm.named_parameters())
    for name, p in em.named_parameters():
        assert (p.grad is None) == (tp[name].grad is None), name
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), equal_nan=True, err_msg=name, **tol)
    return em, tm


def _causal_bool(n):
    return np.triu(np.ones((n, n), bool), 1)


def _kpm(n, s, seed=0):
    m = np.random.default_rng(seed).random((n, s)) < 0.3
    m[:, 0] = False
    return m


MHA_CASES = {
    "self": (dict(embed_dim=8, num_heads=2), {}, [(5, 3, 8)] * 3, None, ((0, 1), (0, 2))),
    "cross": (dict(embed_dim=8, num_heads=2), {}, [(5, 3, 8), (6, 3, 8), (6, 3, 8)], None, ()),
    "kv_same": (dict(embed_dim=8, num_heads=4), {}, [(5, 3, 8), (6, 3, 8), (6, 3, 8)], None, ((1, 2),)),
    "batch_first_per_head": (dict(embed_dim=8, num_heads=2, batch_first=True), {"average_attn_weights": False},
                             [(3, 5, 8), (3, 6, 8), (3, 6, 8)], None, ()),
    "kdim_vdim": (dict(embed_dim=8, num_heads=2, kdim=4, vdim=6), {}, [(5, 3, 8), (6, 3, 4), (6, 3, 6)], None, ()),
    "bias_kv_zero_attn": (dict(embed_dim=8, num_heads=2, add_bias_kv=True, add_zero_attn=True), {},
                          [(5, 3, 8), (6, 3, 8), (6, 3, 8)],
                          {"attn_mask": np.random.default_rng(2).standard_normal((5, 6)),
                           "key_padding_mask": _kpm(3, 6)}, ()),
    "no_bias": (dict(embed_dim=8, num_heads=2, bias=False), {}, [(5, 3, 8)] * 3, None, ()),
    "bool_causal_no_weights": (dict(embed_dim=8, num_heads=2), {"need_weights": False}, [(5, 3, 8)] * 3,
                               {"attn_mask": _causal_bool(5)}, ((0, 1), (0, 2))),
    "is_causal_hint": (dict(embed_dim=8, num_heads=2), {"need_weights": False, "is_causal": True}, [(5, 3, 8)] * 3,
                       {"attn_mask": _causal_bool(5)}, ((0, 1), (0, 2))),
    "kpm_and_mask": (dict(embed_dim=8, num_heads=2, batch_first=True), {}, [(3, 5, 8)] * 3,
                     {"attn_mask": _causal_bool(5), "key_padding_mask": _kpm(3, 5)}, ((0, 1), (0, 2))),
    "kpm_no_weights": (dict(embed_dim=8, num_heads=2), {"need_weights": False}, [(5, 3, 8), (6, 3, 8), (6, 3, 8)],
                       {"key_padding_mask": _kpm(3, 6)}, ()),
    "mask_3d_float": (dict(embed_dim=8, num_heads=2), {}, [(5, 3, 8), (4, 3, 8), (4, 3, 8)],
                      {"attn_mask": np.random.default_rng(3).standard_normal((6, 5, 4))}, ()),
    "mask_3d_no_weights": (dict(embed_dim=8, num_heads=2), {"need_weights": False}, [(5, 3, 8), (4, 3, 8), (4, 3, 8)],
                           {"attn_mask": np.random.default_rng(3).standard_normal((6, 5, 4))}, ()),
    "unbatched": (dict(embed_dim=8, num_heads=2), {}, [(5, 8), (6, 8), (6, 8)],
                  {"key_padding_mask": np.array([0, 0, 1, 0, 0, 1], bool)}, ()),
    "unbatched_3d_mask": (dict(embed_dim=8, num_heads=2, kdim=3, vdim=3), {"need_weights": False},
                          [(5, 8), (6, 3), (6, 3)], {"attn_mask": np.random.default_rng(4).random((2, 5, 6)) < 0.3},
                          ()),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(MHA_CASES))
def test_multihead_attention_parity(name, dtype):
    kwargs, call_kw, shapes, masks, same = MHA_CASES[name]
    if masks and "attn_mask" in masks and masks["attn_mask"].dtype.kind == "f":
        masks = dict(masks, attn_mask=masks["attn_mask"].astype(dtype))
    _module_parity(lambda m: m.MultiheadAttention(**kwargs), call_kw, shapes, masks, dtype, same=same)


def test_multihead_attention_fully_masked_rows_like_torch():
    # with weights: a plain softmax gives NaN rows; without: the fused kernel gives zero rows
    torch = torch_or_skip()
    m = np.zeros((4, 4), bool)
    m[1] = True
    for need in (True, False):
        torch.manual_seed(0)
        tm, em = torch.nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2)
        _copy_to_ember(tm, em, ember.float32)
        x = np.random.default_rng(0).standard_normal((4, 2, 8)).astype(np.float32)
        eo, _ = em(ember.tensor(x), ember.tensor(x), ember.tensor(x), attn_mask=ember.tensor(m), need_weights=need)
        to, _ = tm(torch.tensor(x), torch.tensor(x), torch.tensor(x), attn_mask=torch.tensor(m), need_weights=need)
        assert np.isnan(eo.detach().numpy()[1]).all() == need
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), atol=1e-5, equal_nan=True)


def test_multihead_attention_eval_dropout_and_train_statistics():
    torch_or_skip()
    em = nn.MultiheadAttention(16, 2, dropout=0.4, batch_first=True).double()
    x = ember.randn(8, 12, 16, dtype=ember.float64)
    em.eval()
    out_a, w_eval = em(x, x, x, average_attn_weights=False)
    out_b, _ = em(x, x, x, average_attn_weights=False)
    assert np.array_equal(out_a.detach().numpy(), out_b.detach().numpy())  # eval: no dropout
    em.train()
    _, w = em(x, x, x, average_attn_weights=False)
    w, w_eval = w.detach().numpy(), w_eval.detach().numpy()
    dropped = w == 0
    assert abs(dropped.mean() - 0.4) < 0.03
    np.testing.assert_allclose(w[~dropped], w_eval[~dropped] / 0.6, rtol=1e-12)
    # need_weights=False goes through sdpa's dropout: still random in train mode
    o1, _ = em(x, x, x, need_weights=False)
    o2, _ = em(x, x, x, need_weights=False)
    assert not np.allclose(o1.detach().numpy(), o2.detach().numpy())


def test_multihead_attention_state_dict_repr_and_init():
    torch = torch_or_skip()
    for kw in (dict(), dict(bias=False), dict(kdim=4, vdim=6, add_bias_kv=True), dict(add_bias_kv=True)):
        tm, em = torch.nn.MultiheadAttention(8, 2, **kw), nn.MultiheadAttention(8, 2, **kw)
        assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
        assert repr(em) == repr(tm)
    em = nn.MultiheadAttention(256, 4, add_bias_kv=True)
    w = em.in_proj_weight.detach().numpy()
    bound = math.sqrt(6 / (256 + 3 * 256))  # xavier_uniform on (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.var() - bound ** 2 / 3) < 0.05 * bound ** 2 / 3
    assert not em.in_proj_bias.detach().numpy().any() and not em.out_proj.bias.detach().numpy().any()
    ow = em.out_proj.weight.detach().numpy()  # Linear's kaiming-uniform default
    assert np.abs(ow).max() <= 1 / math.sqrt(256)
    assert type(em.out_proj).__name__ == "NonDynamicallyQuantizableLinear" and isinstance(em.out_proj, nn.Linear)
    assert em.bias_k.shape == (1, 1, 256) and em.bias_k.detach().numpy().std() > 0
    em = nn.MultiheadAttention(8, 2)
    assert em.bias_k is None and em.head_dim == 4 and em._qkv_same_embed_dim


def test_functional_mha_static_kv_parity():
    torch = torch_or_skip()
    rng = np.random.default_rng(5)
    L, N, E, H, S = 4, 2, 8, 2, 6
    arrs = dict(q=rng.standard_normal((L, N, E)), k=rng.standard_normal((S, N, E)),
                w=rng.standard_normal((3 * E, E)), b=rng.standard_normal(3 * E), ow=rng.standard_normal((E, E)),
                ob=rng.standard_normal(E), sk=rng.standard_normal((N * H, S, E // H)),
                sv=rng.standard_normal((N * H, S, E // H)))

    def run(lib, F_, t):
        x = {k: t(v) for k, v in arrs.items()}
        return F_.multi_head_attention_forward(x["q"], x["k"], x["k"], E, H, x["w"], x["b"], None, None, False, 0.0,
                                               x["ow"], x["ob"], static_k=x["sk"], static_v=x["sv"],
                                               average_attn_weights=False)
    eo, ew = run(ember, F, ember.tensor)
    to, tw = run(torch, torch.nn.functional, torch.tensor)
    np.testing.assert_allclose(eo.numpy(), to.numpy(), atol=1e-12)
    np.testing.assert_allclose(ew.numpy(), tw.numpy(), atol=1e-12)


# ------------------------------------------------------------------------------------ errors
def _qkv(lib, *shapes, dtype=None):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.standard_normal(s).astype(dtype or np.float32)) for s in shapes]


SDPA_ERRORS = {
    "causal_and_mask": (((2, 4, 8), (2, 5, 8), (2, 5, 6)), lambda lib: dict(attn_mask=lib.ones(4, 5).bool(),
                                                                            is_causal=True)),
    "head_dim_mismatch": (((2, 4, 8), (2, 5, 7), (2, 5, 6)), lambda lib: {}),
    "kv_length_mismatch": (((2, 4, 8), (2, 5, 8), (2, 4, 6)), lambda lib: {}),
    "batch_mismatch": (((2, 4, 8), (2, 5, 8), (3, 5, 6)), lambda lib: {}),
    "one_dim": (((8,), (8,), (6,)), lambda lib: {}),
    "mask_shape": (((2, 4, 8), (2, 5, 8), (2, 5, 6)), lambda lib: dict(attn_mask=lib.zeros(3, 5))),
    "mask_grows_batch": (((2, 4, 8), (2, 5, 8), (2, 5, 6)), lambda lib: dict(attn_mask=lib.zeros(7, 2, 4, 5))),
    "mask_int_dtype": (((2, 4, 8), (2, 5, 8), (2, 5, 6)), lambda lib: dict(attn_mask=lib.zeros(4, 5,
                                                                                               dtype=lib.int64))),
    "mask_double_for_float": (((2, 4, 8), (2, 5, 8), (2, 5, 6)),
                              lambda lib: dict(attn_mask=lib.zeros(4, 5, dtype=lib.float64))),
    "gqa_indivisible": (((2, 6, 4, 8), (2, 4, 5, 8), (2, 4, 5, 6)), lambda lib: dict(enable_gqa=True)),
    "heads_without_gqa": (((2, 6, 4, 8), (2, 2, 5, 8), (2, 2, 5, 6)), lambda lib: {}),
    "dropout_above_one": (((2, 4, 8), (2, 5, 8), (2, 5, 6)), lambda lib: dict(dropout_p=1.5)),
    "mask_not_tensor": (((2, 4, 8), (2, 5, 8), (2, 5, 6)), lambda lib: dict(attn_mask=[1.0])),
}


@pytest.mark.parametrize("name", list(SDPA_ERRORS))
def test_sdpa_errors(name):
    torch = torch_or_skip()
    shapes, kw = SDPA_ERRORS[name]
    assert_same_error(lambda: F.scaled_dot_product_attention(*_qkv(ember, *shapes), **kw(ember)),
                      lambda: torch.nn.functional.scaled_dot_product_attention(*_qkv(torch, *shapes), **kw(torch)))


def test_sdpa_dtype_errors():
    torch = torch_or_skip()
    q32, k64 = ember.randn(2, 4, 8), ember.randn(2, 5, 8, dtype=ember.float64)
    tq32, tk64 = torch.randn(2, 4, 8), torch.randn(2, 5, 8, dtype=torch.float64)
    assert_same_error(lambda: F.scaled_dot_product_attention(q32, k64, k64),
                      lambda: torch.nn.functional.scaled_dot_product_attention(tq32, tk64, tk64))
    qi, ti = ember.ones(2, 4, 8, dtype=ember.int32), torch.ones(2, 4, 8, dtype=torch.int32)
    assert_same_error(lambda: F.scaled_dot_product_attention(qi, qi, qi),
                      lambda: torch.nn.functional.scaled_dot_product_attention(ti, ti, ti))
    assert_same_error(lambda: F.scaled_dot_product_attention(np.ones((2, 3)), q32, q32),
                      lambda: torch.nn.functional.scaled_dot_product_attention(np.ones((2, 3)), tq32, tq32))


MHA_ERRORS = {
    "not_divisible": (lambda lib: lib.nn.MultiheadAttention(10, 3), None),
    "zero_heads": (lambda lib: lib.nn.MultiheadAttention(8, 0), None),
    "negative_dim": (lambda lib: lib.nn.MultiheadAttention(-8, 2), None),
    "mask_2d_shape": (lambda lib: lib.nn.MultiheadAttention(8, 2),
                      lambda lib, x: dict(attn_mask=lib.zeros(5, 4))),
    "mask_3d_shape": (lambda lib: lib.nn.MultiheadAttention(8, 2),
                      lambda lib, x: dict(attn_mask=lib.zeros(4, 5, 5))),
    "mask_4d": (lambda lib: lib.nn.MultiheadAttention(8, 2),
                lambda lib, x: dict(attn_mask=lib.zeros(1, 6, 5, 5))),
    "kpm_shape": (lambda lib: lib.nn.MultiheadAttention(8, 2),
                  lambda lib, x: dict(key_padding_mask=lib.zeros(3, 4).bool())),
    "kpm_rank": (lambda lib: lib.nn.MultiheadAttention(8, 2),
                 lambda lib, x: dict(key_padding_mask=lib.zeros(5).bool())),
    "mask_int": (lambda lib: lib.nn.MultiheadAttention(8, 2),
                 lambda lib, x: dict(attn_mask=lib.zeros(5, 5, dtype=lib.int64))),
    "causal_without_mask": (lambda lib: lib.nn.MultiheadAttention(8, 2),
                            lambda lib, x: dict(is_causal=True, need_weights=False)),
    "weights_mask_dtype": (lambda lib: lib.nn.MultiheadAttention(8, 2),
                           lambda lib, x: dict(attn_mask=lib.zeros(5, 5, dtype=lib.float64))),
    "embed_dim_mismatch": (lambda lib: lib.nn.MultiheadAttention(6, 2), lambda lib, x: {}),
}


@pytest.mark.parametrize("name", list(MHA_ERRORS))
def test_multihead_attention_errors(name):
    torch = torch_or_skip()
    make, call = MHA_ERRORS[name]

    def go(lib):
        m = make(lib)
        if call is not None:
            x = lib.tensor(np.random.default_rng(0).standard_normal((5, 3, 8)).astype(np.float32))
            m(x, x, x, **call(lib, x))
    assert_same_error(lambda: go(ember), lambda: go(torch))


def test_multihead_attention_input_rank_errors():
    torch = torch_or_skip()

    def go(lib, qs, ks):
        m = lib.nn.MultiheadAttention(8, 2)
        q, k = lib.zeros(*qs), lib.zeros(*ks)
        m(q, k, k)
    for qs, ks in (((2, 5, 3, 8), (2, 5, 3, 8)), ((5, 3, 8), (5, 8)), ((5, 8), (5, 3, 8))):
        assert_same_error(lambda: go(ember, qs, ks), lambda: go(torch, qs, ks))
    # key and value of different shapes with a packed projection
    assert_same_error(lambda: nn.MultiheadAttention(8, 2)(ember.zeros(5, 3, 8), ember.zeros(6, 3, 8),
                                                          ember.zeros(7, 3, 8)),
                      lambda: torch.nn.MultiheadAttention(8, 2)(torch.zeros(5, 3, 8), torch.zeros(6, 3, 8),
                                                                torch.zeros(7, 3, 8)))


def test_merge_masks_like_torch():
    torch = torch_or_skip()
    am = np.triu(np.ones((5, 5), bool), 1)
    kpm = np.zeros((3, 5), bool)
    kpm[0, 4] = True
    em, tm = nn.MultiheadAttention(8, 2, batch_first=True), torch.nn.MultiheadAttention(8, 2, batch_first=True)
    for a, k in ((am, None), (None, kpm), (am, kpm), (None, None)):
        e, et = em.merge_masks(None if a is None else ember.tensor(a), None if k is None else ember.tensor(k),
                               ember.zeros(3, 5, 8))
        t, tt = tm.merge_masks(None if a is None else torch.tensor(a), None if k is None else torch.tensor(k),
                               torch.zeros(3, 5, 8))
        assert et == tt and (e is None) == (t is None)
        if t is not None:
            np.testing.assert_array_equal(e.numpy(), t.numpy())
