"""Graph nodes: how an op is recorded, what it saves, and how its saved tensors come back.

An op is a ``Node`` subclass with two methods side by side::

    class Exp(Node):
        def forward(self, x):            # raw backend arrays in, array(s) out
            y = self.xp.exp(x)
            self.save_for_backward(y)    # arrays that are inputs/outputs come back as tensors
            return y

        def backward(self, grad):        # ember Tensors in, one gradient per input out
            y, = self.saved_tensors
            return grad * y              # ember ops: recorded too under create_graph=True

``Exp.apply(t)`` runs forward and, when grad mode is on and an input requires grad,
records the node. Broadcast reduction (summing a gradient back to an input's shape),
gradient dtype casts, version checks of saved tensors and freeing after backward all
happen here and in the engine, never in an op.
"""
from __future__ import annotations

import functools
import itertools
import traceback
from typing import Any

import numpy as np

from .grad_mode import _state
from . import anomaly_mode

_seq_counter = itertools.count()

# saved-entry kinds
_SAVED_INPUT, _SAVED_OUTPUT, _SAVED_CONST = 0, 1, 2

_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors after "
              "they have already been freed). Saved intermediate values of the graph are freed when you call "
              ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
              "graph a second time or if you need to access saved tensors after calling backward.")


def _modified_msg(t: Any, fn: "Node | None", saved_version: int) -> str:
    """PyTorch's message; ``fn`` is the node that produced ``t`` (None for a leaf)."""
    import re
    where = f", which is output {t._output_nr} of {re.sub(r'Backward[0-9]*$', '', fn.name())}," if fn else ""
    hint = ("the backtrace further above shows the operation that failed to compute its gradient. The variable in "
            "question was changed in there or anywhere later. Good luck!" if anomaly_mode._enabled else
            "enable anomaly detection to find the operation that failed to compute its gradient, with "
            "ember.autograd.set_detect_anomaly(True, check_nan=False).")
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{_type_name(t)} {list(t.shape)}]{where} is at version {t._vc[0]}; expected version "
            f"{saved_version} instead. Hint: {hint}")


def _type_name(t: Any) -> str:
    return {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
            "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor"}.get(t.dtype.name, "Tensor")


class Node:
    """One recorded operation in the graph (``tensor.grad_fn``).

    Attributes set when recorded: ``next_functions`` (one ``(node, output_nr)`` per input,
    ``(None, 0)`` for inputs without grad), ``needs_input_grad``, and the metadata the
    engine needs to reduce and cast gradients.
    """

    # Outputs of a view op share memory and the version counter with their input.
    is_view = False
    # Set False for ops without a derivative (comparisons, argmax ...): never recorded.
    differentiable = True
    # Materialise missing output gradients as zeros before calling backward.
    materialize_grads = True

    xp: Any = np          # the backend module; set per node only for non-CPU devices
    _device: Any = None   # set to ember's cpu device at import (see _tensor.py)
    _saved: Any = None
    _recording = False
    _pre_hooks: Any = None
    _hooks: Any = None
    _trace: Any = None
    next_functions: tuple = ()

    @functools.cached_property
    def needs_input_grad(self) -> tuple:
        """One bool per input: whether backward must produce its gradient."""
        return tuple(fn is not None for fn, _ in self.next_functions)

    # ---- used inside forward -------------------------------------------------------------
    def save_for_backward(self, *items: Any) -> None:
        """Keep arrays (or tensors) for backward; inputs and outputs come back as tensors in the graph."""
        self._saved = items

    def forward(self, *arrays: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grads: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    # ---- used inside backward ------------------------------------------------------------
    @property
    def saved_tensors(self) -> tuple:
        return self._unpack(arrays=False)

    # Optional: the same derivative as ``backward`` on raw arrays, for hot ops. The engine uses it only
    # when no graph of the backward is recorded (create_graph=False); double backward always goes
    # through ``backward``, so both must agree (the op harness checks each path).
    fast_backward: Any = None

    @property
    def saved_arrays(self) -> tuple:
        """Like ``saved_tensors`` (same version checks) but the raw arrays, for ``fast_backward``."""
        return self._unpack(arrays=True)

    def saved_arrays_at(self, *indices: int) -> tuple:
        """Only the saved arrays at ``indices`` (version-checked): for a ``fast_backward`` that does not need
        every saved value, so an in-place change of an unneeded one does not raise (as in PyTorch, where
        only the values a formula unpacks are checked).
        """
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        return self._unpack(arrays=True, items=[saved[i] for i in indices])

    def _unpack(self, arrays: bool, items: Any = None) -> tuple:
        """The saved values, after checking that none was modified in place since it was saved."""
        saved = self._saved if items is None else items
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        out = []
        for kind, obj, version in saved:
            if kind == _SAVED_INPUT:
                if obj._vc[0] != version:
                    raise RuntimeError(_modified_msg(obj, obj._grad_fn, version))
                out.append(obj._data if arrays else obj)
            elif kind == _SAVED_OUTPUT:
                data, nr, vc = obj
                if vc[0] != version:
                    t = _wrap(data, self._device)
                    t._output_nr, t._vc = nr, vc
                    raise RuntimeError(_modified_msg(t, self, version))
                if arrays:
                    out.append(data)
                else:
                    t = _wrap(data, self._device, True)
                    t._grad_fn, t._output_nr, t._vc = self, nr, vc
                    out.append(t)
            elif arrays:
                out.append(obj)
            else:
                # saved arrays come back as constant tensors; Python scalars stay scalars
                out.append(_wrap(obj, self._device) if type(obj) is self.xp.ndarray else obj)
        return tuple(out)

    # ---- introspection -------------------------------------------------------------------
    @classmethod
    def name(cls) -> str:
        return cls.__name__ + "Backward0"

    def register_hook(self, fn: Any) -> Any:
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return _RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn: Any) -> Any:
        """``fn(grad_outputs)`` runs before this node's backward; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        self._pre_hooks.setdefault(-1, []).append(fn)
        return _RemovableHandle(self._pre_hooks[-1], fn)

    @property
    def metadata(self) -> dict:
        if "_metadata" not in self.__dict__:
            self._metadata = {}
        return self._metadata

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def __call__(self, *grads: Any) -> Any:
        """Run this node's backward directly on gradient tensors (as ``grad_fn(...)`` in PyTorch)."""
        return self.backward(*grads)

    # ---- recording ---------------------------------------------------------------------------
    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        """Run forward on the inputs' arrays and record the node when a gradient is needed.

        Non-tensor inputs (Python numbers, raw arrays, None) are passed through as constants.
        This is the hot path of every op: keep it free of per-call imports and needless stores.
        """
        if _profiler is not None and _profiler._intercept():  # ember.profiler times this op (re-enters once)
            return _profiler._run_op(cls, inputs, kwargs)
        node = _new(cls)
        dev = None
        arrays = []
        needs = []
        requires = False
        for t in inputs:
            if type(t) is not Tensor and not isinstance(t, Tensor):
                arrays.append(t)
                needs.append(False)
                continue
            if t._base is not None and t._extra is not None and _state.enabled:
                _refresh_view(t)  # its base was modified in place since the view was made
            arrays.append(t._data)
            if dev is None:
                dev = t._device
            elif t._device is not dev:
                _device_mismatch(dev, t._device)
            if t._requires_grad:
                requires = True
                needs.append(True)
            else:
                needs.append(False)
        if dev is None:
            dev = _cpu
        elif dev is not _cpu:  # CPU nodes use the class defaults (NumPy, cpu)
            node._device = dev
            node.xp = _xp_of(dev)
        recording = requires and _state.enabled and cls.differentiable
        if recording:
            node._recording = True
            # known before forward, so forward can save only what the wanted gradients need
            node.needs_input_grad = tuple(needs)
        try:
            result = node.forward(*arrays, **kwargs)
        except ValueError as e:  # NumPy's broadcast failure becomes PyTorch's RuntimeError, naming the sizes
            if "broadcast" not in str(e):
                raise
            _broadcast_error(arrays, e)
        xp = node.xp
        if type(result) is tuple:
            outs = tuple(_wrap(r if type(r) is xp.ndarray else xp.asarray(r), dev) for r in result)
            if cls.is_view:
                _mark_views(node, cls, inputs, outs, kwargs)
            if recording:
                _record(node, inputs, outs, result)
            if _tracer is not None:  # ember.onnx.export is recording this forward pass
                _tracer(node, inputs, kwargs, outs)
            return outs
        out = _wrap(result if type(result) is xp.ndarray else xp.asarray(result), dev)
        if cls.is_view:
            _mark_views(node, cls, inputs, (out,), kwargs)
        if recording:
            _record(node, inputs, (out,), (result,))
        if _tracer is not None:
            _tracer(node, inputs, kwargs, (out,))
        return out


_new = object.__new__
# Set by ember.onnx while it traces a forward pass: called as ``_tracer(node, inputs, kwargs, outputs)``.
_tracer: Any = None
# Set by ember.profiler while it records (see ember/profiler/_profile.py).
_profiler: Any = None
# Bound by ember._tensor once the Tensor class exists (graph.py is imported first).
Tensor: Any = None
_wrap: Any = None
_cpu: Any = None


def _broadcast_error(arrays: list, err: Exception) -> None:
    shapes = [a.shape for a in arrays if hasattr(a, "shape") and hasattr(a, "ndim")]
    if len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        n = max(len(a), len(b))
        for i in range(1, n + 1):
            sa = a[-i] if i <= len(a) else 1
            sb = b[-i] if i <= len(b) else 1
            if sa != sb and sa != 1 and sb != 1:
                raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                                   f"non-singleton dimension {n - i}") from None
    raise RuntimeError(f"shapes cannot be broadcast together: {', '.join(str(list(s)) for s in shapes)}") from err


def _device_mismatch(a: Any, b: Any) -> None:
    raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                       f"{a} and {b}!")


_XP_CACHE: dict = {}


def _xp_of(dev: Any) -> Any:
    xp = _XP_CACHE.get(id(dev))  # devices are interned, so id() is a cheap, stable key
    if xp is None:
        from .._backend import backend_for
        xp = _XP_CACHE[id(dev)] = backend_for(dev).xp
    return xp


def _mark_views(node: Node, cls: type, inputs: tuple, outs: tuple, kwargs: dict) -> None:
    """Outputs of a view op share the version counter and remember how to rebuild themselves from the base."""
    src = inputs[0]
    base = src._base if src._base is not None else src
    parent_fn = src._view_fn()
    for i, o in enumerate(outs):
        if not _shares_memory(o._data, src._data):
            continue  # e.g. reshape that had to copy
        o._vc = src._vc
        o._base = base
        rest = inputs[1:]
        if len(outs) == 1:
            def view_fn(b, _p=parent_fn, _c=cls, _r=rest, _k=kwargs):
                return _c.apply(_p(b) if _p else b, *_r, **_k)
        else:
            def view_fn(b, _p=parent_fn, _c=cls, _r=rest, _k=kwargs, _i=i):
                return _c.apply(_p(b) if _p else b, *_r, **_k)[_i]
        o._set_extra("view_fn", view_fn)
        o._extra["view_version"] = o._vc[0]


def _refresh_view(t: Any) -> None:
    """Rebuild a stale view's place in the graph from its base (PyTorch regenerates it the same way).

    A view made before an in-place op on its base (or on another view of it) would otherwise keep
    a ``grad_fn`` that no longer describes its values, and give a silently wrong gradient.
    """
    e = t._extra
    version = e.get("view_version")
    if version is None or version == t._vc[0]:
        return
    e["view_version"] = t._vc[0]
    base = t._base
    view_fn = e.get("view_fn")
    if view_fn is None or not base._requires_grad:
        return
    fresh = view_fn(base)
    t._grad_fn, t._output_nr, t._requires_grad = fresh._grad_fn, fresh._output_nr, fresh._requires_grad


def _shares_memory(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if getattr(a, "base", None) is None:
        return False
    # Walk both base chains to the memory owner: stride-trick views (as_strided, unfold) sit behind a
    # non-array holder whose ``.base`` is the source, so a fixed-depth comparison misses them.
    return _owner(a) is _owner(b)


def _owner(a: Any) -> Any:
    while getattr(a, "base", None) is not None:
        a = a.base
    return a


_FLOAT_KINDS = frozenset("fc")
_NO_EDGE = (None, 0)


def _record(node: Node, inputs: tuple, outs: tuple, raw: tuple = ()) -> None:
    """Wire ``node`` into the graph as the producer of ``outs`` (hot path: keep it lean)."""
    node._seq = next(_seq_counter)
    edges = []
    meta = []
    for t in inputs:
        if type(t) is Tensor:
            rg = t._requires_grad
        else:
            rg = getattr(t, "_requires_grad", False)
        if rg:
            fn = t._grad_fn
            if fn is None:
                e = t._extra  # the leaf's accumulator, weakly cached on the tensor
                ref = e.get("acc") if e is not None else None
                fn = ref() if ref is not None else None
                if fn is None:
                    fn = t._grad_accumulator()
                edges.append((fn, 0))
            else:
                edges.append((fn, t._output_nr))
            d = t._data
            meta.append((d.shape, d.dtype))
        else:
            edges.append(_NO_EDGE)
            meta.append(None)
    node.next_functions = tuple(edges)
    node._in_meta = meta
    if len(outs) == 1:
        o = outs[0]
        d = o._data
        dt = d.dtype
        node._out_meta = ((d.shape, dt),)
        if dt.kind in _FLOAT_KINDS or dt.name == "bfloat16":  # only floating outputs carry gradients
            o._requires_grad = True
            o._grad_fn = node
    else:
        out_meta = []
        nr = 0
        for o in outs:
            d = o._data
            dt = d.dtype
            out_meta.append((d.shape, dt))
            if dt.kind in _FLOAT_KINDS or dt.name == "bfloat16":
                o._requires_grad = True
                o._grad_fn = node
                o._output_nr = nr
            nr += 1
        node._out_meta = out_meta
    saved = node._saved
    if saved is not None:
        node._saved = _pack_saved(node, saved, inputs, outs, raw)
    if anomaly_mode._enabled:
        node._trace = traceback.format_stack()[:-3]


def _pack_saved(node: Node, items: tuple, inputs: tuple, outs: tuple, raw: tuple = ()) -> tuple:
    packed = []
    for item in items:
        if item is None:
            packed.append((_SAVED_CONST, None, 0))
            continue
        if type(item) is Tensor or isinstance(item, Tensor):  # an ember tensor saved directly
            packed.append((_SAVED_INPUT, item, item._vc[0]))
            continue
        for t in inputs:
            if type(t) is Tensor and t._data is item or type(t) is not Tensor and getattr(t, "_data", None) is item:
                packed.append((_SAVED_INPUT, t, t._vc[0]))
                break
        else:
            k = 0
            for o in outs:
                # forward may have returned a NumPy scalar that apply turned into a 0-d array
                if o._data is item or (k < len(raw) and raw[k] is item):
                    if o._grad_fn is node:  # differentiable output: rebuilt lazily (no cycle)
                        packed.append((_SAVED_OUTPUT, (o._data, o._output_nr, o._vc), o._vc[0]))
                    else:
                        packed.append((_SAVED_CONST, o._data, 0))
                    break
                k += 1
            else:
                packed.append((_SAVED_CONST, item, 0))
    return tuple(packed)


def record_function(node: Node, inputs: tuple, outs: tuple, saved: tuple | None = None) -> None:
    """Record an already computed result (used by ``autograd.Function`` and in-place rebasing)."""
    node._device = outs[0]._device if outs else _cpu
    node.xp = _xp_of(node._device)
    node._saved = saved
    node._recording = True
    _record(node, inputs, outs)


class _RemovableHandle:
    """Returned by ``register_*hook``; ``remove()`` unregisters."""

    def __init__(self, container: list, fn: Any):
        self._container, self._fn = container, fn

    def remove(self) -> None:
        try:
            self._container.remove(self._fn)
        except ValueError:
            pass

    def __enter__(self) -> "_RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class AccumulateGrad(Node):
    """The sink of a leaf tensor's gradient: runs its hooks and adds into ``.grad``."""

    def __init__(self, variable: Any):
        self.variable = variable
        self._seq = -next(_seq_counter)  # unique, and after every op node in backward order

    @classmethod
    def name(cls) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"
