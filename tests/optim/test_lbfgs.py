"""LBFGS against PyTorch: Rosenbrock with strong-Wolfe line search, a quadratic without, state layout."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import ember
from parity import torch_or_skip

torch = torch_or_skip()


def _rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _solve(fw, dtype, steps, **kw):
    x = fw.nn.Parameter(fw.tensor([-1.5, 2.0], dtype=getattr(fw, dtype)))
    opt = fw.optim.LBFGS([x], **kw)
    losses = []

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        return loss
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
    return x.detach().numpy().copy(), losses, opt


def test_rosenbrock_strong_wolfe_float64_matches_torch():
    kw = dict(lr=1, max_iter=20, history_size=10, line_search_fn="strong_wolfe")
    xt, lt, ot = _solve(torch, "float64", 5, **kw)
    xe, le, oe = _solve(ember, "float64", 5, **kw)
    np.testing.assert_allclose(xe, xt, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(le, lt, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(xe, [1.0, 1.0], atol=1e-4)
    st, se = ot.state[next(iter(ot.state))], oe.state[next(iter(oe.state))]
    assert (se["func_evals"], se["n_iter"]) == (st["func_evals"], st["n_iter"])


def test_rosenbrock_strong_wolfe_float32_reaches_torchs_optimum():
    kw = dict(lr=1, max_iter=20, history_size=10, line_search_fn="strong_wolfe")
    xt, lt, _ = _solve(torch, "float32", 5, **kw)
    xe, le, _ = _solve(ember, "float32", 5, **kw)
    np.testing.assert_allclose(xe, xt, atol=1e-4)
    np.testing.assert_allclose(le[:2], lt[:2], rtol=1e-4)  # the first iterations agree closely


def test_quadratic_without_line_search_matches_torch():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 6))
    A = (A @ A.T + 6 * np.eye(6))
    bvec = rng.standard_normal(6)
    out = []
    for fw in (torch, ember):
        x = fw.nn.Parameter(fw.zeros(6, dtype=fw.float64))
        At, bt = fw.tensor(A), fw.tensor(bvec)
        opt = fw.optim.LBFGS([x], lr=0.5, max_iter=7, history_size=3)

        def closure():
            opt.zero_grad()
            loss = 0.5 * (x * (At @ x)).sum() - (bt * x).sum()
            loss.backward()
            return loss
        for _ in range(3):
            opt.step(closure)
        out.append((x.detach().numpy().copy(), opt.state_dict()))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-9, atol=1e-12)
    e_state, t_state = out[1][1]["state"][0], out[0][1]["state"][0]
    assert list(e_state) == list(t_state)
    for k, tv in t_state.items():
        ev = e_state[k]
        if isinstance(tv, torch.Tensor):
            assert isinstance(ev, ember.Tensor) and tuple(ev.shape) == tuple(tv.shape), k
            np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-8, atol=1e-12)
        elif isinstance(tv, list):
            assert len(ev) == len(tv) and all((a is None) == (b is None) for a, b in zip(ev, tv)), k
        else:
            assert type(ev) is type(tv) and ev == pytest.approx(tv), k


def test_lbfgs_state_dict_round_trip_continues():
    kw = dict(lr=1, max_iter=4, history_size=5, line_search_fn="strong_wolfe")
    x, _, opt = _solve(ember, "float64", 2, **kw)
    p2 = ember.nn.Parameter(ember.tensor(x))
    opt2 = ember.optim.LBFGS([p2], **kw)
    # deep-copied: loading shares state tensors (as in PyTorch), and LBFGS updates prev_flat_grad in place
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    for o, p in ((opt, opt.param_groups[0]["params"][0]), (opt2, p2)):
        def closure(o=o, p=p):
            o.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            return loss
        o.step(closure)
    np.testing.assert_allclose(p2.detach().numpy(), opt.param_groups[0]["params"][0].detach().numpy(), rtol=1e-12)


def test_lbfgs_errors():
    p = ember.nn.Parameter(ember.ones(2))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        ember.optim.LBFGS([p], lr=-1)
    opt = ember.optim.LBFGS([p], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
