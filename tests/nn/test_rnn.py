"""RNN / LSTM / GRU and their cells against PyTorch: outputs, final states and every gradient.

Weights are copied from a torch module through numpy (``load_state_dict``); inputs, initial states
and upstream gradients are the same arrays on both sides.
"""
from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.nn._functional.rnn import composite_layer, recurrent_layer
from ember.nn.utils import rnn as R
from tests.parity import assert_same_error, torch_or_skip

torch = torch_or_skip()
TOL = {np.float32: dict(atol=2e-5, rtol=2e-4), np.float64: dict(atol=1e-10, rtol=1e-9)}
MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "LSTM_PROJ", "GRU"]
INPUTS = ["padded", "batch_first", "packed", "packed_unsorted", "unbatched"]


def _make(mode: str, lib: str, in_size: int, hidden: int, **kw):
    m = nn if lib == "ember" else torch.nn
    if mode.startswith("RNN"):
        return m.RNN(in_size, hidden, nonlinearity="relu" if mode == "RNN_RELU" else "tanh", **kw)
    if mode == "LSTM_PROJ":
        return m.LSTM(in_size, hidden, proj_size=2, **kw)
    return getattr(m, mode)(in_size, hidden, **kw)


def _pair(mode: str, dtype: Any, in_size: int = 3, hidden: int = 4, **kw):
    torch.manual_seed(0)
    tm = _make(mode, "torch", in_size, hidden, **kw).to(getattr(torch, dtype.__name__))
    em = _make(mode, "ember", in_size, hidden, **kw).to(getattr(ember, dtype.__name__))
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return em, tm



def _close(e, t, dtype, what):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), err_msg=what, **TOL[dtype])


def _run_case(mode, dtype, kind, layers, bidir, with_h0, bias=True, dropout=0.0, seed=0):
    rng = np.random.default_rng(seed)
    batch_first = kind == "batch_first"
    em, tm = _pair(mode, dtype, num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias,
                   dropout=dropout)
    if dropout:
        em.eval(), tm.eval()
    T, B, I = 5, 3, 3
    D = 2 if bidir else 1
    hsz = 2 if mode == "LSTM_PROJ" else 4
    lengths = [5, 3, 2] if kind == "packed" else [3, 5, 2]
    shape = (T, I) if kind == "unbatched" else ((B, T, I) if batch_first else (T, B, I))
    x = rng.standard_normal(shape).astype(dtype)
    hshape = (layers * D, hsz) if kind == "unbatched" else (layers * D, B, hsz)
    cshape = hshape[:-1] + (4,)
    h0 = rng.standard_normal(hshape).astype(dtype)
    c0 = rng.standard_normal(cshape).astype(dtype)

    def run(lib, mod):
        t = ember.tensor if lib == "ember" else torch.tensor
        xs = t(x, requires_grad=True)
        states = [t(h0, requires_grad=True)] + ([t(c0, requires_grad=True)] if mode.startswith("LSTM") else [])
        inp = xs
        if kind.startswith("packed"):
            U = R if lib == "ember" else torch.nn.utils.rnn
            inp = U.pack_padded_sequence(xs, lengths, enforce_sorted=kind == "packed")
        hx = None if not with_h0 else (tuple(states) if mode.startswith("LSTM") else states[0])
        out, hn = mod(inp, hx)
        if kind.startswith("packed"):
            out = out.data
        outs = [out] + (list(hn) if isinstance(hn, tuple) else [hn])
        leaves = [xs] + (states if with_h0 else []) + list(mod.parameters())
        return outs, leaves

    e_outs, e_leaves = run("ember", em)
    t_outs, t_leaves = run("torch", tm)
    for e, t, name in zip(e_outs, t_outs, ["output", "h_n", "c_n"]):
        assert tuple(e.shape) == tuple(t.shape), (name, e.shape, t.shape)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        _close(e, t, dtype, name)
    ws = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_outs]
    e_loss = sum((o * ember.tensor(w)).sum() for o, w in zip(e_outs, ws))
    t_loss = sum((o * torch.tensor(w)).sum() for o, w in zip(t_outs, ws))
    e_g = ember.autograd.grad(e_loss, e_leaves)
    t_g = torch.autograd.grad(t_loss, t_leaves)
    names = ["input"] + (["h0", "c0"][:len(e_leaves) - 1 - len(list(em.parameters()))] if with_h0 else []) + \
        [n for n, _ in em.named_parameters()]
    for eg, tg, name in zip(e_g, t_g, names):
        _close(eg, tg, dtype, f"grad {name}")


CASES = [pytest.param(mode, dtype, kind, layers, bidir,
                      id=f"{mode}-{dtype.__name__}-{kind}-L{layers}-{'bi' if bidir else 'uni'}")
         for mode, dtype, kind, layers, bidir in itertools.product(MODES, [np.float32, np.float64], INPUTS, [1, 2],
                                                                   [False, True])]


@pytest.mark.parametrize("mode,dtype,kind,layers,bidir", CASES)
def test_parity_with_torch(mode, dtype, kind, layers, bidir):
    with_h0 = (layers + bidir + INPUTS.index(kind)) % 2 == 0
    _run_case(mode, dtype, kind, layers, bidir, with_h0)


@pytest.mark.parametrize("mode", MODES)
def test_parity_no_bias_with_h0_and_eval_dropout(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _run_case(mode, np.float64, "padded", 2, True, True, bias=False, dropout=0.5)
        _run_case(mode, np.float64, "packed_unsorted", 2, False, True, bias=False)


@pytest.mark.parametrize("mode", MODES)
def test_all_initial_states_default_to_zero(mode):
    _run_case(mode, np.float64, "packed_unsorted", 2, True, False)
    _run_case(mode, np.float64, "batch_first", 1, True, True)


# ------------------------------------------------------------------------------- module structure
@pytest.mark.parametrize("mode", MODES)
def test_state_dict_keys_shapes_and_repr(mode):
    kw = dict(num_layers=2, bidirectional=True, batch_first=True, dropout=0.25)
    em, tm = _pair(mode, np.float32, **kw)
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    assert repr(em) == repr(tm)
    assert em._flat_weights_names == tm._flat_weights_names
    assert [[tuple(w.shape) for w in ws] for ws in em.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in tm.all_weights]
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    em.flatten_parameters()  # no-op
    assert all(w is getattr(em, n) for w, n in zip(em._flat_weights, em._flat_weights_names))


def test_repr_variants():
    for args, kw in [((3, 4), {}), ((3, 4, 2), dict(nonlinearity="relu")), ((3, 4), dict(bias=False)),
                     ((3, 5), dict(proj_size=2))]:
        cls = "LSTM" if "proj_size" in kw else "RNN"
        assert repr(getattr(nn, cls)(*args, **kw)) == repr(getattr(torch.nn, cls)(*args, **kw))
    for cls, kw in [("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", dict(bias=False)), ("GRUCell", {})]:
        assert repr(getattr(nn, cls)(3, 4, **kw)) == repr(getattr(torch.nn, cls)(3, 4, **kw))
    assert nn.RNN(3, 4, 2, "relu").nonlinearity == "relu"


def test_default_init_is_uniform_in_one_over_sqrt_hidden():
    ember.manual_seed(0)
    m = nn.LSTM(64, 100, num_layers=2, proj_size=10)
    bound = 1 / math.sqrt(100)
    allw = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert allw.min() >= -bound and allw.max() <= bound
    assert abs(allw.mean()) < 0.01 * bound * 10
    assert abs(allw.var() - bound ** 2 / 3) < 0.05 * bound ** 2 / 3
    c = nn.GRUCell(10, 25)
    assert all(p.abs().max().item() <= 0.2 for p in c.parameters())


# ------------------------------------------------------------------------------- cells
@pytest.mark.parametrize("cls", ["RNNCell", "RNNCell_relu", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_parity(cls, dtype, batched):
    rng = np.random.default_rng(1)
    name, kw = (cls.split("_")[0], dict(nonlinearity="relu")) if cls.endswith("relu") else (cls, {})
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(3, 4, **kw).to(getattr(torch, dtype.__name__))
    em = getattr(nn, name)(3, 4, **kw).to(getattr(ember, dtype.__name__))
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    lead = (2,) if batched else ()
    x = rng.standard_normal(lead + (3,)).astype(dtype)
    h = rng.standard_normal(lead + (4,)).astype(dtype)
    c = rng.standard_normal(lead + (4,)).astype(dtype)
    lstm = name == "LSTMCell"
    for with_h in (True, False):
        def run(lib, mod):
            t = ember.tensor if lib == "ember" else torch.tensor
            xs, hs, cs = t(x, requires_grad=True), t(h, requires_grad=True), t(c, requires_grad=True)
            out = mod(xs, ((hs, cs) if lstm else hs) if with_h else None)
            outs = list(out) if lstm else [out]
            leaves = [xs] + ([hs, cs] if lstm else [hs])[:2 if with_h else 0] + list(mod.parameters())
            return outs, leaves
        e_outs, e_leaves = run("ember", em)
        t_outs, t_leaves = run("torch", tm)
        ws = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in t_outs]
        for e, t in zip(e_outs, t_outs):
            assert tuple(e.shape) == tuple(t.shape)
            _close(e, t, dtype, "cell output")
        e_g = ember.autograd.grad(sum((o * ember.tensor(w)).sum() for o, w in zip(e_outs, ws)), e_leaves)
        t_g = torch.autograd.grad(sum((o * torch.tensor(w)).sum() for o, w in zip(t_outs, ws)), t_leaves)
        for eg, tg in zip(e_g, t_g):
            _close(eg, tg, dtype, "cell grad")


# ------------------------------------------------------------------------------- gradcheck
def _inputs(rng, gates, h=2, b=3, n=8, proj=None):
    out = [rng.standard_normal((n, gates * h)), rng.standard_normal((b, proj or h)), rng.standard_normal((b, h)),
           rng.standard_normal((gates * h, proj or h)) * 0.5, rng.standard_normal(gates * h)]
    if proj:
        out.append(rng.standard_normal((proj, h)))
    return [ember.tensor(a, requires_grad=True) for a in out]


@pytest.mark.parametrize("mode,proj,reverse", [("LSTM", None, False), ("LSTM", 1, True), ("GRU", None, True),
                                                ("GRU", None, False), ("RNN", None, True)])
def test_gradcheck_layer_node_packed(mode, proj, reverse):
    rng = np.random.default_rng(2)
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode]
    xg, h0, c0, w_hh, b_hh, *w_hr = _inputs(rng, gates, proj=proj)
    bs = (3, 2, 2, 1)

    def f(xg, h0, c0, w_hh, b_hh, *w_hr):
        out = recurrent_layer(mode, xg, h0, c0 if mode == "LSTM" else None, w_hh, b_hh, w_hr[0] if w_hr else None,
                              bs, reverse=reverse)
        return tuple(o for o in out if o is not None)
    assert gradcheck(f, (xg, h0, c0, w_hh, b_hh, *w_hr))
    # the array node equals its composite (ember-op) reference
    a = f(xg, h0, c0, w_hh, b_hh, *w_hr)
    b = composite_layer(mode, xg, h0, c0 if mode == "LSTM" else None, w_hh, b_hh, w_hr[0] if w_hr else None, bs,
                        reverse)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u.detach().numpy(), v.detach().numpy(), atol=1e-12)


def test_gradgradcheck_layer_nodes():
    rng = np.random.default_rng(3)
    xg, h0, c0, w_hh, b_hh = _inputs(rng, 4, n=5)
    f = lambda *a: recurrent_layer("LSTM", *a[:5], None, (3, 2))[:3]  # noqa: E731
    assert gradgradcheck(f, (xg, h0, c0, w_hh, b_hh))
    xg, h0, _, w_hh, b_hh = _inputs(rng, 3, n=5)
    g = lambda *a: recurrent_layer("GRU", a[0], a[1], None, a[2], a[3], None, (3, 2), reverse=True)[:2]  # noqa: E731
    assert gradgradcheck(g, (xg, h0, w_hh, b_hh))


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_gradcheck_module(cls):
    ember.manual_seed(0)
    m = getattr(nn, cls)(2, 2, num_layers=2, bidirectional=True).double()
    x = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)

    assert gradcheck(lambda x: m(x)[0], (x,))
    params = list(m.parameters())
    assert gradcheck(lambda *ps: _functional_call(m, ps, x), params)


def _functional_call(m, params, x):
    names = [n for n, _ in m.named_parameters()]
    saved = {n: getattr(m, n) for n in names}
    try:
        for n, p in zip(names, params):
            m._parameters[n] = p
        return m(x)[0]
    finally:
        for n in names:
            m._parameters[n] = saved[n]


def test_gradgradcheck_lstm_module():
    ember.manual_seed(0)
    m = nn.LSTM(2, 2, proj_size=1).double()
    x = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)
    h0 = ember.randn(1, 2, 1, dtype=ember.float64, requires_grad=True)
    c0 = ember.randn(1, 2, 2, dtype=ember.float64, requires_grad=True)
    assert gradgradcheck(lambda x, h, c: m(x, (h, c))[0], (x, h0, c0))


def test_double_backward_matches_torch():
    """Second derivatives w.r.t. weights through an LSTM (e.g. a gradient penalty)."""
    em, tm = _pair("LSTM", np.float64, num_layers=2)
    x = np.random.default_rng(4).standard_normal((4, 2, 3))
    res = []
    for lib, mod, mk in [("ember", em, ember.tensor), ("torch", tm, torch.tensor)]:
        xs = mk(x, requires_grad=True)
        out = mod(xs)[0]
        g, = (ember if lib == "ember" else torch).autograd.grad((out ** 2).sum(), xs, create_graph=True)
        pen = (g ** 2).sum()
        res.append([p.detach().numpy() for p in
                    (ember if lib == "ember" else torch).autograd.grad(pen, list(mod.parameters()))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, atol=1e-10, rtol=1e-8)


def test_dropout_between_layers_in_training():
    ember.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = ember.randn(5, 2, 3)
    m.eval()
    a, b = m(x)[0].detach(), m(x)[0].detach()
    assert np.array_equal(a.numpy(), b.numpy())
    m.train()
    c = m(x)[0]
    assert not np.allclose(c.detach().numpy(), a.numpy())
    m1 = nn.LSTM(3, 4, num_layers=1)
    m1.train()
    assert np.array_equal(m1(x)[0].detach().numpy(), m1(x)[0].detach().numpy())


@pytest.mark.parametrize("proj", [0, 2])
def test_lstm_no_grad_forward_equals_recorded_forward(proj):
    """Without grad the LSTM node keeps one step of gates (scratch rows); the results must not change."""
    ember.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=proj).double()
    x = ember.randn(6, 3, 3, dtype=ember.float64)
    packed = R.pack_padded_sequence(x, [6, 4, 1])
    for inp in (x, packed):
        out, (h, c) = m(inp)
        with ember.no_grad():
            out2, (h2, c2) = m(inp)
        a, b = (out.data, out2.data) if isinstance(out, R.PackedSequence) else (out, out2)
        for u, v in ((a, b), (h, h2), (c, c2)):
            np.testing.assert_array_equal(u.detach().numpy(), v.numpy())


def test_lstm_sigmoid_saturates_without_warnings():
    """Gate pre-activations far below -88 overflow exp(-x) inside the sigmoid: the gate is 0, silently."""
    xg = ember.tensor(np.full((4, 8), -1e4, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, h, c = recurrent_layer("LSTM", xg, ember.zeros(2, 2), ember.ones(2, 2), ember.zeros(8, 2), None, None,
                                  (2, 2))
    assert np.all(y.numpy() == 0) and np.all(c.numpy() == 0)


def test_no_grad_forward_and_memory_shape():
    m = nn.GRU(3, 4)
    with ember.no_grad():
        out, h = m(ember.randn(6, 2, 3))
    assert not out.requires_grad and out.grad_fn is None


# ------------------------------------------------------------------------------- errors
def test_errors_like_torch():
    e, t = _pair("LSTM", np.float32)
    cases = [
        lambda m, lib: m(lib.randn(5, 2, 4)),
        lambda m, lib: m(lib.randn(5, 2, 3), (lib.zeros(1, 3, 4), lib.zeros(1, 2, 4))),
        lambda m, lib: m(lib.randn(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 3, 4))),
        lambda m, lib: m(lib.randn(5, 2, 3), (lib.zeros(2, 4), lib.zeros(2, 4))),
        lambda m, lib: m(lib.randn(5, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 4))),
        lambda m, lib: m(lib.randn(5, 2, 2, 3)),
        lambda m, lib: m(lib.randn(5, 2, 3, dtype=lib.float64)),
    ]
    for case in cases:
        assert_same_error(lambda: case(e, ember), lambda: case(t, torch))
    eg, tg = _pair("GRU", np.float32)
    for case in [lambda m, lib: m(lib.randn(5, 2, 3), lib.zeros(1, 3, 4)),
                 lambda m, lib: m(lib.randn(5, 2, 3), lib.zeros(3, 4)),
                 lambda m, lib: m(lib.randn(5, 3), lib.zeros(1, 3, 4))]:
        assert_same_error(lambda: case(eg, ember), lambda: case(tg, torch))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 4"):
        e(ember.randn(5, 2, 4))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 4\), got \[1, 3, 4\]"):
        e(ember.randn(5, 2, 3), (ember.zeros(1, 3, 4), ember.zeros(1, 2, 4)))


def test_constructor_errors_like_torch():
    for kw in [dict(dropout=1.5), dict(dropout=True), dict(proj_size=4), dict(proj_size=-1), dict(num_layers=0),
               dict(bias=1), dict(batch_first=None)]:
        assert_same_error(lambda: nn.LSTM(3, 4, **kw), lambda: torch.nn.LSTM(3, 4, **kw))
    for args in [(3, 0), (0, 4), (3.0, 4), (3, 4.0)]:
        assert_same_error(lambda: nn.GRU(*args), lambda: torch.nn.GRU(*args))
    assert_same_error(lambda: nn.GRU(3, 4, proj_size=2), lambda: torch.nn.GRU(3, 4, proj_size=2))
    assert_same_error(lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), lambda: torch.nn.RNN(3, 4, nonlinearity="sigmoid"))
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, but got dropout=0.5 "
                                         "and num_layers=1"):
        nn.LSTM(3, 4, dropout=0.5)


def test_cell_errors_like_torch():
    for name in ["RNNCell", "LSTMCell", "GRUCell"]:
        e, t = getattr(nn, name)(3, 4), getattr(torch.nn, name)(3, 4)
        lstm = name == "LSTMCell"
        st = lambda lib, *s: (lib.zeros(*s), lib.zeros(*s)) if lstm else lib.zeros(*s)  # noqa: E731
        for case in [lambda m, lib: m(lib.randn(2, 5)),
                     lambda m, lib: m(lib.randn(2, 3), st(lib, 3, 4)),
                     lambda m, lib: m(lib.randn(2, 3, 3)),
                     lambda m, lib: m(lib.randn(2, 3), st(lib, 2, 5))]:
            assert_same_error(lambda: case(e, ember), lambda: case(t, torch))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        nn.GRUCell(3, 4)(ember.randn(2, 3), ember.zeros(3, 4))


def test_packed_hidden_follows_original_batch_order():
    """With enforce_sorted=False, h0 and h_n are in the caller's batch order (as torch)."""
    em, tm = _pair("GRU", np.float64)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 3))
    h0 = rng.standard_normal((1, 3, 4))
    lengths = [2, 4, 3]
    e_out, e_h = em(R.pack_padded_sequence(ember.tensor(x), lengths, enforce_sorted=False), ember.tensor(h0))
    t_out, t_h = tm(torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False),
                    torch.tensor(h0))
    np.testing.assert_allclose(e_h.detach().numpy(), t_h.detach().numpy(), atol=1e-12)
    assert isinstance(e_out, R.PackedSequence)
    assert e_out.sorted_indices.tolist() == t_out.sorted_indices.tolist()
    assert e_out.unsorted_indices.tolist() == t_out.unsorted_indices.tolist()
    e_pad, e_len = R.pad_packed_sequence(e_out)
    t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(t_out)
    np.testing.assert_allclose(e_pad.detach().numpy(), t_pad.detach().numpy(), atol=1e-12)
    assert e_len.tolist() == t_len.tolist()
    # final state of each sequence equals the output at its true last step
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(e_h[0, b].detach().numpy(), e_pad[n - 1, b].detach().numpy(), atol=1e-12)
