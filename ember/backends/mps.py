"""``ember.backends.mps``: Apple's Metal backend, which ember does not have.

>>> import ember
>>> ember.backends.mps.is_available()
False
"""
from __future__ import annotations

__all__ = ["is_available", "is_built", "is_macos13_or_newer"]


def is_available() -> bool:
    """Whether tensors can go to ``'mps'``: never in ember.

    >>> ember.backends.mps.is_available()
    False
    """
    return False


def is_built() -> bool:
    """Whether ember was built with MPS support: it never is.

    >>> ember.backends.mps.is_built()
    False
    """
    return False


def is_macos13_or_newer(minor: int = 0) -> bool:
    """Kept for programs that probe it; ember does not use MPS, so False."""
    return False
