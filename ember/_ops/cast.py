"""Casting and copying: ``to`` (dtype/device), ``clone``, ``contiguous``, ``type``, ``float()`` ...

>>> import ember
>>> ember.tensor([1.5, 2.5]).to(ember.int64)
tensor([1, 2])
"""
from __future__ import annotations

from typing import Any

from .. import _dtype as D
from .._device import device as _device_cls, to_device
from ..autograd.grad_mode import _state as _grad_state
from ..autograd.graph import Node, record_function
from ._util import Tensor, _wrap, method

__all__ = ["clone"]


class Cast(Node):
    def forward(self, x, dtype=None):
        return x.astype(dtype)

    def backward(self, g):
        return g  # the engine casts the gradient back to the input's dtype

    @classmethod
    def name(cls) -> str:
        return "ToCopyBackward0"


class ToDevice(Node):
    """A copy to another device. Its output lives on the target, so it is recorded by hand
    (``Node.apply`` would wrap the result with the source device's array module)."""

    def backward(self, g):
        return g.to(self.source)

    @classmethod
    def apply_to(cls, x: Tensor, target: _device_cls) -> Tensor:
        from .._backend import backend_for
        source = x._device
        if target.type == "cpu":
            arr = backend_for(source).to_numpy(x._data)
        elif source.type == "cpu":
            arr = backend_for(target).asarray(x._data)
        else:  # between two GPUs: through the host, simple and correct
            arr = backend_for(target).asarray(backend_for(source).to_numpy(x._data))
        out = _wrap(arr, target)
        if x._requires_grad and _grad_state.enabled:
            node = cls.__new__(cls)
            node.source = source
            record_function(node, (x,), (out,))
        return out

    @classmethod
    def name(cls) -> str:
        return "ToCopyBackward0"


class Clone(Node):
    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


def _parse_to(args: tuple, kwargs: dict) -> tuple:
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, (str, _device_cls, int)) and not isinstance(a, bool):
            dev = a
        elif isinstance(a, bool):
            pass  # non_blocking / copy positional
        elif a is None:
            pass
        else:
            dtype = D.to_dtype(a)
    return (D.to_dtype(dtype) if dtype is not None else None,
            to_device(dev) if dev is not None else None, copy)


def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Convert dtype and/or device; returns ``self`` when nothing changes (unless ``copy=True``)."""
    dtype, dev, copy = _parse_to(args, dict(kwargs))
    out = self
    if dtype is not None and dtype.np_dtype is None:
        raise RuntimeError(f"{dtype} needs the optional package ml_dtypes (pip install ml_dtypes)")
    if dev is not None and dev != self._device:
        if dev.type == "cuda" and dev.index is None:
            dev = _device_cls("cuda", 0)
        out = ToDevice.apply_to(out, dev)
        copy = False
    if dtype is not None and dtype.np_dtype != out._data.dtype:
        out = Cast.apply(out, dtype=dtype.np_dtype)
        copy = False
    if copy:
        out = clone(out)
    return out


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy of ``input`` that stays in the graph (its gradient flows back to ``input``)."""
    return Clone.apply(input)


def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    if self._data.flags.c_contiguous:
        return self
    return Clone.apply(self)


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
               "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor"}
_BY_TYPE_NAME = {v: k for k, v in _TYPE_NAMES.items()}


def type_(self: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """With no argument the type name (``'torch.FloatTensor'``, as PyTorch spells it); otherwise a cast.

    Accepts a dtype, a typed constructor (``ember.DoubleTensor``) or a name like ``'torch.DoubleTensor'``.

    >>> import ember
    >>> ember.tensor([1.5]).type()
    'torch.FloatTensor'
    """
    if dtype is None:
        prefix = "torch.cuda." if self._device.type == "cuda" else "torch."
        return prefix + _TYPE_NAMES[self.dtype.name]
    if isinstance(dtype, str):
        for prefix, dev in (("torch.cuda.", "cuda"), ("ember.cuda.", "cuda"), ("torch.", None), ("ember.", None)):
            name = dtype[len(prefix):] if dtype.startswith(prefix) else None
            if name in _BY_TYPE_NAME:
                out = to(self, D.to_dtype(_BY_TYPE_NAME[name]))
                return to(out, dev) if dev is not None else out
        raise ValueError(f"invalid type: '{dtype}'")
    if isinstance(getattr(dtype, "dtype", None), D.dtype) and not isinstance(dtype, (D.dtype, Tensor)):
        return to(self, dtype.dtype)  # ember.FloatTensor and friends
    if not isinstance(dtype, D.dtype):
        raise ValueError(f"invalid type: '{getattr(dtype, '__name__', dtype)}'")
    return to(self, dtype)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other.dtype)


method("to", to)
method("clone", clone)
method("contiguous", contiguous)
method("type", type_)
method("type_as", type_as)
method("cpu", lambda self, memory_format=None: to(self, "cpu"))
method("cuda", lambda self, device=None, non_blocking=False, memory_format=None:
       to(self, _device_cls("cuda", device if isinstance(device, int) else 0) if not isinstance(device, (str, _device_cls)) else device))
for _n, _d in (("float", D.float32), ("double", D.float64), ("half", D.float16), ("bfloat16", D.bfloat16),
               ("long", D.int64), ("int", D.int32), ("short", D.int16), ("char", D.int8), ("byte", D.uint8),
               ("bool", D.bool_), ("cfloat", D.complex64), ("cdouble", D.complex128)):
    method(_n, (lambda d: lambda self, memory_format=None: to(self, d))(_d))
