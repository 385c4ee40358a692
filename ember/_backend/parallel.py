"""Intra-op parallelism for the heavy elementwise kernels, on NumPy's GIL-free ufunc loops.

BLAS already uses every thread it is given; NumPy's elementwise loops run on one. PyTorch splits its
elementwise kernels across its OpenMP threads, so on a 2-core machine its GELU, softmax or cross-entropy
runs twice as fast at 2 threads while ember's did not. NumPy releases the GIL inside a ufunc loop over a
large array, so plain Python threads can run the loops of disjoint slices at the same time:
``parallel_for(n, body)`` splits ``range(n)`` into contiguous ranges, runs ``body(start, stop)`` for the
first one on the calling thread and the others on a small pool, and returns when all are done.

The thread count is ``ember.get_num_threads()`` (``set_num_threads``, else ``OMP_NUM_THREADS``, else the
CPUs this process may use). Kernels call it only for work large enough to pay the hand-off (tens of
microseconds); ``body`` must write disjoint slices only. Nested calls, calls from a pool thread and
non-NumPy backends (CuPy has its own parallelism) run inline. BLAS calls inside ``body`` must be small
(per-sample GEMMs, row GEMVs): OpenBLAS's threaded server serializes large calls made from several
threads at once (measured 0.9x of one thread), so a big GEMM belongs outside, threaded by BLAS itself.

>>> import numpy as np
>>> from ember._backend.parallel import parallel_for
>>> x = np.arange(10.0); out = np.empty_like(x)
>>> parallel_for(10, lambda a, b: np.multiply(x[a:b], 2, out=out[a:b]), min_chunk=1)
>>> out[-1]
18.0
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_local = threading.local()   # .busy: this thread is already inside parallel_for (nested calls run inline)


def _threads() -> int:
    from .._compile import get_num_threads
    return get_num_threads()


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size < workers:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ember-intraop")
        _pool_size = workers
    return _pool


def _forget_pool_in_child() -> None:
    # a forked child (DataLoader worker) inherits the pool object but not its threads
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def _run_marked(body: Callable[[int, int], Any], a: int, b: int) -> None:
    _local.busy = True
    try:
        body(a, b)
    finally:
        _local.busy = False


# Elements of elementwise work below which one thread is faster than handing a piece to another
# (the hand-off costs tens of microseconds; 64K float32 elements take about that in one ufunc pass).
MIN_ELEMENTS_PER_PIECE = 1 << 16


def rows_per_piece(row_elements: int, min_elements: int = MIN_ELEMENTS_PER_PIECE) -> int:
    """The ``min_chunk`` for splitting rows of ``row_elements`` each: enough rows to make a piece worth a thread."""
    return max(1, min_elements // max(row_elements, 1))


def split(n: int, min_chunk: int = 1, align: int = 1) -> list:
    """``range(n)`` as up to ``get_num_threads()`` contiguous ``(start, stop)`` pieces of at least
    ``min_chunk`` (boundaries at multiples of ``align``); one piece when threads would not pay."""
    pieces = min(_threads(), n // max(min_chunk, 1))
    if pieces <= 1 or getattr(_local, "busy", False):
        return [(0, n)]
    step = -(-n // pieces)
    step = -(-step // align) * align
    return [(a, min(a + step, n)) for a in range(0, n, step)]


def run_ranges(ranges: list, body: Callable[[int, int], Any]) -> None:
    """``body(start, stop)`` for each range: the first on this thread, the others on the pool, all awaited.

    Kernels whose backward must split its work the way its forward did keep the forward's ``ranges``.
    """
    if len(ranges) == 1 or getattr(_local, "busy", False):
        for a, b in ranges:
            body(a, b)
        return
    pool = _get_pool(len(ranges) - 1)
    futures = [pool.submit(_run_marked, body, a, b) for a, b in ranges[1:]]
    error = None
    try:
        _run_marked(body, *ranges[0])
    except BaseException as e:  # noqa: BLE001 - re-raised after the other pieces finished
        error = e
    for f in futures:
        try:
            f.result()
        except BaseException as e:  # noqa: BLE001
            error = error or e
    if error is not None:
        raise error


def parallel_for(n: int, body: Callable[[int, int], Any], min_chunk: int = 1, align: int = 1,
                 xp: Any = None) -> None:
    """Run ``body(start, stop)`` over ``range(n)`` in up to ``get_num_threads()`` contiguous pieces.

    ``min_chunk``: the smallest piece worth a thread (units of ``n``); ``align``: piece boundaries are
    multiples of it (e.g. a block size); ``xp``: the backend module of the arrays, when the kernel is
    backend-generic (only NumPy's loops are split; a GPU backend runs ``body(0, n)`` as one launch each).
    """
    if xp is not None and xp is not np:
        body(0, n)
        return
    run_ranges(split(n, min_chunk, align), body)
