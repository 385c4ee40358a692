"""A benchmark worker: one process, one framework, one thread count, driven over a pipe.

    python -m benchmarks.worker ember 1      # started by benchmarks.harness, not by hand

The thread count must be fixed before NumPy's BLAS (OpenBLAS/MKL) or PyTorch's OpenMP pool starts, so the
parent sets OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS in this process's environment and the
PyTorch worker also calls ``torch.set_num_threads``.

Protocol: one JSON object per line on stdin, one JSON reply per line on the original stdout (anything the
libraries print goes to stderr):

- ``{"cmd": "setup", "kind": "training" | "op" | "gemm", "name": ...}`` builds the workload; replies
  ``{"ok": true}`` or ``{"ok": false, "note": why}``.
- ``{"cmd": "time", "number": n}`` runs ``n`` calls (training steps, op calls, matmuls) and replies
  ``{"seconds": per_call, "peak_mb": ...}``.
- ``{"cmd": "exit"}``.

Peak memory: the growth of the process's peak resident set over its resident set just before the workload
was built (model, optimizer state, activations, gradients, allocator caches), on Linux by resetting the
peak (``/proc/self/clear_refs``) and reading ``VmHWM``; elsewhere from ``ru_maxrss``, which then includes
what the imports peaked at.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any, Callable


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakMemory:
    """Peak resident memory grown since ``reset()``, in MB."""

    def __init__(self) -> None:
        self.baseline_kb = 0

    def reset(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
        except OSError:
            pass
        self.baseline_kb = _status_kb("VmRSS") or 0

    def peak_mb(self) -> float:
        peak = _status_kb("VmHWM")
        if peak is None:
            import resource
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux; bytes on macOS
            if sys.platform == "darwin":
                peak //= 1024
        return max(peak - self.baseline_kb, 0) / 1024


def _gemm(lib: Any, n: int = 2048) -> Callable:
    """An n x n float32 matmul straight through NumPy's BLAS (ember's own matmul kernel)."""
    import numpy as np
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    return lambda: a @ b


def build(lib: Any, kind: str, name: str) -> Callable:
    if kind == "training":
        from . import training
        return training._step_fn(lib, training.WORKLOADS[name])
    if kind == "op":
        from .ops import OP_WORKLOADS
        return OP_WORKLOADS[name][1](lib)
    if kind == "gemm":
        return _gemm(lib)
    raise ValueError(f"unknown workload kind {kind!r}")


def serve(framework: str, threads: int, requests: Any, replies: Any) -> None:
    lib = importlib.import_module(framework)
    if framework == "torch":
        lib.set_num_threads(threads)
    from .ops import time_calls
    memory = PeakMemory()
    fn = None
    for line in requests:
        request = json.loads(line)
        cmd = request["cmd"]
        if cmd == "exit":
            break
        if cmd == "setup":
            memory.reset()
            try:
                fn = build(lib, request["kind"], request["name"])
                fn()  # warm-up (first-call allocations, lazy initialisation)
                reply: dict = {"ok": True}
            except (AttributeError, NotImplementedError, TypeError) as e:
                fn, reply = None, {"ok": False, "note": f"{framework} lacks {e}"}
        elif cmd == "time":
            reply = {"seconds": time_calls(fn, request["number"]), "peak_mb": memory.peak_mb()}
        else:
            reply = {"error": f"unknown command {cmd!r}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    framework, threads = sys.argv[1], int(sys.argv[2])
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # stray prints of the libraries must not corrupt the protocol
    serve(framework, threads, sys.stdin, replies)


if __name__ == "__main__":
    main()
