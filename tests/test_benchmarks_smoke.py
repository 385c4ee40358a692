"""The benchmark suite runs: one call of each workload in an ember worker process (PyTorch's workers are
not started, so this runs without PyTorch too). No timing is asserted."""
import math

from benchmarks import __main__ as suite
from benchmarks import report
from benchmarks.harness import Result
from benchmarks.ops import OP_WORKLOADS
from benchmarks.training import WORKLOADS


def test_every_workload_runs_in_a_worker():
    results = suite.run_suite(["ember"], [1], quick=True, log=lambda _: None)
    assert [label for label, _, _ in results["ops"]] == [w[0] for w in OP_WORKLOADS.values()]
    assert [name for name, _ in results["training"]] == list(WORKLOADS)
    for name, *_, by_framework in results["ops"] + results["training"]:
        ember = by_framework["ember"]
        assert ember.note == "" and math.isfinite(ember.seconds) and ember.threads == 1, (name, ember)
        assert ember.peak_mb >= 0, (name, ember)
    seconds, threads = results["gemm"]
    assert math.isfinite(seconds) and threads == 1
    table = suite.format_results(results, ["ember"], [1], 1, None, None)
    assert "| mlp | " in table and "GFLOP/s" in table


def test_ratio_and_missing_framework_cells():
    both = {"ember": Result(2e-3, 1, 10.0), "torch": Result(1e-3, 2, 20.0)}
    lacking = {"ember": Result(note="ember lacks x"), "torch": Result(1e-3, 1, 5.0)}
    lines = report.training_table([("a", both), ("b", lacking), ("c", {"ember": Result(1e-3, 1, 1.0)})])
    assert lines[2] == "| a | 2.00 (1t) | 1.00 (2t) | 2.00 | - | 10 | 20 |"
    assert lines[3] == "| b | ember lacks x | 1.00 (1t) | - | - | - | 5 |"
    assert lines[4] == "| c | 1.00 (1t) | - | - | - | 1 | - |"


def test_target_column_says_whether_each_target_is_met():
    fast = {"ember": Result(0.9e-3, 1, 1.0), "torch": Result(1e-3, 1, 1.0)}
    slow = {"ember": Result(1.6e-3, 1, 1.0), "torch": Result(1e-3, 1, 1.0)}
    lines = report.training_table([("mlp", fast), ("lenet5", slow), ("lstm_lm", {"ember": Result(1e-3, 1, 1.0)})])
    assert lines[2].split(" | ")[4] == "at most 1.0: met"
    assert lines[3].split(" | ")[4] == "at most 1.5: **not met**"
    assert lines[4].split(" | ")[4] == "at most 1.0"          # no PyTorch result: target shown, no verdict


def test_write_docs_replaces_only_the_generated_section(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(f"intro\n{report.BEGIN}\nold\n{report.END}\noutro\n")
    report.write_docs("new \\1 table", str(doc))
    assert doc.read_text() == f"intro\n{report.BEGIN}\nnew \\1 table\n{report.END}\noutro\n"
