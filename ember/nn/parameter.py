"""``nn.Parameter``: a leaf tensor that a ``Module`` registers as a learnable weight.

>>> import ember
>>> p = ember.nn.Parameter(ember.zeros(2))
>>> p.requires_grad, isinstance(p, ember.Tensor)
(True, True)
"""
from __future__ import annotations

from typing import Any

from .._tensor import Tensor, _init


class Parameter(Tensor):
    """A tensor that is a module parameter: shares memory with ``data`` and requires grad by default."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> "Parameter":
        from .._creation import empty
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        t = object.__new__(cls)
        _init(t, data._data, data._device, False)
        t._vc = data._vc  # shares memory with data, so shares its version counter
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_parameter, (self.detach(), self._requires_grad))

    def __deepcopy__(self, memo: dict) -> "Parameter":
        if id(self) in memo:
            return memo[id(self)]
        from .._tensor import _wrap
        result = Parameter(_wrap(self._data.copy(), self._device), self._requires_grad)
        if self._grad is not None:
            result._grad = self._grad.__deepcopy__(memo)
        result.__dict__.update({k: v for k, v in self.__dict__.items()})
        memo[id(self)] = result
        return result


def _rebuild_parameter(data: Tensor, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad)


class UninitializedTensorMixin:
    """Marks a parameter/buffer whose shape is set on the first forward of a lazy module."""

    __slots__ = ()  # keeps the instance layout of the class it becomes (Tensor has no __dict__)

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        from .. import _creation
        from .._dtype import get_default_dtype
        data = _creation.empty(*((shape,) if isinstance(shape, int) else tuple(shape)),
                               dtype=dtype or get_default_dtype(), device=device)
        self._data = data._data
        self._device = data._device
        self.__class__ = self.cls_to_become

    @property
    def shape(self) -> Any:
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def is_lazy(param: Any) -> bool:
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter of unknown shape (lazy modules); becomes a ``Parameter`` on materialize."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> "UninitializedParameter":
        from .._creation import empty
        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        pass  # all set up in __new__ (Parameter.__init__ takes no device/dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> "UninitializedBuffer":
        from .._creation import empty
        t = object.__new__(cls)
        e = empty(0, device=device, dtype=dtype)
        _init(t, e._data, e._device, requires_grad)
        return t


class Buffer(Tensor):
    """Marks a tensor to be registered as a module buffer when assigned as an attribute."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> "Buffer":
        from .._creation import empty
        data = data if data is not None else empty(0)
        t = object.__new__(cls)
        _init(t, data._data, data._device, False)
        t._vc = data._vc
        t.persistent = persistent
        return t

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        pass
