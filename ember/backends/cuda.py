"""``ember.backends.cuda``: CUDA matmul flags and the scaled-dot-product-attention switches.

``matmul.allow_tf32`` mirrors ``ember.set_float32_matmul_precision`` as in PyTorch ('highest'
means False; 'high'/'medium' mean True). ember's CUDA backend is CuPy, whose cuBLAS calls do
not read these flags, so they only record the program's choice.

>>> import ember
>>> ember.backends.cuda.matmul.allow_tf32 = True
>>> ember.get_float32_matmul_precision()
'high'
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from .. import _compile

__all__ = ["is_built", "matmul", "preferred_linalg_library", "flash_sdp_enabled", "enable_flash_sdp",
           "mem_efficient_sdp_enabled", "enable_mem_efficient_sdp", "math_sdp_enabled", "enable_math_sdp",
           "cudnn_sdp_enabled", "enable_cudnn_sdp", "sdp_kernel"]


def is_built() -> bool:
    """Whether ember can run CUDA tensors: True when CuPy is installed.

    >>> isinstance(ember.backends.cuda.is_built(), bool)
    True
    """
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return True


class _MatmulFlags:
    """``ember.backends.cuda.matmul``: the attributes of ``torch.backends.cuda.matmul``."""

    __slots__ = ("_fp16_reduced", "_bf16_reduced")
    _names = ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction",
              "allow_fp16_accumulation")

    def __init__(self) -> None:
        object.__setattr__(self, "_fp16_reduced", True)
        object.__setattr__(self, "_bf16_reduced", True)

    @property
    def allow_tf32(self) -> bool:
        return _compile.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        _compile.set_float32_matmul_precision("high" if value else "highest")

    @property
    def allow_fp16_reduced_precision_reduction(self) -> bool:
        return self._fp16_reduced

    @allow_fp16_reduced_precision_reduction.setter
    def allow_fp16_reduced_precision_reduction(self, value: bool) -> None:
        object.__setattr__(self, "_fp16_reduced", bool(value))

    @property
    def allow_bf16_reduced_precision_reduction(self) -> bool:
        return self._bf16_reduced

    @allow_bf16_reduced_precision_reduction.setter
    def allow_bf16_reduced_precision_reduction(self, value: bool) -> None:
        object.__setattr__(self, "_bf16_reduced", bool(value))

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._names:
            raise AttributeError(f"Unknown attribute {name}")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"<ember.backends.cuda.matmul allow_tf32={self.allow_tf32}>"


matmul = _MatmulFlags()

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}
_linalg_library = "default"


def preferred_linalg_library(backend: Any = None) -> str:
    """Record (and return) the preferred CUDA linear-algebra library; CuPy chooses its own."""
    global _linalg_library
    if backend is not None:
        name = str(backend).lower()
        if name not in ("default", "cusolver", "magma"):
            raise RuntimeError(f"Unknown input value. Choose from: default, cusolver, magma. Got {backend}")
        _linalg_library = name
    return _linalg_library


def flash_sdp_enabled() -> bool:
    """Whether the flash scaled-dot-product-attention kernel is allowed (recorded only)."""
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    """Allow or forbid the flash attention kernel (ember computes attention with plain matmuls)."""
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    """Whether the memory-efficient attention kernel is allowed (recorded only)."""
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """Allow or forbid the memory-efficient attention kernel (recorded only)."""
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    """Whether the math attention path is allowed; ember always computes it this way."""
    return _sdp["math"]


def enable_math_sdp(enabled: bool) -> None:
    """Allow or forbid the math attention path (recorded only: it is ember's only path)."""
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    """Whether the cuDNN attention kernel is allowed (recorded only)."""
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    """Allow or forbid the cuDNN attention kernel (recorded only)."""
    _sdp["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
               enable_cudnn: bool = True) -> Iterator[None]:
    """Set the attention-kernel switches for a ``with`` block, then restore them.

    >>> with ember.backends.cuda.sdp_kernel(enable_flash=False): pass
    """
    saved = dict(_sdp)
    _sdp.update(flash=bool(enable_flash), math=bool(enable_math), mem_efficient=bool(enable_mem_efficient),
                cudnn=bool(enable_cudnn))
    try:
        yield
    finally:
        _sdp.clear()
        _sdp.update(saved)
