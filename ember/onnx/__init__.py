"""Export a module to ONNX by tracing one forward pass (``ember.onnx.export``, like ``torch.onnx.export``).

>>> import ember, ember.onnx
>>> model = ember.nn.Sequential(ember.nn.Linear(4, 2), ember.nn.ReLU())
>>> ember.onnx.export(model, (ember.randn(3, 4),), "mlp.onnx", input_names=["x"],
...                   dynamic_axes={"x": {0: "batch"}})          # doctest: +SKIP

How it works: the model runs once under a tracing mode in which every ``Node.apply`` is recorded
(op class, inputs, keyword params, outputs); parameters and buffers become initializers named by
their ``state_dict`` keys; ops whose inputs are all constant are folded into constants; every other
op is converted to ONNX nodes (``_ops.py``). With ``dynamic_axes`` the model is traced a second
time with those axes resized, and every size that differs between the traces is computed in the
graph from the inputs' shapes, so reshapes and flattens do not bake in the batch size.

Limits of tracing: Python control flow that depends on tensor values or sizes is frozen as it ran
in the trace (as with ``torch.onnx``'s tracer). Needs the ``onnx`` package (the ``[onnx]`` extra);
``onnxruntime`` runs the result.
"""
from __future__ import annotations

import enum
import os
from typing import Any

import numpy as np

from .._tensor import Tensor

__all__ = ["export", "TrainingMode", "OperatorExportTypes", "is_in_onnx_export"]

_exporting = False


class TrainingMode(enum.IntEnum):
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    ONNX = 0


def is_in_onnx_export() -> bool:
    """True while ``ember.onnx.export`` is tracing a model."""
    return _exporting


def _require_onnx() -> Any:
    try:
        import onnx
        import onnx.helper  # noqa: F401
        import onnx.numpy_helper  # noqa: F401
    except ImportError as e:
        raise ImportError("ember.onnx.export needs the 'onnx' package: pip install 'ember[onnx]' "
                          "(or pip install onnx onnxruntime)") from e
    return onnx


def export(model: Any, args: Any = (), f: Any = None, input_names: list | None = None,
           output_names: list | None = None, dynamic_axes: dict | None = None, opset_version: int | None = 17,
           do_constant_folding: bool = True, export_params: bool = True, verbose: bool = False,
           training: TrainingMode = TrainingMode.EVAL, dynamo: bool = False, kwargs: dict | None = None,
           **unused: Any) -> None:
    """Trace ``model(*args)`` once and write it to ``f`` (a path or a binary file object) as an ONNX model.

    ``args`` is a tensor or a tuple of positional arguments (a trailing dict holds keyword arguments);
    ``dynamic_axes`` maps input/output names to ``{axis: name}`` or a list of axes. Constants are
    always folded (``do_constant_folding`` is accepted for compatibility).

    >>> ember.onnx.export(model, ember.randn(2, 4), "m.onnx", input_names=["x"], output_names=["y"],
    ...                   dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})   # doctest: +SKIP
    """
    global _exporting
    onnx = _require_onnx()
    if dynamo:
        raise NotImplementedError("ember.onnx.export: dynamo=True (torch.export) has no ember equivalent; "
                                  "use the default tracing exporter (dynamo=False)")
    opset = 17 if opset_version is None else int(opset_version)
    if not 13 <= opset <= 21:
        raise ValueError(f"ember.onnx.export supports opset versions 13 to 21, got {opset}")
    from ._tracer import tracing, GraphBuilder, _Poison, _InplaceWrite
    from ._ops import register_all, converter_for
    register_all()

    pos, kw = _split_args(args, kwargs)
    leaves = _tensor_leaves(pos, kw)
    names = _input_names(input_names, len(leaves))
    axes = _normalise_axes(dynamic_axes or {})

    was_training = getattr(model, "training", None)
    if was_training is not None and training == TrainingMode.EVAL:
        model.eval()
    elif was_training is not None and training == TrainingMode.TRAINING:
        model.train()
    _exporting = True
    try:
        records, out = _trace(model, pos, kw, tracing)
        records2, out2 = None, None
        sizes, sources = _second_sizes(leaves, names, axes)
        if sources:
            pos2, kw2 = _resized(pos, kw, leaves, names, axes, sizes)
            records2, out2 = _trace(model, pos2, kw2, tracing)
            if len(records2) != len(records) or any(a.cls is not b.cls for a, b in zip(records, records2)):
                raise RuntimeError("ember.onnx.export: the model runs different ops when a dynamic axis changes "
                                   "size (control flow on sizes): it cannot be exported with these dynamic_axes")
    finally:
        _exporting = False
        if was_training is not None:
            model.train(was_training)

    g = GraphBuilder(onnx, opset, _param_names(model), sources)
    g.export_params = export_params
    for t, n in zip(leaves, names):
        g.bind(t, n)
    for k, rec in enumerate(records):
        rec2 = records2[k] if records2 is not None else None
        if rec.cls is _InplaceWrite:
            _inplace_write(g, rec)
            continue
        if not (g.is_dynamic(rec.inputs) or any(g.is_dynamic(v) for v in rec.kwargs.values())) and (
                rec2 is None or all(tuple(a.shape) == tuple(b.shape) for a, b in zip(rec.outputs, rec2.outputs))):
            continue  # every input is constant: the traced outputs are the folded values
        # (an op on constants whose output size follows a dynamic axis, e.g. ``pos_ids[:, :seq]``, is kept)
        conv = converter_for(rec.cls)
        if conv is None:
            raise NotImplementedError(f"ember.onnx.export: no ONNX conversion for the op {rec.cls.__name__} "
                                      f"({rec.node.name()}) yet")
        g.rec, g.rec2 = rec, rec2
        outs = conv(g)
        for j, (t, n) in enumerate(zip(rec.outputs, outs)):
            if n is None:
                g.bind(t, _Poison(f"ember.onnx.export: output {j} of {rec.cls.__name__} has no ONNX conversion"))
            else:
                g.bind(t, n)

    outputs = _tensor_leaves(out if isinstance(out, (tuple, list, dict)) else (out,), {})
    out_names = _output_names(output_names, len(outputs))
    outputs2 = None
    if out2 is not None:
        outputs2 = _tensor_leaves(out2 if isinstance(out2, (tuple, list, dict)) else (out2,), {})
    proto = _finish(onnx, g, leaves, names, outputs, out_names, axes, opset, outputs2)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    if f is not None:
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as fh:
                fh.write(proto.SerializeToString())
        else:
            f.write(proto.SerializeToString())
    return None


# --------------------------------------------------------------------------- arguments
def _split_args(args: Any, kwargs: dict | None) -> tuple:
    if isinstance(args, Tensor):
        return (args,), dict(kwargs or {})
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    kw = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kw.update(args[-1])
        args = args[:-1]
    return args, kw


def _tensor_leaves(pos: Any, kw: dict) -> list:
    out: list = []

    def walk(x: Any) -> None:
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, (tuple, list)):
            for v in x:
                walk(v)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif x is not None and not isinstance(x, (bool, int, float, str)):
            raise TypeError(f"ember.onnx.export: unsupported input/output of type {type(x).__name__}")

    walk(pos)
    walk(kw)
    return out


def _replace_leaves(x: Any, mapping: dict) -> Any:
    if isinstance(x, Tensor):
        return mapping.get(id(x), x)
    if isinstance(x, tuple):
        return tuple(_replace_leaves(v, mapping) for v in x)
    if isinstance(x, list):
        return [_replace_leaves(v, mapping) for v in x]
    if isinstance(x, dict):
        return {k: _replace_leaves(v, mapping) for k, v in x.items()}
    return x


def _input_names(given: list | None, n: int) -> list:
    given = list(given or [])
    if len(given) > n:
        raise ValueError(f"ember.onnx.export: {len(given)} input_names for {n} tensor inputs")
    return given + [f"input_{i}" if n > 1 else "input" for i in range(len(given), n)]


def _output_names(given: list | None, n: int) -> list:
    given = list(given or [])[:n]
    return given + [f"output_{i}" if n > 1 else "output" for i in range(len(given), n)]


def _normalise_axes(dynamic_axes: dict) -> dict:
    out = {}
    for name, ax in dynamic_axes.items():
        if isinstance(ax, dict):
            out[name] = {int(a): str(v) for a, v in ax.items()}
        else:
            out[name] = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(ax)}
    return out


def _param_names(model: Any) -> dict:
    names: dict = {}
    for getter in ("named_parameters", "named_buffers"):
        fn = getattr(model, getter, None)
        if fn is None:
            continue
        for n, t in fn():
            if t is not None:
                names.setdefault(id(t._data), n)
    return names


# --------------------------------------------------------------------------- tracing
def _trace(model: Any, pos: tuple, kw: dict, tracing: Any) -> tuple:
    with tracing() as tracer:
        out = model(*pos, **kw)
    return tracer.records, out


def _second_sizes(leaves: list, names: list, axes: dict) -> tuple:
    """A new size per dynamic axis name for the second trace, and the (input, axis, size1, size2) sources."""
    sizes: dict = {}
    sources = []
    for t, n in zip(leaves, names):
        for a, dim_name in sorted(axes.get(n, {}).items()):
            if not -t.dim() <= a < t.dim():
                raise IndexError(f"ember.onnx.export: dynamic axis {a} of input {n!r} is out of range for shape "
                                 f"{list(t.shape)}")
            a %= t.dim()
            s = int(t.shape[a])
            if dim_name not in sizes:
                sizes[dim_name] = s + 1 + len(sizes)  # distinct growth per name keeps the sizes apart
            sources.append((n, a, s, sizes[dim_name]))
    return sizes, sources


def _resized(pos: tuple, kw: dict, leaves: list, names: list, axes: dict, sizes: dict) -> tuple:
    """The arguments again, with every dynamic axis resized (by repeating entries: values stay valid)."""
    mapping = {}
    for t, n in zip(leaves, names):
        ax = axes.get(n)
        if not ax:
            continue
        a = t._data
        for axis, dim_name in ax.items():
            axis %= a.ndim
            old = a.shape[axis]
            a = np.take(a, np.arange(sizes[dim_name]) % max(old, 1), axis=axis)
        from .._creation import tensor
        mapping[id(t)] = tensor(a, dtype=t.dtype)
    return _replace_leaves(pos, mapping), _replace_leaves(kw, mapping)


def _inplace_write(g: Any, rec: Any) -> None:
    src, dst = rec.inputs[0], rec.outputs[0]
    if not g.is_dynamic(src):
        if g.is_dynamic(dst):
            g.unbind(dst)  # now holds a constant value again
        return
    if dst._base is not None:
        raise NotImplementedError("ember.onnx.export: in-place writes into a view of a tensor cannot be exported")
    name = g.lookup(src)
    if tuple(src.shape) != tuple(dst.shape):
        name = g.op("Expand", [name, g.ints(list(dst.shape))])
    g.bind(dst, name)


# --------------------------------------------------------------------------- the model proto
def _finish(onnx: Any, g: Any, leaves: list, names: list, outputs: list, out_names: list, axes: dict,
            opset: int, outputs2: Any) -> Any:
    helper = onnx.helper
    final = []
    renames: dict = {}
    produced = {o for node in g.nodes for o in node.output}
    for k, (t, oname) in enumerate(zip(outputs, out_names)):
        n = g.lookup(t)
        if n is None:
            n = g.const(t._data)
        if n in produced and n not in renames and n not in names:
            renames[n] = oname
        else:
            g.op("Identity", [renames.get(n, n)])
            g.nodes[-1].output[0] = oname
        final.append(oname)
    for node in g.nodes:
        for i, v in enumerate(node.input):
            if v in renames:
                node.input[i] = renames[v]
        for i, v in enumerate(node.output):
            if v in renames:
                node.output[i] = renames[v]
    # drop nodes and initializers nothing uses (ops traced inside other ops, folded leftovers)
    needed = set(final)
    kept = []
    for node in reversed(g.nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    kept.reverse()
    inits = [v for k, v in g.initializers.items() if k in needed]
    param_inputs = [v for v in g.param_inputs if v.name in needed]

    def info(name: str, t: Tensor, t2: Any) -> Any:
        dims: list = []
        named = axes.get(name, {})
        for a, s in enumerate(t.shape):
            if a in named or a - t.dim() in named:
                dims.append(named.get(a, named.get(a - t.dim())))
            elif t2 is not None and t2.shape[a] != s:
                dims.append(None)
            else:
                dims.append(int(s))
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(t._data.dtype), dims)

    inputs = [info(n, t, None) for t, n in zip(leaves, names)]
    # an output size that changed in the second trace but was given no name is left unknown
    outs = [info(n, t, outputs2[k] if outputs2 is not None else None) for k, (t, n) in enumerate(zip(outputs, final))]
    graph = helper.make_graph(kept, "ember_graph", inputs + param_inputs, outs, initializer=inits)
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="ember")
    try:
        model.ir_version = helper.find_min_ir_version_for(opsets)
    except Exception:  # older onnx: keep its default
        pass
    return model
