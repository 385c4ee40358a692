"""``ember.jit``: TorchScript's entry points as identities.

ember has no graph compiler, so ``script`` and ``trace`` return the module or function they are
given, unchanged: the program runs eagerly with the same results. The decorators TorchScript
code carries (``ignore``, ``unused``, ``export``, ``interface``) return their argument too, and
``is_scripting()``/``is_tracing()`` are False. Saving or loading TorchScript archives is not
possible (``save``/``load`` raise ``NotImplementedError``); save ``state_dict()`` instead.

>>> import ember
>>> net = ember.nn.Linear(2, 2)
>>> ember.jit.script(net) is net
True
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "interface", "is_scripting",
           "is_tracing", "annotate", "freeze", "optimize_for_inference", "save", "load", "fork", "wait",
           "Final", "Attribute", "ScriptModule", "ScriptFunction"]

T = TypeVar("T")

try:  # typing.Final is what torch.jit.Final is for Python >= 3.8
    from typing import Final  # noqa: F401
except ImportError:  # pragma: no cover
    Final = None  # type: ignore[assignment]


def script(obj: T, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> T:
    """``torch.jit.script``: returns ``obj`` unchanged (ember runs the Python code eagerly).

    >>> f = ember.jit.script(lambda x: x + 1)
    """
    return obj


def trace(func: T, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
          _force_outplace: bool = False, _module_class: Any = None, _compilation_unit: Any = None,
          example_kwarg_inputs: Any = None, _store_inputs: bool = True) -> T:
    """``torch.jit.trace``: returns ``func`` unchanged; the example inputs are not run.

    >>> net = ember.jit.trace(ember.nn.Linear(2, 2), ember.ones(1, 2))
    """
    if not callable(func):
        raise RuntimeError("trace expects a module or a function")
    return func


def trace_module(mod: T, inputs: Any = None, *args: Any, **kwargs: Any) -> T:
    """``torch.jit.trace_module``: returns ``mod`` unchanged."""
    return mod


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@torch.jit.ignore``: the function is returned as it is.

    >>> g = ember.jit.ignore(lambda x: x)
    """
    if callable(drop):
        return drop
    return lambda f: f


def unused(fn: Callable) -> Callable:
    """``@torch.jit.unused``: returns ``fn``."""
    return fn


def export(fn: Callable) -> Callable:
    """``@torch.jit.export``: returns ``fn``."""
    return fn


def interface(obj: T) -> T:
    """``@torch.jit.interface``: returns ``obj``."""
    return obj


def is_scripting() -> bool:
    """False: ember never runs code under TorchScript.

    >>> ember.jit.is_scripting()
    False
    """
    return False


def is_tracing() -> bool:
    """False: ember never traces.

    >>> ember.jit.is_tracing()
    False
    """
    return False


def annotate(the_type: Any, the_value: T) -> T:
    """``torch.jit.annotate``: returns the value."""
    return the_value


def freeze(mod: T, preserved_attrs: Any = None, optimize_numerics: bool = True) -> T:
    """``torch.jit.freeze``: returns the module."""
    return mod


def optimize_for_inference(mod: T, other_methods: Any = None) -> T:
    """``torch.jit.optimize_for_inference``: returns the module."""
    return mod


def fork(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """``torch.jit.fork``: runs ``func`` now and returns a future whose ``wait()`` gives the result."""
    return _Done(func(*args, **kwargs))


def wait(future: Any) -> Any:
    """``torch.jit.wait``: the result of a ``fork``."""
    return future.wait()


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def wait(self) -> Any:
        return self.value


def Attribute(value: T, type: Any = None) -> T:  # noqa: N802,A002  (PyTorch's names)
    """``torch.jit.Attribute``: returns the value."""
    return value


class ScriptModule:
    """Stands for ``torch.jit.ScriptModule`` in ``isinstance`` checks: no ember object is one."""


class ScriptFunction:
    """Stands for ``torch.jit.ScriptFunction`` in ``isinstance`` checks: no ember object is one."""


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    """TorchScript archives cannot be written: save ``m.state_dict()`` with ``ember.save`` instead."""
    raise NotImplementedError("ember does not implement torch.jit.save (no TorchScript): save the model's "
                              "state_dict() with torch.save instead")


def load(f: Any, map_location: Any = None, _extra_files: Any = None) -> Any:
    """TorchScript archives cannot be read: ember has no TorchScript interpreter."""
    raise NotImplementedError("ember does not implement torch.jit.load (no TorchScript interpreter): load a "
                              "state_dict saved with torch.save instead")
