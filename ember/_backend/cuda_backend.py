"""CUDA backend through CuPy (the optional ``[gpu]`` extra)."""
from __future__ import annotations


def make_backend():
    try:
        import cupy
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise RuntimeError("CUDA tensors need CuPy: install ember with the [gpu] extra "
                           "(pip install 'ember[gpu]')") from e
    from . import Backend
    try:
        import cupyx.scipy.special as special
    except ImportError:  # pragma: no cover
        special = None
    b = Backend("cupy", cupy, special, "cuda")
    b.to_numpy = lambda a: cupy.asnumpy(a)  # type: ignore[method-assign]
    return b
