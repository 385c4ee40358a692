"""``ember.autograd.Function``: custom differentiable operations, on the same machinery as ember's ops.

>>> import ember
>>> class Cube(ember.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         x, = ctx.saved_tensors
...         return 3 * x ** 2 * g
>>> x = ember.tensor(2., requires_grad=True)
>>> Cube.apply(x).backward(); x.grad
tensor(12.)
"""
from __future__ import annotations

import functools
from typing import Any

from .grad_mode import _state, no_grad
from .graph import Node, record_function, _SAVED_INPUT, _modified_msg, _FREED_MSG


class FunctionCtx(Node):
    """The ``ctx`` of a custom Function; also its node in the graph (``output.grad_fn``)."""

    _fn_cls: Any = None
    _dirty: tuple = ()
    _non_diff: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        self._to_save = tensors

    def mark_dirty(self, *tensors: Any) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_diff = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        out = []
        for kind, t, version in saved:
            if t is not None and t._vc[0] != version:
                raise RuntimeError(_modified_msg(t, t._grad_fn, version))
            out.append(t)
        return tuple(out)

    def backward(self, *grads: Any) -> Any:
        fn = self._fn_cls
        if getattr(fn.backward, "_once_differentiable", False) and _state.enabled:
            with no_grad():
                result = fn.backward(self, *grads)
            return _poison(result, fn)
        return fn.backward(self, *grads)

    def name(self) -> str:  # type: ignore[override]
        return self._fn_cls.__name__ + "Backward"


class _FunctionMeta(type):
    def __init__(cls, name: str, bases: tuple, attrs: dict):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (FunctionCtx,), {"_fn_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Base class for custom ops: define static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``.

    ``forward`` runs with grad mode off on ember tensors; ``backward`` receives one gradient per
    output and returns one per input of ``forward`` (``None`` for non-tensors). Under
    ``create_graph=True`` backward is itself recorded, so double backward works if
    ``backward`` is written with ember ops.
    """

    generate_vmap_rule = False

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        raise NotImplementedError

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import warnings
        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions are all static, so "
                      "you should invoke them on the class itself.", DeprecationWarning, stacklevel=2)

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .._tensor import Tensor, _wrap
        ctx = cls._backward_cls.__new__(cls._backward_cls)
        tensors = [a for a in args if isinstance(a, Tensor)]
        requires = _state.enabled and any(t._requires_grad for t in tensors)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx._to_save = None
        custom_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if custom_setup:
                output = cls.forward(*args, **kwargs)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if custom_setup:
            cls.setup_context(ctx, args, output)
        is_tuple = isinstance(output, tuple)
        outs = output if is_tuple else (output,)
        dirty = {id(t) for t in ctx._dirty}
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        fixed = []
        for o in outs:
            if isinstance(o, Tensor) and id(o) in input_ids and id(o) not in dirty:
                a = _wrap(o._data, o._device)  # returned an input unchanged: a new handle (a view)
                a._vc = o._vc
                o = a
            fixed.append(o)
        if not requires:
            return tuple(fixed) if is_tuple else fixed[0]
        tensor_outs = [o for o in fixed if isinstance(o, Tensor)]
        non_diff = {id(t) for t in ctx._non_diff}
        for o in tensor_outs:
            if id(o) in dirty:
                if o._grad_fn is None and o._requires_grad:
                    raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                                       "operation.")
                o._vc[0] += 0  # the user already modified it; its version moved with the write
        saved = None
        if ctx._to_save is not None:
            saved = tuple((_SAVED_INPUT, t, t._vc[0] if t is not None else 0) for t in ctx._to_save)
        inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
        diff_outs = tuple(o for o in tensor_outs)
        record_function(ctx, inputs, diff_outs, saved)
        for o in tensor_outs:
            if id(o) in non_diff:
                o._requires_grad = False
                o._grad_fn = None
        return tuple(fixed) if is_tuple else fixed[0]


class InplaceFunction(Function):
    def __init__(self, inplace: bool = False) -> None:
        self.inplace = inplace


class NestedIOFunction(Function):
    pass


def once_differentiable(fn: Any) -> Any:
    """Mark a custom ``backward`` as not itself differentiable: double backward through it raises."""
    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        return fn(ctx, *args)
    wrapper._once_differentiable = True
    return wrapper


class _OnceDifferentiableError(Node):
    def __init__(self, fn_name: str):
        self.fn_name = fn_name

    def backward(self, *grads: Any) -> Any:
        raise RuntimeError(f"trying to differentiate twice a function that was marked with @once_differentiable "
                           f"({self.fn_name})")


def _poison(result: Any, fn: Any) -> Any:
    """Results of a once-differentiable backward carry a node that raises if differentiated again."""
    from .._tensor import _wrap
    single = not isinstance(result, tuple)
    res = (result,) if single else result
    out = []
    for r in res:
        if r is not None and hasattr(r, "_data") and r.is_floating_point():
            r = _wrap(r._data, r._device)
            node = _OnceDifferentiableError(fn.__name__)
            record_function(node, (), (r,))
        out.append(r)
    return out[0] if single else tuple(out)
