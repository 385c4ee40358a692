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
    # sigmoid(x) = (1 + tanh(x/2)) / 2: in place, and never overflows (exp(-x) would for x << 0)
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5


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
    """(xg, h0, c0, w_hh, b_hh, w_hr) -> (y, h_n, c_n); gates in PyTorch's order i, f, g, o."""

    mode = "LSTM"

    def forward(self, xg, h0, c0, w_hh, b_hh=None, w_hr=None, *, batch_sizes, reverse=False):
        xp = self.xp
        self.batch_sizes, self.reverse = batch_sizes, reverse
        n, H = xg.shape[0], c0.shape[1]
        dt = xg.dtype
        h = h0.copy()
        c = c0.copy()
        y = xp.empty((n, h0.shape[1]), dt)
        save = self._recording
        A = xp.empty((n, 4 * H), dt) if save else None   # gate activations of every step
        Cs = xp.empty((n, H), dt) if save else None      # cell state after each step
        Cp = xp.empty((n, H), dt) if save else None      # cell state before each step
        Hp = xp.empty((n, h0.shape[1]), dt) if save else None  # hidden state before each step
        M = xp.empty((n, H), dt) if save and w_hr is not None else None  # o * tanh(c) before projection
        whh_t = w_hh.T
        whr_t = w_hr.T if w_hr is not None else None
        for off, bs in _steps(batch_sizes, reverse):
            r = slice(off, off + bs)
            hp = h[:bs]
            g = xp.matmul(hp, whh_t, out=A[r]) if save else hp @ whh_t
            g += xg[r]
            if b_hh is not None:
                g += b_hh
            _sigmoid_(xp, g[:, :2 * H])
            xp.tanh(g[:, 2 * H:3 * H], out=g[:, 2 * H:3 * H])
            _sigmoid_(xp, g[:, 3 * H:])
            i, f, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
            cp = c[:bs]
            cn = f * cp
            cn += i * gg
            m = xp.tanh(cn)
            m *= o
            if save:
                Cp[r] = cp
                Cs[r] = cn
                Hp[r] = hp
                if M is not None:
                    M[r] = m
            hn = m @ whr_t if whr_t is not None else m
            c[:bs] = cn
            h[:bs] = hn
            y[r] = hn
        if save:
            self.save_for_backward(xg, h0, c0, w_hh, b_hh, w_hr, A, Cs, Cp, Hp, M)
        return y, h, c

    def _array_backward(self, gy, ghn, gcn):
        xp = self.xp
        xg, h0, c0, w_hh, b_hh, w_hr, A, Cs, Cp, Hp, M = [t._data if t is not None else None
                                                          for t in self.saved_tensors]
        needs = self.needs_input_grad
        gy, dh, dc = gy._data, ghn._data.copy(), gcn._data.copy()
        n, H = A.shape[0], Cs.shape[1]
        dG = xp.empty_like(A)
        DH = xp.empty((n, dh.shape[1]), dh.dtype) if w_hr is not None else None
        for off, bs in reversed(_steps(self.batch_sizes, self.reverse)):
            r = slice(off, off + bs)
            dht = dh[:bs] + gy[r]
            if w_hr is not None:
                DH[r] = dht
                dm = dht @ w_hr
            else:
                dm = dht
            a = A[r]
            i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            tc = xp.tanh(Cs[r])
            d = dG[r]
            xp.multiply(dm * tc, o * (1 - o), out=d[:, 3 * H:])
            dct = dc[:bs] + dm * o * (1 - tc * tc)
            xp.multiply(dct * gg, i * (1 - i), out=d[:, :H])
            xp.multiply(dct * Cp[r], f * (1 - f), out=d[:, H:2 * H])
            xp.multiply(dct * i, 1 - gg * gg, out=d[:, 2 * H:3 * H])
            dc[:bs] = dct * f
            dh[:bs] = d @ w_hh
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
