"""ember.profiler: exact op counts, self/total time relations, the table, record_function, schedules.

No timing assertions beyond non-negativity and the totals >= self relations that hold by construction.
"""
from __future__ import annotations

import json
import threading

import pytest

import ember
from ember.autograd import engine, graph
from ember.autograd.graph import Node
from ember.profiler import (ProfilerAction, ProfilerActivity, profile, record_function, schedule,
                            supported_activities)


def _leaves(n: int, shape: tuple = (3, 3)) -> list:
    ember.manual_seed(0)
    return [ember.randn(*shape, requires_grad=True) for _ in range(n)]


def _program(x: list) -> ember.Tensor:
    """3 matmuls, 2 adds and a sum; every leaf used once (no gradient accumulation in the engine)."""
    y = x[0] @ x[1]
    y = y @ x[2]
    y = y @ x[3]
    z = y + x[4]
    z = z + x[5]
    return z.sum()


def _counts(prof: profile) -> dict:
    return {e.key: e.count for e in prof.key_averages()}


class Composite(Node):
    """An op whose forward and backward call other ember ops (so their ranges nest inside it)."""

    def forward(self, x):
        t = ember.from_numpy(x)
        return ((t * 2.0).exp())._data

    def backward(self, g):
        return g * 3.0


def test_exact_counts_forward_and_backward() -> None:
    x = _leaves(6)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _program(x).backward()
    c = _counts(prof)
    expected = {"MatMul": 3, "Add": 2, "Sum": 1, "SumBackward0": 1, "AddBackward0": 2, "MmBackward0": 3,
                "AccumulateGrad": 6}
    assert {k: c.get(k) for k in expected} == expected
    # anything else recorded can only be nested inside those ranges
    top = {e.name for e in prof.events() if e.cpu_parent is None}
    assert top <= set(expected)
    assert x[0].grad is not None and x[5].grad is not None


def test_backward_names_match_pytorch_grad_fn() -> None:
    torch = pytest.importorskip("torch")
    x = _leaves(6)
    with profile() as prof:
        _program(x).backward()
    t = [torch.randn(3, 3, requires_grad=True) for _ in range(6)]
    out = _program(t)
    names, stack = set(), [out.grad_fn]
    while stack:
        fn = stack.pop()
        names.add(type(fn).__name__ if "AccumulateGrad" not in type(fn).__name__ else "AccumulateGrad")
        stack.extend(f for f, _ in fn.next_functions if f is not None)
    backward_keys = {k for k in _counts(prof) if k.endswith("Backward0") or k == "AccumulateGrad"}
    assert backward_keys == names


def test_times_nonnegative_and_totals_at_least_self() -> None:
    x = _leaves(6)
    with profile() as prof:
        with record_function("step"):
            _program(x).backward()
    evs = prof.events()
    assert len(evs) > 0
    for e in evs:
        assert e.self_cpu_time_total >= 0 and e.cpu_time_total >= e.self_cpu_time_total
        assert e.time_range.end >= e.time_range.start >= 0
        # self time is total minus the children's totals (exact up to float rounding)
        assert e.self_cpu_time_total == pytest.approx(e.cpu_time_total - sum(ch.cpu_time_total
                                                                            for ch in e.cpu_children), abs=1e-6)
    for a in prof.key_averages():
        assert a.count >= 1
        assert a.cpu_time_total >= a.self_cpu_time_total >= 0
        assert a.cpu_time == pytest.approx(a.cpu_time_total / a.count)
    step = [a for a in prof.key_averages() if a.key == "step"][0]
    assert step.cpu_time_total >= max(a.cpu_time_total for a in prof.key_averages() if a.key != "step")


def test_table_rows_columns_and_order() -> None:
    x = _leaves(6)
    with profile() as prof:
        _program(x).backward()
    ka = prof.key_averages()
    table = ka.table(sort_by="cpu_time_total", row_limit=4)
    lines = table.splitlines()
    header = lines[1]
    for col in ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]:
        assert col in header
    assert lines[0].startswith("---") and lines[2].startswith("---")
    rows = lines[3:-2]
    assert len(rows) == 4  # row_limit
    names = [r.split()[0] for r in rows]
    want = [a.key for a in sorted(ka, key=lambda a: a.cpu_time_total, reverse=True)][:4]
    assert names == want
    assert lines[-1].startswith("Self CPU time total: ")
    full = ka.table(sort_by="self_cpu_time_total", row_limit=100)
    for key in ["MatMul", "MmBackward0", "Add", "AddBackward0", "Sum", "SumBackward0", "AccumulateGrad"]:
        row = [r for r in full.splitlines() if r.split() and r.split()[0] == key]
        assert len(row) == 1
        assert row[0].split()[-1] == str(_counts(prof)[key])  # '# of Calls' column
    # percentages of self time add up to 100
    pct = sum(float(r.split()[1].rstrip("%")) for r in full.splitlines()[3:-2])
    assert pct == pytest.approx(100.0, abs=0.1)
    with pytest.raises(AttributeError):
        ka.table(sort_by="no_such_column")


def test_record_function_nesting() -> None:
    a, b = _leaves(2)
    with profile() as prof:
        with record_function("outer"):
            c = a * b
            with record_function("inner"):
                d = c + a
                e = d * b
    evs = {e.name: e for e in prof.events() if e.name in ("outer", "inner")}
    outer, inner = evs["outer"], evs["inner"]
    assert inner.cpu_parent is outer and outer.cpu_parent is None
    assert [ch.name for ch in outer.cpu_children] == ["Mul", "inner"]
    assert [ch.name for ch in inner.cpu_children] == ["Add", "Mul"]
    assert outer.cpu_time_total >= inner.cpu_time_total >= inner.self_cpu_time_total
    assert outer.self_cpu_time_total <= outer.cpu_time_total - inner.cpu_time_total + 1e-6
    assert _counts(prof) == {"outer": 1, "Mul": 2, "inner": 1, "Add": 1}
    assert e.shape == (3, 3)


def test_record_function_decorator_and_no_profiler() -> None:
    @record_function("helper")
    def helper(t: ember.Tensor) -> ember.Tensor:
        return t.exp()

    (x,) = _leaves(1)
    y = helper(x)  # no profiler: a plain call
    assert ember.allclose(y, x.exp())
    with profile() as prof:
        helper(x)
        helper(helper(x))
    c = _counts(prof)
    assert c["helper"] == 3 and c["Exp"] == 3
    assert all(e.cpu_parent is not None and e.cpu_parent.name == "helper" for e in prof.events() if e.name == "Exp")
    with pytest.raises(TypeError):
        record_function(3)


def test_nested_ops_self_time_excludes_children() -> None:
    (x,) = _leaves(1)
    with profile() as prof:
        y = Composite.apply(x)
        y.sum().backward()
    assert ember.allclose(y, (x * 2.0).exp())
    assert ember.allclose(x.grad, ember.full_like(x, 3.0))
    evs = prof.events()
    comp = [e for e in evs if e.name == "Composite"]
    assert len(comp) == 1
    assert [ch.name for ch in comp[0].cpu_children] == ["Mul", "Exp"]
    assert comp[0].self_cpu_time_total <= comp[0].cpu_time_total
    bw = [e for e in evs if e.name == "CompositeBackward0"]
    assert len(bw) == 1 and [ch.name for ch in bw[0].cpu_children] == ["Mul"]
    c = _counts(prof)
    assert c["Composite"] == 1 and c["CompositeBackward0"] == 1 and c["Mul"] == 2 and c["Exp"] == 1
    # the nested ops are counted once each, not again at the top level
    assert sum(1 for e in evs if e.cpu_parent is None and e.name in ("Mul", "Exp")) == 0


def test_double_backward_ops_nest_in_backward_nodes() -> None:
    (x,) = _leaves(1)
    with profile() as prof:
        y = (x * x).sum()
        (g,) = ember.autograd.grad(y, x, create_graph=True)
    assert ember.allclose(g, 2 * x)
    mb = [e for e in prof.events() if e.name == "MulBackward0"]
    assert len(mb) == 1 and mb[0].cpu_children  # create_graph: the formula runs as recorded ember ops


def test_profiler_off_records_nothing() -> None:
    assert graph._profiler is None and engine._profiler is None
    x = _leaves(6)
    with profile() as prof:
        _program(x).backward()
    n = len(prof.events())
    assert graph._profiler is None and engine._profiler is None  # hooks removed on exit
    _program(x).backward()
    with record_function("outside"):
        x[0] * 2
    assert len(prof.events()) == n
    assert "outside" not in _counts(prof)


def test_exception_inside_profile_keeps_stack_consistent() -> None:
    a = ember.randn(2, 3)
    with profile() as prof:
        with pytest.raises(RuntimeError):
            a @ a  # shape mismatch raised inside the op
        b = a * 2
    evs = prof.events()
    mul = [e for e in evs if e.name == "Mul"]
    assert len(mul) == 1 and mul[0].cpu_parent is None
    assert graph._profiler is None
    assert b.shape == (2, 3)


def test_exception_leaves_profiler_removed() -> None:
    with pytest.raises(ValueError):
        with profile():
            raise ValueError("boom")
    assert graph._profiler is None and engine._profiler is None


def test_nested_profile_raises() -> None:
    with profile():
        with pytest.raises(RuntimeError, match="already running"):
            with profile():
                pass
    assert graph._profiler is None


@pytest.mark.filterwarnings("ignore:Profiler won't be using warmup")
def test_schedule_actions_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for kw in [dict(wait=1, warmup=1, active=2), dict(wait=1, warmup=1, active=2, repeat=1),
               dict(wait=0, warmup=2, active=1, skip_first=3), dict(wait=2, warmup=1, active=2, skip_first_wait=1),
               dict(wait=0, warmup=0, active=1, repeat=2)]:
        e, t = schedule(**kw), torch.profiler.schedule(**kw)
        assert [e(i).name for i in range(14)] == [t(i).name for i in range(14)], kw
    with pytest.raises(AssertionError):
        schedule(wait=0, warmup=0, active=0)


def test_schedule_records_active_steps_and_calls_on_trace_ready() -> None:
    seen = []

    def ready(p: profile) -> None:
        seen.append(_counts(p))

    x = ember.ones(2)
    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=1), on_trace_ready=ready) as prof:
        for _ in range(5):
            x = x * 2
            prof.step()
    assert prof.step_num == 5
    assert seen == [{"ProfilerStep*": 2, "Mul": 2}]
    steps = [e.name for e in prof.events() if e.key == "ProfilerStep*"]
    assert steps == ["ProfilerStep#2", "ProfilerStep#3"]


def test_on_trace_ready_without_schedule_runs_at_exit() -> None:
    seen = []
    with profile(on_trace_ready=lambda p: seen.append(_counts(p))):
        ember.ones(2) + 1
    assert seen == [{"Add": 1}]


def test_activities_and_unsupported_options() -> None:
    assert supported_activities() == {ProfilerActivity.CPU}
    assert ProfilerAction.RECORD_AND_SAVE.name == "RECORD_AND_SAVE"
    with pytest.warns(UserWarning, match="CUDA"):
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]):
            pass
    with pytest.raises(TypeError):
        profile(activities=["cpu"])
    assert ember.profiler.profile is profile  # lazily importable as an attribute


def test_record_shapes_group_by_input_shape() -> None:
    a, b = ember.ones(2, 3), ember.ones(3, 4)
    with profile(record_shapes=True) as prof:
        a @ b
        a @ b
        b.T @ a.T
    groups = {(e.key, str(e.input_shapes)): e.count for e in prof.key_averages(group_by_input_shape=True)}
    assert groups[("MatMul", "[[2, 3], [3, 4]]")] == 2
    assert groups[("MatMul", "[[4, 3], [3, 2]]")] == 1
    assert "Input Shapes" in prof.key_averages(group_by_input_shape=True).table()
    with profile() as p2:
        a @ b
    with pytest.raises(RuntimeError):
        p2.key_averages(group_by_input_shape=True)


def test_export_chrome_trace(tmp_path) -> None:
    x = _leaves(6)
    with profile() as prof:
        _program(x).backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    assert len(trace) == len(prof.events())
    assert {"MatMul", "MmBackward0"} <= {t["name"] for t in trace}
    assert all(t["ph"] == "X" and t["dur"] >= 0 for t in trace)


def test_other_threads_have_their_own_stack() -> None:
    out = []

    def work() -> None:
        with record_function("worker"):
            out.append(ember.ones(2) * 3)

    with profile() as prof:
        with record_function("main"):
            t = threading.Thread(target=work)
            t.start()
            t.join()
            ember.ones(2) + 1
    evs = {e.name: e for e in prof.events()}
    assert evs["worker"].cpu_parent is None and evs["Mul"].cpu_parent is evs["worker"]
    assert evs["Add"].cpu_parent is evs["main"]
    assert evs["worker"].thread != evs["main"].thread


def test_start_stop_without_with() -> None:
    prof = profile()
    prof.start()
    try:
        ember.ones(2) * 2
    finally:
        prof.stop()
    prof.stop()  # a second stop is a no-op
    ember.ones(2) * 2
    assert _counts(prof) == {"Mul": 1}
    assert graph._profiler is None
