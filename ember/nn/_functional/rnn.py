"""Recurrent layers as graph nodes: one node runs a whole layer (one direction) over time.

A recurrent layer is split into two parts:

1. the input projection ``x @ W_ih^T + b_ih`` for every time step at once: one ``linear`` (one GEMM);
2. the recurrence over time, one node per layer and direction (``LSTMLayer``, ``GRULayer``,
   ``RNNLayer``). Its forward loops over time steps in Python (one ``h @ W_hh^T`` GEMM and a few
   array expressions per step, nothing per element) and keeps the gate activations of every step, so
   memory grows with the sequence. Its backward runs the same loop backwards on arrays, then finds
   ``dW_hh`` with a single GEMM over all steps.

Sequences are handled in the packed layout: rows ``[off_t, off_t + batch_sizes[t])`` of the data hold
the sequences still running at step ``t`` (batch sizes never grow), so padded input is the special
case of equal batch sizes, and a sequence's final state is the state at its true end.

The array backward is not differentiable. Under ``create_graph=True`` the node instead recomputes
the layer with ember ops (``composite_layer``, the plain reference implementation) and differentiates
that, so double backward is exact.

>>> import ember
>>> from ember.nn._functional.rnn import recurrent_layer
>>> xg = ember.randn(6, 8)          # 3 steps x batch 2, 4 gates x hidden 2
>>> y, h, c = recurrent_layer("LSTM", xg, ember.zeros(2, 2), ember.zeros(2, 2), ember.randn(8, 2),
...                           None, None, (2, 2, 2))
>>> y.shape
ember.Size([6, 2])
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..._ops._util import Tensor
from ...autograd.graph import Node
from ...autograd.grad_mode import _state

__all__: list = []  # internal: the modules in ember.nn.modules.rnn are the public API


def _steps(batch_sizes: Sequence[int], reverse: bool) -> list:
    """``(offset, batch)`` of every time step, in the order the recurrence visits them."""
    out = []
    off = 0
    for bs in batch_sizes:
        out.append((off, bs))
        off += bs
    if reverse:
        out.reverse()
    return out


def _sigmoid_(xp: Any, a: Any) -> None:
    """sigmoid in place as 1 / (1 + exp(-x)), PyTorch's formula.

    One exp per element: NumPy's float32 exp is about twice as fast as its tanh (measured on 20 x 800 gate
    blocks: 31 us against 50 us for (1 + tanh(x / 2)) / 2). exp(-x) overflows to inf for x < -88 (float32),
    giving the right limit 0; callers run inside ``_no_overflow_warning()``.
    """
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _no_overflow_warning() -> Any:
    return np.errstate(over="ignore")  # NumPy only; CuPy never warns


def _state_before(xp: Any, out: Any, init: Any, steps: list) -> Any:
    """The state entering every step, (N, H), from each step's result ``out`` and the initial state ``init``.

    A step continues the first min(batch, previous batch) rows of the step visited before it; further rows
    (a reverse pass over packed data picks up shorter sequences as it goes) start from ``init``.
    """
    first_bs, last_bs = steps[0][1], steps[-1][1]
    if first_bs == last_bs:  # equal batch sizes (padded input): one copy
        b = first_bs
        shifted = (init[:b], out[:-b]) if steps[0][0] == 0 else (out[b:], init[:b])
        return xp.concatenate(shifted)
    res = xp.empty_like(out)
    prev = None
    for off, bs in steps:
        dst = res[off:off + bs]
        k = 0
        if prev is not None:
            k = min(bs, prev[1])
            dst[:k] = out[prev[0]:prev[0] + k]
        if bs > k:
            dst[k:] = init[k:bs]
        prev = (off, bs)
    return res


class _Layer(Node):
    """Shared plumbing: saved inputs for the composite path, create_graph dispatch."""

    mode = ""
    n_inputs = 6

    def backward(self, *grads):
        if _state.enabled:  # create_graph=True: differentiate the ember-op recomputation instead
            return self._composite_backward(grads)
        return self._array_backward(*grads)

    def _composite_backward(self, grads: tuple) -> tuple:
        from ...autograd import grad as _grad
        saved = self.saved_tensors
        inputs = saved[:self.n_inputs]
        outs = composite_layer(self.mode, *_full_inputs(self.mode, inputs), self.batch_sizes, self.reverse,
                               self.nonlinearity)
        outs = outs[:len(grads)]
        needs = self.needs_input_grad
        wanted = [t for t, n in zip(inputs, needs) if n]
        got = iter(_grad(outs, wanted, grad_outputs=list(grads), retain_graph=True, create_graph=True,
                         allow_unused=True))
        return tuple(next(got) if n else None for n in needs)

    nonlinearity = "tanh"


def _full_inputs(mode: str, inputs: tuple) -> tuple:
    """The composite signature is (xg, h0, c0, w_hh, b_hh, w_hr) for every mode."""
    if mode == "LSTM":
        return inputs
    xg, h0, w_hh, b_hh = inputs
    return xg, h0, None, w_hh, b_hh, None


def _wrap_like(node: Node, a: Any) -> Tensor:
    from ..._tensor import _wrap
    return _wrap(a, node._device)


class LSTMLayer(_Layer):
    """(xg, h0, c0, w_hh, b_hh, w_hr) -> (y, h_n, c_n); gates in PyTorch's order i, f, g, o.

    Forward writes each step's results straight into the arrays backward needs (gates, c, tanh(c)) and reads
    the previous step's h and c from y and the cell states, so a step costs one GEMM and about a dozen small
    array calls. Backward first forms, for all steps at once, the factors that turn dc (or dh) into each
    gate's gradient; the loop over time is then six small array calls and one GEMM per step.
    """

    mode = "LSTM"

    def forward(self, xg, h0, c0, w_hh, b_hh=None, w_hr=None, *, batch_sizes, reverse=False):
        xp = self.xp
        self.batch_sizes, self.reverse = batch_sizes, reverse
        n, H = xg.shape[0], c0.shape[1]
        B = h0.shape[0]
        dt = xg.dtype
        save = self._recording
        steps = _steps(batch_sizes, reverse)
        y = xp.empty((n, h0.shape[1]), dt)
        Cs = xp.empty((n, H), dt)                          # cell state after each step
        A = xp.empty((n if save else B, 4 * H), dt)        # gate activations (one step's worth without grad)
        TC = xp.empty((n if save else B, H), dt)           # tanh of the cell state
        M = xp.empty((n if save else B, H), dt) if w_hr is not None else None  # o * tanh(c) before projection
        h_n, c_n = xp.empty_like(h0), xp.empty_like(c0)
        whh_t = xp.ascontiguousarray(w_hh.T)  # BLAS is ~7% faster on the small per-step GEMM with it contiguous
        whr_t = w_hr.T if w_hr is not None else None
        g_act = xp.empty((B, H), dt)  # tanh of the g gate, kept contiguous (see below)
        prev = None
        with _no_overflow_warning():
            for k, (off, bs) in enumerate(steps):
                r = slice(off, off + bs)
                if prev is None:
                    hp, cp = h0[:bs], c0[:bs]
                elif prev[1] >= bs:  # the running sequences are the previous step's first rows
                    hp, cp = y[prev[0]:prev[0] + bs], Cs[prev[0]:prev[0] + bs]
                else:  # reverse pass over packed data: the extra rows start from the initial state
                    pr = slice(prev[0], prev[0] + prev[1])
                    hp = xp.concatenate((y[pr], h0[prev[1]:bs]))
                    cp = xp.concatenate((Cs[pr], c0[prev[1]:bs]))
                g = A[r] if save else A[:bs]
                xp.matmul(hp, whh_t, out=g)
                g += xg[r]
                if b_hh is not None:
                    g += b_hh
                # tanh of the g gate aside, then sigmoid over the whole contiguous block (the g gate's sigmoid
                # is overwritten): NumPy runs ufuncs on strided column blocks markedly slower than on one
                # contiguous block, so this beats three column-block passes despite the wasted exps
                gg = xp.tanh(g[:, 2 * H:3 * H], out=g_act[:bs])
                _sigmoid_(xp, g)
                g[:, 2 * H:3 * H] = gg
                i, f, o = g[:, :H], g[:, H:2 * H], g[:, 3 * H:]
                cn = Cs[r]
                xp.multiply(f, cp, out=cn)
                cn += i * gg
                tc = TC[r] if save else TC[:bs]
                xp.tanh(cn, out=tc)
                if whr_t is None:
                    xp.multiply(tc, o, out=y[r])
                else:
                    m = M[r] if save else M[:bs]
                    xp.multiply(tc, o, out=m)
                    xp.matmul(m, whr_t, out=y[r])
                next_bs = steps[k + 1][1] if k + 1 < len(steps) else 0
                if next_bs < bs:  # these sequences end here: their final state
                    h_n[next_bs:bs] = y[r][next_bs:]
                    c_n[next_bs:bs] = cn[next_bs:]
                prev = (off, bs)
        if save:  # h entering each step is copied (not read back from y), so in-place edits of y stay harmless
            self.save_for_backward(xg, h0, c0, w_hh, b_hh, w_hr, A, Cs, TC, M, _state_before(xp, y, h0, steps))
        return y, h_n, c_n

    def _array_backward(self, gy, ghn, gcn):
        xp = self.xp
        xg, h0, c0, w_hh, b_hh, w_hr, A, Cs, TC, M, Hp = self.saved_arrays
        needs = self.needs_input_grad
        steps = _steps(self.batch_sizes, self.reverse)
        n, H = Cs.shape
        dt = A.dtype
        gates = A.reshape(n, 4, H)
        i, f, g, o = gates[:, 0], gates[:, 1], gates[:, 2], gates[:, 3]
        # d gate pre-activation per unit of dc (i, f, g) or of dm = dL/d(o * tanh(c)) (o), for all steps at once:
        # s (1 - s) for every gate in two whole-array passes (the g slot is then replaced by 1 - g^2)
        fac = xp.subtract(1, gates)
        fac *= gates
        fac[:, 0] *= g
        fac[:, 1] *= _state_before(xp, Cs, c0, steps)
        xp.multiply(g, g, out=fac[:, 2])
        xp.subtract(1, fac[:, 2], out=fac[:, 2])
        fac[:, 2] *= i
        fac[:, 3] *= TC
        dc_per_dm = TC * TC  # o (1 - tanh(c)^2)
        xp.subtract(1, dc_per_dm, out=dc_per_dm)
        dc_per_dm *= o
        gy = gy._data
        dh, dc = ghn._data.copy(), gcn._data.copy()
        dG = xp.empty((n, 4, H), dt)
        DH = xp.empty((n, dh.shape[1]), dt) if w_hr is not None else None
        dht_buf, dct_buf = xp.empty_like(dh), xp.empty_like(dc)
        for off, bs in reversed(steps):
            r = slice(off, off + bs)
            dht = xp.add(dh[:bs], gy[r], out=dht_buf[:bs])
            if w_hr is not None:
                DH[r] = dht
                dm = dht @ w_hr
            else:
                dm = dht
            dct = xp.multiply(dm, dc_per_dm[r], out=dct_buf[:bs])
            dct += dc[:bs]
            d = dG[r]
            xp.multiply(fac[r, :3], dct[:, None, :], out=d[:, :3])
            xp.multiply(fac[r, 3], dm, out=d[:, 3])
            xp.multiply(dct, f[r], out=dc[:bs])
            xp.matmul(d.reshape(bs, 4 * H), w_hh, out=dh[:bs])
        dG = dG.reshape(n, 4 * H)
        w = lambda a: _wrap_like(self, a)  # noqa: E731
        return (w(dG) if needs[0] else None,
                w(dh) if needs[1] else None,
                w(dc) if needs[2] else None,
                w(dG.T @ Hp) if needs[3] else None,
                w(dG.sum(0)) if len(needs) > 4 and needs[4] else None,
                w(DH.T @ M) if len(needs) > 5 and needs[5] else None)


class GRULayer(_Layer):
    """(xg, h0, w_hh, b_hh) -> (y, h_n); gates r, z, n with n = tanh(x_n + r * (W_hn h + b_hn))."""

    mode = "GRU"
    n_inputs = 4

    def forward(self, xg, h0, w_hh, b_hh=None, *, batch_sizes, reverse=False):
        xp = self.xp
        self.batch_sizes, self.reverse = batch_sizes, reverse
        n, H = xg.shape[0], h0.shape[1]
        dt = xg.dtype
        h = h0.copy()
        y = xp.empty((n, H), dt)
        save = self._recording
        A = xp.empty((n, 3 * H), dt) if save else None   # r, z, n of every step
        Gn = xp.empty((n, H), dt) if save else None      # W_hn h + b_hn of every step
        Hp = xp.empty((n, H), dt) if save else None
        whh_t = w_hh.T
        with _no_overflow_warning():
            for off, bs in _steps(batch_sizes, reverse):
                r = slice(off, off + bs)
                hp = h[:bs]
                gh = hp @ whh_t
                if b_hh is not None:
                    gh += b_hh
                a = A[r] if save else xp.empty((bs, 3 * H), dt)
                x = xg[r]
                xp.add(x[:, :2 * H], gh[:, :2 * H], out=a[:, :2 * H])
                _sigmoid_(xp, a[:, :2 * H])
                rr, z, nn = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
                xp.multiply(rr, gh[:, 2 * H:], out=nn)
                nn += x[:, 2 * H:]
                xp.tanh(nn, out=nn)
                hn = hp - nn
                hn *= z
                hn += nn
                if save:
                    Gn[r] = gh[:, 2 * H:]
                    Hp[r] = hp
                h[:bs] = hn
                y[r] = hn
        if save:
            self.save_for_backward(xg, h0, w_hh, b_hh, A, Gn, Hp)
        return y, h

    def _array_backward(self, gy, ghn):
        xp = self.xp
        xg, h0, w_hh, b_hh, A, Gn, Hp = [t._data if t is not None else None for t in self.saved_tensors]
        needs = self.needs_input_grad
        gy, dh = gy._data, ghn._data.copy()
        H = Hp.shape[1]
        dX = xp.empty_like(A)   # gradient of the input projection
        dR = xp.empty_like(A)   # gradient of W_hh h + b_hh
        for off, bs in reversed(_steps(self.batch_sizes, self.reverse)):
            r = slice(off, off + bs)
            dht = dh[:bs] + gy[r]
            a = A[r]
            rr, z, nn = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            hp = Hp[r]
            dnp = dht * (1 - z) * (1 - nn * nn)           # through n's tanh
            dx, dr = dX[r], dR[r]
            dx[:, 2 * H:] = dnp
            xp.multiply(dnp, rr, out=dr[:, 2 * H:])
            xp.multiply(dnp * Gn[r], rr * (1 - rr), out=dx[:, :H])
            xp.multiply(dht * (hp - nn), z * (1 - z), out=dx[:, H:2 * H])
            dr[:, :2 * H] = dx[:, :2 * H]
            dh[:bs] = dht * z + dr @ w_hh
        w = lambda a: _wrap_like(self, a)  # noqa: E731
        return (w(dX) if needs[0] else None,
                w(dh) if needs[1] else None,
                w(dR.T @ Hp) if needs[2] else None,
                w(dR.sum(0)) if len(needs) > 3 and needs[3] else None)


class RNNLayer(_Layer):
    """(xg, h0, w_hh, b_hh) -> (y, h_n) with h' = tanh or relu(xg + h W_hh^T + b_hh)."""

    mode = "RNN"
    n_inputs = 4

    def forward(self, xg, h0, w_hh, b_hh=None, *, batch_sizes, reverse=False, nonlinearity="tanh"):
        xp = self.xp
        self.batch_sizes, self.reverse, self.nonlinearity = batch_sizes, reverse, nonlinearity
        n, H = xg.shape[0], h0.shape[1]
        h = h0.copy()
        y = xp.empty((n, H), xg.dtype)
        save = self._recording
        Hp = xp.empty((n, H), xg.dtype) if save else None
        whh_t = w_hh.T
        relu = nonlinearity == "relu"
        for off, bs in _steps(batch_sizes, reverse):
            r = slice(off, off + bs)
            hp = h[:bs]
            if save:
                Hp[r] = hp
            a = xp.matmul(hp, whh_t, out=y[r])
            a += xg[r]
            if b_hh is not None:
                a += b_hh
            if relu:
                xp.maximum(a, 0, out=a)
            else:
                xp.tanh(a, out=a)
            h[:bs] = a
        if save:
            self.save_for_backward(xg, h0, w_hh, b_hh, y, Hp)
        return y, h

    def _array_backward(self, gy, ghn):
        xp = self.xp
        xg, h0, w_hh, b_hh, y, Hp = [t._data if t is not None else None for t in self.saved_tensors]
        needs = self.needs_input_grad
        gy, dh = gy._data, ghn._data.copy()
        dP = xp.empty_like(y)
        relu = self.nonlinearity == "relu"
        for off, bs in reversed(_steps(self.batch_sizes, self.reverse)):
            r = slice(off, off + bs)
            dht = dh[:bs] + gy[r]
            yr = y[r]
            d = dP[r]
            if relu:
                xp.multiply(dht, yr > 0, out=d)
            else:
                xp.multiply(dht, 1 - yr * yr, out=d)
            dh[:bs] = d @ w_hh
        w = lambda a: _wrap_like(self, a)  # noqa: E731
        return (w(dP) if needs[0] else None,
                w(dh) if needs[1] else None,
                w(dP.T @ Hp) if needs[2] else None,
                w(dP.sum(0)) if len(needs) > 3 and needs[3] else None)


def recurrent_layer(mode: str, xg: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor, b_hh: Tensor | None,
                    w_hr: Tensor | None, batch_sizes: Sequence[int], reverse: bool = False,
                    nonlinearity: str = "tanh") -> tuple:
    """Run one layer in one direction over packed gate inputs ``xg`` (N, gates); returns (y, h_n, c_n).

    ``c_n`` is None except for LSTM. ``batch_sizes`` is a tuple of Python ints (non-increasing).
    """
    bs = tuple(int(b) for b in batch_sizes)
    if mode == "LSTM":
        return LSTMLayer.apply(xg, h0, c0, w_hh, b_hh, w_hr, batch_sizes=bs, reverse=reverse)
    if mode == "GRU":
        y, h = GRULayer.apply(xg, h0, w_hh, b_hh, batch_sizes=bs, reverse=reverse)
    else:
        y, h = RNNLayer.apply(xg, h0, w_hh, b_hh, batch_sizes=bs, reverse=reverse, nonlinearity=nonlinearity)
    return y, h, None


def composite_layer(mode: str, xg: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor, b_hh: Tensor | None,
                    w_hr: Tensor | None, batch_sizes: Sequence[int], reverse: bool = False,
                    nonlinearity: str = "tanh") -> tuple:
    """The same layer written op by op with ember ops (the differentiable reference; see module doc)."""
    from ..._ops.pointwise import sigmoid, tanh, relu
    from ..._ops.join import cat
    from .linear import linear
    B = h0.shape[0]
    h, c = h0, c0
    steps = _steps(batch_sizes, reverse)
    ys = []
    for off, bs in steps:
        hp = h[:bs] if bs < B else h
        x = xg[off:off + bs]
        if mode == "LSTM":
            gates = x + linear(hp, w_hh, b_hh)
            i, f, g, o = gates.chunk(4, 1)
            cp = c[:bs] if bs < B else c
            cn = sigmoid(f) * cp + sigmoid(i) * tanh(g)
            hn = sigmoid(o) * tanh(cn)
            if w_hr is not None:
                hn = linear(hn, w_hr)
            c = cn if bs == B else cat([cn, c[bs:]])
        elif mode == "GRU":
            gh = linear(hp, w_hh, b_hh)
            xr, xz, xn = x.chunk(3, 1)
            hr, hz, hn_ = gh.chunk(3, 1)
            r = sigmoid(xr + hr)
            z = sigmoid(xz + hz)
            nn = tanh(xn + r * hn_)
            hn = nn + z * (hp - nn)
        else:
            pre = x + linear(hp, w_hh, b_hh)
            hn = relu(pre) if nonlinearity == "relu" else tanh(pre)
        h = hn if bs == B else cat([hn, h[bs:]])
        ys.append(hn)
    if reverse:
        ys.reverse()
    y = cat(ys, 0)
    return (y, h, c) if mode == "LSTM" else (y, h)
