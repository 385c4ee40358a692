"""``detect_anomaly``: remember where each op was made, and name the op whose backward gives NaN.

>>> import ember
>>> with ember.autograd.detect_anomaly():
...     pass
"""
from __future__ import annotations

from typing import Any

_enabled = False
_check_nan = True


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (a process-wide switch, as in PyTorch)."""
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection also checks backward results for NaN."""
    return _check_nan


class detect_anomaly:
    """Context manager (and decorator): backward errors name the forward op that produced them.

    Inside it every recorded op keeps the stack of its forward call; when a backward function
    fails or (with ``check_nan``) returns NaN, the error names it and a warning shows that stack.

    >>> with ember.autograd.detect_anomaly():
    ...     ember.ones(1, requires_grad=True).sum().backward()
    """

    def __init__(self, check_nan: bool = True) -> None:
        import warnings
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)
        self.check_nan = check_nan
        self.prev = (_enabled, _check_nan)

    def __enter__(self) -> None:
        global _enabled, _check_nan
        self.prev = (_enabled, _check_nan)
        _enabled, _check_nan = True, self.check_nan

    def __exit__(self, *exc: Any) -> None:
        global _enabled, _check_nan
        _enabled, _check_nan = self.prev

    def __call__(self, func: Any) -> Any:
        import functools

        @functools.wraps(func)
        def wrapper(*a: Any, **k: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return func(*a, **k)
        return wrapper


class set_detect_anomaly(detect_anomaly):
    """Turn anomaly detection on or off (immediately, and as a context manager that restores it).

    >>> with ember.autograd.set_detect_anomaly(False):
    ...     ember.autograd.is_anomaly_enabled()
    False
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        global _enabled, _check_nan
        self.prev = (_enabled, _check_nan)
        self.mode, self.check_nan = mode, check_nan
        _enabled, _check_nan = mode, check_nan

    def __enter__(self) -> None:
        pass
