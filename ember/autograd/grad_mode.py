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
    """Whether an ``inference_mode`` block is active in this thread."""
    return _state.inference


class _DecoratorContextManager:
    """Base for grad-mode managers: usable as ``with`` blocks and as function decorators."""

    def __call__(self, func: Callable) -> Callable:
        if inspect.isclass(func):
            import warnings
            warnings.warn("Decorating classes is deprecated and will be disabled in future versions. You should "
                          "only decorate functions or methods. To preserve the current behavior of class "
                          "decoration, you can directly decorate the `__init__` method and nothing else.",
                          FutureWarning, stacklevel=2)
            cls_ = func

            def func(*args: Any, **kwargs: Any) -> Any:  # construct the class under this mode
                return cls_(*args, **kwargs)
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args: Any, **kwargs: Any):
                gen = func(*args, **kwargs)
                try:  # each step of the generator runs under the mode, the caller's code between steps not
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
                except StopIteration as e:  # PEP 479: finish with the inner generator's return value
                    return e.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """Also usable as a bare decorator: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func: Callable | None = None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecoratorContextManager):
    """Disable gradient recording inside the block (or the decorated function).

    >>> with ember.no_grad():
    ...     y = ember.ones(2, requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    def __init__(self) -> None:
        self.prev: list = []

    def __enter__(self) -> None:
        self.prev.append(_state.enabled)
        _state.enabled = False

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev.pop()


class enable_grad(_NoParamDecoratorContextManager):
    """Enable gradient recording inside the block, even within ``no_grad``.

    >>> with ember.no_grad(), ember.enable_grad():
    ...     ember.is_grad_enabled()
    True
    """

    def __init__(self) -> None:
        self.prev: list = []

    def __enter__(self) -> None:
        self.prev.append(_state.enabled)
        _state.enabled = True

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev.pop()


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode to ``mode``. Takes effect immediately (as a function) and restores on exit.

    >>> with ember.set_grad_enabled(False):
    ...     ember.is_grad_enabled()
    False
    """

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

    def __repr__(self) -> str:
        return f"ember.autograd.grad_mode.set_grad_enabled(mode={self.mode})"


class inference_mode(_DecoratorContextManager):
    """Like ``no_grad`` (ember does not mark or restrict tensors made inside).

    ``inference_mode(False)`` turns it off again inside an enclosing ``inference_mode`` block.

    >>> with ember.inference_mode():
    ...     ember.is_grad_enabled(), ember.is_inference_mode_enabled()
    (False, True)
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self.prev: list = []

    def __new__(cls, mode: bool | Callable = True):
        if callable(mode):  # bare @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __enter__(self) -> None:
        self.prev.append((_state.enabled, _state.inference))
        _state.enabled, _state.inference = not self.mode, bool(self.mode)

    def __exit__(self, *exc: Any) -> None:
        _state.enabled, _state.inference = self.prev.pop()

    def clone(self):
        return type(self)(self.mode)
