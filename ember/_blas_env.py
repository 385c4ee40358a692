"""Environment for NumPy's OpenBLAS, set before NumPy loads it (imported first by ``ember/__init__.py``).

OpenBLAS's worker threads spin for about 2**28 cycles (~0.1 s) after every multi-threaded GEMM before they
sleep. A training step alternates GEMMs with NumPy's elementwise work, which then competes with the spinning
threads for the cores: measured on 2 cores, a GELU right after a GEMM took 10 ms instead of 5 ms, and the
char-GPT step 16 % longer. ``OPENBLAS_THREAD_TIMEOUT=4`` (2**4 cycles) lets them sleep at once; waking them
for the next GEMM costs microseconds. PyTorch's own pool does not spin this long. Set only when the user has
not set it, and only takes effect when ``import ember`` comes before NumPy's first import.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
