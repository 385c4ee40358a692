"""Per-op overhead and large-op throughput, written once for both frameworks (``lib`` is ember or torch).

``OP_WORKLOADS`` maps a short name to ``(label, make, number, per)``: ``make(lib)`` returns the function to time,
``number`` calls make one timing, and the time is divided by ``per`` (the 50-op chains report per op).
``python -m benchmarks`` runs them in worker processes; ``python -m benchmarks.ops`` is a quick
in-process A/B (both frameworks in this process, alternating, medians; ratio = ember / PyTorch).
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import numpy as np


def _chain(x: Any) -> Any:
    """50 small elementwise ops."""
    y = x
    for i in range(10):
        y = y * 1.01
        y = y + 0.5
        y = y.tanh()
        y = y - x
        y = y.exp() if i % 2 else y.sin()
    return y


def chain_no_grad(lib: Any) -> Callable:
    x = lib.randn(8, requires_grad=True)

    def run() -> None:
        with lib.no_grad():
            _chain(x)
    return run


def chain_recorded(lib: Any) -> Callable:
    x = lib.randn(8, requires_grad=True)
    return lambda: _chain(x)


def chain_backward(lib: Any) -> Callable:
    x = lib.randn(8, requires_grad=True)
    return lambda: _chain(x).sum().backward()


def _arrays(*shapes: tuple) -> list:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]


def matmul(lib: Any) -> Callable:
    a, b = (lib.from_numpy(x) for x in _arrays((1024, 1024), (1024, 1024)))
    return lambda: a @ b


def add(lib: Any) -> Callable:
    v, w = (lib.from_numpy(x) for x in _arrays(10_000_000, 10_000_000))
    return lambda: v + w


def mul_exp(lib: Any) -> Callable:
    v, w = (lib.from_numpy(x) for x in _arrays(10_000_000, 10_000_000))
    return lambda: (v * w).exp()


def sum_(lib: Any) -> Callable:
    v = lib.from_numpy(_arrays(10_000_000)[0])
    return lambda: v.sum()


def matmul_backward(lib: Any) -> Callable:
    a, b = (lib.from_numpy(x).requires_grad_(True) for x in _arrays((1024, 1024), (1024, 1024)))
    return lambda: (a @ b).sum().backward()


OP_WORKLOADS: dict = {  # short name (for --only): (label in the table, make, number, per)
    "chain_no_grad": ("chain50 forward, no_grad (per op)", chain_no_grad, 200, 50),
    "chain_recorded": ("chain50 forward, recorded (per op)", chain_recorded, 200, 50),
    "chain_backward": ("chain50 forward+backward (per op)", chain_backward, 100, 50),
    "matmul": ("matmul 1024x1024", matmul, 5, 1),
    "add": ("add 1e7 elements", add, 5, 1),
    "mul_exp": ("mul+exp 1e7 (2 ops)", mul_exp, 3, 1),
    "sum": ("sum 1e7 elements", sum_, 10, 1),
    "matmul_backward": ("matmul 1024 forward+backward", matmul_backward, 3, 1),
}


def time_calls(fn: Callable[[], object], number: int) -> float:
    """Seconds per call of ``fn``, over ``number`` calls."""
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads for PyTorch (set "
                   "OMP_NUM_THREADS/OPENBLAS_NUM_THREADS before starting to pin NumPy's BLAS too)")
    p.add_argument("--quick", action="store_true", help="one short repetition (a smoke test)")
    args = p.parse_args()
    import ember
    libs = [ember]
    try:
        import torch
        if args.threads:
            torch.set_num_threads(args.threads)
        libs.append(torch)
    except ImportError:
        pass
    print(f"{'workload':40s} {'ember':>12s} {'PyTorch':>12s} {'ratio':>7s}")
    for label, make, number, per in OP_WORKLOADS.values():
        number, repeat = (1, 1) if args.quick else (number, 7)
        fns = [make(lib) for lib in libs]
        for fn in fns:
            fn()  # warm-up
        times: list = [[] for _ in fns]
        for _ in range(repeat):  # alternate so drift on a shared machine hits both
            for fn, t in zip(fns, times):
                t.append(time_calls(fn, number) / per * 1e6)
        med = [statistics.median(t) for t in times] + [float("nan")]
        print(f"{label:40s} {med[0]:10.2f}us {med[1]:10.2f}us {med[0] / med[1]:7.2f}")


if __name__ == "__main__":
    main()
