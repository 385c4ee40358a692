"""Lazy modules: parameters whose shapes are inferred from the first input."""
from __future__ import annotations

from typing import Any

from ..parameter import is_lazy


class LazyModuleMixin:
    """Mix into a module with ``UninitializedParameter``s and an ``initialize_parameters(input)`` method.

    The first call materialises the parameters, initialises them, and turns the module into
    ``cls_to_become`` (e.g. ``LazyLinear`` becomes ``Linear``).
    """

    cls_to_become: Any = None

    def _init_lazy(self) -> None:
        self._lazy_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        return any(is_lazy(p) for p in self._parameters.values()) or any(
            is_lazy(b) for b in self._buffers.values())

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def _infer_parameters(module: Any, args: tuple) -> None:
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._lazy_hook.remove()
    del module._lazy_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become
