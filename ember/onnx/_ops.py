"""Converters from ember's graph nodes to ONNX nodes (opset 13-18).

Each converter reads the op being converted from the ``GraphBuilder`` (``g.input(i)``, ``g.kw(...)``,
shapes of both traces) and returns one value name per output of the ember node; ``None`` marks an
output with no ONNX equivalent (using it later raises). Converters are looked up along the node
class's MRO, so subclasses (``View`` of ``Reshape``, ``Triu`` of ``Tril``) share them unless they
register their own.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ._tracer import INT64_MAX, GraphBuilder

CONVERTERS: dict = {}


def converts(*classes: type) -> Callable:
    def deco(fn: Callable) -> Callable:
        for c in classes:
            CONVERTERS[c] = fn
        return fn
    return deco


def converter_for(cls: type) -> Callable | None:
    for c in cls.__mro__:
        fn = CONVERTERS.get(c)
        if fn is not None:
            return fn
    return None


def _rank(g: GraphBuilder, i: int = 0) -> int:
    return len(g.in_shapes(i)[0])


def _axes_attr_or_input(g: GraphBuilder, op: str, x: str, axes: Any, since: int, **attrs: Any) -> str:
    """Reduce/Squeeze ops take ``axes`` as an attribute before opset ``since`` and as an input after."""
    if axes is None:
        return g.op(op, [x], **attrs)
    axes = [int(a) for a in axes]
    if g.opset >= since:
        return g.op(op, [x, g.ints(axes)], **attrs)
    return g.op(op, [x], axes=axes, **attrs)


def _squeeze(g: GraphBuilder, x: str, axes: Any) -> str:
    return _axes_attr_or_input(g, "Squeeze", x, axes, 13)


def _unsqueeze(g: GraphBuilder, x: str, axes: Any) -> str:
    return _axes_attr_or_input(g, "Unsqueeze", x, axes, 13)


def _reduce(g: GraphBuilder, op: str, x: str, axes: Any, keepdim: bool) -> str:
    since = 13 if op == "ReduceSum" else 18  # ReduceSum took axes as an input first
    return _axes_attr_or_input(g, op, x, axes, since, keepdims=int(bool(keepdim)))


def _onnx_type(g: GraphBuilder, dtype: Any) -> int:
    return g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


# --------------------------------------------------------------------------- pointwise and arithmetic
def _imports() -> dict:
    from .._ops import arith, pointwise as pw, pointwise_binary as pb, cast, compare, blas, shape, reduction
    from .._ops import join, indexing, minmax, _along, linalg_ops
    from ..nn._functional import activation, linear, conv, pooling, normalization, attention, sparse, rnn, padding
    return locals()


def register_all() -> None:
    if CONVERTERS:
        return
    m = _imports()
    pw, pb, arith, act = m["pw"], m["pb"], m["arith"], m["activation"]

    unary = {pw.Exp: "Exp", pw.Log: "Log", pw.Sqrt: "Sqrt", pw.Sin: "Sin", pw.Cos: "Cos", pw.Tan: "Tan",
             pw.Asin: "Asin", pw.Acos: "Acos", pw.Atan: "Atan", pw.Sinh: "Sinh", pw.Cosh: "Cosh", pw.Tanh: "Tanh",
             pw.Asinh: "Asinh", pw.Acosh: "Acosh", pw.Atanh: "Atanh", pw.Sigmoid: "Sigmoid", pw.Erf: "Erf",
             pw.Abs: "Abs", pw.Floor: "Floor", pw.Ceil: "Ceil", pw.Sign: "Sign", pw.Relu: "Relu",
             act.Relu: "Relu", pw.Reciprocal: "Reciprocal", arith.Neg: "Neg", m["cast"].Clone: "Identity",
             m["cast"].ToDevice: "Identity"}
    for cls, op_type in unary.items():
        CONVERTERS[cls] = (lambda t: lambda g: [g.op(t, [g.input(0)])])(op_type)

    def binary(op_type: str) -> Callable:
        def conv(g: GraphBuilder) -> list:
            dt = _operand_dtype(g)
            return [g.op(op_type, [g.input(0, dt), g.input(1, dt)])]
        return conv

    for cls, op_type in {arith.Mul: "Mul", arith.Div: "Div", pb.Maximum: "Max", pb.Minimum: "Min",
                         m["blas"].MatMul: "MatMul", pb.Fmax: "Max", pb.Fmin: "Min"}.items():
        CONVERTERS[cls] = binary(op_type)

    def add_sub(op_type: str) -> Callable:
        def conv(g: GraphBuilder) -> list:
            dt = _operand_dtype(g)
            b = g.input(1, dt)
            alpha = g.kw("alpha", 1)
            if alpha != 1:
                b = g.op("Mul", [b, g.const(np.asarray(alpha, dt))])
            return [g.op(op_type, [g.input(0, dt), b])]
        return conv

    CONVERTERS[arith.Add] = add_sub("Add")
    CONVERTERS[arith.Sub] = add_sub("Sub")

    @converts(arith.Pow)
    def _pow(g: GraphBuilder) -> list:
        dt = g.out_dtype()
        return [g.op("Pow", [g.input(0, dt), g.input(1, dt)])]

    @converts(pw.Rsqrt)
    def _rsqrt(g: GraphBuilder) -> list:
        return [g.op("Reciprocal", [g.op("Sqrt", [g.input(0)])])]

    @converts(pw.Square)
    def _square(g: GraphBuilder) -> list:
        x = g.input(0)
        return [g.op("Mul", [x, x])]

    @converts(pw.Expm1)
    def _expm1(g: GraphBuilder) -> list:
        return [g.op("Sub", [g.op("Exp", [g.input(0)]), g.const(np.asarray(1, g.out_dtype()))])]

    @converts(pw.Log1P)
    def _log1p(g: GraphBuilder) -> list:
        return [g.op("Log", [g.op("Add", [g.input(0), g.const(np.asarray(1, g.out_dtype()))])])]

    def log_base(base: float) -> Callable:
        def conv(g: GraphBuilder) -> list:
            return [g.op("Div", [g.op("Log", [g.input(0)]), g.const(np.asarray(math.log(base), g.out_dtype()))])]
        return conv

    CONVERTERS[pw.Log2] = log_base(2.0)
    CONVERTERS[pw.Log10] = log_base(10.0)

    @converts(pb.Clamp)
    def _clamp(g: GraphBuilder) -> list:
        dt = g.out_dtype()
        x = g.input(0)
        lo, hi = (g.rec.inputs[i] if len(g.rec.inputs) > i else g.kw(k) for i, k in ((1, "lo"), (2, "hi")))
        if lo is not None:
            x = g.op("Max", [x, g.name(lo, None, dt)])
        if hi is not None:
            x = g.op("Min", [x, g.name(hi, None, dt)])
        return [x]

    @converts(m["compare"].Where)
    def _where(g: GraphBuilder) -> list:
        dt = g.out_dtype()
        return [g.op("Where", [g.input(0, np.bool_), g.input(1, dt), g.input(2, dt)])]

    compare_ops = {"equal": "Equal", "less": "Less", "greater": "Greater", "less_equal": "LessOrEqual",
                   "greater_equal": "GreaterOrEqual", "not_equal": "Equal"}

    @converts(m["compare"]._Compare)
    def _compare(g: GraphBuilder) -> list:
        op = type(g.rec.node).op
        if op not in compare_ops:
            raise NotImplementedError(f"ember.onnx.export: comparison {op!r} has no ONNX conversion")
        dt = _operand_dtype(g)
        y = g.op(compare_ops[op], [g.input(0, dt), g.input(1, dt)])
        return [g.op("Not", [y]) if op == "not_equal" else y]

    @converts(m["cast"].Cast)
    def _cast(g: GraphBuilder) -> list:
        return [g.op("Cast", [g.input(0)], to=_onnx_type(g, g.out_dtype()))]

    # ------------------------------------------------------------------ activations
    @converts(act.LeakyRelu)
    def _leaky(g: GraphBuilder) -> list:
        return [g.op("LeakyRelu", [g.input(0)], alpha=float(g.kw("slope", 0.01)))]

    @converts(act.Gelu)
    def _gelu(g: GraphBuilder) -> list:
        # x * 0.5 * (1 + erf(x / sqrt(2))): ONNX's Gelu op needs opset 20, this works from opset 9
        dt = g.out_dtype()
        x = g.input(0)
        e = g.op("Erf", [g.op("Mul", [x, g.const(np.asarray(0.7071067811865476, dt))])])
        cdf = g.op("Mul", [g.op("Add", [e, g.const(np.asarray(1.0, dt))]), g.const(np.asarray(0.5, dt))])
        return [g.op("Mul", [x, cdf])]

    @converts(act.Hardtanh)
    def _hardtanh(g: GraphBuilder) -> list:
        dt = g.out_dtype()
        return [g.op("Clip", [g.input(0), g.const(np.asarray(g.kw("lo", -1.0), dt)),
                              g.const(np.asarray(g.kw("hi", 1.0), dt))])]

    @converts(act.Threshold)
    def _threshold(g: GraphBuilder) -> list:
        dt = g.out_dtype()
        x = g.input(0)
        keep = g.op("Greater", [x, g.const(np.asarray(g.kw("threshold", 0.0), dt))])
        return [g.op("Where", [keep, x, g.const(np.asarray(g.kw("value", 0.0), dt))])]

    @converts(act.Softplus)
    def _softplus(g: GraphBuilder) -> list:
        dt = g.out_dtype()
        beta, thr = float(g.kw("beta", 1.0)), float(g.kw("threshold", 20.0))
        x = g.input(0)
        bx = x if beta == 1.0 else g.op("Mul", [x, g.const(np.asarray(beta, dt))])
        sp = g.op("Softplus", [bx])
        if beta != 1.0:
            sp = g.op("Div", [sp, g.const(np.asarray(beta, dt))])
        # PyTorch's softplus is linear above the threshold
        return [g.op("Where", [g.op("Greater", [bx, g.const(np.asarray(thr, dt))]), x, sp])]

    @converts(act.Softmax)
    def _softmax(g: GraphBuilder) -> list:
        return [g.op("Softmax", [g.input(0)], axis=int(g.kw("dim", -1)))]

    @converts(act.LogSoftmax)
    def _log_softmax(g: GraphBuilder) -> list:
        return [g.op("LogSoftmax", [g.input(0)], axis=int(g.kw("dim", -1)))]

    # ------------------------------------------------------------------ linear algebra
    @converts(m["linear"].Linear)
    def _linear(g: GraphBuilder) -> list:
        x, w = g.input(0), g.input(1)
        b = g.input(2) if len(g.rec.inputs) > 2 else ""
        if _rank(g) == 2:
            return [g.op("Gemm", [x, w, b], transB=1)]
        y = g.op("MatMul", [x, g.op("Transpose", [w], perm=[1, 0])])
        return [g.op("Add", [y, b]) if b else y]

    @converts(m["conv"].Convolution)
    def _conv(g: GraphBuilder) -> list:
        pad = [int(p) for p in g.kw("padding")]
        w_shape = g.in_shapes(1)[0]
        b = g.input(2) if len(g.rec.inputs) > 2 else ""
        return [g.op("Conv", [g.input(0), g.input(1), b], kernel_shape=list(w_shape[2:]),
                     strides=[int(s) for s in g.kw("stride")], pads=pad + pad,
                     dilations=[int(d) for d in g.kw("dilation")], group=int(g.kw("groups", 1)))]

    # ------------------------------------------------------------------ pooling
    pooling = m["pooling"]

    @converts(pooling.MaxPool)
    def _max_pool(g: GraphBuilder) -> list:
        adaptive = g.kw("adaptive")
        if adaptive is not None:
            if all(int(o) == 1 for o in adaptive):
                return [g.op("GlobalMaxPool", [g.input(0)]), None]
            raise NotImplementedError("ember.onnx.export: adaptive max pooling to a size other than 1 "
                                      "(non-uniform windows) has no ONNX conversion")
        pad = [int(p) for p in g.kw("padding")]
        right = [int(r) for r in g.kw("right")]
        y = g.op("MaxPool", [g.input(0)], kernel_shape=[int(k) for k in g.kw("kernel")],
                 strides=[int(s) for s in g.kw("stride")], pads=pad + right,
                 dilations=[int(d) for d in g.kw("dilation")])
        return [y, None]

    @converts(pooling.WindowSum)
    def _window_sum(g: GraphBuilder) -> list:
        kernel = [int(k) for k in g.kw("kernel")]
        pad = [int(p) for p in g.kw("padding")]
        right = [int(r) for r in g.kw("right")]
        # a zero-padded window sum is the average over the whole window (pads counted) times its size
        avg = g.op("AveragePool", [g.input(0)], kernel_shape=kernel, strides=[int(s) for s in g.kw("stride")],
                   pads=pad + right, count_include_pad=1)
        return [g.op("Mul", [avg, g.const(np.asarray(math.prod(kernel), g.out_dtype()))])]

    # ------------------------------------------------------------------ normalization
    norm = m["normalization"]

    @converts(norm._Norm)
    def _norm(g: GraphBuilder) -> list:
        if g.kw("running") is not None:
            raise NotImplementedError("ember.onnx.export: batch norm in training mode (updating running "
                                      "statistics) cannot be exported; call model.eval() or export with "
                                      "training=TrainingMode.EVAL")
        x_shape = g.in_shapes(0)[0]
        nd = len(x_shape)
        axes = tuple(int(a) for a in g.kw("axes"))
        gshape, eps = g.kw("gshape"), float(g.kw("eps", 1e-5))
        w, b = g.rec.inputs[1], g.rec.inputs[2]
        dt = g.out_dtype()
        trailing = gshape is None and axes == tuple(range(nd - len(axes), nd)) and len(axes) > 0
        norm_shape = x_shape[nd - len(axes):]
        if trailing and g.opset >= 17 and all(t is None or tuple(t.shape) == norm_shape for t in (w, b)):
            scale = g.input(1) if w is not None else g.const(np.ones(norm_shape, dt))
            bias = g.input(2) if b is not None else ""
            return [g.op("LayerNormalization", [g.input(0), scale, bias], axis=nd - len(axes), epsilon=eps)]
        x = g.input(0)
        xg = x
        if gshape is not None:
            s1, s2 = g.in_shapes(0)
            xg = g.op("Reshape", [x, g.reshape_target(s1, s2, tuple(gshape), _second_gshape(g, gshape))])
        mean = _reduce(g, "ReduceMean", xg, axes, True)
        xc = g.op("Sub", [xg, mean])
        var = _reduce(g, "ReduceMean", g.op("Mul", [xc, xc]), axes, True)
        y = g.op("Div", [xc, g.op("Sqrt", [g.op("Add", [var, g.const(np.asarray(eps, dt))])])])
        if gshape is not None:
            s1, s2 = g.in_shapes(0)
            y = g.op("Reshape", [y, g.reshape_target(tuple(gshape), _second_gshape(g, gshape), s1, s2)])
        if w is not None:
            y = g.op("Mul", [y, g.input(1)])
        if b is not None:
            y = g.op("Add", [y, g.input(2)])
        return [y]

    # ------------------------------------------------------------------ attention
    @converts(m["attention"]._Attention)
    def _attention(g: GraphBuilder) -> list:
        if g.kw("drop") is not None:
            raise NotImplementedError("ember.onnx.export: attention dropout in training mode cannot be exported")
        dt = g.out_dtype()
        q, k, v = g.input(0), g.input(1), g.input(2)
        rank = _rank(g, 1)
        perm = list(range(rank - 2)) + [rank - 1, rank - 2]
        s = g.op("MatMul", [q, g.op("Transpose", [k], perm=perm)])
        s = g.op("Mul", [s, g.const(np.asarray(g.kw("scale", 1.0), dt))])
        if len(g.rec.inputs) > 3 and g.rec.inputs[3] is not None:
            s = g.op("Add", [s, g.input(3, dt)])
        p = g.op("Softmax", [s], axis=-1)
        return [g.op("MatMul", [p, v]), p]

    # ------------------------------------------------------------------ embeddings / gathers
    sparse = m["sparse"]

    @converts(sparse._Gather)
    def _gather_rows(g: GraphBuilder) -> list:
        y = g.op("Gather", [g.input(0), g.kwname("idx")], axis=0)
        if g.kw("pos_w") is not None:
            idx_rank = np.ndim(g.kw("idx"))
            w = _unsqueeze(g, g.kwname("pos_w"), list(range(idx_rank, idx_rank + _rank(g) - 1)))
            y = g.op("Mul", [y, w])
        return [y]

    @converts(m["padding"].Take)
    def _take(g: GraphBuilder) -> list:
        return [g.op("Gather", [g.input(0), g.kwname("idx")], axis=int(g.kw("axis", 0)))]

    @converts(m["padding"].ConstantPad)
    def _constant_pad(g: GraphBuilder) -> list:
        pads = [tuple(int(v) for v in p) for p in g.kw("pads")]
        nd = _rank(g)
        lead = nd - len(pads)
        begins = [0] * lead + [a for a, _ in pads]
        ends = [0] * lead + [b for _, b in pads]
        return [g.op("Pad", [g.input(0), g.ints(begins + ends), g.const(np.asarray(g.kw("value", 0.0),
                                                                                   g.out_dtype()))])]

    _register_shape_ops(m)
    _register_reductions(m)
    _register_rnn(m)


def _operand_dtype(g: GraphBuilder) -> Any:
    """The dtype both operands of a binary op share (ember promotes tensors before the node runs)."""
    for x in g.rec.inputs:
        d = getattr(x, "_data", x)
        if isinstance(d, np.ndarray):
            return d.dtype
    return g.out_dtype()


def _second_gshape(g: GraphBuilder, gshape: tuple) -> tuple:
    return tuple(g.kw2("gshape", gshape))


# --------------------------------------------------------------------------- shapes
def _register_shape_ops(m: dict) -> None:
    shape, join, indexing, along = m["shape"], m["join"], m["indexing"], m["_along"]

    @converts(shape.Reshape)
    def _reshape(g: GraphBuilder) -> list:
        i1, i2 = g.in_shapes(0)
        o1, o2 = g.out_shapes(0)
        return [g.op("Reshape", [g.input(0), g.reshape_target(i1, i2, o1, o2)])]

    @converts(shape.Expand)
    def _expand(g: GraphBuilder) -> list:
        i1, i2 = g.in_shapes(0)
        o1, o2 = g.out_shapes(0)
        lead = len(o1) - len(i1)
        t1, t2 = list(o1), list(o2)
        for j in range(len(i1)):
            if i1[j] == o1[lead + j] and i2[j] == o2[lead + j]:
                t1[lead + j] = t2[lead + j] = 1  # ONNX Expand broadcasts: 1 keeps the input's size
        return [g.op("Expand", [g.input(0), g.shape_of(tuple(t1), tuple(t2))])]

    @converts(shape.Permute)
    def _permute(g: GraphBuilder) -> list:
        nd = _rank(g)
        return [g.op("Transpose", [g.input(0)], perm=[int(d) % nd for d in g.kw("dims")])]

    @converts(shape.Transpose)
    def _transpose(g: GraphBuilder) -> list:
        nd = _rank(g)
        perm = list(range(nd))
        a, b = int(g.kw("dim0", 0)) % max(nd, 1), int(g.kw("dim1", 1)) % max(nd, 1)
        perm[a], perm[b] = perm[b], perm[a]
        return [g.op("Transpose", [g.input(0)], perm=perm)]

    @converts(shape.Squeeze)
    def _squeeze_op(g: GraphBuilder) -> list:
        i1, _ = g.in_shapes(0)
        dims = g.kw("dims")
        if dims is None:
            axes = [i for i, s in enumerate(i1) if s == 1]
        else:
            dims = [dims] if isinstance(dims, int) else list(dims)
            axes = [int(d) % len(i1) for d in dims if i1[int(d) % len(i1)] == 1]
        return [_squeeze(g, g.input(0), axes) if axes else g.op("Identity", [g.input(0)])]

    @converts(shape.Unsqueeze)
    def _unsqueeze_op(g: GraphBuilder) -> list:
        return [_unsqueeze(g, g.input(0), [int(g.kw("dim", 0))])]

    def _slice(g: GraphBuilder, x: str, axes: list, starts: list, ends: list, steps: list | None = None) -> str:
        """``starts``/``ends`` hold (trace 1, trace 2) pairs so sizes tied to dynamic axes stay symbolic."""
        ins = [x, _pairs(g, starts), _pairs(g, ends), g.ints(axes)]
        if steps is not None:
            ins.append(g.ints(steps))
        return g.op("Slice", ins)

    @converts(indexing.BasicIndex)
    def _basic_index(g: GraphBuilder) -> list:
        basic, basic2 = tuple(g.kw("basic")), tuple(g.kw2("basic"))
        i1, _ = g.in_shapes(0)
        nd = len(i1)
        consumed = sum(1 for b in basic if b is not None and b is not Ellipsis)
        axes, starts, ends, steps, squeeze, unsqueeze = [], [], [], [], [], []
        d = o = 0
        for b, b2 in zip(basic, basic2):
            if b is Ellipsis:
                d += nd - consumed
                o += nd - consumed
            elif b is None:
                unsqueeze.append(o)
                o += 1
            elif isinstance(b, slice):
                if b != slice(None):
                    step = 1 if b.step is None else int(b.step)
                    lo_default, hi_default = (0, INT64_MAX) if step > 0 else (-1, -INT64_MAX)
                    axes.append(d)
                    steps.append(step)
                    starts.append(_bound(b.start, b2.start, lo_default))
                    ends.append(_bound(b.stop, b2.stop, hi_default))
                d += 1
                o += 1
            else:  # an integer: a length-1 slice, squeezed away
                i, i2 = int(b), int(b2)
                axes.append(d)
                steps.append(1)
                starts.append((i, i2))
                ends.append((i + 1, i2 + 1) if i != -1 else (INT64_MAX, INT64_MAX))
                squeeze.append(d)
                d += 1
        y = g.input(0)
        if axes:
            y = _slice(g, y, axes, starts, ends, steps)
        if squeeze:
            y = _squeeze(g, y, squeeze)
        if unsqueeze:
            y = _unsqueeze(g, y, unsqueeze)
        if y == g.input(0):
            y = g.op("Identity", [y])
        return [y]

    @converts(join.Slice)
    def _slice_op(g: GraphBuilder) -> list:
        return [_slice(g, g.input(0), [int(g.kw("dim"))], [(g.kw("start"), g.kw2("start"))],
                       [(g.kw("stop"), g.kw2("stop"))])]

    @converts(along.Narrow)
    def _narrow(g: GraphBuilder) -> list:
        s1, s2 = int(g.kw("start")), int(g.kw2("start"))
        return [_slice(g, g.input(0), [int(g.kw("dim"))], [(s1, s2)],
                       [(s1 + int(g.kw("length")), s2 + int(g.kw2("length")))])]

    @converts(join.Split)
    def _split(g: GraphBuilder) -> list:
        dim = int(g.kw("dim"))
        x = g.input(0)
        return [_slice(g, x, [dim], [(a, a2)], [(b, b2)])
                for (a, b), (a2, b2) in zip(g.kw("bounds"), g.kw2("bounds"))]

    @converts(join.Unbind)
    def _unbind(g: GraphBuilder) -> list:
        dim = int(g.kw("dim", 0))
        x = g.input(0)
        return [g.op("Gather", [x, g.const(np.asarray(i, np.int64))], axis=dim) for i in range(len(g.rec.outputs))]

    @converts(join.Cat, along.Concat)
    def _cat(g: GraphBuilder) -> list:
        skip = set(g.kw("skip", ()) or ())
        dt = g.out_dtype()
        names = [g.input(i, dt) for i in range(len(g.rec.inputs)) if i not in skip]
        return [g.op("Concat", names, axis=int(g.kw("dim", 0)))]

    @converts(join.Stack)
    def _stack(g: GraphBuilder) -> list:
        dim = int(g.kw("dim", 0))
        dt = g.out_dtype()
        out_rank = len(g.out_shapes(0)[0])
        dim = dim % out_rank
        names = [_unsqueeze(g, g.input(i, dt), [dim]) for i in range(len(g.rec.inputs))]
        return [g.op("Concat", names, axis=dim)]


def _bound(v: Any, v2: Any, default: int) -> tuple:
    if v is None:
        return (default, default)
    return (int(v), int(v2) if v2 is not None else int(v))


def _pairs(g: GraphBuilder, pairs: list) -> str:
    """An int64 vector whose entries are (trace 1, trace 2) pairs: constant where they agree."""
    a = tuple(int(p[0]) for p in pairs)
    b = tuple(int(p[1]) for p in pairs)
    return g.shape_of(a, b)


# --------------------------------------------------------------------------- reductions
def _register_reductions(m: dict) -> None:
    red, minmax = m["reduction"], m["minmax"]

    def _dims(g: GraphBuilder, key: str = "dims") -> Any:
        dims = g.kw(key)
        if dims is None:
            return list(range(_rank(g)))
        return [dims] if isinstance(dims, int) else [int(d) for d in dims]

    def reduce(op: str, key: str = "dims") -> Callable:
        def conv(g: GraphBuilder) -> list:
            x = g.input(0)
            if g.rec.inputs[0]._data.dtype != g.out_dtype():
                x = g.op("Cast", [x], to=_onnx_type(g, g.out_dtype()))
            return [_reduce(g, op, x, _dims(g, key), bool(g.kw("keepdim", False)))]
        return conv

    CONVERTERS[red.Sum] = reduce("ReduceSum")
    CONVERTERS[red.Mean] = reduce("ReduceMean")
    CONVERTERS[red.Prod] = reduce("ReduceProd", "dim")
    CONVERTERS[red.LogSumExp] = reduce("ReduceLogSumExp")
    CONVERTERS[minmax.AMax] = reduce("ReduceMax")
    CONVERTERS[minmax.AMin] = reduce("ReduceMin")

    @converts(red.Norm, m["linalg_ops"].VectorNorm)
    def _norm_op(g: GraphBuilder) -> list:
        p = float(g.kw("p", g.kw("ord", 2.0)))
        dims, keep = _dims(g), bool(g.kw("keepdim", False))
        x = g.input(0)
        if p == 2.0:
            return [_reduce(g, "ReduceL2", x, dims, keep)]
        if p == 1.0:
            return [_reduce(g, "ReduceL1", x, dims, keep)]
        if math.isinf(p):
            return [_reduce(g, "ReduceMax" if p > 0 else "ReduceMin", g.op("Abs", [x]), dims, keep)]
        dt = g.out_dtype()
        s = _reduce(g, "ReduceSum", g.op("Pow", [g.op("Abs", [x]), g.const(np.asarray(p, dt))]), dims, keep)
        return [g.op("Pow", [s, g.const(np.asarray(1.0 / p, dt))])]

    @converts(minmax.MaxDim)
    def _max_dim(g: GraphBuilder) -> list:
        is_min = isinstance(g.rec.node, minmax.MinDim)
        dim, keep = int(g.kw("dim", 0)), int(bool(g.kw("keepdim", False)))
        values = _reduce(g, "ReduceMin" if is_min else "ReduceMax", g.input(0), [dim], bool(keep))
        idx = g.op("ArgMin" if is_min else "ArgMax", [g.input(0)], axis=dim, keepdims=keep)
        return [values, idx]


# --------------------------------------------------------------------------- recurrent layers
def _register_rnn(m: dict) -> None:
    rnn = m["rnn"]

    def _layer(g: GraphBuilder, mode: str) -> list:
        bs = tuple(g.kw("batch_sizes"))
        if len(set(bs)) > 1:
            raise NotImplementedError("ember.onnx.export: packed sequences of unequal lengths cannot be exported; "
                                      "export the model on padded input")
        ins = g.rec.inputs
        if mode == "LSTM" and len(ins) > 5 and ins[5] is not None:
            raise NotImplementedError("ember.onnx.export: LSTM with proj_size > 0 has no ONNX conversion")
        gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode]
        w_hh_i, b_hh_i = (3, 4) if mode == "LSTM" else (2, 3)
        H = int(g.in_shapes(w_hh_i)[0][1])
        T = len(bs)
        dt = g.out_dtype()
        # ember's gate order -> ONNX's: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h
        order = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN": [0]}[mode]
        perm = np.concatenate([np.arange(k * H, (k + 1) * H) for k in order]).astype(np.int64)
        # xg already holds x @ W_ih^T + b_ih (one GEMM over all steps): ONNX's W only reorders the gates
        W = np.eye(gates * H, dtype=dt)[perm][None]
        x = g.op("Reshape", [g.input(0), g.ints([T, -1, gates * H])])
        R = _unsqueeze(g, g.op("Gather", [g.input(w_hh_i), g.const(perm)], axis=0), [0])
        B = ""
        if len(ins) > b_hh_i and ins[b_hh_i] is not None:
            rb = g.op("Gather", [g.input(b_hh_i), g.const(perm)], axis=0)
            B = _unsqueeze(g, g.op("Concat", [g.const(np.zeros(gates * H, dt)), rb], axis=0), [0])

        def state(i: int) -> str:
            t = ins[i]
            if not g.is_dynamic(t) and not np.any(t._data):
                return ""  # zero initial state: ONNX's default, and free of the batch size
            return _unsqueeze(g, g.input(i), [0])

        attrs: dict = {"hidden_size": H, "direction": "reverse" if g.kw("reverse", False) else "forward"}
        if mode == "LSTM":
            inputs = [x, g.const(W), R, B, "", state(1), state(2)]
        elif mode == "GRU":
            inputs = [x, g.const(W), R, B, "", state(1)]
            attrs["linear_before_reset"] = 1
        else:
            inputs = [x, g.const(W), R, B, "", state(1)]
            attrs["activations"] = ["Relu" if g.kw("nonlinearity", "tanh") == "relu" else "Tanh"]
        n_out = 3 if mode == "LSTM" else 2
        outs = g.op({"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN"}[mode], inputs, n_out=n_out, **attrs)
        y = g.op("Reshape", [_squeeze(g, outs[0], [1]), g.ints([-1, H])])
        return [y] + [_squeeze(g, o, [0]) for o in outs[1:]]

    CONVERTERS[rnn.LSTMLayer] = lambda g: _layer(g, "LSTM")
    CONVERTERS[rnn.GRULayer] = lambda g: _layer(g, "GRU")
    CONVERTERS[rnn.RNNLayer] = lambda g: _layer(g, "RNN")
