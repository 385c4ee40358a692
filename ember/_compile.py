"""Global switches PyTorch programs flip: ``compile``, matmul precision, determinism, thread counts.

ember runs eagerly on NumPy/CuPy, so most of these have nothing to tune: they validate their
arguments like PyTorch, remember the setting (so the matching getters report it), and change
what they can (``set_num_threads`` sizes ember's parallel elementwise kernels, see
``ember/_backend/parallel.py``, and limits the BLAS/OpenMP pools through ``threadpoolctl`` when it is
installed). ``docs/interop.md`` lists what each one does.

>>> import ember
>>> ember.set_float32_matmul_precision("high"); ember.get_float32_matmul_precision()
'high'
"""
from __future__ import annotations

import os
import warnings
from typing import Any

__all__ = ["compile", "set_float32_matmul_precision", "get_float32_matmul_precision",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_num_threads", "get_num_threads",
           "set_num_interop_threads", "get_num_interop_threads"]

_builtin_compile = compile  # the module-level name below shadows the builtin, as torch.compile does

_state: dict = {"matmul_precision": "highest", "deterministic": False, "warn_only": False,
                "num_threads": None, "interop_threads": None, "limiter": None}


# ------------------------------------------------------------------------------------- compile
def compile(model: Any = None, *, fullgraph: bool = False, dynamic: Any = None, backend: Any = "inductor",
            mode: Any = None, options: Any = None, disable: bool = False) -> Any:
    """``torch.compile`` for ember: returns ``model`` unchanged (ember has no graph compiler; it runs eagerly).

    Used as a decorator with arguments (``@ember.compile(mode="max-autotune")``) it returns an
    identity decorator. The arguments are checked like PyTorch's so a wrong call still fails.

    >>> net = ember.compile(ember.nn.Linear(2, 2))  # the same module object
    """
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same "
                           "time.")
    if mode is not None and mode not in ("default", "reduce-overhead", "max-autotune",
                                         "max-autotune-no-cudagraphs"):
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: default, reduce-overhead, "
                           "max-autotune, max-autotune-no-cudagraphs")
    if model is None:
        def decorator(fn: Any) -> Any:
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, disable=disable)
        return decorator
    if not callable(model):
        raise RuntimeError("model must be a callable (an nn.Module or a function)")
    return model


# ----------------------------------------------------------------------------- matmul precision
def set_float32_matmul_precision(precision: str) -> None:
    """Record the float32 matmul precision (``'highest'``, ``'high'``, ``'medium'``).

    NumPy's BLAS always computes float32 matmuls in full float32, which is ``'highest'``; the
    setting is kept so ``get_float32_matmul_precision`` and
    ``ember.backends.cuda.matmul.allow_tf32`` report it, as in PyTorch.

    >>> ember.set_float32_matmul_precision("high")
    """
    if precision not in ("highest", "high", "medium"):
        # PyTorch warns and ignores an unknown value rather than raising.
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """The value last given to ``set_float32_matmul_precision`` (``'highest'`` by default).

    >>> ember.get_float32_matmul_precision()
    'highest'
    """
    return _state["matmul_precision"]


# ------------------------------------------------------------------------------------ determinism
def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the determinism switch. ember's kernels (NumPy/CuPy, no atomics) are deterministic already.

    >>> ember.use_deterministic_algorithms(True)
    """
    if type(mode) is not bool:
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    if type(warn_only) is not bool:
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, not "
                        f"{type(warn_only).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True)`` was called.

    >>> ember.are_deterministic_algorithms_enabled()
    False
    """
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether determinism was enabled with ``warn_only=True``."""
    return _state["warn_only"]


# ---------------------------------------------------------------------------------------- threads
def _check_threads(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return n


def set_num_threads(int: int) -> None:  # noqa: A002  (PyTorch's parameter name)
    """Set ember's intra-op thread count (its parallel elementwise kernels) and limit the threads NumPy's
    BLAS/OpenMP pools use (through ``threadpoolctl`` when installed).

    Without ``threadpoolctl`` BLAS keeps its pool size (``get_num_threads`` still returns ``n``); set
    ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` before starting Python to limit BLAS then.

    >>> ember.set_num_threads(2); ember.get_num_threads()
    2
    """
    n = _check_threads(int, "set_num_threads")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        # The returned object keeps the limit until it is garbage collected or restored.
        _state["limiter"] = threadpool_limits(limits=n)
    _state["num_threads"] = n


def get_num_threads() -> int:
    """The intra-op thread count: the last ``set_num_threads`` value, else ``OMP_NUM_THREADS``, else the BLAS
    pool size or CPU count. ember's parallel elementwise kernels use this many threads.

    >>> ember.get_num_threads() >= 1
    True
    """
    if _state["num_threads"] is not None:
        return _state["num_threads"]
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:  # PyTorch sizes its intra-op pool from it too
        return int(env)
    try:
        from threadpoolctl import threadpool_info
        counts = [p.get("num_threads", 0) for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts and max(counts) > 0:
            return max(counts)
    except ImportError:
        pass
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def set_num_interop_threads(int: int) -> None:  # noqa: A002
    """Record the inter-op thread count (ember runs ops one after another; nothing to size).

    >>> ember.set_num_interop_threads(1)
    """
    _state["interop_threads"] = _check_threads(int, "set_num_interop_threads")


def get_num_interop_threads() -> int:
    """The value given to ``set_num_interop_threads``, else ``get_num_threads()``.

    >>> ember.get_num_interop_threads() >= 1
    True
    """
    n = _state["interop_threads"]
    return n if n is not None else get_num_threads()
