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
from typing import Any, Sequence

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


def _infer_dtype(data: Any, arr: np.ndarray) -> D.dtype:
    """PyTorch's inference for Python data: floats take the default dtype, ints int64."""
    k = arr.dtype.kind
    if isinstance(data, np.ndarray):
        return D.from_numpy_dtype(arr.dtype)
    if k == "f":
        if arr.dtype == np.float64 and not _has_np_float(data):
            return D.get_default_dtype()
        return D.from_numpy_dtype(arr.dtype)
    if k == "c":
        return D.default_complex_dtype() if arr.dtype == np.complex128 and not isinstance(data, np.generic) \
            else D.from_numpy_dtype(arr.dtype)
    if k in "iu":
        return D.int64 if not isinstance(data, np.generic) else D.from_numpy_dtype(arr.dtype)
    if k == "b":
        return D.bool_
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _has_np_float(data: Any) -> bool:
    return isinstance(data, np.generic)


def _to_array(data: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        return data._host()
    if isinstance(data, (list, tuple)) and data and any(isinstance(x, Tensor) for x in _flat_head(data)):
        data = _untensor(data)
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(_ragged_message(data)) from e
    if arr.dtype == object:
        if arr.size == 0 or not all(isinstance(x, numbers.Number) for x in arr.ravel()):
            raise TypeError(f"Could not infer dtype of {type(arr.ravel()[0]).__name__}" if arr.size
                            else "Could not infer dtype")
    return arr


def _flat_head(data: Any) -> list:
    out = []
    while isinstance(data, (list, tuple)) and data:
        out.append(data[0])
        data = data[0]
    return out + (list(data) if isinstance(data, (list, tuple)) else [])


def _untensor(data: Any) -> Any:
    if isinstance(data, Tensor):
        return data.detach()._host()
    if isinstance(data, (list, tuple)):
        return [_untensor(x) for x in data]
    return data


def _ragged_message(data: Any) -> str:
    def walk(x: Any, depth: int) -> str | None:
        if not isinstance(x, (list, tuple)) or not x:
            return None
        lens = [len(e) if isinstance(e, (list, tuple)) else None for e in x]
        first = lens[0]
        for e in lens[1:]:
            if e != first:
                return f"expected sequence of length {first} at dim {depth + 1} (got {e})"
        for e in x:
            r = walk(e, depth + 1)
            if r:
                return r
        return None
    return walk(data, 0) or "could not convert data to a tensor"


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """Copy ``data`` (a number, nested list, NumPy array or tensor) into a new leaf tensor.

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
    arr = _to_array(data)
    dt = D.to_dtype(dtype) if dtype is not None else _infer_dtype(data, arr)
    if dt.np_dtype is None:
        raise RuntimeError(f"{dt} needs the optional package ml_dtypes (pip install ml_dtypes)")
    arr = arr.astype(dt.np_dtype, copy=True) if arr.dtype != dt.np_dtype or isinstance(data, np.ndarray) \
        else arr
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
    return D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()


def _filled(fill: Any, size: tuple, dtype: Any, device: Any, requires_grad: bool, out: Any = None) -> Tensor:
    shape = shape_args(size)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    dt = _factory_dtype(dtype)
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
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of zeros of the given shape."""
    return _filled(0, size, dtype, device, requires_grad, out)


def ones(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of ones of the given shape."""
    return _filled(1, size, dtype, device, requires_grad, out)


def empty(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, pin_memory: bool = False, memory_format: Any = None) -> Tensor:
    """An uninitialised tensor (ember fills it with zeros, so results are reproducible)."""
    return _filled(0, size, dtype, device, requires_grad, out)


def full(size: Any, fill_value: Any, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype is inferred from the value like PyTorch."""
    if dtype is None:
        dtype = D.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    shape = shape_args((size,))
    dt = D.to_dtype(dtype)
    dev = to_device(device)
    arr = backend_for(dev).xp.full(shape, fill_value, dt.np_dtype)
    t = _finish(arr, dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def _like(fill: Any, input: Tensor, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    dt = D.to_dtype(dtype) if dtype is not None else input.dtype
    dev = to_device(device) if device is not None else input._device
    xp = backend_for(dev).xp
    shape = input._data.shape
    arr = xp.zeros(shape, dt.np_dtype) if fill == 0 else (
        xp.ones(shape, dt.np_dtype) if fill == 1 else xp.full(shape, fill, dt.np_dtype))
    return _finish(arr, dev, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    return _like(0, input, dtype, device, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    return _like(1, input, dtype, device, requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    return _like(0, input, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    return _like(fill_value, input, dtype, device, requires_grad)


def arange(start: Any = 0, end: Any = None, step: Any = 1, *, out: Tensor | None = None, dtype: Any = None,
           layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float.

    >>> import ember
    >>> ember.arange(0, 1, 0.25)
    tensor([0.0000, 0.2500, 0.5000, 0.7500])
    """
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = D.get_default_dtype() if any(isinstance(v, float) for v in vals) else D.int64
    dt = D.to_dtype(dtype)
    n = max(int(math.ceil((end - start) / step)), 0)
    dev = to_device(device)
    xp = backend_for(dev).xp
    if dt.category == D._FLOAT:
        # computed in float64 then cast, so float32 results match PyTorch's start + i * step
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np_dtype)
        arr = _place(arr, dev)
    else:
        arr = xp.arange(start, start + n * step, step, dtype=dt.np_dtype)[:n]
    t = _finish(arr, dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def range_(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Deprecated ``torch.range``: like arange but includes ``end``; float by default."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    dt = _factory_dtype(dtype)
    arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np_dtype)
    return _finish(_place(arr, to_device(device)), to_device(device), requires_grad)


def linspace(start: Any, end: Any, steps: int, *, out: Tensor | None = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    dt = _factory_dtype(dtype)
    arr = np.linspace(start, end, steps, dtype=np.float64)
    if steps > 1:  # PyTorch fills the two halves from both ends; match it closely
        step = (end - start) / (steps - 1)
        half = steps // 2
        idx = np.arange(steps)
        arr = np.where(idx < half, start + step * idx, end - step * (steps - 1 - idx))
    arr = arr.astype(dt.np_dtype) if dt.category != D._INT else np.trunc(arr).astype(dt.np_dtype)
    dev = to_device(device)
    t = _finish(_place(arr, dev), dev, requires_grad)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, out: Tensor | None = None,
             dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    lin = linspace(start, end, steps, dtype=D.float64)._data
    dt = _factory_dtype(dtype)
    arr = np.power(base, lin).astype(dt.np_dtype)
    dev = to_device(device)
    return _finish(_place(arr, dev), dev, requires_grad)


def eye(n: int, m: int | None = None, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
        device: Any = None, requires_grad: bool = False) -> Tensor:
    """The ``n x m`` identity matrix."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    dt = _factory_dtype(dtype)
    dev = to_device(device)
    arr = backend_for(dev).xp.eye(n, m if m is not None else n, dtype=dt.np_dtype)
    return _finish(arr, dev, requires_grad)


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
          layout: Any = None, pin_memory: bool = False) -> Tensor:
        dtype = dtype if dtype is not None else self.dtype
        device = device if device is not None else self._device
        if kind == "tensor":
            return tensor(args[0], dtype=dtype, device=device, requires_grad=requires_grad)
        if kind == "full":
            return full(args[0], args[1], dtype=dtype, device=device, requires_grad=requires_grad)
        fn = {"zeros": zeros, "ones": ones, "empty": empty}[kind]
        return fn(*args, dtype=dtype, device=device, requires_grad=requires_grad)
    m.__name__ = "new_" + kind
    return m


for _k in ("zeros", "ones", "empty", "full", "tensor"):
    setattr(Tensor, "new_" + _k, _new_factory(_k))
