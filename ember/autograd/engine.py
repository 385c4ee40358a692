"""The backward engine: iterative, dependency-counted, one pass over the graph.

1. Walk the graph from the roots (no recursion) and count, for every node, how many
   edges point into it.
2. Run nodes whose count reached zero, latest-created first. A node's backward gets the
   sum of the gradients that reached each of its outputs; each gradient it returns is
   summed down to its input's shape (broadcast reduction), cast to the input's dtype,
   and added to the buffer of the node that produced that input.
3. Leaves accumulate into ``.grad``; ``autograd.grad`` instead captures the gradients
   that reach the requested tensors and leaves ``.grad`` alone.

Unless ``retain_graph`` is set, each node's saved tensors are released as soon as it ran.
"""
from __future__ import annotations

import heapq
from typing import Any, Sequence

from .grad_mode import _state
from .. import _tensor as _tensor_mod
from .graph import AccumulateGrad, Node
from . import anomaly_mode

# Set by ember.profiler while it records: each node's backward is timed as a range named node.name().
_profiler: Any = None


def _sum_to_shape(g: Any, shape: tuple) -> Any:
    """Sum a broadcast gradient down to ``shape`` (differentiably)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if dims:
        g = g.sum(dim=dims, keepdim=True)
    if lead:
        g = g.reshape(shape)
    elif g.shape != shape:
        g = g.reshape(shape)
    return g


def _fit_grad(node: Node, i: int, g: Any) -> Any:
    shape, dt = node._in_meta[i]
    if g._data.shape != shape:
        try:
            g = _sum_to_shape(g, shape)
        except Exception:
            raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - got "
                               f"{list(g.shape)} but expected shape compatible with {list(shape)}") from None
    if g._data.dtype != dt:
        g = g.to(_ember_dtype(dt))
    return g


def _ember_dtype(np_dtype: Any) -> Any:
    from .._dtype import from_numpy_dtype
    return from_numpy_dtype(np_dtype)


def _zeros_for(node: Node, k: int) -> Any:
    from .._tensor import _wrap
    shape, dt = node._out_meta[k]
    return _wrap(node.xp.zeros(shape, dt), node._device)


def _collect(roots: list) -> dict:
    """Dependency counts of every node reachable from the roots."""
    deps: dict = {}
    stack = [n for n in roots if n is not None]
    seen = set(map(id, stack))
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append(nxt)
    return deps


def _needed(roots: list, targets: set) -> set:
    """Nodes that lie on a path from a root to a target node (iterative post-order)."""
    needed: set = set()
    visited: set = set()
    stack = [(n, False) for n in roots if n is not None]
    while stack:
        node, done = stack.pop()
        if done:
            if id(node) in targets or any(n is not None and id(n) in needed for n, _ in node.next_functions):
                needed.add(id(node))
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for nxt, _ in node.next_functions:
            if nxt is not None and id(nxt) not in visited:
                stack.append((nxt, False))
    return needed


def run_backward(roots: Sequence[Any], grads: Sequence[Any], retain_graph: bool, create_graph: bool,
                 capture: Sequence[Any] | None = None, accumulate: bool = True) -> list | None:
    """Backpropagate ``grads`` from the tensors ``roots``.

    With ``capture`` (a list of tensors) return the gradient reaching each of them, in order.
    With ``accumulate`` add into leaves' ``.grad`` (for ``backward``; ``autograd.grad`` passes False).
    """
    Tensor, wrap = _tensor_mod.Tensor, _tensor_mod._wrap
    prev_mode = _state.enabled
    root_nodes = []
    buffers: dict = {}
    for t, g in zip(roots, grads):
        node = t._grad_fn if t._grad_fn is not None else t._grad_accumulator()
        nr = t._output_nr if t._grad_fn is not None else 0
        root_nodes.append(node)
        buf = buffers.setdefault(node, {})
        buf[nr] = g if nr not in buf else buf[nr] + g

    capture_keys: dict = {}
    if capture is not None:
        for j, t in enumerate(capture):
            if t._grad_fn is not None:
                capture_keys.setdefault((id(t._grad_fn), t._output_nr), []).append(j)
            elif t._requires_grad:
                capture_keys.setdefault((id(t._grad_accumulator()), 0), []).append(j)
    captured: list = [None] * (len(capture) if capture is not None else 0)

    deps = _collect(root_nodes)
    if capture is not None and not accumulate:
        needed = _needed(root_nodes, {k[0] for k in capture_keys})
    else:
        needed = None
    if capture is not None and accumulate:  # backward(inputs=...): accumulate only into those
        allowed_leaves = {k[0] for k in capture_keys}
        needed = _needed(root_nodes, allowed_leaves)
    else:
        allowed_leaves = None

    ready: list = []
    for node in dict.fromkeys(root_nodes):
        if deps.get(node, 0) == 0:
            heapq.heappush(ready, (-node._seq, node))
    fresh_ids: set = {id(g._data) for g in grads}  # user-given gradients are never aliased by .grad
    check_nan = anomaly_mode._enabled and anomaly_mode._check_nan
    heappop, heappush = heapq.heappop, heapq.heappush
    try:
        _state.enabled = create_graph
        while ready:
            node = heappop(ready)[1]
            buf = buffers.pop(node, None) or {}
            nexts = node.next_functions
            skip = needed is not None and (id(node) not in needed or not any(
                n is not None and id(n) in needed for n, _ in nexts))
            if type(node) is AccumulateGrad:
                g = buf.get(0)
                if g is None:
                    continue
                if node._pre_hooks:
                    g = _run_pre_hooks(node, 0, g)
                if capture_keys:
                    for j in capture_keys.get((id(node), 0), ()):
                        captured[j] = g
                if accumulate and (allowed_leaves is None or id(node) in allowed_leaves):
                    if _profiler is not None:
                        frame = _profiler._begin("AccumulateGrad")
                        _accumulate(node.variable, g, create_graph, fresh_ids)
                        _profiler._end(frame)
                    else:
                        _accumulate(node.variable, g, create_graph, fresh_ids)
                continue
            out_meta = node._out_meta
            pre_hooks = node._pre_hooks
            if len(out_meta) == 1 and not pre_hooks and not capture_keys:  # the common case
                g = buf.get(0)
                any_grad = g is not None
                grads_out = [g if any_grad or not node.materialize_grads else _zeros_for(node, 0)]
            else:
                grads_out = []
                any_grad = False
                for k in range(len(out_meta)):
                    g = buf.get(k)
                    if g is not None:
                        any_grad = True
                        if pre_hooks and k in pre_hooks:
                            g = _run_pre_hooks(node, k, g)
                        if capture_keys:
                            for j in capture_keys.get((id(node), k), ()):
                                captured[j] = g
                    elif node.materialize_grads:
                        g = _zeros_for(node, k)
                    grads_out.append(g)
                if pre_hooks and -1 in pre_hooks:
                    for hook in pre_hooks[-1]:
                        r = hook(tuple(grads_out))
                        if r is not None:
                            grads_out = list(r)
            result = None
            if any_grad and not skip:
                prof = _profiler
                if prof is not None:
                    frame = prof._begin(node.name())
                try:
                    fast = node.fast_backward
                    if fast is not None and not create_graph and not node._hooks:
                        dev = node._device
                        result = tuple(None if r is None else wrap(r if type(r) is node.xp.ndarray
                                                                    else node.xp.asarray(r), dev)
                                       for r in fast(*[None if g is None else g._data for g in grads_out]))
                    else:
                        result = node.backward(*grads_out)
                except RuntimeError:
                    if node._trace:
                        _report_trace(node)
                    raise
                if prof is not None:
                    prof._end(frame)
                if type(result) is not tuple:
                    result = (result,)
                if node._hooks:
                    for hook in node._hooks:
                        r = hook(result, tuple(grads_out))
                        if r is not None:
                            result = tuple(r)
                if len(result) < len(nexts):
                    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                       f"(expected {len(nexts)}, got {len(result)})")
                if len(result) > len(nexts) and any(r is not None for r in result[len(nexts):]):
                    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                       f"(expected {len(nexts)}, got {len(result)})")
            if not retain_graph and node._saved is not None:
                node._saved = None
            # one pass over the edges: route each gradient, and release dependents whose inputs are all in
            in_meta = node._in_meta
            i = 0
            for nxt, nr in nexts:
                if nxt is not None:
                    g = result[i] if result is not None else None
                    if g is not None:
                        if type(g) is not Tensor and not isinstance(g, Tensor):
                            raise TypeError(f"{node.name()} returned a gradient of type {type(g).__name__}, "
                                            "expected a Tensor or None")
                        shape, dt = in_meta[i]
                        d = g._data
                        if d.shape != shape or d.dtype != dt:
                            g = _fit_grad(node, i, g)
                        if check_nan and _has_nan(g):
                            _report_trace(node)
                            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
                        nb = buffers.get(nxt)
                        if nb is None:
                            buffers[nxt] = {nr: g}
                        elif nr in nb:
                            nb[nr] = nb[nr] + g
                        else:
                            nb[nr] = g
                    c = deps[nxt] - 1
                    deps[nxt] = c
                    if c == 0:
                        heappush(ready, (-nxt._seq, nxt))
                i += 1
    finally:
        _state.enabled = prev_mode
    return captured if capture is not None else None


def _run_pre_hooks(node: Node, k: int, g: Any) -> Any:
    hooks = node._pre_hooks
    if hooks and k in hooks:
        for hook in list(hooks[k]):
            r = hook(g)
            if r is not None:
                g = r
    return g


def _accumulate(var: Any, g: Any, create_graph: bool, fresh_ids: set) -> None:
    """Add a leaf's gradient into ``var.grad``; never alias a buffer another tensor also holds."""
    if var._grad is None:
        if not create_graph:
            data = g._data
            if id(data) in fresh_ids or data.base is not None:
                data = data.copy()
            fresh_ids.add(id(data))
            from .._tensor import _wrap
            var._grad = _wrap(data, var._device)
        else:
            var._grad = g
    else:
        if create_graph or var._grad._requires_grad:
            var._grad = var._grad + g
        else:
            from .._tensor import _wrap
            from .graph import _xp_of
            # asarray: NumPy turns the sum of two 0-d arrays into a (read-only) scalar
            var._grad = _wrap(_xp_of(var._device).asarray(var._grad._data + g._data), var._device)
    hooks = var._get_extra("post_accumulate_hooks")
    if hooks:
        for hook in list(hooks):
            hook(var)


def _has_nan(g: Any) -> bool:
    xp = g._data
    return bool((xp != xp).any())


def _report_trace(node: Node) -> None:
    import warnings
    if node._trace:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                      + "".join(node._trace), RuntimeWarning, stacklevel=2)
