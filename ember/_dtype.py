"""dtypes as objects, and PyTorch's type-promotion rules.

A dtype is an interned ``ember.dtype`` object wrapping the backend's array dtype.
Promotion follows PyTorch, not NumPy: categories are ordered bool < integer <
floating < complex; a Python scalar, or a 0-d tensor, only decides the result
when it belongs to a higher category than the dimensioned tensors.

>>> import ember
>>> ember.promote_types(ember.int32, ember.float16)
ember.float16
>>> ember.result_type(ember.tensor([1, 2]), 0.5)
ember.float32
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

try:  # bfloat16 is an optional extra
    import ml_dtypes as _ml_dtypes
except ImportError:  # pragma: no cover - depends on the environment
    _ml_dtypes = None

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type. Compare with ``is`` or ``==``; never constructed by users."""

    __slots__ = ("name", "np_dtype", "itemsize", "category", "is_signed", "_rank", "__weakref__")

    def __init__(self, name: str, np_dtype: Any, category: int, rank: int):
        self.name = name
        self.np_dtype = np.dtype(np_dtype) if np_dtype is not None else None
        self.itemsize = self.np_dtype.itemsize if self.np_dtype is not None else 2
        self.category = category
        self.is_signed = name not in ("bool", "uint8", "uint16", "uint32", "uint64")
        self._rank = rank

    @property
    def is_floating_point(self) -> bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> bool:
        return self.category == _COMPLEX

    def to_real(self) -> "dtype":
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self) -> "dtype":
        return {float64: complex128, complex128: complex128}.get(self, complex64)

    def __repr__(self) -> str:
        return "ember." + self.name

    def __reduce__(self):  # pickles as a reference to the module attribute
        return (_dtype_by_name, (self.name,))


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


bool_ = dtype("bool", np.bool_, _BOOL, 0)
uint8 = dtype("uint8", np.uint8, _INT, 1)
int8 = dtype("int8", np.int8, _INT, 2)
int16 = dtype("int16", np.int16, _INT, 3)
int32 = dtype("int32", np.int32, _INT, 4)
int64 = dtype("int64", np.int64, _INT, 5)
float16 = dtype("float16", np.float16, _FLOAT, 6)
bfloat16 = dtype("bfloat16", _ml_dtypes.bfloat16 if _ml_dtypes else None, _FLOAT, 7)
float32 = dtype("float32", np.float32, _FLOAT, 8)
float64 = dtype("float64", np.float64, _FLOAT, 9)
complex64 = dtype("complex64", np.complex64, _COMPLEX, 10)
complex128 = dtype("complex128", np.complex128, _COMPLEX, 11)

ALL_DTYPES = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
              complex64, complex128)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
# PyTorch's aliases
half, float, double, short, int, long = float16, float32, float64, int16, int32, int64
cfloat, cdouble = complex64, complex128
_BY_NAME.update(half=half, float=float, double=double, short=short, int=int, long=long,
                cfloat=cfloat, cdouble=cdouble)

_FROM_NP = {d.np_dtype: d for d in ALL_DTYPES if d.np_dtype is not None}


def from_numpy_dtype(np_dtype: Any) -> dtype:
    """The ember dtype of a backend array dtype; raises TypeError for unsupported ones."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    nd = np.dtype(np_dtype)
    if nd in _FROM_NP:
        return _FROM_NP[nd]
    if nd.kind == "u":  # uint16/32/64 have no tensor dtype here; widen like torch.from_numpy refuses
        raise TypeError(f"can't convert np.ndarray of type numpy.{nd.name}. The only supported types are: "
                        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                        "uint8, and bool.")
    raise TypeError(f"can't convert np.ndarray of type numpy.{nd.name}. The only supported types are: "
                    "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                    "uint8, and bool.")


def to_dtype(d: Any) -> dtype:
    """Accept an ember dtype, a Python type (float/int/bool/complex), a NumPy dtype or a name."""
    if isinstance(d, dtype):
        return d
    if d is builtins_float:
        return float64
    if d is builtins_int:
        return int64
    if d is builtins_bool:
        return bool_
    if d is builtins_complex:
        return complex128
    if isinstance(d, str) and d.removeprefix("torch.").removeprefix("ember.") in _BY_NAME:
        return _BY_NAME[d.removeprefix("torch.").removeprefix("ember.")]
    try:
        return from_numpy_dtype(d)
    except TypeError:
        raise TypeError(f"invalid dtype {d!r}") from None


import builtins as _builtins  # noqa: E402  (names shadowed by the aliases above)

builtins_float, builtins_int, builtins_bool, builtins_complex = (
    _builtins.float, _builtins.int, _builtins.bool, _builtins.complex)

# ---------------------------------------------------------------------------------------------
# promotion


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.category == _COMPLEX and lo is float64:
            return complex128
        return hi
    # same category
    if a.category == _INT:
        if {a, b} == {uint8, int8}:
            return int16
        if a is uint8:
            return b
        if b is uint8:
            return a
        return a if a._rank > b._rank else b
    if a.category == _FLOAT and {a, b} == {float16, bfloat16}:
        return float32
    return a if a._rank > b._rank else b


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both can be cast to without leaving their category (PyTorch's table)."""
    return _promote_pair(to_dtype(type1), to_dtype(type2))


class _DefaultDtype(threading.local):
    value = float32


_default = _DefaultDtype()


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats (``float32`` unless changed)."""
    return _default.value


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype; like PyTorch, only float32 and float64 (and half types) are allowed."""
    d = to_dtype(d)
    if d.category != _FLOAT:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default.value = d


def default_complex_dtype() -> dtype:
    return complex128 if _default.value is float64 else complex64


def scalar_dtype(value: Any) -> dtype:
    """The dtype a Python scalar gets as a tensor: bool, int64, default float, default complex."""
    if isinstance(value, _builtins.bool):
        return bool_
    if isinstance(value, _builtins.int):
        return int64
    if isinstance(value, _builtins.float):
        return _default.value
    if isinstance(value, _builtins.complex):
        return default_complex_dtype()
    if isinstance(value, np.generic):
        return from_numpy_dtype(value.dtype)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _combine_categories(higher: dtype | None, lower: dtype | None) -> dtype | None:
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == _COMPLEX:
        return higher
    if lower.category == _COMPLEX:
        return higher.to_complex() if higher.category == _FLOAT else lower
    if higher.category == _FLOAT:
        return higher
    if higher is bool_ or lower.category == _FLOAT:
        return _promote_pair(higher, lower)
    return higher


def _promote_all(dts):
    out = None
    for d in dts:
        out = d if out is None else _promote_pair(out, d)
    return out


def result_type_of(*operands: Any) -> dtype:
    """PyTorch's ``result_type`` over tensors and Python scalars (the three-tier rule)."""
    dim, zero, wrapped = None, None, None
    for op in operands:
        d = getattr(op, "_data", None)
        if d is not None:  # an ember Tensor
            t = _FROM_NP.get(d.dtype) or from_numpy_dtype(d.dtype)
            if d.ndim:
                dim = t if dim is None else _promote_pair(dim, t)
            else:
                zero = t if zero is None else _promote_pair(zero, t)
        elif op is not None:
            t = scalar_dtype(op)
            if isinstance(op, np.generic):  # NumPy scalars act like 0-d tensors
                zero = t if zero is None else _promote_pair(zero, t)
            else:
                wrapped = t if wrapped is None else _promote_pair(wrapped, t)
    return _combine_categories(dim, _combine_categories(zero, wrapped))


def can_cast(from_: dtype, to: dtype) -> bool:
    """PyTorch's same-kind rule: casting may not lower the category (float -> int, complex -> float)."""
    from_, to = to_dtype(from_), to_dtype(to)
    if from_.category == _BOOL or to.category >= from_.category:
        return True
    return False


class finfo:
    """Machine limits of a floating dtype (``bits``, ``eps``, ``max``, ``min``, ``tiny``, ``resolution``).

    >>> import ember
    >>> ember.finfo(ember.float16).max
    65504.0
    """

    def __init__(self, type: dtype | None = None):
        t = to_dtype(type) if type is not None else get_default_dtype()
        if t.category not in (_FLOAT, _COMPLEX):
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'{self.__class__.__name__}'")
        real = t.to_real()
        if real.np_dtype is None:
            raise RuntimeError(f"{real} needs the optional package ml_dtypes (pip install ml_dtypes)")
        info = _ml_dtypes.finfo(real.np_dtype) if real is bfloat16 else np.finfo(real.np_dtype)
        self.dtype = real.name
        self.bits = builtins_int(info.bits)
        self.eps = builtins_float(info.eps)
        self.max = builtins_float(info.max)
        self.min = builtins_float(info.min)
        self.tiny = self.smallest_normal = builtins_float(info.tiny)
        self.resolution = 10.0 ** -builtins_int(info.precision)  # PyTorch reports 10**-digits exactly

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.tiny:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype (``bits``, ``min``, ``max``).

    >>> import ember
    >>> ember.iinfo(ember.int8).min
    -128
    """

    def __init__(self, type: dtype):
        t = to_dtype(type)
        if t is bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if t.category != _INT:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            f"'{self.__class__.__name__}'")
        info = np.iinfo(t.np_dtype) if t is not bool_ else None
        self.dtype = t.name
        self.bits = builtins_int(info.bits) if info else 8
        self.min = builtins_int(info.min) if info else 0
        self.max = builtins_int(info.max) if info else 1

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
