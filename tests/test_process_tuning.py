"""Process-wide tuning at import: glibc malloc (ember/_backend/malloc.py) and OpenBLAS's spin (ember/_blas_env.py)."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")

_PROBE = "import ember._backend.malloc as m; print(m.applied)"


def _applied(env_updates: dict) -> str:
    env = {k: v for k, v in os.environ.items() if not (k.startswith("MALLOC_") and k.endswith("_"))}
    env.pop("EMBER_MALLOC_TUNING", None)
    env.update(env_updates)
    return subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


def _is_glibc() -> bool:
    import ctypes
    return hasattr(ctypes.CDLL(None), "gnu_get_libc_version")


@pytest.mark.skipif(not _is_glibc(), reason="needs glibc")
def test_applied_by_default_on_glibc():
    assert _applied({}) == "True"


def test_opt_out_and_user_settings_win():
    assert _applied({"EMBER_MALLOC_TUNING": "0"}) == "False"
    assert _applied({"MALLOC_TRIM_THRESHOLD_": "1000000"}) == "False"


@pytest.mark.skipif(not _is_glibc(), reason="needs glibc")
def test_no_page_faults_per_step_for_reused_buffers():
    # A loop that allocates and frees 40 MB arrays (above glibc's default 32 MB mmap ceiling): without the tuning each iteration maps and faults the
    # memory anew (thousands of minor faults); with it the freed memory is reused.
    code = ("import resource, numpy as np, ember\n"
            "for _ in range(3): a = np.ones(10_000_000, np.float32); del a\n"
            "f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "for _ in range(20): a = np.ones(10_000_000, np.float32); del a\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("MALLOC_") and k.endswith("_"))}
    tuned = int(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                               check=True).stdout)
    env["EMBER_MALLOC_TUNING"] = "0"
    untuned = int(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                 check=True).stdout)
    assert tuned < 200 < untuned, (tuned, untuned)


def test_openblas_thread_timeout_set_before_numpy_unless_the_user_set_it():
    probe = "import os, ember; print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "4"
    env["OPENBLAS_THREAD_TIMEOUT"] = "20"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "20"
