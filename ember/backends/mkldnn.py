"""``ember.backends.mkldnn``: oneDNN flags. ember's CPU kernels are NumPy's BLAS, so oneDNN is not
used; ``enabled`` and ``deterministic`` are recorded only.

>>> import ember
>>> ember.backends.mkldnn.is_available()
False
"""
from __future__ import annotations

__all__ = ["is_available"]

enabled: bool = True
deterministic: bool = False


def is_available() -> bool:
    """Whether oneDNN is used: never in ember.

    >>> ember.backends.mkldnn.is_available()
    False
    """
    return False
