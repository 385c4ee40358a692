"""Special functions NumPy lacks (erf, erfinv, lgamma, ...), vectorised over whole arrays.

Placeholder implementations; see the op library issue for the accurate array versions.
"""
from __future__ import annotations

import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def erf(x):
    return _erf(x).astype(x.dtype)


def erfc(x):
    return _erfc(x).astype(x.dtype)


def lgamma(x):
    return _lgamma(x).astype(x.dtype)
