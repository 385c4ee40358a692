"""``ember.backends.cudnn``: cuDNN flags. ember's CUDA backend (CuPy) does not use cuDNN, so
``is_available()`` is False and the flags are only recorded, as a CPU build of PyTorch does.

>>> import ember
>>> ember.backends.cudnn.deterministic = True
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

__all__ = ["is_available", "version", "flags", "is_acceptable"]

enabled: bool = True
benchmark: bool = False
benchmark_limit: int = 10
deterministic: bool = False
allow_tf32: bool = True


def is_available() -> bool:
    """Whether cuDNN can be used: never in ember (its CUDA kernels are CuPy's and its own).

    >>> ember.backends.cudnn.is_available()
    False
    """
    return False


def version() -> None:
    """cuDNN's version, or None when it is not available (always None in ember).

    >>> ember.backends.cudnn.version() is None
    True
    """
    return None


def is_acceptable(tensor: Any) -> bool:
    """Whether cuDNN would run on this tensor: False, cuDNN is never used."""
    return False


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10, deterministic: bool = False,
          allow_tf32: bool = True) -> Iterator[None]:
    """Set the cuDNN flags for a ``with`` block and restore them after it.

    >>> with ember.backends.cudnn.flags(enabled=True, benchmark=True): pass
    """
    g = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    saved = {n: g[n] for n in names}
    g.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit, deterministic=deterministic,
             allow_tf32=allow_tf32)
    try:
        yield
    finally:
        g.update(saved)
