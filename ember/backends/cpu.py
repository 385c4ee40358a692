"""``ember.backends.cpu``: what the CPU offers.

>>> import ember
>>> ember.backends.cpu.get_cpu_capability()
'DEFAULT'
"""
from __future__ import annotations

__all__ = ["get_cpu_capability"]


def get_cpu_capability() -> str:
    """The vector instruction set ember's own kernels target: none (NumPy picks its own), so ``'DEFAULT'``.

    >>> ember.backends.cpu.get_cpu_capability()
    'DEFAULT'
    """
    return "DEFAULT"
