"""Optimizers against PyTorch: 100 steps on the same problem, state_dict layout and round trips, errors, hooks."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from parity import assert_same_error, torch_or_skip

torch = torch_or_skip()

rng = np.random.default_rng(0)
X = rng.standard_normal((8, 4)).astype(np.float32)
Y = rng.standard_normal((8, 3)).astype(np.float32)
# A strong linear tilt keeps every gradient coordinate away from zero for 100 steps: where a coordinate's
# gradient crosses zero, adaptive optimizers (normalised steps) turn chaotic and last-bit differences of the
# two frameworks' float32 matmuls would grow without bound.
CW = (20 * rng.choice([-1.0, 1.0], (3, 4))).astype(np.float32)
CB = (20 * rng.choice([-1.0, 1.0], 3)).astype(np.float32)
W0 = rng.standard_normal((3, 4)).astype(np.float32)
B0 = rng.standard_normal(3).astype(np.float32)

CONFIGS = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.05)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, eps=1e-4, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("ASGD", dict(lr=0.01)),
    ("ASGD", dict(lr=0.01, t0=10, lambd=1e-3, weight_decay=0.1)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.01, etas=(0.3, 1.5), step_sizes=(1e-4, 0.1), maximize=True)),
]


def _problem(fw):
    W = fw.nn.Parameter(fw.tensor(W0.copy()))
    b = fw.nn.Parameter(fw.tensor(B0.copy()))
    return W, b, fw.tensor(X), fw.tensor(Y)


def _loss(W, b, Xt, Yt, maximize=False):
    fw = torch if isinstance(W, torch.Tensor) else ember
    loss = ((Xt @ W.T + b - Yt) ** 2).sum() * 0.1 + (W * fw.tensor(CW)).sum() + (b * fw.tensor(CB)).sum()
    return -loss if maximize else loss


def _run(opt, W, b, Xt, Yt, steps, maximize=False):
    for _ in range(steps):
        opt.zero_grad()
        _loss(W, b, Xt, Yt, maximize).backward()
        opt.step()


def _flat(W, b) -> np.ndarray:
    return np.concatenate([W.detach().numpy().ravel(), b.detach().numpy().ravel()])


def _to_torch(obj):
    if isinstance(obj, ember.Tensor):
        return torch.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_torch(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_torch(v) for v in obj]
    return obj


def _to_ember(obj):
    if isinstance(obj, torch.Tensor):
        return ember.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_ember(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_ember(v) for v in obj]
    return obj


def _ids(cfg):
    return cfg[0] + "-" + ",".join(f"{k}={v}" for k, v in cfg[1].items())


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_100_steps_match_torch(cfg):
    name, kw = cfg
    maximize = kw.get("maximize", False)
    results = []
    for fw in (torch, ember):
        W, b, Xt, Yt = _problem(fw)
        opt = getattr(fw.optim, name)([W, b], **kw)
        _run(opt, W, b, Xt, Yt, 100, maximize)
        results.append(_flat(W, b))
    assert not np.allclose(results[1], np.concatenate([W0.ravel(), B0.ravel()]))  # it moved
    np.testing.assert_allclose(results[1], results[0], atol=1e-5, rtol=1e-5)


def _same_layout(e_sd, t_sd):
    assert list(e_sd.keys()) == list(t_sd.keys()) == ["state", "param_groups"]
    assert list(e_sd["state"].keys()) == list(t_sd["state"].keys())
    for k, t_state in t_sd["state"].items():
        e_state = e_sd["state"][k]
        assert list(e_state.keys()) == list(t_state.keys())
        for key, tv in t_state.items():
            ev = e_state[key]
            if isinstance(tv, torch.Tensor):
                assert isinstance(ev, ember.Tensor), key
                assert tuple(ev.shape) == tuple(tv.shape), key
                assert str(ev.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1], key
            else:
                assert type(ev) is type(tv), key
    assert len(e_sd["param_groups"]) == len(t_sd["param_groups"])
    for eg, tg in zip(e_sd["param_groups"], t_sd["param_groups"]):
        assert list(eg.keys()) == list(tg.keys())
        for key in tg:
            assert eg[key] == tg[key], key


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_state_dict_layout_and_round_trip(cfg):
    name, kw = cfg
    maximize = kw.get("maximize", False)
    # 10 steps in each framework, then swap state dicts and continue 10 more steps
    te, tt = _problem(ember), _problem(torch)
    oe = getattr(ember.optim, name)(list(te[:2]), **kw)
    ot = getattr(torch.optim, name)(list(tt[:2]), **kw)
    _run(oe, *te, 10, maximize)
    _run(ot, *tt, 10, maximize)
    _same_layout(oe.state_dict(), ot.state_dict())

    # torch -> ember: a fresh ember optimizer on torch's parameters continues exactly like torch
    pe = [ember.nn.Parameter(ember.tensor(p.detach().numpy().copy())) for p in tt[:2]]
    oe2 = getattr(ember.optim, name)(pe, **kw)
    oe2.load_state_dict(_to_ember(ot.state_dict()))
    _same_layout(oe2.state_dict(), ot.state_dict())
    # ember -> torch
    pt = [torch.nn.Parameter(torch.tensor(p.detach().numpy().copy())) for p in te[:2]]
    ot2 = getattr(torch.optim, name)(pt, **kw)
    ot2.load_state_dict(_to_torch(oe.state_dict()))

    _run(ot, *tt, 10, maximize)
    _run(oe2, pe[0], pe[1], te[2], te[3], 10, maximize)
    np.testing.assert_allclose(_flat(*pe), _flat(*tt[:2]), atol=1e-5, rtol=1e-5)
    _run(oe, *te, 10, maximize)
    _run(ot2, pt[0], pt[1], tt[2], tt[3], 10, maximize)
    np.testing.assert_allclose(_flat(*te[:2]), _flat(*pt), atol=1e-5, rtol=1e-5)


def test_load_state_dict_accepts_torch_tensors_directly():
    tt = _problem(torch)
    ot = torch.optim.Adam(list(tt[:2]), lr=0.01)
    _run(ot, *tt, 3)
    pe = [ember.nn.Parameter(ember.tensor(p.detach().numpy().copy())) for p in tt[:2]]
    oe = ember.optim.Adam(pe, lr=0.01)
    oe.load_state_dict(ot.state_dict())
    st = oe.state[pe[0]]
    assert isinstance(st["exp_avg"], ember.Tensor) and isinstance(st["step"], ember.Tensor)
    assert float(st["step"]) == 3.0


def test_load_state_dict_casts_to_param_dtype_and_keeps_step():
    p = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    opt = ember.optim.Adam([p])
    sd = {"state": {0: {"step": ember.tensor(4.0), "exp_avg": ember.zeros(3), "exp_avg_sq": ember.zeros(3)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(sd)
    assert opt.state[p]["exp_avg"].dtype == ember.float64
    assert opt.state[p]["step"].dtype == ember.float32
    # an old-style number step becomes a 0-d float32 tensor
    sd["state"][0]["step"] = 2
    opt.load_state_dict(sd)
    assert isinstance(opt.state[p]["step"], ember.Tensor) and float(opt.state[p]["step"]) == 2.0


def test_load_state_dict_mismatch_errors():
    opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(1))], lr=0.1)
    other = ember.optim.SGD([ember.nn.Parameter(ember.ones(1)), ember.nn.Parameter(ember.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(other.state_dict())
    two = ember.optim.SGD([{"params": [ember.nn.Parameter(ember.ones(1))]},
                           {"params": [ember.nn.Parameter(ember.ones(1))]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(two.state_dict())


def test_param_groups_options_and_ids():
    for fw in (ember, torch):
        a, b, c = (fw.nn.Parameter(fw.ones(2)) for _ in range(3))
        opt = fw.optim.SGD([{"params": [a, b]}, {"params": c, "lr": 0.5}], lr=0.1, momentum=0.9)
        sd = opt.state_dict()
        assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
        assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]


def test_named_parameters():
    sds = []
    for fw in (ember, torch):
        a, b = fw.nn.Parameter(fw.ones(2)), fw.nn.Parameter(fw.ones(2))
        opt = fw.optim.Adam([("a", a), ("b", b)])
        sds.append(opt.state_dict()["param_groups"][0])
        assert opt.param_groups[0]["param_names"] == ["a", "b"]
    assert list(sds[0].keys()) == list(sds[1].keys())


def test_repr_matches_torch():
    pe, pt = ember.nn.Parameter(ember.ones(1)), torch.nn.Parameter(torch.ones(1))
    assert repr(ember.optim.Adam([pe], lr=0.1)) == repr(torch.optim.Adam([pt], lr=0.1))
    assert repr(ember.optim.SGD([pe], lr=0.1)) == repr(torch.optim.SGD([pt], lr=0.1))


def test_zero_grad():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and np.all(p.grad.numpy() == 0)
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradient: nothing happens
    assert np.all(p.detach().numpy() == 1)


def test_step_bumps_version_and_records_no_graph():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.Adam([p], lr=0.1)
    y = (p * p).sum()
    (p * p).sum().backward()
    v = p._version
    opt.step()
    assert p._version == v + 1
    assert p.grad_fn is None and p.is_leaf
    assert opt.state[p]["exp_avg"].grad_fn is None
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_parameter_without_grad_is_skipped():
    a, b = ember.nn.Parameter(ember.ones(2)), ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b not in opt.state and a in opt.state
    assert list(opt.state_dict()["state"].keys()) == [0]


def test_closure_returns_loss():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    with ember.no_grad():
        loss = opt.step(closure)  # the closure still records a graph
    assert float(loss) == 2.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 0.8])


def test_step_hooks():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o is opt)))
    from ember.optim.optimizer import register_optimizer_step_pre_hook
    h3 = register_optimizer_step_pre_hook(lambda o, a, k: calls.append(("global", True)))
    opt.step()
    assert calls == [("global", True), ("pre", True), ("post", True)]
    for h in (h1, h2, h3):
        h.remove()
    opt.step()
    assert len(calls) == 3


def test_state_dict_hooks():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1)
    seen = []
    opt.register_state_dict_pre_hook(lambda o: seen.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append("load_pre"))
    opt.register_load_state_dict_post_hook(lambda o: seen.append("load_post"))
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)
    assert seen == ["pre", "load_pre", "load_post"]


def test_tensor_lr():
    results = []
    for fw in (torch, ember):
        W, b, Xt, Yt = _problem(fw)
        opt = fw.optim.Adam([W, b], lr=fw.tensor(0.01))
        _run(opt, W, b, Xt, Yt, 20)
        results.append(_flat(W, b))
    np.testing.assert_allclose(results[1], results[0], atol=1e-5)


def test_complex_params_match_torch():
    z0 = (rng.standard_normal(3) + 1j * rng.standard_normal(3)).astype(np.complex64)
    for name in ("Adam", "RMSprop", "Adagrad", "SGD"):
        out = []
        for fw in (torch, ember):
            z = fw.nn.Parameter(fw.tensor(z0.copy()))
            opt = getattr(fw.optim, name)([z], lr=0.05)
            for _ in range(20):
                opt.zero_grad()
                (z.abs() ** 2).sum().backward()
                opt.step()
            out.append(z.detach().numpy())
        np.testing.assert_allclose(out[1], out[0], atol=1e-5, err_msg=name)


def test_float64_params():
    out = []
    for fw in (torch, ember):
        W = fw.nn.Parameter(fw.tensor(W0.astype(np.float64)))
        opt = fw.optim.NAdam([W], lr=0.01)
        for _ in range(30):
            opt.zero_grad()
            ((fw.tensor(X.astype(np.float64)) @ W.T) ** 2).sum().backward()
            opt.step()
        out.append(W.detach().numpy())
        assert W.dtype == fw.float64
    np.testing.assert_allclose(out[1], out[0], atol=1e-10)


def test_duplicate_parameters():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        p = ember.nn.Parameter(ember.ones(1))
        ember.optim.SGD([p, p], lr=0.1)
    assert any("duplicate parameters" in str(x.message) for x in w)


def _required(fw):
    import importlib
    return importlib.import_module(fw.__name__ + ".optim.optimizer").required


ERRORS = [
    ("negative lr", lambda fw, p: fw.optim.SGD([p], lr=-0.1)),
    ("negative lr adam", lambda fw, p: fw.optim.Adam([p], lr=-1e-3)),
    ("negative momentum", lambda fw, p: fw.optim.SGD([p], lr=0.1, momentum=-0.5)),
    ("negative weight decay", lambda fw, p: fw.optim.SGD([p], lr=0.1, weight_decay=-1)),
    ("nesterov without momentum", lambda fw, p: fw.optim.SGD([p], lr=0.1, nesterov=True)),
    ("nesterov with dampening", lambda fw, p: fw.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
    ("beta0 out of range", lambda fw, p: fw.optim.Adam([p], betas=(1.0, 0.999))),
    ("beta1 out of range", lambda fw, p: fw.optim.AdamW([p], betas=(0.9, -0.1))),
    ("negative eps", lambda fw, p: fw.optim.Adam([p], eps=-1e-8)),
    ("mixed betas", lambda fw, p: fw.optim.Adam([p], betas=(0.9, 1))),
    ("params a tensor", lambda fw, p: fw.optim.SGD(p, lr=0.1)),
    ("params not iterable", lambda fw, p: fw.optim.SGD(5, lr=0.1)),
    ("params not tensors", lambda fw, p: fw.optim.SGD([1.0, 2.0], lr=0.1)),
    ("empty parameter list", lambda fw, p: fw.optim.Adam([])),
    ("non-leaf", lambda fw, p: fw.optim.SGD([p * 2], lr=0.1)),
    ("set of params in a group", lambda fw, p: fw.optim.SGD([{"params": {p}}], lr=0.1)),
    ("param in two groups", lambda fw, p: fw.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)),
    ("required lr missing", lambda fw, p: fw.optim.Optimizer([p], {"lr": _required(fw)})),
    ("rho out of range", lambda fw, p: fw.optim.Adadelta([p], rho=1.5)),
    ("bad etas", lambda fw, p: fw.optim.Rprop([p], etas=(1.5, 1.2))),
    ("negative alpha", lambda fw, p: fw.optim.RMSprop([p], alpha=-0.1)),
    ("negative lr_decay", lambda fw, p: fw.optim.Adagrad([p], lr_decay=-1)),
    ("negative initial accumulator", lambda fw, p: fw.optim.Adagrad([p], initial_accumulator_value=-1)),
    ("negative momentum_decay", lambda fw, p: fw.optim.NAdam([p], momentum_decay=-1)),
    ("lbfgs groups", lambda fw, p: fw.optim.LBFGS([{"params": [p]}, {"params": [fw.nn.Parameter(fw.ones(1))]}])),
    ("mixed names", lambda fw, p: fw.optim.SGD([("a", p), fw.nn.Parameter(fw.ones(1))], lr=0.1)),
    ("tensor lr many elements", lambda fw, p: fw.optim.SGD([p], lr=fw.tensor([0.1, 0.2]))),
    ("fused and foreach", lambda fw, p: fw.optim.Adam([p], fused=True, foreach=True)),
]


@pytest.mark.parametrize("make", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_arguments_raise_torch_errors(make):
    assert_same_error(lambda: make(ember, ember.nn.Parameter(ember.ones(2))),
                      lambda: make(torch, torch.nn.Parameter(torch.ones(2))))


def test_error_messages():
    p = ember.nn.Parameter(ember.ones(1))
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        ember.optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 1.0"):
        ember.optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        ember.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        ember.optim.SGD([1.0], lr=0.1)


def test_add_param_group():
    p, q = ember.nn.Parameter(ember.ones(1)), ember.nn.Parameter(ember.ones(1))
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": q, "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [q]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([q])
