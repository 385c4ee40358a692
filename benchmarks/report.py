"""Markdown tables of the results, and the generated section of docs/performance.md."""
from __future__ import annotations

import os
import re

from .harness import Result

BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "performance.md")
FRAMEWORK_NAMES = {"ember": "ember", "torch": "PyTorch"}
# The performance issue's targets: the largest acceptable ratio ember / PyTorch, by workload name.
TARGETS = {"mlp": 1.0, "wide_mlp": 1.0, "lstm_lm": 1.0, "char_gpt": 1.0, "mnist_cnn": 1.5, "lenet5": 1.5,
           "small_resnet": 1.5, "chain50 forward, recorded (per op)": 1.5,
           "chain50 forward+backward (per op)": 1.5}


def _time(r: Result, scale: float, unit: str, digits: int) -> str:
    if r.seconds != r.seconds:
        return r.note or "-"
    return f"{r.seconds * scale:.{digits}f}{' ' + unit if unit else ''} ({r.threads}t)"


def _ratio_value(results: dict) -> float:
    e, t = results.get("ember"), results.get("torch")
    if e is None or t is None or not e.seconds == e.seconds or not t.seconds == t.seconds:
        return float("nan")
    return e.seconds / t.seconds


def _ratio(results: dict) -> str:
    r = _ratio_value(results)
    return "-" if r != r else f"{r:.2f}"


def _target(name: str, results: dict) -> str:
    """``at most T: met`` / ``at most T: not met`` for workloads with a target, else ``-``."""
    target, r = TARGETS.get(name), _ratio_value(results)
    if target is None:
        return "-"
    if r != r:
        return f"at most {target:.1f}"
    return f"at most {target:.1f}: {'met' if r <= target else '**not met**'}"


def _mb(r: Result | None) -> str:
    return "-" if r is None or r.peak_mb != r.peak_mb else f"{r.peak_mb:.0f}"


def op_table(rows: list) -> list:
    """``rows``: ``(name, per, {framework: Result})``, times per call divided by ``per``."""
    lines = ["| op workload | ember | PyTorch | ratio | target |", "| --- | ---: | ---: | ---: | --- |"]
    for name, per, results in rows:
        cells = [_time(results[fw], 1e6 / per, "us", 2) if fw in results else "-" for fw in FRAMEWORK_NAMES]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {_ratio(results)} | {_target(name, results)} |")
    return lines


def training_table(rows: list) -> list:
    """``rows``: ``(name, {framework: Result})``."""
    lines = ["| training step | ember ms | PyTorch ms | ratio | target | ember peak MB | PyTorch peak MB |",
             "| --- | ---: | ---: | ---: | --- | ---: | ---: |"]
    for name, results in rows:
        cells = [_time(results[fw], 1e3, "", 2) if fw in results else "-" for fw in FRAMEWORK_NAMES]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {_ratio(results)} | {_target(name, results)} | "
                     f"{_mb(results.get('ember'))} | {_mb(results.get('torch'))} |")
    return lines


def gemm_line(wide_mlp_seconds: float, gemm_seconds: float, threads: int, n: int = 2048) -> list:
    gemm_rate = 2 * n ** 3 / gemm_seconds / 1e9
    # 3 layers x (forward + grad input + grad weight) x 2*M*N*K flops, M=512, N=K=2048
    achieved = 3 * 3 * 2 * 512 * 2048 * 2048 / wide_mlp_seconds / 1e9
    return [f"2048-wide MLP: {achieved:.1f} GFLOP/s achieved in ember's training step = {achieved / gemm_rate:.0%} "
            f"of this machine's FP32 GEMM rate at the same {threads} thread(s) ({gemm_rate:.1f} GFLOP/s, "
            f"{n}x{n} matmul in NumPy)."]


def startup_table(imports: dict, sizes: dict) -> list:
    return ["| start-up and footprint | ember | PyTorch |", "| --- | ---: | ---: |",
            f"| cold `import` (median wall time, minus bare interpreter start {imports['sys']:.3f} s) | "
            f"{imports['ember'] - imports['sys']:.3f} s | {imports['torch'] - imports['sys']:.3f} s |",
            f"| installed package size | {sizes['ember']:.1f} MB (+ NumPy {sizes['numpy']:.1f} MB) | "
            f"{sizes['torch']:.1f} MB |"]


def write_docs(table: str, path: str = DOC) -> None:
    """Replace what lies between the begin/end markers of docs/performance.md."""
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path} lacks the {BEGIN} / {END} markers")
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: BEGIN + "\n" + table + "\n" + END, text,
                  flags=re.S)
    with open(path, "w") as f:
        f.write(text)
