"""Intra-op parallel kernels (ember/_backend/parallel.py): same results at 1 and several threads."""
import threading

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _compile
from ember._backend.parallel import parallel_for, split


@pytest.fixture
def threads():
    saved = _compile._state["num_threads"]

    def use(n):
        _compile._state["num_threads"] = n
    yield use
    _compile._state["num_threads"] = saved


def test_split_covers_the_range_in_aligned_pieces(threads):
    threads(3)
    assert split(10) == [(0, 4), (4, 8), (8, 10)]
    assert split(10, align=4) == [(0, 4), (4, 8), (8, 10)]
    assert split(100, min_chunk=60) == [(0, 100)]          # too small to pay a thread
    threads(1)
    assert split(10) == [(0, 10)]


def test_parallel_for_runs_pieces_on_other_threads_and_nested_calls_inline(threads):
    threads(2)
    seen, nested = {}, []

    def body(a, b):
        seen[(a, b)] = threading.current_thread().name
        parallel_for(4, lambda c, d: nested.append((a, c, d)), min_chunk=1)

    parallel_for(8, body, min_chunk=1)
    assert sorted(seen) == [(0, 4), (4, 8)]
    assert seen[(0, 4)] == threading.current_thread().name and seen[(4, 8)].startswith("ember-intraop")
    assert sorted(nested) == [(0, 0, 4), (4, 0, 4)]         # inside a piece: one inline call


def test_parallel_for_raises_the_error_of_a_piece(threads):
    threads(2)

    def body(a, b):
        if a > 0:
            raise ValueError("piece failed")

    with pytest.raises(ValueError, match="piece failed"):
        parallel_for(8, body, min_chunk=1)


def _at(threads, n, fn):
    threads(n)
    return fn()


def test_gelu_same_at_any_thread_count(threads):
    x = ember.randn(300, 1000, requires_grad=True)

    def run():
        x.grad = None
        y = F.gelu(x)
        y.backward(ember.ones_like(y))
        return y.detach().numpy().copy(), x.grad.numpy().copy()

    (y1, g1), (y4, g4) = _at(threads, 1, run), _at(threads, 4, run)
    np.testing.assert_array_equal(y1, y4)
    np.testing.assert_array_equal(g1, g4)


def test_cross_entropy_same_at_any_thread_count(threads):
    x = ember.randn(700, 1000, requires_grad=True)
    t = ember.randint(0, 1000, (700,))

    def run():
        x.grad = None
        loss = F.cross_entropy(x, t)
        loss.backward()
        return loss.item(), x.grad.numpy().copy()

    (l1, g1), (l4, g4) = _at(threads, 1, run), _at(threads, 4, run)
    assert l1 == l4
    np.testing.assert_array_equal(g1, g4)


@pytest.mark.parametrize("batch_first", [True, False])
def test_packed_self_attention_same_at_any_thread_count(threads, batch_first):
    ember.manual_seed(0)
    mha = ember.nn.MultiheadAttention(32, 4, batch_first=batch_first)
    x = ember.randn(*((16, 48, 32) if batch_first else (48, 16, 32)), requires_grad=True)
    mask = ember.nn.Transformer.generate_square_subsequent_mask(48)

    def run():
        x.grad = None
        mha.zero_grad()
        out, _ = mha(x, x, x, attn_mask=mask, need_weights=False, is_causal=True)
        out.sum().backward()
        return out.detach().numpy().copy(), x.grad.numpy().copy(), mha.in_proj_weight.grad.numpy().copy()

    one, four = _at(threads, 1, run), _at(threads, 4, run)
    for a, b in zip(one, four):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_update_of_a_large_parameter_same_at_any_thread_count(threads, momentum):
    def run():
        ember.manual_seed(0)
        p = ember.nn.Parameter(ember.randn(600, 500))
        opt = ember.optim.SGD([p], lr=0.1, momentum=momentum)
        for _ in range(3):
            p.grad = p.detach() * 0.5 + 1
            opt.step()
        return p.detach().numpy().copy()

    np.testing.assert_array_equal(_at(threads, 1, run), _at(threads, 4, run))


@pytest.mark.parametrize("cin,k", [(1, 5), (16, 3)])  # per-sample (small columns) and one-GEMM layouts
def test_convolution_same_at_any_thread_count(threads, cin, k):
    ember.manual_seed(0)
    conv = ember.nn.Conv2d(cin, 8, k, padding=1)
    x = ember.randn(24, cin, 20, 20, requires_grad=True)

    def run():
        x.grad = None
        conv.zero_grad()
        y = conv(x)
        (y * y).sum().backward()
        return y.detach().numpy().copy(), x.grad.numpy().copy(), conv.weight.grad.numpy().copy()

    one, four = _at(threads, 1, run), _at(threads, 4, run)
    for a, b in zip(one, four):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_rows_same_at_any_thread_count(threads, affine):
    ember.manual_seed(0)
    x = ember.randn(64, 64, 64, requires_grad=True)       # 4096 rows of 64: split into 4 row blocks
    ln = ember.nn.LayerNorm(64, elementwise_affine=affine)
    if affine:
        with ember.no_grad():
            ln.weight.normal_()
            ln.bias.normal_()
    g = ember.randn(64, 64, 64)

    def run():
        x.grad = None
        ln.zero_grad()
        y = ln(x)
        y.backward(g)
        grads = [x.grad] + ([ln.weight.grad, ln.bias.grad] if affine else [])
        return [y.detach().numpy().copy()] + [t.numpy().copy() for t in grads]

    one, four = _at(threads, 1, run), _at(threads, 4, run)
    for a, b in zip(one, four):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    # and against the float64 formula
    x64 = x.detach().numpy().astype(np.float64)
    mean, var = x64.mean(-1, keepdims=True), x64.var(-1, keepdims=True)
    ref = (x64 - mean) / np.sqrt(var + 1e-5)
    if affine:
        ref = ref * ln.weight.detach().numpy() + ln.bias.detach().numpy()
    np.testing.assert_allclose(four[0], ref, rtol=1e-4, atol=1e-4)


def test_linear_bias_add_same_at_any_thread_count(threads):
    ember.manual_seed(0)
    x, w, b = ember.randn(8, 300, 64), ember.randn(256, 64), ember.randn(256)   # 2400 x 256 outputs

    def run():
        return F.linear(x, w, b).numpy().copy()

    one, four = _at(threads, 1, run), _at(threads, 4, run)
    np.testing.assert_array_equal(one, four)
    ref = x.numpy().reshape(-1, 64) @ w.numpy().T + b.numpy()
    np.testing.assert_allclose(four.reshape(-1, 256), ref, rtol=1e-5, atol=1e-4)
