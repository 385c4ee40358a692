"""``ember.autograd``: reverse-mode differentiation over the dynamic graph.

>>> import ember
>>> x = ember.tensor(3., requires_grad=True)
>>> (g,) = ember.autograd.grad(x ** 2, x, create_graph=True)
>>> g, ember.autograd.grad(g, x)[0]
(tensor(6., grad_fn=<MulBackward0>), tensor(2.))
"""
from __future__ import annotations

from typing import Any, Sequence

from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled)
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from .function import Function, FunctionCtx, once_differentiable, InplaceFunction, NestedIOFunction
from .graph import Node
from . import graph

__all__ = ["backward", "grad", "Function", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "detect_anomaly", "set_detect_anomaly", "once_differentiable", "gradcheck", "gradgradcheck",
           "functional", "Variable"]


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _make_grads(outputs: tuple, grad_outputs: tuple, create_graph: bool, api: str) -> list:
    from .._tensor import Tensor, _wrap
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if i < len(grad_outputs) else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.is_floating_point() and not out.is_complex():
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{out.dtype}")
            g = _ones_like(out)
        else:
            if not isinstance(g, Tensor):
                from .._creation import tensor
                g = tensor(g, dtype=out.dtype)
            if g._data.shape != out._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                                   f"has a shape of {out.shape}.")
            if g._data.dtype != out._data.dtype and (g.is_complex() != out.is_complex()):
                raise RuntimeError(f"For complex Tensors, both grad_output and output are required to have the "
                                   f"same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                                   f"output[{i}] has a dtype of {out.dtype}.")
            if not create_graph:
                g = g.detach()
        grads.append(g)
    return grads


def _ones_like(t: Any) -> Any:
    from .._tensor import _wrap
    from .graph import _xp_of
    return _wrap(_xp_of(t._device).ones(t._data.shape, t._data.dtype), t._device)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
             grad_variables: Any = None, inputs: Any = None) -> None:
    """Sum the gradients of ``tensors`` w.r.t. graph leaves into the leaves' ``.grad``."""
    from .engine import run_backward
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(tensors):
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    grads = _make_grads(tensors, grad_tensors, create_graph, "backward")
    if inputs is not None and isinstance(inputs, (list, tuple)) and len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    inputs = _as_tuple(inputs)
    if inputs:
        for t in inputs:
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
    if not inputs:
        run_backward(tensors, grads, retain_graph, create_graph)
    else:
        captured = run_backward(tensors, grads, retain_graph, create_graph, capture=list(inputs), accumulate=True)
        from .engine import _accumulate
        for t, g in zip(inputs, captured):  # non-leaf inputs get their .grad too, as in PyTorch
            if g is not None and t._grad_fn is not None:
                _accumulate(t, g, create_graph, set())


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """Gradients of ``outputs`` w.r.t. ``inputs`` (returned, not accumulated into ``.grad``)."""
    from .engine import run_backward
    if is_grads_batched:
        raise NotImplementedError("ember does not implement is_grads_batched=True yet")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tuple(outputs)
    single = not isinstance(inputs, (list, tuple))
    inputs = _as_tuple(inputs)
    for i, t in enumerate(outputs):
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, _as_tuple(grad_outputs), create_graph, "grad")
    captured = run_backward(outputs, grads, retain_graph, create_graph, capture=list(inputs), accumulate=False)
    result = []
    for i, (t, g) in enumerate(zip(inputs, captured)):
        if g is None:
            if materialize_grads:
                from .._creation import zeros_like
                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph and g._requires_grad:
            g = g.detach()
        result.append(g)
    return tuple(result)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:
    """Deprecated: returns a tensor (Variables and Tensors merged in PyTorch 0.4)."""
    from .._tensor import Tensor
    t = data if isinstance(data, Tensor) else Tensor(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


# The functions shadow their submodule's name, as in PyTorch (the module stays in sys.modules).
from .gradcheck import gradcheck, gradgradcheck  # noqa: E402


def __getattr__(name: str) -> Any:  # lazy: these pull in more of ember
    if name == "functional":
        import importlib  # `from . import functional` would re-enter this __getattr__ before the import
        return importlib.import_module(".functional", __name__)
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
