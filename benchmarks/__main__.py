"""Run the benchmark suite: ember vs PyTorch, each in worker processes at each thread count tried.

    python -m benchmarks                    # threads 1 and os.cpu_count(); print the tables
    python -m benchmarks --threads 1        # one thread each
    python -m benchmarks --only mlp,sum     # just these workloads (training or op short names)
    python -m benchmarks --write            # also rewrite the generated section of docs/performance.md
    python -m benchmarks --quick            # one call of each, one repetition (the CI smoke test)

For every workload, each (framework, thread count) pair runs in a fresh worker process (the thread count
is set in its environment before NumPy/PyTorch load); the parent alternates the workers repetition by
repetition and reports, per framework, the best median and the thread count it came from.
"""
from __future__ import annotations

import argparse
import os
import time
from typing import Callable

from . import machine, report
from .harness import compare
from .ops import OP_WORKLOADS
from .training import WORKLOADS

TRAINING_STEPS = {"wide_mlp": 3}  # steps per timing (default 10): the compute-bound MLP takes ~0.4 s a step


def run_suite(frameworks: list, threads: list, names: list | None = None, quick: bool = False,
              log: Callable = print) -> dict:
    """Time the op and training workloads (all, or those in ``names``) and the GEMM rate; returns
    ``{"ops": [(label, per, results)], "training": [(name, results)], "gemm": (seconds, threads) | None}``."""
    repeats = 1 if quick else 5
    out: dict = {"ops": [], "training": [], "gemm": None}
    for name, (label, _, number, per) in OP_WORKLOADS.items():
        if names is None or name in names:
            log(f"op: {label}")
            out["ops"].append((label, per, compare("op", name, frameworks, threads, 1 if quick else number,
                                                   repeats)))
    for name in WORKLOADS:
        if names is None or name in names:
            log(f"training: {name}")
            steps = 1 if quick else TRAINING_STEPS.get(name, 10)
            out["training"].append((name, compare("training", name, frameworks, threads, steps, repeats)))
    wide = dict(out["training"]).get("wide_mlp")
    if wide is not None and "ember" in wide and wide["ember"].threads:
        best_threads = wide["ember"].threads  # the GEMM rate at the thread count the MLP step ran at
        log("GEMM rate")
        gemm = compare("gemm", "2048", ["ember"], [best_threads], 1, 1 if quick else 5)["ember"]
        out["gemm"] = (gemm.seconds, best_threads)
    return out


def format_results(results: dict, frameworks: list, threads: list, repeats: int, imports: dict | None,
                   sizes: dict | None) -> str:
    torch = machine.torch_version() if "torch" in frameworks else None
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {machine.describe()}; PyTorch {torch or 'not run'}. "
             f"Each framework runs in its own worker processes at {', '.join(map(str, threads))} thread(s) "
             "(OMP/OPENBLAS/MKL_NUM_THREADS set before start, and `torch.set_num_threads`); the workers "
             f"alternate, {repeats} repetitions; each cell is the framework's best median, with the thread "
             "count it used (`1t`); the ratio is ember's best / PyTorch's best. Peak MB: how far the worker's "
             "peak resident memory rose above its resident memory just before the model was built "
             "(model, optimizer state, activations, gradients).", ""]
    if results["ops"]:
        lines += report.op_table(results["ops"]) + [""]
    if results["training"]:
        lines += report.training_table(results["training"]) + [""]
    wide = dict(results["training"]).get("wide_mlp")
    if results["gemm"] and wide["ember"].seconds == wide["ember"].seconds:
        lines += report.gemm_line(wide["ember"].seconds, *results["gemm"]) + [""]
    if imports and sizes:
        lines += report.startup_table(imports, sizes)
    return "\n".join(lines).rstrip()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one call of each workload, one repetition")
    p.add_argument("--write", action="store_true", help="rewrite the generated section of docs/performance.md")
    p.add_argument("--threads", default=f"1,{os.cpu_count() or 1}",
                   help="comma-separated thread counts to try for each framework (default: 1 and all cores)")
    p.add_argument("--only", default=None, help="comma-separated workload names (training or op workloads)")
    args = p.parse_args()
    threads = sorted({int(n) for n in args.threads.split(",")})
    names = args.only.split(",") if args.only else None
    if names:
        unknown = set(names) - set(WORKLOADS) - set(OP_WORKLOADS)
        if unknown:
            p.error(f"unknown workloads {sorted(unknown)}; known: {list(WORKLOADS) + list(OP_WORKLOADS)}")
        if args.write:
            p.error("--write regenerates the whole table: it cannot be combined with --only")
    frameworks = ["ember"] + (["torch"] if machine.torch_version() else [])
    results = run_suite(frameworks, threads, names, args.quick)
    imports = sizes = None
    if names is None:
        imports = machine.import_times(repeats=1 if args.quick else 7)
        sizes = machine.installed_sizes()
    table = format_results(results, frameworks, threads, 1 if args.quick else 5, imports, sizes)
    print(table)
    if args.write:
        report.write_docs(table)


if __name__ == "__main__":
    main()
