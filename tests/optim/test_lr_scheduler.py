"""LR schedulers against PyTorch: the same learning-rate (and momentum) sequence over 200 steps."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from parity import assert_same_error, torch_or_skip

torch = torch_or_skip()


def _opt(fw, kind="SGD", groups=2):
    ps = [fw.nn.Parameter(fw.ones(1)) for _ in range(groups)]
    if kind == "SGD":
        return fw.optim.SGD([{"params": [ps[0]]}] + [{"params": [p], "lr": 0.05} for p in ps[1:]], lr=0.1,
                            momentum=0.9)
    return fw.optim.Adam([{"params": [ps[0]]}] + [{"params": [p], "lr": 0.05} for p in ps[1:]], lr=0.1)


def _lm(fw):
    return fw.optim.lr_scheduler


SCHEDULERS = {
    "LambdaLR": lambda fw, o: _lm(fw).LambdaLR(o, lambda e: 0.97 ** e),
    "LambdaLR-list": lambda fw, o: _lm(fw).LambdaLR(o, [lambda e: 0.97 ** e, lambda e: 1 / (1 + e)]),
    "MultiplicativeLR": lambda fw, o: _lm(fw).MultiplicativeLR(o, lambda e: 0.98),
    "StepLR": lambda fw, o: _lm(fw).StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda fw, o: _lm(fw).MultiStepLR(o, milestones=[10, 50, 50, 120], gamma=0.3),
    "ConstantLR": lambda fw, o: _lm(fw).ConstantLR(o, factor=0.25, total_iters=13),
    "LinearLR": lambda fw, o: _lm(fw).LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=37),
    "ExponentialLR": lambda fw, o: _lm(fw).ExponentialLR(o, gamma=0.97),
    "PolynomialLR": lambda fw, o: _lm(fw).PolynomialLR(o, total_iters=150, power=2.0),
    "CosineAnnealingLR": lambda fw, o: _lm(fw).CosineAnnealingLR(o, T_max=30, eta_min=1e-3),
    "CosineAnnealingWarmRestarts": lambda fw, o: _lm(fw).CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2,
                                                                                      eta_min=1e-4),
    "CyclicLR-triangular": lambda fw, o: _lm(fw).CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=15),
    "CyclicLR-triangular2": lambda fw, o: _lm(fw).CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=10,
                                                           step_size_down=25, mode="triangular2"),
    "CyclicLR-exp_range": lambda fw, o: _lm(fw).CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=12,
                                                         mode="exp_range", gamma=0.99, base_momentum=0.7),
    "CyclicLR-no-momentum": lambda fw, o: _lm(fw).CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=12,
                                                           cycle_momentum=False),
    "OneCycleLR-cos": lambda fw, o: _lm(fw).OneCycleLR(o, max_lr=0.5, total_steps=201),
    "OneCycleLR-linear-3phase": lambda fw, o: _lm(fw).OneCycleLR(o, max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=51,
                                                                 anneal_strategy="linear", three_phase=True,
                                                                 pct_start=0.25),
    "SequentialLR": lambda fw, o: _lm(fw).SequentialLR(
        o, [_lm(fw).LinearLR(o, start_factor=0.1, total_iters=20), _lm(fw).CosineAnnealingLR(o, T_max=80),
            _lm(fw).ExponentialLR(o, gamma=0.99)], milestones=[20, 100]),
    "ChainedScheduler": lambda fw, o: _lm(fw).ChainedScheduler(
        [_lm(fw).ConstantLR(o, factor=0.5, total_iters=30), _lm(fw).ExponentialLR(o, gamma=0.99),
         _lm(fw).StepLR(o, step_size=40, gamma=0.5)]),
    "SWALR-cos": lambda fw, o: fw.optim.swa_utils.SWALR(o, swa_lr=0.02, anneal_epochs=15),
    "SWALR-linear": lambda fw, o: fw.optim.swa_utils.SWALR(o, swa_lr=[0.02, 0.01], anneal_epochs=5,
                                                           anneal_strategy="linear"),
}


def _trace(fw, name, kind):
    opt = _opt(fw, kind)
    sched = SCHEDULERS[name](fw, opt)
    out = [(sched.get_last_lr(), _momenta(opt))]
    for _ in range(200):
        opt.step()
        sched.step()
        out.append((list(sched.get_last_lr()), _momenta(opt)))
    return out, sched


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_lr_sequence_matches_torch(name, kind):
    t_trace, t_sched = _trace(torch, name, kind)
    e_trace, e_sched = _trace(ember, name, kind)
    t_lrs = np.array([lr for lr, _ in t_trace], dtype=np.float64)
    e_lrs = np.array([lr for lr, _ in e_trace], dtype=np.float64)
    np.testing.assert_allclose(e_lrs, t_lrs, rtol=1e-12, atol=1e-15)
    assert len(set(map(tuple, t_lrs.tolist()))) > 1 or name == "ConstantLR"  # the schedule changes the rate
    t_m = np.array([[np.nan if m is None else m for m in ms] for _, ms in t_trace], dtype=np.float64)
    e_m = np.array([[np.nan if m is None else m for m in ms] for _, ms in e_trace], dtype=np.float64)
    np.testing.assert_allclose(e_m, t_m, rtol=1e-12, equal_nan=True)
    # the same state_dict keys as PyTorch (checkpoints interchange)
    assert sorted(e_sched.state_dict()) == sorted(t_sched.state_dict())


def test_reduce_lr_on_plateau_matches_torch():
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 30), 0.5 + 0.01 * rng.standard_normal(170)])
    configs = [dict(), dict(mode="max", factor=0.5, patience=3, threshold=0.01, threshold_mode="abs", cooldown=2),
               dict(factor=0.5, patience=2, cooldown=3, min_lr=[0.01, 0.002], eps=1e-3),
               dict(factor=0.2, patience=0, threshold=0.05, min_lr=1e-4)]
    for cfg in configs:
        traces = []
        for fw in (torch, ember):
            opt = _opt(fw)
            s = fw.optim.lr_scheduler.ReduceLROnPlateau(opt, **cfg)
            trace = []
            for m in metrics:
                s.step(float(m) if cfg.get("mode") != "max" else -float(m))
                trace.append([g["lr"] for g in opt.param_groups] + list(s.get_last_lr()))
            traces.append(np.array(trace))
            keys = sorted(s.state_dict())
            traces.append(keys)
        np.testing.assert_allclose(traces[2], traces[0], rtol=1e-12)
        assert traces[3] == traces[1]
        assert len(np.unique(traces[0][:, 0])) > 1


def test_closed_form_with_epoch():
    for name, make in [("StepLR", lambda fw, o: _lm(fw).StepLR(o, 5, 0.5)),
                       ("CosineAnnealingLR", lambda fw, o: _lm(fw).CosineAnnealingLR(o, 20)),
                       ("MultiStepLR", lambda fw, o: _lm(fw).MultiStepLR(o, [3, 9])),
                       ("LinearLR", lambda fw, o: _lm(fw).LinearLR(o, 0.2, total_iters=10))]:
        res = []
        for fw in (torch, ember):
            opt = _opt(fw)
            s = make(fw, opt)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res.append([(s.step(e), list(s.get_last_lr()))[1] for e in [4, 10, 2, 17, 30]])
        np.testing.assert_allclose(res[1], res[0], rtol=1e-12, err_msg=name)


def test_warm_restarts_with_float_epochs():
    res = []
    for fw in (torch, ember):
        opt = _opt(fw)
        s = fw.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=0.001)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(40):
                for i in range(4):
                    s.step(epoch + i / 4)
                    lrs.append(list(s.get_last_lr()))
        res.append(lrs)
    np.testing.assert_allclose(res[1], res[0], rtol=1e-12)


def test_scheduler_state_dict_resume():
    opt = _opt(ember)
    s = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        opt.step()
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    opt2 = _opt(ember)
    opt2.load_state_dict(opt.state_dict())
    s2 = ember.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10, last_epoch=3)
    s2.load_state_dict(sd)
    for _ in range(3):
        opt.step(), s.step()
        opt2.step(), s2.step()
    assert s.get_last_lr() == s2.get_last_lr()


def test_initial_lr_and_warning_order():
    opt = _opt(ember)
    ember.optim.lr_scheduler.StepLR(opt, 3)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    opt = _opt(ember)
    s = ember.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()


SCHED_ERRORS = [
    ("not an optimizer", lambda fw, o: _lm(fw).StepLR(object(), 3)),
    ("resume without initial_lr", lambda fw, o: _lm(fw).StepLR(o, 3, last_epoch=5)),
    ("constant factor", lambda fw, o: _lm(fw).ConstantLR(o, factor=1.5)),
    ("linear start factor", lambda fw, o: _lm(fw).LinearLR(o, start_factor=0)),
    ("lambda count", lambda fw, o: _lm(fw).LambdaLR(o, [lambda e: 1.0])),
    ("plateau factor", lambda fw, o: _lm(fw).ReduceLROnPlateau(o, factor=1.0)),
    ("plateau mode", lambda fw, o: _lm(fw).ReduceLROnPlateau(o, mode="middle")),
    ("cyclic mode", lambda fw, o: _lm(fw).CyclicLR(o, 0.01, 0.1, mode="zigzag")),
    ("warm restarts T_0", lambda fw, o: _lm(fw).CosineAnnealingWarmRestarts(o, T_0=0)),
    ("one cycle steps", lambda fw, o: _lm(fw).OneCycleLR(o, max_lr=0.1)),
    ("one cycle pct", lambda fw, o: _lm(fw).OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5)),
    ("sequential milestones", lambda fw, o: _lm(fw).SequentialLR(o, [_lm(fw).StepLR(o, 2)], milestones=[3])),
    ("chained empty", lambda fw, o: _lm(fw).ChainedScheduler([])),
    ("swa anneal", lambda fw, o: fw.optim.swa_utils.SWALR(o, 0.1, anneal_strategy="exp")),
]


@pytest.mark.parametrize("make", [e[1] for e in SCHED_ERRORS], ids=[e[0] for e in SCHED_ERRORS])
def test_scheduler_errors_match_torch(make):
    assert_same_error(lambda: make(ember, _opt(ember)), lambda: make(torch, _opt(torch)))


def test_one_cycle_too_many_steps():
    opt = _opt(ember)
    s = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s.step()
