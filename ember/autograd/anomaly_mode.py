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
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _check_nan


class detect_anomaly:
    """Context manager (and decorator): backward errors name the forward op that produced them."""

    def __init__(self, check_nan: bool = True) -> None:
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
    """Turn anomaly detection on or off (immediately, and as a context manager)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        global _enabled, _check_nan
        self.prev = (_enabled, _check_nan)
        self.mode, self.check_nan = mode, check_nan
        _enabled, _check_nan = mode, check_nan

    def __enter__(self) -> None:
        pass
