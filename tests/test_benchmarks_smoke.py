"""The benchmark suite runs (one step of each workload, ember only): no timing is asserted."""
import math

import ember
from benchmarks import ops, training


def test_training_workloads_take_one_step():
    rows = training.run(list(training.WORKLOADS), quick=True, torch=None)
    assert [r["name"] for r in rows] == list(training.WORKLOADS)
    for r in rows:
        assert r["note"] == "" and math.isfinite(r["ember_ms"]), r


def test_op_workloads_run():
    for name, e_fn, _, _, _ in ops.chain_workloads(None):
        e_fn()
    assert ember.is_grad_enabled()
