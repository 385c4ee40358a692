"""``ember.Tensor``: one backend array, its device, and its autograd state.

A tensor is made for every op, so construction is the framework's floor: ``__slots__``,
and ``_wrap`` bypasses ``__init__``. Rarely used state (hooks, the view function, the
weakly cached grad accumulator) lives in one ``_extra`` dict made on demand. Math,
shape and indexing methods are attached by the op modules in ``ember._ops``.

>>> import ember
>>> x = ember.tensor([1., 2.], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 4.])
"""
from __future__ import annotations

import weakref
from typing import Any, Iterator

import numpy as np

from . import _dtype as D
from ._device import cpu, device as _device_cls
from .autograd.grad_mode import _state
from .autograd.graph import AccumulateGrad, _RemovableHandle

_new = object.__new__


class Tensor:
    """A multi-dimensional array with autograd, laid out like ``torch.Tensor``.

    Make tensors with ``ember.tensor``, ``ember.zeros`` and friends. Calling ``ember.Tensor``
    directly follows PyTorch's legacy constructor: ``Tensor([1, 2])`` gives a float tensor,
    ``Tensor(2, 3)`` an (uninitialised, here zero-filled) 2x3 tensor.
    """

    __slots__ = ("_data", "_device", "_requires_grad", "_grad", "_grad_fn", "_output_nr", "_vc", "_base",
                 "_extra", "__weakref__")
    # NumPy must hand mixed expressions (np.float32(2) * t) to our reflected operators.
    __array_priority__ = 1000
    __array_ufunc__ = None

    def __new__(cls, *args: Any, **kwargs: Any) -> "Tensor":
        from ._creation import _legacy_tensor
        data = _legacy_tensor(*args, **kwargs)
        t = _new(cls)
        _init(t, data._data, data._device, False)
        return t

    # ------------------------------------------------------------------------------- metadata
    @property
    def shape(self) -> "Size":
        return _tuple_new(Size, self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        """The shape as ``ember.Size``, or one dimension's length."""
        if dim is None:
            return _tuple_new(Size, self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> D.dtype:
        return D._FROM_NP[self._data.dtype]

    @property
    def device(self) -> _device_cls:
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    @property
    def is_meta(self) -> bool:
        return False

    @property
    def is_sparse(self) -> bool:
        return False

    @property
    def is_quantized(self) -> bool:
        return False

    @property
    def layout(self) -> str:
        return "torch.strided"

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def stride(self, dim: int | None = None) -> Any:
        """Strides in elements (not bytes), as PyTorch reports them."""
        item = self._data.itemsize
        st = tuple(s // item for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self) -> int:
        data = self._data
        base = data.base if isinstance(data.base, np.ndarray) else None
        if base is None:
            return 0
        return (data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // data.itemsize

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return int(self._data.__array_interface__["data"][0]) if self._device is cpu else int(self._data.data.ptr)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or self._data.dtype.name == "bfloat16"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        return D._FROM_NP[self._data.dtype].is_signed

    def get_device(self) -> int:
        return -1 if self._device.type == "cpu" else (self._device.index or 0)

    def is_inference(self) -> bool:
        return False

    @property
    def _version(self) -> int:
        return self._vc[0]

    def _is_view(self) -> bool:
        return self._base is not None

    # -------------------------------------------------------------------------------- autograd
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set whether autograd records operations on this (leaf) tensor. Returns self."""
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to "
                                   "use a computed variable in a subgraph that doesn't require differentiation "
                                   "use var_no_grad = var.detach().")
            return self
        if requires_grad and not (self._data.dtype.kind in "fc" or self._data.dtype.name == "bfloat16"):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self) -> Any:
        return self._grad_fn

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def grad(self) -> "Tensor | None":
        if self._grad is None and self._grad_fn is not None and not self._get_extra("retains_grad"):
            import warnings
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                          ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                          "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                          "non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value._data.shape != self._data.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value._device is not self._device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return bool(self._get_extra("retains_grad"))

    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate the gradient of this tensor w.r.t. graph leaves into their ``.grad``."""
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook: Any) -> _RemovableHandle:
        """``hook(grad) -> Tensor | None`` runs when this tensor's gradient is computed."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = self._grad_fn if self._grad_fn is not None else self._grad_accumulator()
        nr = self._output_nr if self._grad_fn is not None else 0
        if node._pre_hooks is None:
            node._pre_hooks = {}
        lst = node._pre_hooks.setdefault(nr, [])
        if self._grad_fn is None:  # the accumulator is only weakly cached: the leaf keeps its hooks
            self._set_extra("leaf_hooks", lst)
        if lst and getattr(lst[-1], "_retains_grad", False):
            lst.insert(len(lst) - 1, hook)  # retain_grad sees the gradient after every hook, as in PyTorch
        else:
            lst.append(hook)
        return _RemovableHandle(lst, hook)

    def register_post_accumulate_grad_hook(self, hook: Any) -> _RemovableHandle:
        """``hook(tensor)`` runs after a leaf's ``.grad`` was accumulated."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        lst = self._get_extra("post_accumulate_hooks")
        if lst is None:
            lst = []
            self._set_extra("post_accumulate_hooks", lst)
        lst.append(hook)
        return _RemovableHandle(lst, hook)

    def retain_grad(self) -> None:
        """Populate ``.grad`` for this non-leaf tensor during backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._get_extra("retains_grad"):
            return
        ref = weakref.ref(self)

        def keep(g: "Tensor") -> None:
            t = ref()
            if t is None:
                return
            g = g if g._requires_grad else _wrap(g._data.copy(), g._device)
            t._grad = g if t._grad is None else t._grad + g
        keep._retains_grad = True
        self.register_hook(keep)
        self._set_extra("retains_grad", True)

    def _grad_accumulator(self) -> AccumulateGrad:
        ref = self._get_extra("acc")
        acc = ref() if ref is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            hooks = self._get_extra("leaf_hooks")
            if hooks is not None:
                acc._pre_hooks = {0: hooks}
            self._set_extra("acc", weakref.ref(acc))
        return acc

    def detach(self) -> "Tensor":
        """A tensor sharing this one's memory and version counter, outside the graph."""
        t = _wrap(self._data, self._device)
        t._vc = self._vc
        return t

    def detach_(self) -> "Tensor":
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    @property
    def data(self) -> "Tensor":
        return _wrap(self._data, self._device)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._device = value._device

    # ------------------------------------------------------------------------------ conversion
    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item() if self._device is cpu else self._data.reshape(()).get().item()

    def tolist(self) -> Any:
        return self._host().tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The NumPy array sharing this tensor's memory (CPU only)."""
        if not force:
            if self._requires_grad:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                                   "instead.")
            if self._device is not cpu:
                raise TypeError(f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() to "
                                "copy the tensor to host memory first.")
        return self._host()

    def _host(self) -> np.ndarray:
        if self._device is cpu:
            return self._data
        from ._backend import backend_for
        return backend_for(self._device).to_numpy(self._data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with "
                               f"{'no values' if self._data.size == 0 else 'more than one value'} is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __complex__(self) -> complex:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return complex(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from ._printing import tensor_repr
        return tensor_repr(self, tensor_contents=tensor_contents)

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __deepcopy__(self, memo: dict) -> "Tensor":
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                               "be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = _new(type(self))
        _init(new, self._data.copy(), self._device, self._requires_grad)
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        extra = self._get_extra("pydict")
        if extra:
            import copy
            new._set_extra("pydict", copy.deepcopy(extra, memo))
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_tensor, (type(self), self._host(), self._requires_grad, str(self._device)))

    # ---------------------------------------------------------------------- internal helpers
    def _get_extra(self, key: str) -> Any:
        e = self._extra
        return None if e is None else e.get(key)

    def _set_extra(self, key: str, value: Any) -> None:
        if self._extra is None:
            self._extra = {}
        self._extra[key] = value

    def _view_fn(self) -> Any:
        e = self._extra
        return None if e is None else e.get("view_fn")

    def _shallow(self) -> "Tensor":
        """Another handle on the same data and the same place in the graph (for in-place rebasing)."""
        t = _new(Tensor)
        t._data, t._device, t._requires_grad = self._data, self._device, self._requires_grad
        t._grad, t._grad_fn, t._output_nr, t._vc, t._base, t._extra = None, self._grad_fn, self._output_nr, \
            self._vc, None, None
        if self._grad_fn is None and self._requires_grad:
            t._set_extra("acc", weakref.ref(self._grad_accumulator()))
        return t


def _init(t: Tensor, data: Any, dev: Any, requires_grad: bool) -> None:
    t._data = data
    t._device = dev
    t._requires_grad = requires_grad
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    t._vc = [0]
    t._base = None
    t._extra = None


def _wrap(data: Any, dev: Any = cpu, requires_grad: bool = False) -> Tensor:
    """Make a tensor around a backend array without copying (the hot path of every op)."""
    t = _new(Tensor)
    t._data = data
    t._device = dev
    t._requires_grad = requires_grad
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    t._vc = [0]
    t._base = None
    t._extra = None
    return t


def _rebuild_tensor(cls: type, array: np.ndarray, requires_grad: bool, dev: str = "cpu") -> Tensor:
    t = _new(cls)
    _init(t, np.array(array), cpu, requires_grad)
    if dev != "cpu":
        t = t.to(dev)
    return t


def _wrap_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative dim, raising PyTorch's IndexError when out of range."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


from .autograd import graph as _graph  # noqa: E402  (bind the hot-path globals of the recorder)

_graph.Tensor, _graph._wrap, _graph._cpu = Tensor, _wrap, cpu
_graph.Node._device = cpu


_tuple_new = tuple.__new__


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``ember.Size([2, 3])``.

    >>> import ember
    >>> ember.Size([2, 3]).numel()
    6
    """

    def __new__(cls, sizes: Any = ()) -> "Size":
        out = []
        for i, n in enumerate(sizes):
            if type(n) is not int:
                if not hasattr(n, "__index__"):
                    raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is '{type(n).__name__}')")
                n = n.__index__()  # NumPy ints, 1-element integer tensors
            out.append(n)
        return _tuple_new(cls, out)

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key: Any) -> Any:
        r = tuple.__getitem__(self, key)
        return _tuple_new(Size, r) if isinstance(key, slice) else r

    def __add__(self, other: Any) -> "Size":
        if not isinstance(other, tuple):
            return NotImplemented
        return _tuple_new(Size, tuple(self) + other)

    def __radd__(self, other: Any) -> "Size":
        if not isinstance(other, tuple):
            return NotImplemented
        return _tuple_new(Size, other + tuple(self))

    def __mul__(self, n: Any) -> "Size":
        return _tuple_new(Size, tuple(self) * n)

    __rmul__ = __mul__

    def __reduce__(self) -> Any:
        return (Size, (tuple(self),))
