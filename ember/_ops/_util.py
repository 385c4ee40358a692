"""Helpers every op module shares: argument parsing, promotion, dims, method registration."""
from __future__ import annotations

import numbers
from typing import Any, Callable, Iterable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap, _wrap_dim
from .._device import cpu
from ..autograd.grad_mode import is_grad_enabled as _grad_enabled

__all__ = ["Tensor", "_wrap", "wrap_dim", "shape_args", "promote", "as_tensor", "register", "dims_arg",
           "float_operand", "to_float", "is_tensor", "check_inplace_dtype", "scalar_of", "write_out"]

wrap_dim = _wrap_dim


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


def shape_args(args: tuple, name: str = "size") -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(ember.Size)``; ints only."""
    if len(args) == 1 and not isinstance(args[0], (numbers.Integral, Tensor)):
        args = tuple(args[0])
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = a.__index__()
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            raise TypeError(f"{name} must be tuple of ints, but found element of type {type(a).__name__} "
                            f"at pos {len(out)}")
        out.append(int(a))
    return tuple(out)


def dims_arg(dim: Any, ndim: int) -> tuple | None:
    """Normalise ``dim`` (None, int, or sequence) to a sorted tuple of non-negative dims (None = all)."""
    if dim is None:
        return None
    if isinstance(dim, (numbers.Integral,)) and not isinstance(dim, bool):
        return (_wrap_dim(int(dim), ndim),)
    dims = tuple(_wrap_dim(int(d), ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return dims


def as_tensor(x: Any, dtype: D.dtype | None = None, device: Any = None) -> Tensor:
    """Turn a number, list or array into a tensor (a tensor passes through unchanged)."""
    if isinstance(x, Tensor):
        return x
    from .._creation import tensor
    return tensor(x, dtype=dtype, device=device)


def scalar_of(x: Any, dt: D.dtype) -> Any:
    """A Python scalar ready to meet an array of dtype ``dt`` (integers wrap like PyTorch's)."""
    if dt.category == D._INT and isinstance(x, int) and not isinstance(x, bool):
        info = np.iinfo(dt.np_dtype)
        if not info.min <= x <= info.max:
            return np.array(x).astype(dt.np_dtype)
    if isinstance(x, np.generic):
        return x.item()
    return x


def promote(a: Any, b: Any) -> tuple:
    """Cast the operands of a binary op to PyTorch's result dtype.

    Tensors are cast with the differentiable ``to``; Python scalars are left as scalars so
    NumPy's weak scalar typing keeps the array's dtype (after a cast where needed).
    """
    # Fast paths: same-dtype tensors, and a float tensor with a Python int/float (the scalar never
    # widens a float tensor's dtype, and NumPy's weak scalars keep the array dtype too).
    if type(a) is Tensor:
        tb_ = type(b)
        if tb_ is Tensor and a._data.dtype is b._data.dtype:
            return a, b, D._FROM_NP[a._data.dtype]
        if (tb_ is float or tb_ is int) and a._data.dtype.kind == "f":
            return a, b, D._FROM_NP[a._data.dtype]
    elif type(b) is Tensor and (type(a) is float or type(a) is int) and b._data.dtype.kind == "f":
        return a, b, D._FROM_NP[b._data.dtype]
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        if a._data.dtype is b._data.dtype or a._data.dtype == b._data.dtype:
            return a, b, D._FROM_NP[a._data.dtype]
        dt = D.result_type_of(a, b)
        return (a if a.dtype is dt else a.to(dt)), (b if b.dtype is dt else b.to(dt)), dt
    if ta:
        if not isinstance(b, (numbers.Number, np.generic)):
            b = as_tensor(b, device=a._device)
            return promote(a, b)
        dt = D.result_type_of(a, b)
        return (a if a.dtype is dt else a.to(dt)), scalar_of(b, dt), dt
    if tb:
        if not isinstance(a, (numbers.Number, np.generic)):
            a = as_tensor(a, device=b._device)
            return promote(a, b)
        dt = D.result_type_of(a, b)
        return scalar_of(a, dt), (b if b.dtype is dt else b.to(dt)), dt
    a, b = as_tensor(a), as_tensor(b)
    return promote(a, b)


def to_float(x: Tensor) -> Tensor:
    """Integer and bool tensors become the default float dtype (for exp, sqrt, mean, ...)."""
    k = x._data.dtype.kind
    if k in "fc" or x._data.dtype.name == "bfloat16":
        return x
    return x.to(D.get_default_dtype())


def float_operand(x: Any) -> Tensor:
    return to_float(as_tensor(x))


def check_inplace_dtype(result_dtype: D.dtype, self_dtype: D.dtype) -> None:
    if not D.can_cast(result_dtype, self_dtype):
        raise RuntimeError(f"result type {_torch_name(result_dtype)} can't be cast to the desired output type "
                           f"{_torch_name(self_dtype)}")


def _torch_name(d: D.dtype) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
            "complex64": "ComplexFloat", "complex128": "ComplexDouble"}[d.name]


def register(*names: str, method: bool = True) -> Callable:
    """Expose a function as ``ember.<name>`` (via the package) and as a ``Tensor`` method."""
    def deco(fn: Callable) -> Callable:
        if method:
            for n in names:
                setattr(Tensor, n, fn)
        return fn
    return deco


def method(name: str, fn: Callable) -> None:
    setattr(Tensor, name, fn)


def zeros_array(xp: Any, shape: Iterable, dtype: Any) -> Any:
    return xp.zeros(tuple(shape), dtype)


def write_out(result: Tensor, out: Tensor | None) -> Tensor:
    """Support the ``out=`` keyword: copy ``result`` into ``out`` (resized like PyTorch) and return ``out``."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if out._requires_grad or (result._requires_grad and _grad_enabled()):
        raise RuntimeError("out=... arguments don't support automatic differentiation, but one of the "
                           "arguments requires grad.")
    check_inplace_dtype(D._FROM_NP[result._data.dtype], D._FROM_NP[out._data.dtype])
    if out._data.shape != result._data.shape:
        out._data = result._data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = result._data
    out._vc[0] += 1
    return out
