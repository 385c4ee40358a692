"""Recording one forward pass, and the graph builder the op converters write into.

Tracing: while ``tracing()`` is active, ``Node.apply`` reports every op it runs (the node, its
inputs, keyword params and outputs) to a ``Tracer``; in-place writes (``x.add_(y)``, ``relu_``) are
reported as ``_InplaceWrite`` records so the written tensor takes the new value's name.

Building: ``GraphBuilder`` walks the records. A tensor is *dynamic* when it depends on a graph input;
an op whose inputs are all constant (parameters, buffers, tensors made inside ``forward``) is folded:
its outputs become constants whose values were computed by the trace itself. Every other op goes
through its converter (``_ops.py``), which appends ONNX nodes.

Dynamic axes: the model is traced a second time with the dynamic axes of the inputs resized, and
the two traces are compared op by op. A size that differs between them (a reshape target, a
slice end, the shape of a constant) is computed in the graph from the inputs' shapes
(``Shape`` -> ``Gather`` -> ``Mul``/``Div``) instead of being baked in.
"""
from __future__ import annotations

import contextlib
import itertools
from typing import Any, Iterator

import numpy as np

from .._tensor import Tensor

INT64_MAX = np.iinfo(np.int64).max


class Record:
    """One op of the trace: ``cls``, ``node``, positional ``inputs``, ``kwargs`` and ``outputs``."""

    __slots__ = ("cls", "node", "inputs", "kwargs", "outputs")

    def __init__(self, cls: type, node: Any, inputs: tuple, kwargs: dict, outputs: tuple):
        self.cls, self.node, self.inputs, self.kwargs, self.outputs = cls, node, inputs, kwargs, outputs


class _InplaceWrite:
    """Pseudo-op of the trace: ``outputs[0]`` (the written tensor) now holds ``inputs[0]``'s values."""


class Tracer:
    def __init__(self) -> None:
        self.records: list = []

    def __call__(self, node: Any, inputs: tuple, kwargs: dict, outputs: tuple) -> None:
        self.records.append(Record(type(node), node, tuple(inputs), dict(kwargs), tuple(outputs)))

    def write(self, dst: Tensor, src: Tensor) -> None:
        self.records.append(Record(_InplaceWrite, None, (src,), {}, (dst,)))


@contextlib.contextmanager
def tracing() -> Iterator[Tracer]:
    """Record every op run inside the block (under ``no_grad``, as an exported forward pass runs)."""
    from ..autograd import graph
    from .._ops import inplace as _inplace
    from ..autograd.grad_mode import no_grad
    if graph._tracer is not None:
        raise RuntimeError("ember.onnx.export: an export is already tracing (nested or concurrent export)")
    tracer = Tracer()
    original_write = _inplace._write

    def write(self: Tensor, out: Tensor) -> None:
        original_write(self, out)
        tracer.write(self, out)

    graph._tracer, _inplace._write = tracer, write
    try:
        with no_grad():
            yield tracer
    finally:
        graph._tracer, _inplace._write = None, original_write


class _Poison:
    """Stands for an op output that has no ONNX conversion: using it raises, naming why."""

    def __init__(self, msg: str):
        self.msg = msg


class GraphBuilder:
    """Collects ONNX nodes and initializers; maps ember tensors to ONNX value names."""

    def __init__(self, onnx: Any, opset: int, param_names: dict, dim_sources: list):
        self.onnx, self.opset = onnx, opset
        self.nodes: list = []
        self.initializers: dict = {}        # name -> TensorProto
        self.param_inputs: list = []        # export_params=False: parameters become graph inputs
        self.param_names = param_names      # id(array) -> state_dict key
        self.dim_sources = dim_sources      # [(input name, axis, size in trace 1, size in trace 2)]
        self.env: dict = {}                 # id(tensor or array) -> value name of a dynamic value
        self._const_names: dict = {}        # id(array) -> initializer name
        self._keep: list = []               # keeps every array we keyed by id() alive
        self._dim_cache: dict = {}
        self._counter = itertools.count()
        self.export_params = True
        self.rec: Record | None = None
        self.rec2: Record | None = None

    # ---- names -------------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        return f"/{hint}_{next(self._counter)}"

    def bind(self, t: Any, name: Any) -> None:
        self.env[id(t)] = name
        if isinstance(t, Tensor):
            self.env[id(t._data)] = name
            self._keep.append(t._data)
        self._keep.append(t)

    def unbind(self, t: Any) -> None:
        self.env.pop(id(t), None)
        if isinstance(t, Tensor):
            self.env.pop(id(t._data), None)

    def lookup(self, x: Any) -> Any:
        """The value name of a dynamic tensor/array, or None when ``x`` is a constant."""
        n = self.env.get(id(x))
        if n is None and isinstance(x, Tensor):
            n = self.env.get(id(x._data))
        if isinstance(n, _Poison):
            raise NotImplementedError(n.msg)
        return n

    def is_dynamic(self, x: Any) -> bool:
        if isinstance(x, (Tensor, np.ndarray)):
            return self.lookup(x) is not None
        if isinstance(x, (tuple, list)):
            return any(self.is_dynamic(v) for v in x)
        return False

    def const(self, value: Any, dtype: Any = None, hint: str = "Constant") -> str:
        """An initializer holding ``value`` (arrays from tensors are shared, parameters keep their names)."""
        if isinstance(value, Tensor):
            value = value._data
        if isinstance(value, np.ndarray) and dtype is None:
            key = id(value)
            name = self._const_names.get(key)
            if name is not None:
                return name
            pname = self.param_names.get(key)
            name = pname if pname is not None else self.fresh(hint)
            self._const_names[key] = name
            self._keep.append(value)
            self._add_initializer(name, value, is_param=pname is not None)
            return name
        arr = np.asarray(value, dtype=dtype)
        name = self.fresh(hint)
        self._add_initializer(name, arr, is_param=False)
        return name

    def _add_initializer(self, name: str, arr: np.ndarray, is_param: bool) -> None:
        arr = np.ascontiguousarray(arr)
        if arr.dtype.name == "bfloat16":
            raise NotImplementedError("ember.onnx.export: bfloat16 constants are not supported")
        if is_param and not self.export_params:
            self.param_inputs.append(self.onnx.helper.make_tensor_value_info(
                name, self.onnx.helper.np_dtype_to_tensor_dtype(arr.dtype), list(arr.shape)))
            return
        self.initializers[name] = self.onnx.numpy_helper.from_array(arr, name)

    def ints(self, values: Any) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), hint="Constant")

    def name(self, x: Any, other: Any = None, dtype: Any = None) -> str:
        """Value name for an op input: dynamic tensors by name, everything else as a constant.

        ``other`` is the same input in the second trace: a constant whose shape differs between the
        traces depends on a dynamic axis and is rebuilt in the graph (only uniform constants can be).
        """
        if x is None:
            return ""
        if isinstance(x, (Tensor, np.ndarray)):
            n = self.lookup(x)
            if n is not None:
                return n
            arr = x._data if isinstance(x, Tensor) else x
            o = other._data if isinstance(other, Tensor) else other
            if isinstance(o, np.ndarray) and o.shape != arr.shape:
                return self._dynamic_constant(arr, o)
            if dtype is not None and arr.dtype != dtype:
                return self.const(arr.astype(dtype))
            return self.const(arr)
        if isinstance(x, (bool, int, float, np.generic)):
            return self.const(np.asarray(x, dtype=dtype if dtype is not None else None))
        raise NotImplementedError(f"ember.onnx.export: cannot use a {type(x).__name__} as an ONNX value")

    def _dynamic_constant(self, a: np.ndarray, b: np.ndarray) -> str:
        flat = a.reshape(-1)
        if a.size == 0 or not (flat == flat[0]).all():
            raise NotImplementedError(
                f"ember.onnx.export: a constant of shape {list(a.shape)} (in the second trace {list(b.shape)}) "
                "depends on a dynamic axis and is not uniform, so it cannot be rebuilt in the graph; compute it "
                "from the inputs with tensor ops inside forward, or export without that dynamic axis")
        scalar = self.const(flat[:1].reshape(()).copy())
        return self.op("Expand", [scalar, self.shape_of(a.shape, b.shape)])

    # ---- nodes -------------------------------------------------------------------------------
    def op(self, op_type: str, inputs: list, n_out: int = 1, **attrs: Any) -> Any:
        """Append one ONNX node; returns its output name (a list when ``n_out > 1``)."""
        outs = [self.fresh(op_type) for _ in range(n_out)]
        # trailing empty optional inputs are dropped
        while inputs and inputs[-1] == "":
            inputs = inputs[:-1]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), outs, name=self.fresh(op_type + "_node"),
                                                     **attrs))
        return outs[0] if n_out == 1 else outs

    # ---- the op being converted ---------------------------------------------------------------
    def input(self, i: int, dtype: Any = None) -> str:
        rec, rec2 = self.rec, self.rec2
        x = rec.inputs[i] if i < len(rec.inputs) else None
        o = rec2.inputs[i] if rec2 is not None and i < len(rec2.inputs) else None
        return self.name(x, o, dtype)

    def kw(self, key: str, default: Any = None) -> Any:
        return self.rec.kwargs.get(key, default)

    def kw2(self, key: str, default: Any = None) -> Any:
        """The keyword param in the second trace (the first trace's when there is none)."""
        src = self.rec2 if self.rec2 is not None else self.rec
        return src.kwargs.get(key, default)

    def kwname(self, key: str) -> str:
        """A keyword param that is an array (an index, a mask) as a value name."""
        o = self.rec2.kwargs.get(key) if self.rec2 is not None else None
        return self.name(self.rec.kwargs.get(key), o)

    def in_shapes(self, i: int) -> tuple:
        a = self.rec.inputs[i]
        b = self.rec2.inputs[i] if self.rec2 is not None else a
        return tuple(np.shape(_arr(a))), tuple(np.shape(_arr(b)))

    def out_shapes(self, j: int = 0) -> tuple:
        a = self.rec.outputs[j]
        b = self.rec2.outputs[j] if self.rec2 is not None else a
        return tuple(a.shape), tuple(b.shape)

    def out_dtype(self, j: int = 0) -> Any:
        return self.rec.outputs[j]._data.dtype

    # ---- sizes that depend on dynamic axes ----------------------------------------------------
    def dim(self, v1: int, v2: int) -> str:
        """A 1-element int64 tensor holding a size that is ``v1`` in trace 1 and ``v2`` in trace 2."""
        v1, v2 = int(v1), int(v2)
        if v1 == v2:
            return self.ints([v1])
        key = (v1, v2)
        if key in self._dim_cache:
            return self._dim_cache[key]
        srcs = self.dim_sources
        found = None
        for s in srcs:  # v = k * s  or  v = s / k
            n, ax, s1, s2 = s
            if s1 and v1 % s1 == 0 and v1 // s1 * s2 == v2:
                found = self._scaled(self._source(s), v1 // s1, "Mul")
            elif v1 and s1 % v1 == 0 and s2 % (s1 // v1) == 0 and s2 // (s1 // v1) == v2:
                found = self._scaled(self._source(s), s1 // v1, "Div")
            if found:
                break
        if found is None:  # v = k * s * t
            for s, t in itertools.combinations(srcs, 2):
                p1, p2 = s[2] * t[2], s[3] * t[3]
                if p1 and v1 % p1 == 0 and v1 // p1 * p2 == v2:
                    found = self._scaled(self.op("Mul", [self._source(s), self._source(t)]), v1 // p1, "Mul")
                    break
        if found is None:
            raise NotImplementedError(
                f"ember.onnx.export: a size that is {v1} in the traced call and {v2} when the dynamic axes change "
                "cannot be expressed from the dynamic input sizes; export without dynamic_axes or keep that size "
                "a multiple of one input size")
        self._dim_cache[key] = found
        return found

    def _source(self, s: tuple) -> str:
        key = ("src",) + tuple(s[:2])
        if key not in self._dim_cache:
            shape = self.op("Shape", [s[0]])
            self._dim_cache[key] = self.op("Gather", [shape, self.ints([s[1]])], axis=0)
        return self._dim_cache[key]

    def _scaled(self, name: str, k: int, how: str) -> str:
        return name if k == 1 else self.op(how, [name, self.ints([k])])

    def shape_of(self, s1: tuple, s2: tuple) -> str:
        """An int64 shape tensor: constant where both traces agree, computed where they differ."""
        if tuple(s1) == tuple(s2):
            return self.ints(s1)
        parts, run = [], []
        for a, b in zip(s1, s2):
            if a == b:
                run.append(a)
                continue
            if run:
                parts.append(self.ints(run))
                run = []
            parts.append(self.dim(a, b))
        if run:
            parts.append(self.ints(run))
        return parts[0] if len(parts) == 1 else self.op("Concat", parts, axis=0)

    def reshape_target(self, in1: tuple, in2: tuple, out1: tuple, out2: tuple) -> str:
        """Shape input of an ONNX Reshape from ``in`` to ``out``: never bakes in a dynamic size."""
        dyn = [i for i, (a, b) in enumerate(zip(out1, out2)) if a != b]
        if not dyn:
            return self.ints(out1)
        if len(dyn) == 1 and 0 not in out1:
            t = list(out1)
            t[dyn[0]] = -1  # the one size that changes is inferred from the element count
            return self.ints(t)
        t = list(out1)
        rest = []
        for i in dyn:
            if i < len(in1) and in1[i] == out1[i] and in2[i] == out2[i]:
                t[i] = 0  # ONNX: copy this dim from the input
            else:
                rest.append(i)
        if len(rest) == 0:
            return self.ints(t)
        if len(rest) == 1 and 0 not in out1:
            t[rest[0]] = -1
            return self.ints(t)
        return self.shape_of(out1, out2)


def _arr(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x
