"""What the machine and the installation are: CPU and BLAS, cold import times, installed sizes."""
from __future__ import annotations

import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time


def describe() -> str:
    import numpy as np
    blas = ""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]  # numpy >= 1.25
    except Exception:  # noqa: BLE001 - informational only
        pass
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__} ({blas or 'BLAS ?'})")


def torch_version() -> str | None:
    """PyTorch's version, read without importing it here (the workers import it), or None if absent."""
    if importlib.util.find_spec("torch") is None:
        return None
    try:
        from importlib.metadata import version
        return version("torch")
    except Exception:  # noqa: BLE001 - a torch without metadata (a source tree)
        return "?"


def import_times(modules: tuple = ("sys", "numpy", "ember", "torch"), repeats: int = 7) -> dict:
    """Median wall time of a cold ``python -c "import X"`` (interpreter start-up included; ``sys`` is the
    bare start-up, to subtract); NaN where the import fails.

    Timed as after ``pip install``, with the bytecode cache written: one untimed import first, with
    ``PYTHONDONTWRITEBYTECODE`` unset (when it is set, every import compiles the sources anew: ~0.2 s more
    for ember, measured).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = {}
    for mod in modules:
        subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True, env=env)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True, env=env)
            times.append(time.perf_counter() - t0)
            if r.returncode:
                times = [float("nan")]
                break
        out[mod] = statistics.median(times)
    return out


def installed_sizes(modules: tuple = ("ember", "numpy", "torch")) -> dict:
    """Disk size (MB) of each installed package directory, without ``__pycache__``; NaN if absent."""
    out = {}
    for mod in modules:
        spec = importlib.util.find_spec(mod)
        if spec is None or not spec.submodule_search_locations:
            out[mod] = float("nan")
            continue
        total = 0
        for dirpath, dirnames, filenames in os.walk(list(spec.submodule_search_locations)[0]):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in filenames)
        out[mod] = total / 2 ** 20
    return out
