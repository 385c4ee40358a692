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

    _out_is_tensor: tuple = ()
    _arg_is_tensor: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors (or None) for backward; they come back from ``ctx.saved_tensors``, version-checked."""
        for i, t in enumerate(tensors):
            if t is not None and not hasattr(t, "_data"):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
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
            if kind == _SAVED_INPUT and t._vc[0] != version:
                raise RuntimeError(_modified_msg(t, t._grad_fn, version))
            out.append(t)
        return tuple(out)

    def backward(self, *grads: Any) -> Any:
        fn = self._fn_cls
        if len(self._out_is_tensor) != len(grads):  # non-tensor outputs get None, as in PyTorch
            it = iter(grads)
            grads = tuple(next(it) if is_t else None for is_t in self._out_is_tensor)
        if getattr(fn.backward, "_once_differentiable", False):
            with no_grad():
                result = self._tensor_grads(fn.backward(self, *grads))
            # PyTorch's rule: the results join a graph (that raises if used) only when a gradient fed
            # to this backward itself requires grad; otherwise they are plain tensors.
            if _state.enabled and any(g is not None and g._requires_grad for g in grads):
                return _poison(result, tuple(g for g in grads if g is not None and g._requires_grad))
            return result
        return self._tensor_grads(fn.backward(self, *grads))

    def _tensor_grads(self, result: Any) -> tuple:
        """The user's backward returns one gradient per forward argument; the graph has edges for tensors only."""
        if type(result) is not tuple:
            result = (result,)
        n = len(self._arg_is_tensor)
        if len(result) < n or any(r is not None for r in result[n:]):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected {n}, "
                               f"got {len(result)})")
        out = []
        for i, (r, is_t) in enumerate(zip(result, self._arg_is_tensor)):
            if is_t:
                out.append(r)
            elif r is not None:
                raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                   f"{i + 1}, but the corresponding forward input was not a Variable")
        return tuple(out)

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
        ctx._out_is_tensor = tuple(isinstance(o, Tensor) for o in outs)
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
                    raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                                       "operation.")
                o._vc[0] += 1  # PyTorch bumps a dirty tensor's version once more
        saved = ctx._to_save  # packed (with versions) when recorded
        ctx._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        needs = ctx.needs_input_grad  # one per argument, as PyTorch's ctx has it
        # edges (next_functions) only for tensor arguments, as in PyTorch
        record_function(ctx, tuple(a for a in args if isinstance(a, Tensor)), tuple(tensor_outs), saved)
        ctx.needs_input_grad = needs
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
    """The node behind results of a ``once_differentiable`` backward: differentiating it raises."""

    @classmethod
    def name(cls) -> str:
        return "torch::autograd::Error"

    def backward(self, *grads: Any) -> Any:
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def _poison(result: Any, grads: tuple) -> Any:
    """Results of a once-differentiable backward carry a node that raises if differentiated again."""
    from .._tensor import _wrap
    single = not isinstance(result, tuple)
    res = (result,) if single else result
    out = []
    for r in res:
        if r is not None and hasattr(r, "_data") and r.is_floating_point():
            r = _wrap(r._data, r._device)
            node = _OnceDifferentiableError()
            record_function(node, grads, (r,))  # on the path from the incoming gradients
        out.append(r)
    return out[0] if single else tuple(out)
