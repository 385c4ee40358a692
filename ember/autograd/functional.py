"""``ember.autograd.functional``: Jacobians, Hessians and vector products of whole functions.

Everything here is built on ``autograd.grad``: vector-Jacobian products are one backward
pass; Jacobian-vector products use the double-vjp trick (the vjp ``u -> J^T u`` is linear in
``u``, so differentiating it w.r.t. ``u`` in the direction ``v`` gives ``J v``); Jacobians
take one backward per output element (or, with ``strategy="forward-mode"``, one jvp per
input element); Hessians are Jacobians of gradients. Return structures follow PyTorch:
a tensor where the function took/returned a tensor, a tuple where it took/returned a tuple.

>>> import ember
>>> from ember.autograd.functional import jacobian
>>> jacobian(lambda x: x ** 2, ember.tensor([1., 2.]))
tensor([[2., 0.],
        [0., 4.]])
"""
from __future__ import annotations

from typing import Any, Callable

from .grad_mode import enable_grad
from .graph import Node, _xp_of

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ------------------------------------------------------------------------------------ helpers
def _as_tuple(x: Any, arg_name: str, fn_name: str) -> tuple:
    """(was it a tuple, the tensors as a tuple); raise PyTorch's TypeError for anything else."""
    from .._tensor import Tensor
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            if is_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                                f"but the value at index {i} has type {type(el)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                            f"but the given {arg_name} has type {type(el)}.")
    return is_tuple, items


def _tuple_postprocess(res: Any, to_unpack: Any) -> Any:
    """Unwrap the tuples that the user did not pass (one level per flag)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh graph roots for the inputs: a view (to stay in the user's graph) under create_graph, else detached."""
    out = []
    for t in inputs:
        if create_graph and t._requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _grad_postprocess(items: tuple, create_graph: bool) -> tuple:
    if create_graph:
        return items
    if items and isinstance(items[0], tuple):
        return tuple(_grad_postprocess(el, create_graph) for el in items)
    return tuple(None if t is None else t.detach() for t in items)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for a, b in zip(v, other):
        if a.shape != b.shape:
            raise RuntimeError(f"v has invalid size: should be {b.shape} but got {a.shape}.")


_REQUIRES_GRAD_MSGS = {
    "outputs": "Output {} of the user-provided function does not require gradients. The outputs must be computed "
               "in a differentiable manner from the input when running in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function with respect "
                "to input {} is independent of the input. This is not allowed in strict mode. You should ensure "
                "that your function is twice differentiable and that the jacobian depends on the inputs (this "
                "would be violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {} is independent of the input. "
               "This is not allowed in strict mode. You should ensure that your function is thrice differentiable "
               "and that the hessian depends on the inputs.",
    "grad_inputs": "The gradient with respect to input {} is independent of the inputs of the user-provided "
                   "function. This is not allowed in strict mode.",
}


def _check_requires_grad(items: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, t in enumerate(items):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode.")
        if not t._requires_grad:
            raise RuntimeError(_REQUIRES_GRAD_MSGS[kind].format(i))


def _autograd_grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None, create_graph: bool = False,
                   retain_graph: bool | None = None) -> tuple:
    """``autograd.grad`` over the outputs that require grad; all-None when none does."""
    from . import grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o._requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


_ZEROS_MSGS = {
    "back": "The output of the user-provided function is independent of input {}. This is not allowed in "
            "strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in "
                  "strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {}. This is not allowed "
                   "in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {} in the grad_"
                         "jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}
_ZEROS_CG_MSGS = {
    "back": "The jacobian of the user-provided function is independent of input {}. This is not allowed in "
            "strict mode when create_graph=True.",
    "back_trick": "The gradient with respect to the input is independent of entry {} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in "
                  "strict mode when create_graph=True.",
    "double_back": "The hessian of the user-provided function is independent of input {}. This is not allowed "
                   "in strict mode when create_graph=True.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {} in the grad_"
                         "jacobian. This is not allowed in strict mode when create_graph=True.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Replace missing gradients by zeros (or raise in strict mode)."""
    from .._creation import zeros_like
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_ZEROS_MSGS[stage].format(i))
            g = zeros_like(ref)
        elif strict and create_graph and not g._requires_grad:
            raise RuntimeError(_ZEROS_CG_MSGS[stage].format(i))
        out.append(g)
    return tuple(out)


class _Stack(Node):
    """Stack equally shaped tensors along a new leading dim (its backward splits the gradient again)."""

    def forward(self, *arrays):
        return self.xp.stack(arrays)

    def backward(self, g):
        return _Unstack.apply(g)


class _Unstack(Node):
    """Split along the leading dim into separate (copied) tensors; backward stacks the gradients."""

    def forward(self, x):
        return tuple(x[i].copy() for i in range(x.shape[0]))

    def backward(self, *grads):
        return _Stack.apply(*grads)


def _stack(tensors: list, shape: tuple) -> Any:
    """Differentiable ``stack(tensors).reshape(shape)``."""
    if not tensors:
        from .._creation import zeros
        return zeros(shape)
    return _Stack.apply(*tensors).reshape(shape)


def _one_hot(ref: Any, j: int) -> Any:
    """A tensor shaped like ``ref`` with a single 1 at flat position ``j``."""
    from .._tensor import _wrap
    data = ref._data
    e = _xp_of(ref._device).zeros(data.shape, data.dtype)
    e.reshape(-1)[j] = 1
    return _wrap(e, ref._device)


# ------------------------------------------------------------------------------- public API
def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(*inputs), v^T J)``: the vector-Jacobian product at ``inputs``.

    >>> vjp(lambda x: x ** 2, ember.tensor([1., 2.]), ember.ones(2))[1]
    tensor([2., 4.])
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, outputs, is_outputs_tuple)
        else:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
    with enable_grad() if create_graph else _noop():
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(*inputs), J v)``: the Jacobian-vector product, by the double-vjp trick.

    >>> jvp(lambda x: x ** 2, ember.tensor([1., 2.]), ember.ones(2))[1]
    tensor([2., 4.])
    """
    from .._creation import zeros_like
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            _, v = _as_tuple(v, "v", "jvp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        else:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                                   "single Tensor with a single element.")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        # u -> J^T u is linear in u: differentiate it w.r.t. u (at u = 0) in the direction v to get J v
        grad_outputs = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with enable_grad() if create_graph else _noop():
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_outputs_tuple)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape`` per (output, input) pair.

    ``vectorize`` is accepted for compatibility (ember has no vmap; the result is the same).

    >>> jacobian(lambda x: 3 * x, ember.tensor([1., 2.]))
    tensor([[3., 0.],
            [0., 3.]])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('ember.autograd.functional.jacobian: `create_graph=True` and `strategy='
                                      '"forward-mode"` are not supported together (yet). Please either set '
                                      '`create_graph=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize and strict:
            raise RuntimeError("ember.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        if strategy == "forward-mode":
            jac = _jacobian_forward(outputs, inputs)
        else:
            jac = _jacobian_reverse(outputs, inputs, create_graph, strict)
        jac = _grad_postprocess(jac, create_graph)
    res = _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))
    if strategy == "forward-mode" and is_inputs_tuple:
        # PyTorch's forward-mode path returns lists (not tuples) whenever the inputs were a tuple
        res = [list(r) for r in res] if is_outputs_tuple else list(res)
    return res


def _jacobian_reverse(outputs: tuple, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """One backward per output element: row ``j`` of ``d out / d in`` is the vjp with the ``j``-th unit vector."""
    from .._creation import zeros_like
    jac = []
    for i, out in enumerate(outputs):
        rows: list = [[] for _ in inputs]
        for j in range(out.numel()):
            vj = _autograd_grad((out,), inputs, (_one_hot(out, j),), create_graph=create_graph, retain_graph=True)
            for k, (g, inp) in enumerate(zip(vj, inputs)):
                if g is not None:
                    if strict and create_graph and not g._requires_grad:
                        raise RuntimeError(f"The jacobian of the user-provided function is independent of input "
                                           f"{i}. This is not allowed in strict mode when create_graph=True.")
                    rows[k].append(g)
                else:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                           f"{k}. This is not allowed in strict mode.")
                    rows[k].append(zeros_like(inp))
        jac.append(tuple(_stack(r, tuple(out.shape) + tuple(inp.shape)) for r, inp in zip(rows, inputs)))
    return tuple(jac)


def _jacobian_forward(outputs: tuple, inputs: tuple) -> tuple:
    """One jvp (double-vjp trick) per input element: column ``j`` of ``d out / d in``."""
    from .._creation import zeros_like
    grad_outputs = tuple(zeros_like(o, requires_grad=True) for o in outputs)
    grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
    cols: list = [[[] for _ in inputs] for _ in outputs]
    for k, inp in enumerate(inputs):
        for j in range(inp.numel()):
            v = tuple(_one_hot(x, j) if x is inp else zeros_like(x) for x in inputs)
            res = _autograd_grad(grad_inputs, grad_outputs, v, retain_graph=True)
            for i, (r, out) in enumerate(zip(res, outputs)):
                cols[i][k].append((r if r is not None else zeros_like(out)).reshape(-1))
    jac = []
    for i, out in enumerate(outputs):
        per_in = []
        for k, inp in enumerate(inputs):
            # columns stacked on the leading dim are the transposed Jacobian
            st = _stack(cols[i][k], (inp.numel(), out.numel()))
            per_in.append(st.t().reshape(tuple(out.shape) + tuple(inp.shape)))
        jac.append(tuple(per_in))
    return tuple(jac)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: shape ``input.shape + input.shape`` (a tuple of tuples for tuple inputs).

    >>> hessian(lambda x: (x ** 3).sum(), ember.tensor([1., 2.]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp: Any) -> Any:
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not hasattr(out, "_data"):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.reshape(())

    def jac_func(*inp: Any) -> Any:
        jac = jacobian(single_output, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_func_setup(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool, name: str) -> tuple:
    """Shared first half of vhp/hvp: inputs, v, the (scalar) output and its gradient with a graph."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, inputs, is_inputs_tuple)
    else:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if is_outputs_tuple:
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_inputs_tuple, inputs, v, outputs, jac


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(*inputs), v^T H)`` for a scalar function: one double backward.

    >>> vhp(lambda x: (x ** 3).sum(), ember.tensor([1., 2.]), ember.ones(2))[1]
    tensor([ 6., 12.])
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _scalar_func_setup(func, inputs, v, create_graph, strict, "vhp")
    with enable_grad() if create_graph else _noop():
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, False), _tuple_postprocess(result, is_inputs_tuple)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(*inputs), H v)`` for a scalar function, by the double-backward trick.

    >>> hvp(lambda x: (x ** 3).sum(), ember.tensor([1., 2.]), ember.ones(2))[1]
    tensor([ 6., 12.])
    """
    from .._creation import zeros_like
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _scalar_func_setup(func, inputs, v, create_graph, strict, "hvp")
        # w -> H^T w is linear in w; its derivative w.r.t. w in the direction v is H v
        grad_jac = tuple(zeros_like(x, requires_grad=True) for x in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    with enable_grad() if create_graph else _noop():
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, False), _tuple_postprocess(result, is_inputs_tuple)


class _noop:
    """A do-nothing context manager (grad mode stays as the caller set it)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None
