"""Per-op overhead and large-op throughput: ember vs PyTorch, side by side in one process.

Run: ``python -m benchmarks.ops`` (add ``--threads 1`` to pin BLAS/OpenMP threads; set the
environment variables OMP_NUM_THREADS/OPENBLAS_NUM_THREADS before starting to be sure).
Each measurement alternates the two frameworks, repeats, and reports medians; the ratio is
ember / PyTorch (lower is better for ember).
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

import ember


def _time(fn: Callable[[], object], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def compare(name: str, e_fn: Callable, t_fn: Callable | None, number: int, repeat: int = 7) -> dict:
    e_fn(); t_fn and t_fn()  # warm-up
    e_times, t_times = [], []
    for _ in range(repeat):  # alternate so drift on a shared machine hits both
        e_times.append(_time(e_fn, number))
        if t_fn:
            t_times.append(_time(t_fn, number))
    e = statistics.median(e_times)
    t = statistics.median(t_times) if t_fn else float("nan")
    return {"name": name, "ember_us": e * 1e6, "torch_us": t * 1e6, "ratio": e / t if t_fn else float("nan")}


def chain_workloads(torch) -> list:
    """50 chained elementwise ops on an 8-element tensor, forward, and forward + backward."""
    def chain(lib, x):
        y = x
        for i in range(10):
            y = y * 1.01
            y = y + 0.5
            y = y.tanh()
            y = y - x
            y = y.exp() if i % 2 else y.sin()
        return y

    ex = ember.randn(8, requires_grad=True)
    tx = torch.randn(8, requires_grad=True) if torch else None
    if torch is None:  # ember only (smoke test)
        return [("chain50 forward, recorded (per op)", lambda: chain(ember, ex), None, 1, 50)]

    def e_fwd():
        with ember.no_grad():
            chain(ember, ex)

    def t_fwd():
        with torch.no_grad():
            chain(torch, tx)

    def e_graph():
        chain(ember, ex)

    def t_graph():
        chain(torch, tx)

    def e_bwd():
        chain(ember, ex).sum().backward()

    def t_bwd():
        chain(torch, tx).sum().backward()
    return [("chain50 forward, no_grad (per op)", e_fwd, torch and t_fwd, 200, 50),
            ("chain50 forward, recorded (per op)", e_graph, torch and t_graph, 200, 50),
            ("chain50 forward+backward (per op)", e_bwd, torch and t_bwd, 100, 50)]


def large_workloads(torch) -> list:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    v = rng.standard_normal(10_000_000, dtype=np.float32)
    w = rng.standard_normal(10_000_000, dtype=np.float32)
    ea, eb, ev, ew = (ember.from_numpy(x) for x in (a, b, v, w))
    ta, tb, tv, tw = (torch.from_numpy(x) for x in (a, b, v, w)) if torch else (None,) * 4
    out = [("matmul 1024x1024", lambda: ea @ eb, torch and (lambda: ta @ tb), 5, 1),
           ("add 1e7 elements", lambda: ev + ew, torch and (lambda: tv + tw), 5, 1),
           ("mul+exp 1e7 (2 ops)", lambda: (ev * ew).exp(), torch and (lambda: (tv * tw).exp()), 3, 1),
           ("sum 1e7 elements", lambda: ev.sum(), torch and (lambda: tv.sum()), 10, 1)]
    am = ember.from_numpy(a).requires_grad_(True)
    bm = ember.from_numpy(b).requires_grad_(True)
    if torch:
        tam, tbm = ta.clone().requires_grad_(True), tb.clone().requires_grad_(True)
    out.append(("matmul 1024 forward+backward", lambda: (am @ bm).sum().backward(),
                torch and (lambda: (tam @ tbm).sum().backward()), 3, 1))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads for PyTorch")
    p.add_argument("--quick", action="store_true", help="one short repetition (CI smoke test)")
    args = p.parse_args()
    try:
        import torch
        if args.threads:
            torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    rows = []
    for name, e_fn, t_fn, number, per in chain_workloads(torch) + large_workloads(torch):
        r = compare(name, e_fn, t_fn, 1 if args.quick else number, 1 if args.quick else 7)
        r["ember_us"] /= per
        r["torch_us"] /= per
        rows.append(r)
    print(f"{'workload':40s} {'ember':>12s} {'PyTorch':>12s} {'ratio':>7s}")
    for r in rows:
        unit = "us"
        print(f"{r['name']:40s} {r['ember_us']:10.2f}{unit} {r['torch_us']:10.2f}{unit} {r['ratio']:7.2f}")


if __name__ == "__main__":
    main()
