"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each is a context manager and a decorator, and the state is per thread.

>>> import ember
>>> x = ember.ones(2, requires_grad=True)
>>> with ember.no_grad():
...     y = x * 2
>>> y.requires_grad
False
"""
from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable


class _GradState(threading.local):
    enabled = True
    inference = False


_state = _GradState()


def is_grad_enabled() -> bool:
    """Whether operations are recorded for autograd in this thread."""
    return _state.enabled


def is_inference_mode_enabled() -> bool:
    return _state.inference


class _DecoratorContextManager:
    """Base for grad-mode managers: usable as ``with`` blocks and as function decorators."""

    def __call__(self, func: Callable) -> Callable:
        if inspect.isclass(func):
            raise RuntimeError(f"{type(self).__name__} cannot decorate a class")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args: Any, **kwargs: Any):
                gen = func(*args, **kwargs)
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as e:
                        with self.clone():
                            response = gen.throw(e)
                    else:
                        with self.clone():
                            response = gen.send(request)
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_DecoratorContextManager):
    """Disable gradient recording inside the block (or the decorated function)."""

    def __init__(self) -> None:
        self.prev: list = []

    def __enter__(self) -> None:
        self.prev.append(_state.enabled)
        _state.enabled = False

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev.pop()


class enable_grad(_DecoratorContextManager):
    """Enable gradient recording inside the block, even within ``no_grad``."""

    def __init__(self) -> None:
        self.prev: list = []

    def __enter__(self) -> None:
        self.prev.append(_state.enabled)
        _state.enabled = True

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev.pop()


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode to ``mode``. Takes effect immediately (as a function) and restores on exit."""

    def __init__(self, mode: bool) -> None:
        self.prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self) -> None:
        _state.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev

    def clone(self):
        return type(self)(self.mode)

    def __call__(self, func: Callable) -> Callable:
        _state.enabled = self.prev  # used as a decorator: undo the immediate effect
        return super().__call__(func)


class inference_mode(_DecoratorContextManager):
    """Like ``no_grad``; tensors made inside report ``is_inference()`` (ember does not forbid reuse)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self.prev: list = []

    def __new__(cls, mode: bool | Callable = True):
        if callable(mode):  # bare @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __enter__(self) -> None:
        self.prev.append((_state.enabled, _state.inference))
        if self.mode:
            _state.enabled, _state.inference = False, True

    def __exit__(self, *exc: Any) -> None:
        _state.enabled, _state.inference = self.prev.pop()

    def clone(self):
        return type(self)(self.mode)
