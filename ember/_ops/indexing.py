"""Indexing: ``x[key]``, ``x[key] = value``, ``index_put``, masks, ``nonzero``, ``take`` and ``put``.

``x[key]`` runs in two steps, like PyTorch: the basic part (ints, slices, ``None``, ``...``)
is one view node (shares memory and the version counter with ``x``), then the advanced part
(integer / boolean index tensors, lists, NumPy arrays) is one copying node on that view.
Doing the ints first is what makes ``x[0, :, [0, 1]]`` come out as PyTorch's ``[4, 2]``
rather than NumPy's ``[2, 4]``.

Every gather-like node's backward is a scatter-add node (``xp.add.at``, so duplicate indices
accumulate) whose backward is the gather again, so double backward works.

>>> import ember
>>> x = ember.arange(12.).reshape(3, 4)
>>> x[1:, [0, 3]]
tensor([[ 4.,  7.],
        [ 8., 11.]])
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.grad_mode import _state
from ..autograd.graph import Node, _xp_of
from ._util import Tensor, method, as_tensor, write_out, _torch_name
from .inplace import inplace

__all__ = ["index_put", "index_put_", "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere",
           "take", "put"]

_VALID = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
          "(got {})")


# =============================================================================== nodes
class BasicIndex(Node):
    """``x[ints, slices, None]``: a view of ``x`` (``basic`` always ends with ``...``)."""
    is_view = True

    def forward(self, x, basic=()):
        self.in_shape, self.basic = x.shape, basic
        return x[basic]

    def backward(self, g):
        return BasicIndexBackward.apply(g, basic=self.basic, shape=self.in_shape)

    @classmethod
    def name(cls) -> str:
        return "SliceBackward0"


class BasicIndexBackward(Node):
    """Zeros of ``shape`` with ``g`` written into the region ``basic`` (regions never overlap)."""

    def forward(self, g, basic=(), shape=()):
        self.basic = basic
        out = self.xp.zeros(shape, g.dtype)
        out[basic] = g
        return out

    def backward(self, gg):
        return BasicIndex.apply(gg, basic=self.basic)


class AdvIndex(Node):
    """``x[adv]`` where ``adv`` holds slices and integer index arrays: a copy."""

    def forward(self, x, adv=()):
        self.in_shape, self.adv = x.shape, adv
        return x[adv]

    def backward(self, g):
        return AdvIndexBackward.apply(g, adv=self.adv, shape=self.in_shape)

    @classmethod
    def name(cls) -> str:
        return "IndexBackward0"


class AdvIndexBackward(Node):
    """Zeros of ``shape`` with ``g`` scatter-added at ``adv`` (duplicates accumulate)."""

    def forward(self, g, adv=(), shape=()):
        self.adv = adv
        out = self.xp.zeros(shape, g.dtype)
        self.xp.add.at(out, adv, g)
        return out

    def backward(self, gg):
        return AdvIndex.apply(gg, adv=self.adv)

    @classmethod
    def name(cls) -> str:
        return "IndexPutBackward0"


class IndexPut(Node):
    """A copy of ``x`` with ``v`` written (or added, ``accumulate``) at ``adv``."""

    def forward(self, x, v, adv=(), accumulate=False):
        self.adv, self.accumulate = adv, accumulate
        y = x.copy()
        if accumulate:
            self.xp.add.at(y, adv, v)
        else:
            y[adv] = v
        return y

    def backward(self, g):
        gx = gv = None
        if self.needs_input_grad[0]:
            # overwritten places get no gradient; accumulated ones pass it through
            gx = g if self.accumulate else IndexPut.apply(g, 0, adv=self.adv)
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            gv = AdvIndex.apply(g, adv=self.adv)  # the engine sums it down to v's broadcast shape
        return gx, gv

    @classmethod
    def name(cls) -> str:
        return "IndexPutBackward0"


# ========================================================================= key parsing
def _seq_as_tuple(seq: list) -> bool:
    """PyTorch reads a short list holding tensors, sequences, slices, None or ... as a tuple of indices."""
    if len(seq) >= 32:
        return False
    for it in seq:
        if it is None or it is Ellipsis or isinstance(it, (slice, Tensor, list, tuple, np.ndarray)):
            return True
    return False


_PLAIN = (int, type(None))


def _classify(it: Any, xp: Any) -> tuple:
    """One index entry as (kind, value): int, slice, none, ellipsis, bool, arr (int array) or mask."""
    t = type(it)
    if t is int:  # the common entries first: abstract-class isinstance checks are slow
        return "int", it
    if t is slice and it.step is None and type(it.start) in _PLAIN and type(it.stop) in _PLAIN:
        return "slice", it
    if it is None:
        return "none", None
    if it is Ellipsis:
        return "ellipsis", None
    if isinstance(it, slice):
        return "slice", _check_slice(it)
    if isinstance(it, (bool, np.bool_)):
        return "bool", bool(it)
    if isinstance(it, numbers.Integral):
        return "int", int(it)
    if isinstance(it, Tensor):
        return _classify_array(it._data, xp, tensor=True)
    if isinstance(it, np.ndarray):
        return _classify_array(xp.asarray(it), xp, tensor=True)
    if isinstance(it, (list, tuple)):
        arr = np.asarray(it)
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return _classify_array(xp.asarray(arr), xp, tensor=False)
    if isinstance(it, numbers.Number):
        raise IndexError(_VALID.format(type(it).__name__))
    raise TypeError(_VALID.format(type(it).__name__))


def _classify_array(a: Any, xp: Any, tensor: bool) -> tuple:
    k = a.dtype.kind
    if k == "b" or (k == "u" and a.dtype.itemsize == 1 and tensor):  # uint8 tensors are (deprecated) masks
        if a.ndim == 0:
            return "bool", bool(a)
        return "mask", a.astype(bool, copy=False)
    if k in "iu":
        if a.ndim == 0 and tensor:  # a 0-d integer tensor acts as an int (a view, as in PyTorch)
            return "int", int(a)
        return "arr", a
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _check_slice(s: slice) -> slice:
    step = s.step
    if step is not None:
        step = _int_of(step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step < 0:
            raise ValueError("step must be greater than zero")
    start = _int_of(s.start) if s.start is not None else None
    stop = _int_of(s.stop) if s.stop is not None else None
    return slice(start, stop, step)


def _int_of(v: Any) -> int:
    try:
        return v.__index__()
    except (AttributeError, TypeError):
        raise TypeError("slice indices must be integers or None or have an __index__ method") from None


def _oob(i: int, d: int, size: int) -> IndexError:
    return IndexError(f"index {i} is out of bounds for dimension {d} with size {size}")


def _check_arr_range(a: Any, d: int, size: int, exc: type = IndexError, allow_neg: bool = True) -> None:
    """Raise ``exc`` naming the first index outside ``[-size, size)`` (``[0, size)`` without negatives)."""
    if a.size == 0:
        return
    lo = -size if allow_neg else 0
    if int(a.min()) >= lo and int(a.max()) < size:
        return
    bad = a[(a < lo) | (a >= size)].reshape(-1)
    raise exc(f"index {int(bad[0])} is out of bounds for dimension {d} with size {size}")


def parse_key(shape: tuple, key: Any, xp: Any) -> tuple:
    """Split ``key`` into ``(basic, adv)``: the view key on the input and the advanced key on the view.

    ``basic`` is None when it would be a no-op under an advanced key; ``adv`` is None for pure
    basic indexing. ``adv`` holds only slices and integer arrays (masks become their nonzero indices).
    """
    if isinstance(key, tuple):
        items = key
    elif isinstance(key, list) and _seq_as_tuple(key):
        items = tuple(key)
    else:
        items = (key,)
    entries = [_classify(it, xp) for it in items]
    ndim = len(shape)
    consumed = 0
    for kind, v in entries:
        if kind in ("int", "slice", "arr"):
            consumed += 1
        elif kind == "mask":
            consumed += v.ndim
    if consumed > ndim:
        if ndim == 0 and any(k == "int" for k, _ in entries):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic: list = []
    adv: list = []
    has_adv = False
    basic_trivial = True
    seen_ellipsis = False
    d = 0
    for kind, v in entries:
        if kind == "int":
            size = shape[d]
            if not -size <= v < size:
                raise _oob(v, d, size)
            basic.append(v)
            basic_trivial = False
            d += 1
        elif kind == "slice":
            basic.append(v)
            adv.append(slice(None))
            if v != slice(None):
                basic_trivial = False
            d += 1
        elif kind == "ellipsis":
            if seen_ellipsis:
                continue
            seen_ellipsis = True
            n = ndim - consumed
            basic.extend([slice(None)] * n)
            adv.extend([slice(None)] * n)
            d += n
        elif kind == "none":
            basic.append(None)
            adv.append(slice(None))
            basic_trivial = False
        elif kind == "bool":  # a new dim of size 1 (True) or 0 (False), as a copy
            basic.append(None)
            adv.append(xp.zeros(1 if v else 0, dtype=np.int64))
            basic_trivial = False
            has_adv = True
        elif kind == "arr":
            _check_arr_range(v, d, shape[d])
            basic.append(slice(None))
            adv.append(v)
            has_adv = True
            d += 1
        else:  # mask
            sub = shape[d:d + v.ndim]
            for j, (m, s) in enumerate(zip(v.shape, sub)):
                if m != s:
                    raise IndexError(f"The shape of the mask {list(v.shape)} at index {j} does not match the shape "
                                     f"of the indexed tensor {list(shape)} at index {d + j}")
            adv.extend(xp.nonzero(v))
            basic.extend([slice(None)] * v.ndim)
            has_adv = True
            d += v.ndim
    if not has_adv:
        return tuple(basic) + (Ellipsis,), None
    arrays = [a for a in adv if not isinstance(a, slice)]
    if len(arrays) > 1:
        try:
            xp.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join(str(list(a.shape)) for a in arrays)) from None
    while adv and isinstance(adv[-1], slice):
        adv.pop()
    return (None if basic_trivial else tuple(basic) + (Ellipsis,)), tuple(adv)


# ============================================================================ getitem
def _getitem(self: Tensor, key: Any) -> Tensor:
    """``x[key]`` with PyTorch's semantics: basic indexing gives a view, advanced indexing a copy."""
    if type(key) is int:  # the hot path: x[i]
        shape = self._data.shape
        if not shape:
            parse_key(shape, key, None)
        if not -shape[0] <= key < shape[0]:
            raise _oob(key, 0, shape[0])
        return BasicIndex.apply(self, basic=(key, Ellipsis))
    basic, adv = parse_key(self._data.shape, key, _xp_of(self._device))
    out = self
    if basic is not None:
        out = BasicIndex.apply(out, basic=basic)
    if adv is not None:
        out = AdvIndex.apply(out, adv=adv)
    return out


# ============================================================================ setitem
def _value_tensor(self: Tensor, value: Any) -> Any:
    if isinstance(value, Tensor):
        if value._device is not self._device:
            from ..autograd.graph import _device_mismatch
            _device_mismatch(self._device, value._device)
        return value
    if isinstance(value, (numbers.Number, np.generic)):
        return value
    raise TypeError(f"can't assign a {type(value).__module__ + '.' if isinstance(value, np.ndarray) else ''}"
                    f"{type(value).__name__} to a ember.{_type_name(self)}")


def _type_name(t: Tensor) -> str:
    return _torch_name(t.dtype) + "Tensor"


def _strip_leading_ones(v: Tensor, target_ndim: int) -> Tensor:
    """PyTorch drops a value's leading size-1 dims that the target does not have."""
    shape = v._data.shape
    k = 0
    while len(shape) - k > target_ndim and shape[k] == 1:
        k += 1
    return v if k == 0 else v.reshape(shape[k:])


def _copy_into_view(view: Tensor, value: Any) -> Tensor:
    """The functional part of ``view.copy_(value)``: ``value`` cast and broadcast to the view."""
    if not isinstance(value, Tensor):
        return as_tensor(value, dtype=view.dtype, device=view._device).expand(view._data.shape)
    value = _strip_leading_ones(value, view._data.ndim)
    if value._data.dtype != view._data.dtype:
        value = value.to(view.dtype)
    return value.expand(view._data.shape)


def _index_put_fn(x: Tensor, adv: tuple, value: Any, accumulate: bool) -> Tensor:
    return IndexPut.apply(x, value, adv=adv, accumulate=accumulate)


def _check_put_value(self_data: Any, adv: tuple, value: Any, xp: Any) -> Any:
    """Check a value for an advanced write and return it ready (leading ones stripped)."""
    if not isinstance(value, Tensor):
        return value
    if value._data.dtype != self_data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_torch_name(D._FROM_NP[self_data.dtype])} for the destination and "
                           f"{_torch_name(D._FROM_NP[value._data.dtype])} for the source.")
    target = _adv_shape(self_data, adv, xp)
    value = _strip_leading_ones(value, len(target))
    try:
        ok = np.broadcast_shapes(value._data.shape, target) == target
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(value._data.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(target)}")
    return value


def _adv_shape(data: Any, adv: tuple, xp: Any) -> tuple:
    """The shape of ``data[adv]`` without copying ``data`` (indexes a zero-strided byte array)."""
    return xp.broadcast_to(xp.zeros((), np.uint8), data.shape)[adv].shape


def _setitem(self: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value``: basic keys copy into the view, advanced keys run ``index_put_`` on it."""
    xp = _xp_of(self._device)
    basic, adv = parse_key(self._data.shape, key, xp)
    value = _value_tensor(self, value)
    needs_graph = _state.enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if adv is not None:
        value = _check_put_value(self._data if basic is None else self._data[basic], adv, value, xp)
    if not needs_graph:
        _setitem_fast(self, basic, adv, value)
        return
    target = BasicIndex.apply(self, basic=basic) if basic is not None else self
    if adv is None:
        inplace(target, _copy_into_view, value)
    else:
        inplace(target, _index_put_fn, adv, value, False)


def _setitem_fast(self: Tensor, basic: Any, adv: Any, value: Any) -> None:
    data = self._data
    if not getattr(data.flags, "writeable", True):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.")
    region = data[basic] if basic is not None else data
    if isinstance(value, Tensor):
        v = value._data
        if adv is None:
            v = _strip_leading_ones(value, region.ndim)._data
            try:
                xp_ok = np.broadcast_shapes(v.shape, region.shape) == region.shape
            except ValueError:
                xp_ok = False
            if not xp_ok:
                _expand_error(region.shape, v.shape)
    else:
        v = value
    if adv is None:
        region[...] = v
    else:
        region[adv] = v
    self._vc[0] += 1


def _expand_error(target: tuple, shape: tuple) -> None:
    lead = len(target) - len(shape)
    for i, s in enumerate(shape):
        t = target[i + lead] if i + lead >= 0 else None
        if s != 1 and s != t:
            raise RuntimeError(f"The expanded size of the tensor ({t}) must match the existing size ({s}) at "
                               f"non-singleton dimension {i + lead}.  Target sizes: {list(target)}.  Tensor sizes: "
                               f"{list(shape)}")
    raise RuntimeError(f"expand: cannot broadcast {list(shape)} to {list(target)}")


# ============================================================================ index_put
def _indices_key(indices: Any) -> tuple:
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    for t in indices:
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"index_put(): indices must be Tensors, not {type(t).__name__}")
        if t is not None and t._data.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return tuple(slice(None) if t is None else t for t in indices)


def _index_put_impl(input: Tensor, indices: Any, values: Any) -> tuple:
    xp = _xp_of(input._device)
    basic, adv = parse_key(input._data.shape, _indices_key(indices), xp)
    if adv is None:  # 0-d index tensors only: the whole selected region
        adv = ()
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' must be Tensor, not {type(values).__name__}")
    values = _check_put_value(input._data if basic is None else input._data[basic], adv, values, xp)
    return basic, adv, values


def index_put(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written (or added) at the index tensors ``indices``.

    >>> import ember
    >>> ember.zeros(3).index_put((ember.tensor([0, 0]),), ember.tensor(1.), accumulate=True)
    tensor([2., 0., 0.])
    """
    basic, adv, values = _index_put_impl(input, indices, values)
    if basic is None:
        return IndexPut.apply(input, values, adv=adv, accumulate=bool(accumulate))
    return index_put_(input.clone(), indices, values, accumulate)


def index_put_(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """In-place ``index_put``: ``input[indices] = values`` (or ``+=`` with ``accumulate``)."""
    basic, adv, values = _index_put_impl(input, indices, values)
    target = input if basic is None else BasicIndex.apply(input, basic=basic)
    inplace(target, _index_put_fn, adv, values, bool(accumulate))
    return input


# ============================================================================== masks
def _check_mask(mask: Any, op: str) -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{_c_name(mask.dtype)}")


def _c_name(dt: D.dtype) -> str:
    return {"uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
            "int64": "long int", "float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "bool": "bool"}.get(dt.name, dt.name)


def _fill_value(input: Tensor, value: Any, op: str) -> Tensor:
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        return value if value._data.dtype == input._data.dtype else value.to(input.dtype)
    if not isinstance(value, (numbers.Number, np.generic)):
        raise TypeError(f"{op}(): argument 'value' must be Number or Tensor, not {type(value).__name__}")
    return as_tensor(value, dtype=input.dtype, device=input._device)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``value`` where ``mask`` is True, else ``input`` (mask broadcasts); differentiable in a tensor value.

    >>> import ember
    >>> ember.tensor([1., 2.]).masked_fill(ember.tensor([True, False]), 0.)
    tensor([0., 2.])
    """
    _check_mask(mask, "masked_fill_")
    from .pointwise import where
    return where(mask, _fill_value(input, value, "masked_fill_"), input)


def _masked_fill_(self: Tensor, mask: Tensor, value: Any) -> Tensor:
    _check_mask(mask, "masked_fill_")
    _check_inplace_broadcast(self, mask)
    return inplace(self, masked_fill, mask, value)


def _check_inplace_broadcast(self: Tensor, other: Tensor) -> None:
    shape = self._data.shape
    try:
        b = np.broadcast_shapes(shape, other._data.shape)
    except ValueError:
        b = None
    if b != shape:
        from .inplace import _raise_shape
        _raise_shape(_broadcast_error(self, other) if b is None else _Shape(b), self)


class _Shape:
    def __init__(self, shape: tuple):
        self.shape = list(shape)


def _broadcast_error(a: Tensor, b: Tensor) -> Any:
    sa, sb = a._data.shape, b._data.shape
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                               f"non-singleton dimension {i}")
    raise RuntimeError("shapes cannot be broadcast")


def _broadcast_pair(input: Tensor, mask: Tensor) -> tuple:
    try:
        shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    except ValueError:
        _broadcast_error(input, mask)
    x = input if input._data.shape == shape else input.expand(shape)
    m = mask._data if mask._data.shape == shape else _xp_of(mask._device).broadcast_to(mask._data, shape)
    return x, m


def masked_select(input: Tensor, mask: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elements of ``input`` where ``mask`` (broadcast together) is True, as a 1-D tensor.

    >>> import ember
    >>> ember.tensor([1., 2., 3.]).masked_select(ember.tensor([True, False, True]))
    tensor([1., 3.])
    """
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    x, m = _broadcast_pair(input, mask)
    if m.ndim == 0:
        x, m = x.reshape(1), m.reshape(1)
    return write_out(AdvIndex.apply(x, adv=tuple(_xp_of(input._device).nonzero(m))), out)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with the True places of ``mask`` filled, in order, from ``source``'s elements.

    >>> import ember
    >>> ember.zeros(3).masked_scatter(ember.tensor([True, False, True]), ember.tensor([1., 2.]))
    tensor([1., 0., 2.])
    """
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_c_name(mask.dtype) if isinstance(mask, Tensor) else type(mask).__name__}")
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_torch_name(input.dtype)} and {_torch_name(source.dtype)}")
    x, m = _broadcast_pair(input, mask)
    if m.ndim == 0:
        return masked_scatter(x.reshape(1), mask.reshape(1), source).reshape(())
    key = tuple(_xp_of(input._device).nonzero(m))
    n = int(key[0].shape[0])
    if source._data.size < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    flat = source.reshape(-1)
    part = flat if flat._data.shape[0] == n else BasicIndex.apply(flat, basic=(slice(0, n), Ellipsis))
    return IndexPut.apply(x, part, adv=key, accumulate=False)


def _masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    if isinstance(mask, Tensor):
        _check_inplace_broadcast(self, mask)
    return inplace(self, masked_scatter, mask, source)


# ============================================================================== nonzero
def nonzero(input: Tensor, *, out: Tensor | None = None, as_tuple: bool = False) -> Any:
    """Indices of the nonzero elements: an ``(n, ndim)`` int64 tensor, or one 1-D tensor per dim.

    >>> import ember
    >>> ember.tensor([0, 3, 0, 5]).nonzero(as_tuple=True)
    (tensor([1, 3]),)
    """
    from .._tensor import _wrap
    data = input._data
    xp = _xp_of(input._device)
    if data.ndim == 0:
        idx = (xp.zeros(1 if bool(data) else 0, np.int64),)
        if as_tuple:
            return tuple(_wrap(i, input._device) for i in idx)
        return write_out(_wrap(xp.zeros((idx[0].shape[0], 0), np.int64), input._device), out)
    idx = xp.nonzero(data)
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64, copy=False), input._device) for i in idx)
    res = xp.stack(idx, axis=1).astype(np.int64, copy=False) if idx else xp.zeros((0, 0), np.int64)
    return write_out(_wrap(res, input._device), out)


def argwhere(input: Tensor) -> Tensor:
    """Same as ``nonzero(input)``: an ``(n, ndim)`` tensor of the nonzero elements' indices.

    >>> import ember
    >>> ember.argwhere(ember.tensor([[0, 1], [2, 0]]))
    tensor([[0, 1],
            [1, 0]])
    """
    return nonzero(input)


# ============================================================================ take / put
def _check_long(index: Any, op: str) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._data.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {_torch_name(index.dtype)}")


def _check_flat_range(index: Any, n: int) -> None:
    a = index._data
    if a.size and (int(a.min()) < -n or int(a.max()) >= n):
        bad = a[(a < -n) | (a >= n)].reshape(-1)
        raise IndexError(f"out of range: tried to access index {int(bad[0])} on a tensor of {n} elements.")


def take(input: Tensor, index: Tensor) -> Tensor:
    """``input`` read as a 1-D tensor at ``index`` (any shape; negative indices count from the end).

    >>> import ember
    >>> ember.tensor([[1., 2.], [3., 4.]]).take(ember.tensor([0, -1]))
    tensor([1., 4.])
    """
    _check_long(index, "take")
    _check_flat_range(index, input._data.size)
    return AdvIndex.apply(input.reshape(-1), adv=(index._data,))


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source`` written (or added) at the flat positions ``index``.

    >>> import ember
    >>> ember.zeros(2, 2).put(ember.tensor([3]), ember.tensor([9.]))
    tensor([[0., 0.],
            [0., 9.]])
    """
    _check_long(index, "put_")
    if not isinstance(source, Tensor):
        raise TypeError(f"put(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_torch_name(input.dtype)} and source.dtype = {_torch_name(source.dtype)}")
    if source._data.size != index._data.size:
        raise RuntimeError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    _check_flat_range(index, input._data.size)
    flat = IndexPut.apply(input.reshape(-1), source.reshape(-1), adv=(index._data.reshape(-1),),
                          accumulate=bool(accumulate))
    return flat.reshape(input._data.shape)


# =============================================================================== methods
method("__getitem__", _getitem)
method("__setitem__", _setitem)
method("index_put", index_put)
method("index_put_", index_put_)
method("masked_fill", masked_fill)
method("masked_fill_", _masked_fill_)
method("masked_select", masked_select)
method("masked_scatter", masked_scatter)
method("masked_scatter_", _masked_scatter_)
method("nonzero", nonzero)
method("argwhere", argwhere)
method("take", take)
method("put", put)
method("put_", lambda self, index, source, accumulate=False: inplace(self, put, index, source, accumulate))
