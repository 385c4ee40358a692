"""``foreach=True`` (flat-buffer updates) against the per-parameter path and against PyTorch.

The parameters mix shapes, a float64 parameter (its own flat group), a non-contiguous parameter, one that
gets no gradient on some steps, and a parameter group of its own; state dicts must keep PyTorch's layout.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import ember
from parity import torch_or_skip

torch = torch_or_skip()

rng = np.random.default_rng(1)
INITIAL = [rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32),
           rng.standard_normal((3, 2)).astype(np.float64), rng.standard_normal((4, 3)).astype(np.float32).T,
           rng.standard_normal(7).astype(np.float32)]
# a strong linear tilt keeps gradients away from zero, where adaptive steps would amplify rounding differences
TILTS = [(10 * rng.choice([-1.0, 1.0], a.shape)).astype(a.dtype) for a in INITIAL]
SKIPPED_EVERY = 3  # the last parameter gets no gradient on every third step

CONFIGS = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=1.0, momentum=0.9, dampening=0.2, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, betas=(0.8, 0.99))),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
]


def _ids(cfg):
    return cfg[0] + "-" + ",".join(f"{k}={v}" for k, v in cfg[1].items())


def _params(fw):
    return [fw.nn.Parameter(fw.tensor(a.copy()) if i != 3 else fw.tensor(a.T.copy()).t())
            for i, a in enumerate(INITIAL)]


def _optimizer(fw, name, params, kw):
    groups = [{"params": params[:3]}, {"params": params[3:], "lr": kw.get("lr", 1.0) * 0.5}]
    return getattr(fw.optim, name)(groups, **kw)


def _step(fw, opt, params, i, maximize):
    opt.zero_grad()
    used = params if i % SKIPPED_EVERY else params[:-1]
    loss = sum(((p ** 2).sum() * 0.1 + (p * fw.tensor(t)).sum()) for p, t in zip(used, TILTS))
    (-loss if maximize else loss).backward()
    opt.step()


def _trajectory(fw, name, kw, steps=24):
    params = _params(fw)
    opt = _optimizer(fw, name, params, kw)
    out = []
    for i in range(steps):
        _step(fw, opt, params, i, kw.get("maximize", False))
        out.append([p.detach().numpy().copy() for p in params])
    return out, opt, params


def _assert_close(a, b, **tol):
    for step_a, step_b in zip(a, b):
        for x, y in zip(step_a, step_b):
            np.testing.assert_allclose(x, y, **tol)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_foreach_matches_per_parameter_and_torch(cfg):
    name, kw = cfg
    flat, flat_opt, _ = _trajectory(ember, name, dict(kw, foreach=True))
    per_param, per_param_opt, _ = _trajectory(ember, name, dict(kw, foreach=False))
    reference, torch_opt, _ = _trajectory(torch, name, dict(kw, foreach=False))
    assert flat_opt.__dict__.get("_flat_cache"), "the flat path was not taken"
    # the same arithmetic over other array shapes: equal up to the last bit of NumPy's vectorised loops
    _assert_close(flat, per_param, rtol=1e-6, atol=1e-7)
    _assert_close(flat, reference, rtol=1e-5, atol=1e-5)
    e_sd, t_sd = flat_opt.state_dict(), torch_opt.state_dict()
    assert e_sd["param_groups"] == [{**g, "foreach": True} for g in t_sd["param_groups"]]
    for k, t_state in t_sd["state"].items():
        assert list(e_sd["state"][k]) == list(t_state)
        for key, value in t_state.items():
            np.testing.assert_allclose(e_sd["state"][k][key].numpy(), value.numpy(), rtol=1e-5, atol=1e-5)
            assert e_sd["state"][k][key].shape == tuple(value.shape)


@pytest.mark.parametrize("cfg", CONFIGS[1::2], ids=[_ids(c) for c in CONFIGS[1::2]])
def test_foreach_state_dict_round_trip(cfg):
    """A state dict from the flat path loads into a per-parameter optimizer (and one from PyTorch into a flat
    one); both continue on the same trajectory."""
    name, kw = cfg
    maximize = kw.get("maximize", False)
    _, flat_opt, flat_params = _trajectory(ember, name, dict(kw, foreach=True), steps=10)
    _, torch_opt, torch_params = _trajectory(torch, name, dict(kw, foreach=False), steps=10)
    saved = copy.deepcopy(flat_opt.state_dict())  # loading shares the tensors (as in PyTorch)
    as_torch = {"state": {k: {n: torch.tensor(v.numpy().copy()) if isinstance(v, ember.Tensor) else v
                              for n, v in s.items()} for k, s in saved["state"].items()},
                "param_groups": saved["param_groups"]}
    resumed_params = [ember.nn.Parameter(ember.tensor(p.detach().numpy().copy())) for p in torch_params]
    resumed = _optimizer(ember, name, resumed_params, dict(kw, foreach=True))
    resumed.load_state_dict(torch_opt.state_dict())
    per_param_params = [ember.nn.Parameter(ember.tensor(p.detach().numpy().copy())) for p in flat_params]
    per_param = _optimizer(ember, name, per_param_params, dict(kw, foreach=False))
    per_param.load_state_dict(saved)
    torch_opt2 = _optimizer(torch, name, [torch.nn.Parameter(torch.tensor(p.detach().numpy().copy()))
                                          for p in flat_params], dict(kw, foreach=False))
    torch_opt2.load_state_dict(as_torch)
    for i in range(10, 20):
        _step(ember, flat_opt, flat_params, i, maximize)
        _step(ember, per_param, per_param_params, i, maximize)
        _step(ember, resumed, resumed_params, i, maximize)
        _step(torch, torch_opt, torch_params, i, maximize)
    for a, b, c, d in zip(flat_params, per_param_params, resumed_params, torch_params):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(c.detach().numpy(), d.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_foreach_keeps_parameter_memory_and_state_tensors():
    """Parameters keep their own arrays (shared with the caller's); state tensors keep their identity."""
    shared = np.ones(3, dtype=np.float32)
    p = ember.nn.Parameter(ember.from_numpy(shared))
    q = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p, q], lr=0.1, momentum=0.9, foreach=True)
    held = None
    for _ in range(3):
        opt.zero_grad()
        ((p * 2).sum() + q.sum()).backward()
        opt.step()  # the first step creates the buffers; the next ones move them into a flat array
        held = held or [opt.state[x]["momentum_buffer"] for x in (p, q)]
    assert all(opt.state[x]["momentum_buffer"] is b for x, b in zip((p, q), held))
    np.testing.assert_allclose(held[0].numpy(), 2 * (1 + 0.9 + 0.81))
    np.testing.assert_allclose(shared, p.detach().numpy())
    np.testing.assert_allclose(shared, 1 - 0.1 * 2 * (1 + 1.9 + 2.71), rtol=1e-6)
    assert p._version == 3


def test_foreach_complex_params_match_torch():
    z0 = (rng.standard_normal(3) + 1j * rng.standard_normal(3)).astype(np.complex64)
    for name in ("Adam", "SGD", "Adadelta"):
        out = []
        for fw, kw in ((torch, {}), (ember, dict(foreach=True))):
            z = fw.nn.Parameter(fw.tensor(z0.copy()))
            w = fw.nn.Parameter(fw.tensor(z0[:2].copy()))
            opt = getattr(fw.optim, name)([z, w], lr=0.05, **kw)
            for _ in range(20):
                opt.zero_grad()
                ((z.abs() ** 2).sum() + (w.abs() ** 3).sum()).backward()
                opt.step()
            out.append(np.concatenate([z.detach().numpy(), w.detach().numpy()]))
        np.testing.assert_allclose(out[1], out[0], atol=1e-5, err_msg=name)
