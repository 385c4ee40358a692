"""``ember.backends``: the switches of ``torch.backends`` (cudnn, cuda.matmul, mps, mkldnn, cpu).

ember computes with NumPy (CPU) and CuPy (CUDA) and uses none of these libraries directly, so
the flags are plain settings: they keep what a program writes and report it back, and the
``is_available`` functions tell the truth (no cuDNN, no MPS). See ``docs/interop.md``.

>>> import ember
>>> ember.backends.cudnn.benchmark = True
>>> ember.backends.mps.is_available()
False
"""
from . import cpu, cuda, cudnn, mkldnn, mps  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps"]
