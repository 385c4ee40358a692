"""Tensor creation: ``tensor``, ``as_tensor``, ``from_numpy``, ``zeros``, ``ones``, ``full``, ``arange`` ...

>>> import ember
>>> ember.zeros(2, 3).shape
ember.Size([2, 3])
>>> ember.tensor([1, 2]).dtype
ember.int64
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import _dtype as D
from ._backend import backend_for, device_of_array
from ._device import cpu, to_device
from ._ops._util import shape_args
from ._tensor import Tensor, _wrap


def _finish(data: Any, dev: Any, requires_grad: bool) -> Tensor:
    t = _wrap(data, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _place(arr: np.ndarray, dev: Any) -> Any:
    return arr if dev is cpu else backend_for(dev).asarray(arr)


_SEQ = (list, tuple)


def _leaf_dtype(kind: type, items: Any) -> D.dtype:
    """The dtype PyTorch gives the leaves of one type (``items``: those leaves, read only when needed)."""
    if kind is float:
        return D.get_default_dtype()
    if kind is int:
        return D.int64
    if kind is bool:
        return D.bool_
    if kind is complex:
        return D.default_complex_dtype()
    if issubclass(kind, np.generic) and kind is not np.str_ and kind is not np.bytes_:
        return D.from_numpy_dtype(np.dtype(kind))
    if issubclass(kind, (Tensor, np.ndarray)):
        out = None
        for x in items:
            d = x.dtype if isinstance(x, Tensor) else D.from_numpy_dtype(x.dtype)
            out = d if out is None else D._promote_pair(out, d)
        return out
    if issubclass(kind, (str, bytes, np.str_, np.bytes_)):
        raise ValueError(f"too many dimensions '{kind.__name__}'")
    raise RuntimeError(f"Could not infer dtype of {kind.__name__}")


def _infer_dtype(data: Any) -> D.dtype:
    """PyTorch's dtype inference for Python data, checking the nesting is rectangular on the way.

    Leaves are promoted like ``promote_types``: Python floats take the default dtype, ints
    int64, bools bool; NumPy scalars, arrays and tensors bring their own dtype. One pass over
    each innermost list looks at the set of leaf types, not at every value.
    """
    if not isinstance(data, _SEQ):
        if isinstance(data, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        return _leaf_dtype(type(data), (data,))
    shape = []
    x = data
    while isinstance(x, _SEQ):
        shape.append(len(x))
        if not x:
            break
        x = x[0]
    depth = len(shape)
    found: dict = {}

    def walk(seq: Any, dim: int) -> None:
        if len(seq) != shape[dim]:
            raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(seq)})")
        if dim + 1 < depth:
            for e in seq:
                if not isinstance(e, _SEQ):
                    raise TypeError("not a sequence")
                walk(e, dim + 1)
            return
        for kind in set(map(type, seq)):
            if issubclass(kind, _SEQ):
                raise TypeError(f"'{kind.__name__}' object cannot be interpreted as a number")
            if kind in found and not issubclass(kind, (Tensor, np.ndarray)):
                continue
            d = _leaf_dtype(kind, [e for e in seq if type(e) is kind])
            found[kind] = d if kind not in found else D._promote_pair(found[kind], d)

    walk(data, 0)
    out = None
    for d in found.values():
        out = d if out is None else D._promote_pair(out, d)
    return out if out is not None else D.get_default_dtype()


def _to_array(data: Any) -> np.ndarray:
    """A NumPy array of Python data (which ``_infer_dtype`` has already checked)."""
    if isinstance(data, Tensor):
        return data._host()
    if isinstance(data, _SEQ) and data and any(isinstance(x, Tensor) for x in _flat_head(data)):
        data = _untensor(data)
    try:
        arr = np.array(data)
    except (ValueError, TypeError) as e:
        raise ValueError(f"could not convert data to a tensor: {e}") from None
    return arr


def _flat_head(data: Any) -> list:
    out = []
    while isinstance(data, _SEQ) and data:
        out.append(data[0])
        data = data[0]
    return out + (list(data) if isinstance(data, _SEQ) else [])


def _untensor(data: Any) -> Any:
    if isinstance(data, Tensor):
        return data.detach()._host()
    if isinstance(data, _SEQ):
        return [_untensor(x) for x in data]
    return data


def _check_dtype(dt: D.dtype) -> D.dtype:
    if dt.np_dtype is None:
        raise RuntimeError(f"{dt} needs the optional package ml_dtypes (pip install ml_dtypes)")
    return dt


def _array_of(data: Any, dtype: Any) -> tuple:
    """``(array, dtype)`` for Python data, a NumPy array or scalar, following PyTorch's inference."""
    if isinstance(data, np.ndarray):
        inferred = D.from_numpy_dtype(data.dtype)
        arr = data
    else:
        inferred = _infer_dtype(data)
        arr = _to_array(data)
        if inferred.category == D._INT and arr.dtype.kind not in "ib" and (
                dtype is None or D.to_dtype(dtype).category <= D._INT):
            # a Python int beyond int64 (NumPy made it uint64, float or object)
            raise ValueError("Overflow when unpacking long long")
        if arr.dtype == object:
            raise TypeError(f"Could not infer dtype of {type(arr.reshape(-1)[0]).__name__}")
    dt = _check_dtype(D.to_dtype(dtype) if dtype is not None else inferred)
    return arr, dt


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """Copy ``data`` (a number, nested list, NumPy array or tensor) into a new leaf tensor.

    Python floats become the default dtype, ints ``int64``, bools ``bool``; mixed lists
    promote (``[1, 2.5]`` is float). Ragged lists raise ``ValueError``.

    >>> import ember
    >>> ember.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)
    """
    if isinstance(data, Tensor):
        src = data.detach()
        dev = to_device(device) if device is not None else data._device
        out = src.to(dtype=D.to_dtype(dtype) if dtype is not None else None, device=dev, copy=True)
        out = _wrap(out._data if out._data is not data._data else out._data.copy(), dev)
        if requires_grad:
            out.requires_grad_(True)
        return out
    dev = to_device(device) if device is not None else device_of_array(data)
    if dev is not cpu and type(data).__module__.startswith("cupy"):
        arr = data.copy()
        dt = D.to_dtype(dtype) if dtype is not None else D.from_numpy_dtype(arr.dtype)
        return _finish(arr.astype(dt.np_dtype, copy=False), dev, requires_grad)
    arr, dt = _array_of(data, dtype)
    if requires_grad and not (dt.category == D._FLOAT or dt.category == D._COMPLEX):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    arr = arr.astype(dt.np_dtype, copy=True) if arr.dtype != dt.np_dtype or arr is data else arr
    return _finish(_place(arr, dev), dev, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a tensor or NumPy array when dtype and device allow."""
    if isinstance(data, Tensor):
        return data.to(dtype=D.to_dtype(dtype) if dtype is not None else None,
                       device=to_device(device) if device is not None else None)
    if isinstance(data, np.ndarray) and (device is None or to_device(device) is cpu):
        dt = D.to_dtype(dtype) if dtype is not None else D.from_numpy_dtype(data.dtype)
        if dt.np_dtype == data.dtype:
            return _wrap(data, cpu)
        return _wrap(data.astype(dt.np_dtype), cpu)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy_dtype(ndarray.dtype)
    return _wrap(ndarray, cpu)


def _factory_dtype(dtype: Any) -> D.dtype:
    return _check_dtype(D.to_dtype(dtype) if dtype is not None else D.get_default_dtype())


def _size(name: str, pos: tuple, size: Any) -> tuple:
    """The shape from ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``, checked like PyTorch."""
    if size is not None:
        if pos:
            raise TypeError(f"{name}() received an invalid combination of arguments: size given both "
                            "positionally and as a keyword")
        pos = (size,)
    elif not pos:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    shape = shape_args(pos)
    for n in shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(shape)}")
    return shape


def _grad_check(dt: D.dtype, requires_grad: bool) -> None:
    if requires_grad and not (dt.category == D._FLOAT or dt.category == D._COMPLEX):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")


def _filled(name: str, fill: Any, pos: tuple, size: Any, dtype: Any, device: Any, requires_grad: bool,
            out: Any = None) -> Tensor:
    shape = _size(name, pos, size)
    dt = _factory_dtype(dtype) if dtype is not None or out is None else out.dtype
    _grad_check(dt, requires_grad)
    dev = to_device(device)
    xp = backend_for(dev).xp
    if fill == 0:
        arr = xp.zeros(shape, dt.np_dtype)
    elif fill == 1:
        arr = xp.ones(shape, dt.np_dtype)
    else:
        arr = xp.full(shape, fill, dt.np_dtype)
    t = _finish(arr, dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def zeros(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, pin_memory: bool = False, **kw: Any) -> Tensor:
    """A tensor of zeros of the given shape: ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``.

    >>> import ember
    >>> ember.zeros(2)
    tensor([0., 0.])
    """
    return _filled("zeros", 0, size, _size_kw("zeros", kw), dtype, device, requires_grad, out)


def ones(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False, pin_memory: bool = False, **kw: Any) -> Tensor:
    """A tensor of ones of the given shape.

    >>> import ember
    >>> ember.ones(2, dtype=ember.int64)
    tensor([1, 1])
    """
    return _filled("ones", 1, size, _size_kw("ones", kw), dtype, device, requires_grad, out)


def empty(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, pin_memory: bool = False, memory_format: Any = None, **kw: Any) -> Tensor:
    """An uninitialised tensor (ember fills it with zeros, so results are reproducible).

    >>> import ember
    >>> ember.empty(2, 3).shape
    ember.Size([2, 3])
    """
    return _filled("empty", 0, size, _size_kw("empty", kw), dtype, device, requires_grad, out)


def _size_kw(name: str, kw: dict) -> Any:
    size = kw.pop("size", None)
    if kw:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kw))}'")
    return size


def full(size: Any, fill_value: Any, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype is inferred from the value like PyTorch.

    >>> import ember
    >>> ember.full((2,), 7)
    tensor([7, 7])
    """
    if isinstance(size, numbers.Integral) and not isinstance(size, Tensor):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    if isinstance(fill_value, Tensor):
        if fill_value.numel() != 1:
            raise RuntimeError(f"fill_value must be a scalar, got a tensor with {fill_value.numel()} elements")
        fill_value = fill_value.item()
    if dtype is None:
        dtype = out.dtype if out is not None else D.scalar_dtype(fill_value)
    shape = _size("full", (size,), None)
    dt = _check_dtype(D.to_dtype(dtype))
    _grad_check(dt, requires_grad)
    dev = to_device(device)
    arr = backend_for(dev).xp.full(shape, fill_value, dt.np_dtype)
    t = _finish(arr, dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def _like(fill: Any, input: Tensor, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dt = _check_dtype(D.to_dtype(dtype)) if dtype is not None else input.dtype
    _grad_check(dt, requires_grad)
    dev = to_device(device) if device is not None else input._device
    xp = backend_for(dev).xp
    shape = input._data.shape
    if isinstance(fill, Tensor):
        fill = fill.item()
    arr = xp.zeros(shape, dt.np_dtype) if fill == 0 else (
        xp.ones(shape, dt.np_dtype) if fill == 1 else xp.full(shape, fill, dt.np_dtype))
    return _finish(arr, dev, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Zeros with the shape (and, unless given, dtype and device) of ``input``.

    >>> import ember
    >>> ember.zeros_like(ember.ones(2, dtype=ember.int32))
    tensor([0, 0], dtype=ember.int32)
    """
    return _like(0, input, dtype, device, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Ones with the shape (and, unless given, dtype and device) of ``input``.

    >>> import ember
    >>> ember.ones_like(ember.zeros(2))
    tensor([1., 1.])
    """
    return _like(1, input, dtype, device, requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """An uninitialised (here zero-filled) tensor like ``input``.

    >>> import ember
    >>> ember.empty_like(ember.ones(2, 3)).shape
    ember.Size([2, 3])
    """
    return _like(0, input, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """``fill_value`` everywhere, in the shape and (unless given) dtype of ``input``.

    >>> import ember
    >>> ember.full_like(ember.zeros(2, dtype=ember.int64), 2.7)
    tensor([2, 2])
    """
    return _like(fill_value, input, dtype, device, requires_grad)


# --------------------------------------------------------------------------------------- ranges
# PyTorch's CPU kernels (AVX2 build) fill a range vector by vector: each vector of V lanes starts
# from ``start + step * i`` and adds ``j * step`` per lane, in the accumulation type, and the last
# ``n % 2V`` elements are computed one by one. The exact float values depend on that rounding
# order, so ember reproduces it with whole-array NumPy expressions (no per-element Python).

def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple:
    def split(x: np.ndarray) -> tuple:
        c = 134217729.0 * x  # 2**27 + 1 (Dekker's split)
        hi = c - (c - x)
        return hi, x - hi
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _fma64(a: Any, b: Any, c: Any) -> np.ndarray:
    """``a * b + c`` with one rounding in float64 (what a fused multiply-add gives)."""
    a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
    p, e = _two_prod(a, b)
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)
    return s + (t + e)


def _fill_range(start: float, step: float, n: int, np_dtype: Any) -> np.ndarray:
    """``start + i * step`` for ``i < n`` rounded to ``np_dtype`` the way PyTorch's kernel does."""
    idx = np.arange(n)
    nd = np.dtype(np_dtype)
    if nd == np.float64:
        lanes, fused = 4, True
    elif nd == np.float32:
        lanes, fused = 8, False
    else:  # float16 / bfloat16 accumulate in float32
        lanes, fused = 16, None
    j = (idx % lanes).astype(np.float64)
    i0 = idx.astype(np.float64) - j
    tail = n - n % (2 * lanes)
    ti = idx[tail:].astype(np.float64)
    if fused is True:
        out = _fma64(j, step, _fma64(step, i0, start))
        out[tail:] = _fma64(step, ti, start)
        return out
    if fused is False:
        base = (start + step * i0).astype(np.float32).astype(np.float64)
        out = (base + step * j).astype(np.float32)
        out[tail:] = (start + step * ti).astype(np.float32)
        return out
    s32, st32 = np.float64(np.float32(start)), np.float64(np.float32(step))
    # float32 products of small ints are exact in float64, so one float64 expression rounded
    # to float32 is the float32 fused multiply-add
    base = (st32 * i0 + s32).astype(np.float32).astype(nd).astype(np.float32).astype(np.float64)
    out = (j * st32 + base).astype(np.float32).astype(nd)
    out[tail:] = (st32 * ti + s32).astype(np.float32).astype(nd)
    return out


def _scalar(v: Any, name: str) -> Any:
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise RuntimeError(f"a Tensor with {v.numel()} elements cannot be converted to Scalar")
        return v.item()
    if isinstance(v, np.generic):
        return v.item()
    if not isinstance(v, numbers.Number) or isinstance(v, complex):
        raise TypeError(f"arange(): argument '{name}' must be Number, not {type(v).__name__}")
    return v


def arange(start: Any = 0, end: Any = None, step: Any = 1, *, out: Tensor | None = None, dtype: Any = None,
           layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float.

    Float values match PyTorch's CPU kernel bit for bit (same rounding order).

    >>> import ember
    >>> ember.arange(0, 1, 0.25)
    tensor([0.0000, 0.2500, 0.5000, 0.7500])
    """
    if end is None:
        start, end = 0, start
    start, end, step = _scalar(start, "start"), _scalar(end, "end"), _scalar(step, "step")
    if dtype is None:
        dtype = out.dtype if out is not None else (
            D.get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) else D.int64)
    dt = _check_dtype(D.to_dtype(dtype))
    if dt.category in (D._BOOL, D._COMPLEX):
        name = "Bool" if dt is D.bool_ else ("ComplexFloat" if dt is D.complex64 else "ComplexDouble")
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{name}'")
    _grad_check(dt, requires_grad)
    if dt.category == D._INT:
        if any(isinstance(v, float) and not math.isfinite(v) for v in (start, end, step)):
            raise RuntimeError(f"unsupported range: {start} -> {end}")
        istep = int(step)
        if istep == 0 and step != 0:
            raise ValueError("step must be nonzero")
        start, end, step = int(start), int(end), istep
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end > start and step < 0) or (end < start and step > 0):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dev = to_device(device)
    if dt.category == D._INT:
        n = max(-((start - end) // step), 0)  # exact ceil for big ints
        arr = np.arange(n, dtype=np.int64) * step + start
        arr = arr.astype(dt.np_dtype)
    else:
        n = max(int(math.ceil((end - start) / step)), 0)
        arr = _fill_range(float(start), float(step), n, dt.np_dtype)
    t = _finish(_place(arr, dev), dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def range_(start: Any = 0, end: Any = None, step: Any = 1, *, out: Tensor | None = None, dtype: Any = None,
           layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Deprecated ``torch.range``: like arange but includes ``end``; float by default.

    >>> import ember
    >>> ember.range(1, 3)
    tensor([1., 2., 3.])
    """
    import warnings
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values "
                  "in [start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    start, end, step = _scalar(start, "start"), _scalar(end, "end"), _scalar(step, "step")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end > start and step < 0) or (end < start and step > 0):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    n = int(math.floor((end - start) / step)) + 1
    dt = _factory_dtype(dtype)
    arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np_dtype)
    dev = to_device(device)
    t = _finish(_place(arr, dev), dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def linspace(start: Any, end: Any, steps: int, *, out: Tensor | None = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    >>> import ember
    >>> ember.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    is_c = isinstance(start, complex) or isinstance(end, complex)
    if dtype is None:
        dtype = out.dtype if out is not None else (D.default_complex_dtype() if is_c else D.get_default_dtype())
    dt = _check_dtype(D.to_dtype(dtype))
    _grad_check(dt, requires_grad)
    work = np.complex128 if dt.category == D._COMPLEX else np.float64
    if steps == 1:
        arr = np.array([start], dtype=work)
    else:
        # like PyTorch: the first half counts up from start, the second half down from end
        idx = np.arange(steps, dtype=np.float64)
        step = (end - start) / (steps - 1) if steps > 1 else 0
        arr = np.where(idx < steps // 2, start + step * idx, end - step * (steps - 1 - idx)).astype(work)
    arr = np.trunc(arr).astype(dt.np_dtype) if dt.category <= D._INT else arr.astype(dt.np_dtype)
    dev = to_device(device)
    t = _finish(_place(arr, dev), dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, out: Tensor | None = None,
             dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``.

    >>> import ember
    >>> ember.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    """
    dt = _factory_dtype(dtype if dtype is not None else (out.dtype if out is not None else None))
    _grad_check(dt, requires_grad)
    lin = linspace(start, end, steps, dtype=D.float64)._data
    arr = np.power(float(base), lin)
    arr = np.trunc(arr).astype(dt.np_dtype) if dt.category <= D._INT else arr.astype(dt.np_dtype)
    dev = to_device(device)
    t = _finish(_place(arr, dev), dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def eye(n: int, m: int | None = None, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
        device: Any = None, requires_grad: bool = False) -> Tensor:
    """The ``n x m`` identity matrix.

    >>> import ember
    >>> ember.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    dt = _factory_dtype(dtype if dtype is not None else (out.dtype if out is not None else None))
    _grad_check(dt, requires_grad)
    dev = to_device(device)
    arr = backend_for(dev).xp.eye(n, m if m is not None else n, dtype=dt.np_dtype)
    t = _finish(arr, dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def _legacy_tensor(*args: Any, dtype: D.dtype | None = None, **kwargs: Any) -> Tensor:
    """``ember.Tensor(...)`` / ``ember.FloatTensor(...)``: sizes -> a (zero-filled) tensor of that shape,
    data -> a copy of the data in ``dtype`` (the default float dtype for ``ember.Tensor``)."""
    dev = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got unexpected keyword "
                        f"'{next(iter(kwargs))}'")
    dt = dtype if dtype is not None else D.get_default_dtype()
    if not args:
        return zeros(0, dtype=dt, device=dev)
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if dtype is not None and src.dtype is not dtype:
            raise TypeError(f"expected {dtype} (got {src.dtype})")
        return src.detach()
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return zeros(*args, dtype=dt, device=dev)
    if len(args) == 1 and type(args[0]).__name__ == "Size":  # a Size is a shape, any other tuple is data
        return zeros(*args[0], dtype=dt, device=dev)
    if len(args) == 1:
        data = args[0]
        if isinstance(data, (numbers.Number, np.generic)) or isinstance(data, str):
            kind = "invalid data type 'str'" if isinstance(data, str) else \
                f"data must be a sequence (got {type(data).__name__})"
            raise TypeError(f"new(): {kind}")
        if dt.category != D._COMPLEX:
            arr = _to_array(data)
            if arr.dtype.kind == "c":
                raise TypeError("must be real number, not complex")
        return tensor(data, dtype=dt, device=dev)
    raise TypeError(f"new() received an invalid combination of arguments - got "
                    f"({', '.join(type(a).__name__ for a in args)})")


class _TypedTensor:
    """``ember.FloatTensor`` and friends: PyTorch's legacy typed constructors, as callables.

    ``ember.FloatTensor(2, 3)`` is a 2x3 float32 tensor; ``ember.LongTensor([1, 2])`` copies data.
    ``isinstance`` checks against them are not supported (compare ``t.dtype`` instead).
    """

    def __init__(self, name: str, dtype: D.dtype):
        self.__name__ = self.__qualname__ = name
        self.dtype = dtype

    def __call__(self, *args: Any, device: Any = None) -> Tensor:
        return _legacy_tensor(*args, dtype=self.dtype, device=device)

    def __repr__(self) -> str:
        return f"<class 'ember.{self.__name__}'>"

    def __reduce__(self) -> str:
        return self.__name__


FloatTensor = _TypedTensor("FloatTensor", D.float32)
DoubleTensor = _TypedTensor("DoubleTensor", D.float64)
HalfTensor = _TypedTensor("HalfTensor", D.float16)
BFloat16Tensor = _TypedTensor("BFloat16Tensor", D.bfloat16)
LongTensor = _TypedTensor("LongTensor", D.int64)
IntTensor = _TypedTensor("IntTensor", D.int32)
ShortTensor = _TypedTensor("ShortTensor", D.int16)
CharTensor = _TypedTensor("CharTensor", D.int8)
ByteTensor = _TypedTensor("ByteTensor", D.uint8)
BoolTensor = _TypedTensor("BoolTensor", D.bool_)
TYPED_TENSORS = {t.__name__: t for t in (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor,
                                          IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor)}


def _new_factory(kind: str):
    def m(self: Tensor, *args: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          layout: Any = None, pin_memory: bool = False, **kw: Any) -> Tensor:
        dtype = dtype if dtype is not None else self.dtype
        device = device if device is not None else self._device
        if kind == "tensor":
            return tensor(args[0] if args else kw.pop("data"), dtype=dtype, device=device,
                          requires_grad=requires_grad)
        if kind == "full":
            size = args[0] if args else kw.pop("size")
            fill = args[1] if len(args) > 1 else kw.pop("fill_value")
            return full(size, fill, dtype=dtype, device=device, requires_grad=requires_grad)
        fn = {"zeros": zeros, "ones": ones, "empty": empty}[kind]
        return fn(*args, dtype=dtype, device=device, requires_grad=requires_grad, **kw)
    m.__name__ = "new_" + kind
    m.__doc__ = (f"Like ``ember.{kind}`` with this tensor's dtype and device unless given.\n\n"
                 f"    >>> import ember\n    >>> ember.zeros(1, dtype=ember.int32).new_{kind}"
                 f"({'[1, 2]' if kind == 'tensor' else '(2,), 3' if kind == 'full' else '(2,)'}).dtype\n"
                 "    ember.int32\n")
    return m


for _k in ("zeros", "ones", "empty", "full", "tensor"):
    setattr(Tensor, "new_" + _k, _new_factory(_k))
