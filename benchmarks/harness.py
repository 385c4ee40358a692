"""The parent side: worker processes per (framework, thread count), driven so that the frameworks
alternate repetition by repetition, and the best thread count of each framework.

For each workload, every (framework, threads) pair gets a fresh worker (so its peak memory is the
workload's own); the workers are set up, warmed up, then timed in turn (ember 1 thread, PyTorch 1
thread, ember 2 threads, ...), ``repeats`` times; each framework's result is its best median over the
thread counts, with that count and the peak memory of that worker.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Worker:
    """A ``benchmarks.worker`` process for one framework at one thread count."""

    def __init__(self, framework: str, threads: int) -> None:
        self.framework, self.threads = framework, threads
        env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.worker", framework, str(threads)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                        cwd=ROOT)

    def request(self, **request: object) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.framework} worker ({self.threads} threads) died on {request}")
        return json.loads(line)

    def close(self) -> None:
        try:
            self.process.stdin.write(json.dumps({"cmd": "exit"}) + "\n")
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        self.process.wait()


@dataclass
class Result:
    """One framework's result on one workload: its best median over the thread counts tried."""
    seconds: float = float("nan")
    threads: int = 0
    peak_mb: float = float("nan")
    note: str = ""
    by_threads: dict = field(default_factory=dict)  # thread count -> median seconds


def compare(kind: str, name: str, frameworks: list, threads: list, number: int, repeats: int) -> dict:
    """``{framework: Result}`` for one workload, timed ``repeats`` times ``number`` calls per worker."""
    workers = [Worker(fw, n) for fw in frameworks for n in threads]
    try:
        ready = []
        notes: dict = {}
        for w in workers:  # set-up (and warm-up) of all before any timing
            reply = w.request(cmd="setup", kind=kind, name=name)
            if reply["ok"]:
                ready.append(w)
            else:
                notes[w.framework] = reply["note"]
        samples: dict = {w: [] for w in ready}
        peaks: dict = {w: 0.0 for w in ready}
        for _ in range(repeats):
            for w in ready:  # alternate: drift on a shared machine hits every worker alike
                reply = w.request(cmd="time", number=number)
                samples[w].append(reply["seconds"])
                peaks[w] = max(peaks[w], reply["peak_mb"])
    finally:
        for w in workers:
            w.close()
    results = {}
    for fw in frameworks:
        result = Result(note=notes.get(fw, ""))
        for w in ready:
            if w.framework != fw:
                continue
            median = statistics.median(samples[w])
            result.by_threads[w.threads] = median
            if not median >= result.seconds:  # also replaces the initial NaN
                result.seconds, result.threads, result.peak_mb = median, w.threads, peaks[w]
        results[fw] = result
    return results
