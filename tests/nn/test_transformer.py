"""Transformer layers, stacks and the full model against PyTorch: outputs and gradients w.r.t. inputs and every
parameter (weights copied), masks, norm_first, activations, batch_first, unbatched input, state_dict layout,
init, dropout, warnings and error types."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from parity import assert_same_error, torch_or_skip

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched")


def _module_parity(make, shapes, call_kw=None, masks=None, dtype=np.float64, train=False, seed=0):
    """Build the module in both libraries, copy torch's weights, compare output and all gradients."""
    torch = torch_or_skip()
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # enable_nested_tensor notes
        tm, em = make(torch), make(ember)
    tm = tm.to(torch.float64 if dtype == np.float64 else torch.float32)
    em = em.to(ember.float64 if dtype == np.float64 else ember.float32)
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    tm.train(train)
    em.train(train)
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    masks = masks or {}
    e_m = {k: ember.tensor(v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in masks.items()}
    t_m = {k: torch.tensor(v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in masks.items()}
    call_kw = call_kw or {}
    e_out, t_out = em(*e_in, **e_m, **call_kw), tm(*t_in, **t_m, **call_kw)
    tol = dict(atol=5e-5, rtol=1e-4) if dtype == np.float32 else dict(atol=1e-10, rtol=1e-8)
    assert tuple(e_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), **tol)
    w = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
    (e_out * ember.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    for e, t in zip(e_in, t_in):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **tol)
    tp = dict(tm.named_parameters())
    names = [n for n, _ in em.named_parameters()]
    assert names == list(tp)
    for name, p in em.named_parameters():
        assert (p.grad is None) == (tp[name].grad is None), name
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), err_msg=name, **tol)
    return em, tm


def _causal_float(n):
    return np.triu(np.full((n, n), -np.inf), 1)


def _causal_bool(n):
    return np.triu(np.ones((n, n), bool), 1)


def _kpm(n, s, seed=0):
    m = np.random.default_rng(seed).random((n, s)) < 0.3
    m[:, 0] = False
    return m


def _act(lib, name):
    return {"relu": "relu", "gelu": "gelu", "fn_gelu": lib.nn.functional.gelu, "module_gelu": lib.nn.GELU(),
            "fn_silu": lib.nn.functional.silu}[name]


ENC = {
    "post_ln_relu": (dict(), [(6, 2, 8)], {}, None),
    "pre_ln_gelu": (dict(norm_first=True, activation="gelu"), [(6, 2, 8)], {}, None),
    "batch_first_masks": (dict(batch_first=True), [(2, 6, 8)], {},
                          {"src_mask": _causal_float(6), "src_key_padding_mask": _kpm(2, 6)}),
    "bool_mask_callable_act": (dict(activation="fn_silu"), [(6, 2, 8)], {}, {"src_mask": _causal_bool(6)}),
    "module_act_is_causal": (dict(activation="module_gelu"), [(6, 2, 8)], {"is_causal": True},
                             {"src_mask": _causal_float(6)}),
    "no_bias": (dict(bias=False, norm_first=True), [(6, 2, 8)], {}, {"src_key_padding_mask": _kpm(2, 6)}),
    "unbatched": (dict(), [(6, 8)], {}, {"src_mask": _causal_bool(6)}),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(ENC))
def test_encoder_layer_parity(name, dtype):
    kw, shapes, call_kw, masks = ENC[name]

    def make(lib):
        k = dict(kw)
        if "activation" in k:
            k["activation"] = _act(lib, k["activation"])
        return lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, **k)
    _module_parity(make, shapes, call_kw, masks, dtype)


DEC = {
    "post_ln": (dict(), [(5, 2, 8), (6, 2, 8)], {}, {"tgt_mask": _causal_float(5)}),
    "pre_ln_gelu_all_masks": (dict(norm_first=True, activation="gelu", batch_first=True), [(2, 5, 8), (2, 6, 8)], {},
                              {"tgt_mask": _causal_bool(5),
                               "memory_mask": np.random.default_rng(1).random((5, 6)) < 0.2,
                               "tgt_key_padding_mask": _kpm(2, 5), "memory_key_padding_mask": _kpm(2, 6, 1)}),
    "tgt_is_causal": (dict(), [(5, 2, 8), (6, 2, 8)], {"tgt_is_causal": True}, {"tgt_mask": _causal_float(5)}),
    "unbatched": (dict(), [(5, 8), (6, 8)], {}, {"tgt_mask": _causal_float(5)}),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(DEC))
def test_decoder_layer_parity(name, dtype):
    kw, shapes, call_kw, masks = DEC[name]
    _module_parity(lambda lib: lib.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, **kw), shapes, call_kw,
                   masks, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_encoder_stack_parity(dtype):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        return lib.nn.TransformerEncoder(layer, 3, norm=lib.nn.LayerNorm(8))
    em, _ = _module_parity(make, [(2, 6, 8)], {}, {"mask": _causal_float(6), "src_key_padding_mask": _kpm(2, 6)},
                           dtype, train=True)
    # the layers are independent deep copies
    assert em.layers[0].linear1.weight is not em.layers[1].linear1.weight
    assert em.layers[0].self_attn.out_proj is not em.layers[2].self_attn.out_proj


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_decoder_stack_parity(dtype):
    def make(lib):
        return lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(8, 2, 16), 2, norm=lib.nn.LayerNorm(8))
    _module_parity(make, [(5, 2, 8), (6, 2, 8)], {}, {"tgt_mask": _causal_float(5),
                                                      "memory_key_padding_mask": _kpm(2, 6)}, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_parity(batch_first, dtype):
    def make(lib):
        return lib.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                                  dim_feedforward=16, batch_first=batch_first, norm_first=batch_first,
                                  activation="gelu" if batch_first else "relu")
    S, T, N = 6, 5, 2
    shapes = [(N, S, 8), (N, T, 8)] if batch_first else [(S, N, 8), (T, N, 8)]
    masks = {"src_mask": np.random.default_rng(2).standard_normal((S, S)) * 0.1, "tgt_mask": _causal_float(T),
             "memory_mask": np.zeros((T, S)), "src_key_padding_mask": _kpm(N, S),
             "tgt_key_padding_mask": _kpm(N, T, 3), "memory_key_padding_mask": _kpm(N, S)}
    _module_parity(make, shapes, {}, masks, dtype)


def test_transformer_unbatched_and_causal_flags():
    _module_parity(lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16), [(6, 8), (5, 8)],
                   {"src_is_causal": True, "tgt_is_causal": True},
                   {"src_mask": _causal_float(6), "tgt_mask": _causal_float(5)})


def test_generate_square_subsequent_mask():
    torch = torch_or_skip()
    for n in (1, 4):
        e = nn.Transformer.generate_square_subsequent_mask(n)
        t = torch.nn.Transformer.generate_square_subsequent_mask(n)
        assert e.dtype is ember.float32
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64).dtype is ember.float64


def test_is_causal_detection():
    from ember.nn.modules.transformer import _detect_is_causal_mask
    m = nn.Transformer.generate_square_subsequent_mask(4)
    assert _detect_is_causal_mask(m, None, 4) is True
    assert _detect_is_causal_mask(m, None, 5) is False
    assert _detect_is_causal_mask(ember.zeros(4, 4), None, 4) is False
    assert _detect_is_causal_mask(None, True) is True and _detect_is_causal_mask(m, False) is False


def test_encoder_eval_nested_padding_like_torch():
    # in inference PyTorch's encoder runs on nested tensors: padded positions come back as zeros
    torch = torch_or_skip()
    torch.manual_seed(0)
    tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)
    em = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    tm.eval()
    em.eval()
    x = np.random.default_rng(0).standard_normal((3, 6, 8)).astype(np.float32)
    pad = np.zeros((3, 6), bool)
    pad[0, 4:] = pad[2, 2:] = True  # right padding (left-aligned sequences)
    with torch.no_grad(), ember.no_grad():
        t = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).numpy()
        e = em(ember.tensor(x), src_key_padding_mask=ember.tensor(pad)).numpy()
    assert not t[pad].any() and not e[pad].any()
    np.testing.assert_allclose(e, t, atol=2e-5)


def test_dropout_train_vs_eval():
    torch_or_skip()
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = ember.randn(6, 2, 8)
    layer.eval()
    assert np.array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.train()
    a, b = layer(x).detach().numpy(), layer(x).detach().numpy()
    assert not np.allclose(a, b)
    layer2 = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    layer2.load_state_dict(layer.state_dict())
    layer2.train()
    layer.eval()
    np.testing.assert_allclose(layer2(x).detach().numpy(), layer(x).detach().numpy(), atol=1e-6)


def test_state_dict_repr_and_init():
    torch = torch_or_skip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm, em = torch.nn.Transformer(16, 4, 2, 1, 32), nn.Transformer(16, 4, 2, 1, 32)
    # (one layer each: ember's ModuleList repr does not yet fold repeated entries as "(0-1): 2 x ...")
    assert repr(nn.Transformer(16, 4, 1, 1, 32)) == repr(torch.nn.Transformer(16, 4, 1, 1, 32))
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    # every matrix is xavier-uniform, including out_proj and the feed-forward layers
    w = em.encoder.layers[0].linear1.weight.detach().numpy()
    bound = math.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    o = em.decoder.layers[0].self_attn.out_proj.weight.detach().numpy()
    assert np.abs(o).max() <= math.sqrt(6 / 32)
    for name in ("encoder.layers.0.norm1.weight", "decoder.norm.weight"):
        assert (em.state_dict()[name].numpy() == 1).all()
    el_t = torch.nn.TransformerEncoderLayer(8, 2, activation=torch.nn.GELU())
    el_e = nn.TransformerEncoderLayer(8, 2, activation=nn.GELU())
    assert repr(el_e) == repr(el_t)
    assert el_e.activation_relu_or_gelu == el_t.activation_relu_or_gelu == 2
    assert nn.TransformerEncoderLayer(8, 2, activation="relu").activation_relu_or_gelu == 1


def test_enable_nested_tensor_warnings_match_torch():
    torch = torch_or_skip()
    for kw in (dict(), dict(batch_first=True, norm_first=True), dict(batch_first=True, bias=False),
               dict(batch_first=True, activation=torch.nn.functional.silu)):
        ekw = dict(kw)
        if "activation" in ekw:
            ekw["activation"] = ember.nn.functional.silu
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            tenc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, **kw), 1)
        with warnings.catch_warnings(record=True) as ew:
            warnings.simplefilter("always")
            eenc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, **ekw), 1)
        assert [str(w.message) for w in ew] == [str(w.message) for w in tw]
        assert eenc.use_nested_tensor == tenc.use_nested_tensor
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1)
        assert enc.use_nested_tensor and enc.enable_nested_tensor


def _errors(lib):
    def enc_layer():
        return lib.nn.TransformerEncoderLayer(8, 2, 16)
    return {
        "bad_activation": lambda: lib.nn.TransformerEncoderLayer(8, 2, activation="tanh"),
        "bad_activation_decoder": lambda: lib.nn.TransformerDecoderLayer(8, 2, activation="swish"),
        "nhead_not_divisor": lambda: lib.nn.TransformerEncoderLayer(10, 3),
        "batch_mismatch": lambda: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 2, 8), lib.zeros(4, 3, 8)),
        "batch_mismatch_batch_first": lambda: lib.nn.Transformer(8, 2, 1, 1, 16, batch_first=True)(
            lib.zeros(2, 5, 8), lib.zeros(3, 4, 8)),
        "feature_mismatch": lambda: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 2, 8), lib.zeros(4, 2, 6)),
        "src_mask_shape": lambda: enc_layer()(lib.zeros(5, 2, 8), src_mask=lib.zeros(4, 4)),
        "padding_shape": lambda: enc_layer()(lib.zeros(5, 2, 8), src_key_padding_mask=lib.zeros(2, 4).bool()),
        "int_mask": lambda: enc_layer()(lib.zeros(5, 2, 8), src_mask=lib.zeros(5, 5, dtype=lib.int64)),
        "is_causal_without_mask": lambda: enc_layer()(lib.zeros(5, 2, 8), is_causal=True),
        "decoder_memory_width": lambda: lib.nn.TransformerDecoderLayer(8, 2, 16)(lib.zeros(5, 2, 8),
                                                                                lib.zeros(6, 2, 4)),
        "encoder_4d_input": lambda: enc_layer()(lib.zeros(5, 2, 2, 8)),
    }


@pytest.mark.parametrize("name", list(_errors(ember)))
def test_errors(name):
    torch = torch_or_skip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_error(_errors(ember)[name], _errors(torch)[name])
