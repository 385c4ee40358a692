"""Run every benchmark and (with --write) regenerate docs/performance.md's tables.

    python -m benchmarks            # print the tables
    python -m benchmarks --write    # also rewrite the generated section of docs/performance.md
    python -m benchmarks --quick    # one repetition of each (CI smoke test)

Measured in one process: ember and PyTorch alternate, several repetitions, medians.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import time

from . import ops, training

BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"


def _machine() -> str:
    import numpy as np
    cfg = ""
    try:
        info = np.show_config(mode="dicts")  # numpy >= 1.25
        cfg = info["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001 - informational only
        pass
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__} ({cfg or 'BLAS ?'})")


def import_times(repeats: int = 7) -> dict:
    """Median wall time of a cold ``python -c "import X"`` (interpreter start-up included, and reported)."""
    import statistics
    import subprocess
    import sys
    out = {}
    for mod in ("sys", "numpy", "ember", "torch"):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True)
            times.append(time.perf_counter() - t0)
            if r.returncode:
                times = [float("nan")]
                break
        out[mod] = statistics.median(times)
    return out


def gemm_rate(n: int = 2048, quick: bool = False) -> float:
    """The machine's FP32 GEMM rate in GFLOP/s (best of several n x n matmuls through NumPy's BLAS)."""
    import numpy as np
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    best = float("inf")
    for _ in range(1 if quick else 5):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def installed_sizes() -> dict:
    """Disk size (MB) of each installed package directory (ember's own, its one dependency, PyTorch)."""
    import importlib.util
    out = {}
    for mod in ("ember", "numpy", "torch"):
        spec = importlib.util.find_spec(mod)
        if spec is None or not spec.submodule_search_locations:
            out[mod] = float("nan")
            continue
        root = list(spec.submodule_search_locations)[0]
        total = 0
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in filenames)
        out[mod] = total / 2 ** 20
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--write", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="PyTorch threads (default: its own choice)")
    args = p.parse_args()
    try:
        import torch
        if args.threads:
            torch.set_num_threads(args.threads)
        tver = torch.__version__
    except ImportError:
        torch, tver = None, "absent"
    op_rows = []
    for name, e_fn, t_fn, number, per in ops.chain_workloads(torch) + ops.large_workloads(torch):
        r = ops.compare(name, e_fn, t_fn, 1 if args.quick else number, 1 if args.quick else 7)
        r["ember_us"] /= per
        r["torch_us"] /= per
        op_rows.append(r)
    train_rows = training.run(list(training.WORKLOADS), args.quick, torch)
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {_machine()}; PyTorch {tver} "
             f"({torch.get_num_threads() if torch else '-'} threads); OMP/OPENBLAS threads = "
             f"{os.environ.get('OMP_NUM_THREADS', 'default')}/{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}.",
             "", "| op workload | ember | PyTorch | ratio |", "| --- | ---: | ---: | ---: |"]
    for r in op_rows:
        lines.append(f"| {r['name']} | {r['ember_us']:.2f} us | {r['torch_us']:.2f} us | {r['ratio']:.2f} |")
    lines += ["", "| training step | ember ms | PyTorch ms | ratio |", "| --- | ---: | ---: | ---: |"]
    for r in train_rows:
        lines.append(f"| {r['name']} | {r['ember_ms']:.2f} | {r['torch_ms']:.2f} | {r['ratio']:.2f} |"
                     + (f" {r['note']}" if r["note"] else ""))
    gemm = gemm_rate(quick=args.quick)
    wide = next((r for r in train_rows if r["name"] == "wide_mlp"), None)
    if wide is not None and wide["ember_ms"] == wide["ember_ms"]:
        # 3 layers x (forward + grad input + grad weight) x 2*M*N*K flops, M=512, N=K=2048
        achieved = 3 * 3 * 2 * 512 * 2048 * 2048 / (wide["ember_ms"] / 1e3) / 1e9
        lines += ["", f"2048-wide MLP: {achieved:.1f} GFLOP/s achieved in ember's training step = "
                      f"{achieved / gemm:.0%} of this machine's FP32 GEMM rate ({gemm:.1f} GFLOP/s, "
                      "2048x2048 matmul in NumPy)."]
    imp = import_times(1 if args.quick else 7)
    size = installed_sizes()
    lines += ["", "| start-up and footprint | ember | PyTorch |", "| --- | ---: | ---: |",
              f"| cold `import` (median wall time, minus bare interpreter start {imp['sys']:.3f} s) | "
              f"{imp['ember'] - imp['sys']:.3f} s | {imp['torch'] - imp['sys']:.3f} s |",
              f"| installed package size | {size['ember']:.1f} MB (+ NumPy {size['numpy']:.1f} MB) | "
              f"{size['torch']:.1f} MB |"]
    table = "\n".join(lines)
    print(table)
    if args.write:
        path = os.path.join(os.path.dirname(__file__), "..", "docs", "performance.md")
        text = open(path).read()
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), BEGIN + "\n" + table + "\n" + END, text,
                      flags=re.S)
        with open(path, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
