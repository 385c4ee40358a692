"""Reading checkpoints safely: storages, tensor rebuilding, and the allowlist unpickler behind ``ember.load``.

``_WeightsUnpickler`` resolves only allowlisted globals (tensors, storages, ``OrderedDict``, plain
containers, numbers, ``Size``, dtypes, devices, and what ``add_safe_globals`` adds) and refuses any
other with ``pickle.UnpicklingError`` naming it, before anything is called.
"""
from __future__ import annotations

import _compat_pickle
import collections
import pickle
from typing import Any, BinaryIO, Callable

import numpy as np

from . import _dtype as D
from ._device import cpu, device as _device_cls
from ._tensor import Size, Tensor, _wrap


# PyTorch's typed-storage class names, by ember dtype name.
_STORAGE_NAMES = {"float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
                  "bfloat16": "BFloat16Storage", "uint8": "ByteStorage", "int8": "CharStorage",
                  "int16": "ShortStorage", "int32": "IntStorage", "int64": "LongStorage", "bool": "BoolStorage",
                  "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage"}
_STORAGE_DTYPES = {v: k for k, v in _STORAGE_NAMES.items()}


def _bfloat16_bits_to_float32(raw: np.ndarray, byteorder: str = "<") -> np.ndarray:
    """bfloat16 elements (raw bytes) widened exactly to float32, for when ``ml_dtypes`` is absent:
    a bfloat16 is the upper 16 bits of the float32 with the same value."""
    import warnings
    warnings.warn("ember.load: the checkpoint holds bfloat16 tensors and ml_dtypes is not installed; they are "
                  "loaded as float32 (exactly the same values). pip install ml_dtypes to keep bfloat16.",
                  UserWarning, stacklevel=4)
    bits = raw.view(np.dtype(np.uint16).newbyteorder(byteorder)).astype(np.uint32)
    return (bits << 16).view(np.float32)


# =============================================================================== zip writer

class Storage:
    """A loaded storage: flat host memory, its dtype and device (what ``map_location`` callables get).

    >>> s.cpu()  # doctest: +SKIP
    """

    __slots__ = ("_array", "dtype", "device")

    def __init__(self, array: np.ndarray, dtype: D.dtype, device: Any = cpu):
        self._array = array
        self.dtype = dtype
        self.device = _device_cls(device)

    def size(self) -> int:
        return int(self._array.size)

    __len__ = size

    def nbytes(self) -> int:
        return int(self._array.nbytes)

    def cpu(self) -> "Storage":
        return Storage(self._array, self.dtype, cpu)

    def cuda(self, device: Any = None, non_blocking: bool = False) -> "Storage":
        dev = _device_cls("cuda", 0) if device is None else _device_cls(device)
        if isinstance(device, int):
            dev = _device_cls("cuda", device)
        return Storage(self._array, self.dtype, dev)

    def to(self, device: Any = None, non_blocking: bool = False) -> "Storage":
        return Storage(self._array, self.dtype, device)

    def __repr__(self) -> str:
        return f"ember.Storage(dtype={self.dtype}, size={self.size()}, device={self.device})"


class _StorageType:
    """Stands for ``torch.FloatStorage`` (dtype set) or ``torch.storage.UntypedStorage`` (bytes)."""

    __slots__ = ("dtype", "untyped")

    def __init__(self, dtype: D.dtype, untyped: bool = False):
        self.dtype, self.untyped = dtype, untyped


def _check_int(v: Any, what: str) -> int:
    if type(v) is not int and not isinstance(v, (int, np.integer)) or isinstance(v, bool):
        raise pickle.UnpicklingError(f"ember.load: expected an int for the tensor's {what}, got {type(v).__name__}")
    return int(v)


def _as_view(storage: Storage, dtype: D.dtype, offset: Any, size: Any, stride: Any) -> np.ndarray:
    """A strided view of the storage, after checking it stays inside the storage's memory."""
    if not isinstance(storage, Storage):
        raise pickle.UnpicklingError(f"ember.load: expected a storage, got {type(storage).__name__}")
    if not isinstance(size, tuple) or not isinstance(stride, tuple) or len(size) != len(stride):
        raise pickle.UnpicklingError("ember.load: malformed tensor size/stride in the checkpoint")
    offset = _check_int(offset, "storage offset")
    size = tuple(_check_int(s, "size") for s in size)
    stride = tuple(_check_int(s, "stride") for s in stride)
    if dtype is not None and dtype.np_dtype is None:  # bfloat16 without ml_dtypes: widened to float32
        if storage.dtype is D.uint8:  # an untyped storage read as bfloat16: widen it once, in place
            if storage._array.nbytes % 2:
                raise RuntimeError(f"ember.load: a storage of {storage._array.nbytes} bytes cannot hold bfloat16 "
                                   "elements")
            storage._array, storage.dtype = _bfloat16_bits_to_float32(storage._array), D.float32
        dtype = D.float32
    flat = storage._array
    if storage.dtype is not dtype:
        if flat.nbytes % dtype.itemsize:
            raise RuntimeError(f"ember.load: a storage of {flat.nbytes} bytes cannot hold {dtype} elements")
        flat = flat.view(dtype.np_dtype)
    if offset < 0 or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"ember.load: negative size, stride or offset in the checkpoint "
                           f"(size={list(size)}, stride={list(stride)}, offset={offset})")
    if 0 in size:
        return np.empty(size, dtype.np_dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= flat.size:
        raise RuntimeError(f"ember.load: the tensor (size={list(size)}, stride={list(stride)}, offset={offset}) "
                           f"reads past the end of its storage of {flat.size} elements; the file is corrupt")
    item = flat.itemsize
    return np.lib.stride_tricks.as_strided(flat[offset:], size, tuple(s * item for s in stride),
                                           writeable=flat.flags.writeable)


def _finish_tensor(arr: np.ndarray, storage: Storage, requires_grad: Any) -> Tensor:
    t = _wrap(arr, cpu)
    if storage.device is not cpu:
        t = t.to(storage.device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v2(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any = False,
                       backward_hooks: Any = None, metadata: Any = None) -> Tensor:
    dt = storage.dtype if isinstance(storage, Storage) else None
    return _finish_tensor(_as_view(storage, dt, storage_offset, size, stride), storage, requires_grad)


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> Tensor:
    # PyTorch < 1.0 wrote tensors this way (legacy-format checkpoints)
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any,
                       backward_hooks: Any, dtype: Any, metadata: Any = None) -> Tensor:
    if not isinstance(dtype, D.dtype):
        raise pickle.UnpicklingError(f"ember.load: expected a dtype, got {type(dtype).__name__}")
    return _finish_tensor(_as_view(storage, dtype, storage_offset, size, stride), storage, requires_grad)


def _make_parameter(data: Any, requires_grad: Any) -> Tensor:
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"ember.load: a parameter needs a tensor, got {type(data).__name__}")
    nn = None
    try:
        import importlib
        nn = importlib.import_module("ember.nn")
    except ImportError:
        pass
    param = getattr(nn, "Parameter", None)
    if param is not None:
        return param(data, bool(requires_grad))
    if requires_grad and not data._requires_grad:
        data.requires_grad_(True)
    return data


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any) -> Tensor:
    return _make_parameter(data, requires_grad)


def _set_state(obj: Any, state: Any) -> None:
    if not state:
        return
    if not isinstance(state, dict):
        raise pickle.UnpicklingError("ember.load: a tensor's extra state must be a dict")
    for k, v in state.items():
        if not isinstance(k, str) or k.startswith("_"):
            raise pickle.UnpicklingError(f"ember.load: refusing to set attribute {k!r} on a tensor")
        try:
            setattr(obj, k, v)
        except AttributeError:
            import warnings
            warnings.warn(f"ember.load: dropped the tensor attribute {k!r} (ember tensors take no extra "
                          f"attributes)", stacklevel=3)


def _rebuild_parameter_with_state(data: Any, requires_grad: Any, backward_hooks: Any, state: Any) -> Tensor:
    p = _make_parameter(data, requires_grad)
    _set_state(p, state)
    return p


class _TensorClass:
    """Stands for ``torch.Tensor`` / ``torch.nn.Parameter`` as the type argument of ``_rebuild_from_type_v2``."""

    __slots__ = ("parameter",)

    def __init__(self, parameter: bool):
        self.parameter = parameter


_TENSOR_CLS, _PARAM_CLS = _TensorClass(False), _TensorClass(True)
_REBUILDERS: set = set()


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Tensor:
    if func not in _REBUILDERS or not isinstance(args, tuple):
        raise pickle.UnpicklingError("ember.load: _rebuild_from_type_v2 may only call a tensor rebuild function")
    t = func(*args)
    if not isinstance(t, Tensor):
        raise pickle.UnpicklingError("ember.load: _rebuild_from_type_v2 did not produce a tensor")
    if new_type is _PARAM_CLS:
        t = _make_parameter(t, t._requires_grad)
    elif new_type is not _TENSOR_CLS and new_type not in _user_globals.values():
        raise pickle.UnpicklingError(f"ember.load: unsupported tensor subclass {new_type!r}")
    _set_state(t, state)
    return t


_REBUILDERS.update({_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter, _rebuild_parameter_with_state})


def _codecs_encode(obj: Any, encoding: Any = "utf-8", errors: Any = "strict") -> bytes:
    # Protocol 2 pickles bytes as _codecs.encode(str, 'latin1'); allow only that, not arbitrary codecs.
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8") or errors != "strict":
        raise pickle.UnpicklingError("ember.load: _codecs.encode is only allowed on a str with latin1 or utf-8")
    return obj.encode(encoding)


def _safe_bytearray(*args: Any) -> bytearray:
    if len(args) > 2 or (args and not isinstance(args[0], (bytes, str))):
        raise pickle.UnpicklingError("ember.load: bytearray may only be rebuilt from bytes")
    return bytearray(*args)


def _torch_globals() -> dict:
    g: dict = {
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "Tensor"): _TENSOR_CLS,
        ("torch._tensor", "Tensor"): _TENSOR_CLS,
        ("torch.nn.parameter", "Parameter"): _PARAM_CLS,
        ("torch.nn", "Parameter"): _PARAM_CLS,
        ("torch", "Size"): Size,
        ("torch", "device"): _device_cls,
        ("torch.storage", "UntypedStorage"): _StorageType(D.uint8, untyped=True),
        ("torch", "UntypedStorage"): _StorageType(D.uint8, untyped=True),
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("builtins", "slice"): slice,
        ("builtins", "bytearray"): _safe_bytearray,
        ("_codecs", "encode"): _codecs_encode,
    }
    for dname, sname in _STORAGE_NAMES.items():
        g[("torch", sname)] = _StorageType(D._BY_NAME[dname])
    for d in D.ALL_DTYPES:
        g[("torch", d.name)] = d
    return g


_SAFE = _torch_globals()
# Classes that may be constructed with NEWOBJ/INST/OBJ (calls of cls(...) and cls.__new__).
_SAFE_CLASSES = {collections.OrderedDict, set, frozenset, complex, slice, Size, _device_cls}
_user_globals: dict = {}

_UNSUPPORTED_DTYPES = {"uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
                       "float8_e5m2fnuz", "complex32", "qint8", "quint8", "qint32", "bits8", "bits16"}


def _global_name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes/functions (or ``(obj, "module.name")`` pairs) in ``ember.load(weights_only=True)``.

    >>> ember.serialization.add_safe_globals([MyConfig])  # doctest: +SKIP
    """
    for g in safe_globals:
        if isinstance(g, tuple) and len(g) == 2:
            obj, name = g
        else:
            obj, name = g, _global_name(g)
        _user_globals[name] = obj


def get_safe_globals() -> list:
    """The user-added globals allowed by the weights-only loader."""
    return list(_user_globals.values())


def clear_safe_globals() -> None:
    """Forget every global added with ``add_safe_globals``."""
    _user_globals.clear()


class safe_globals:
    """Context manager that allows extra globals for the loads inside it.

    >>> with ember.serialization.safe_globals([MyConfig]): ember.load("f.pt")  # doctest: +SKIP
    """

    def __init__(self, safe_globals: list):
        self._globals = safe_globals

    def __enter__(self) -> None:
        self._saved = dict(_user_globals)
        add_safe_globals(self._globals)

    def __exit__(self, *exc: Any) -> None:
        _user_globals.clear()
        _user_globals.update(self._saved)


_WEIGHTS_ONLY_HELP = ("Weights only load failed. ember.load(weights_only=True), the default, unpickles only "
                      "tensors, storages, OrderedDict, plain containers, numbers, strings, Size, dtypes and "
                      "devices. Re-running with weights_only=False may succeed but can execute arbitrary code: do "
                      "that only for files from a trusted source. To allow a specific global, use "
                      "ember.serialization.add_safe_globals([...]).\n\n")


def _refuse(what: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(_WEIGHTS_ONLY_HELP + what)


def _lookup_safe(module: str, name: str) -> Any:
    obj = _SAFE.get((module, name))
    if obj is not None:
        return obj
    user = _user_globals.get(f"{module}.{name}")
    if user is not None:
        return user
    if module == "torch" and name in _UNSUPPORTED_DTYPES:
        raise TypeError(f"ember.load: the checkpoint uses torch.{name}, which ember has no dtype for")
    raise _refuse(f"Unsupported global: GLOBAL {module}.{name} was not an allowed global by default.")


def _user_class(obj: Any) -> bool:
    return isinstance(obj, type) and any(obj is v for v in _user_globals.values())


_P = pickle


class _WeightsUnpickler(pickle._Unpickler):
    """The Python unpickler with every opcode that can call or mutate arbitrary objects guarded."""

    dispatch = pickle._Unpickler.dispatch.copy()

    def __init__(self, file: BinaryIO, persistent_load: Callable):
        super().__init__(file, encoding="utf-8")
        self._pload = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        if not isinstance(module, str) or not isinstance(name, str):
            raise _refuse("GLOBAL with a non-string name")
        if self.proto < 3:  # Python 3 writes protocol-2 globals under their Python 2 names
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        return _lookup_safe(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return self._pload(pid)

    def _check_class(self, cls: Any, op: str) -> None:
        if not (cls in _SAFE_CLASSES or _user_class(cls)):
            raise _refuse(f"Unsupported operand for {op}: {cls!r} may not be constructed this way.")

    def load_newobj(self) -> None:
        self._check_class(self.stack[-2], "NEWOBJ")
        pickle._Unpickler.load_newobj(self)

    def load_newobj_ex(self) -> None:
        self._check_class(self.stack[-3], "NEWOBJ_EX")
        pickle._Unpickler.load_newobj_ex(self)

    def load_obj(self) -> None:
        args = self.pop_mark()
        if not args:
            raise _refuse("malformed OBJ")
        self._check_class(args[0], "OBJ")
        self.append(args[0](*args[1:]))

    def load_inst(self) -> None:
        module = self.readline()[:-1].decode("ascii")
        name = self.readline()[:-1].decode("ascii")
        klass = self.find_class(module, name)
        self._check_class(klass, "INST")
        self.append(klass(*self.pop_mark()))

    def load_build(self) -> None:
        inst = self.stack[-2]
        state = self.stack[-1]
        if type(inst) is collections.OrderedDict and type(state) is dict and all(
                type(k) is str and not k.startswith("__") for k in state):
            # state_dict()'s ``_metadata`` attribute: plain instance attributes, nothing called
            self.stack.pop()
            inst.__dict__.update(state)
            return
        if not _user_class(type(inst)):
            raise _refuse(f"Unsupported operand for BUILD: setting the state of a {type(inst).__name__} is not "
                          "allowed.")
        pickle._Unpickler.load_build(self)

    def load_append(self) -> None:
        if type(self.stack[-2]) is not list:
            raise _refuse(f"APPEND on a {type(self.stack[-2]).__name__}")
        pickle._Unpickler.load_append(self)

    def load_appends(self) -> None:
        items = self.pop_mark()
        if type(self.stack[-1]) is not list:
            raise _refuse(f"APPENDS on a {type(self.stack[-1]).__name__}")
        self.stack[-1].extend(items)

    def load_setitem(self) -> None:
        if type(self.stack[-3]) not in (dict, collections.OrderedDict):
            raise _refuse(f"SETITEM on a {type(self.stack[-3]).__name__}")
        pickle._Unpickler.load_setitem(self)

    def load_setitems(self) -> None:
        items = self.pop_mark()
        d = self.stack[-1]
        if type(d) not in (dict, collections.OrderedDict):
            raise _refuse(f"SETITEMS on a {type(d).__name__}")
        for i in range(0, len(items), 2):
            d[items[i]] = items[i + 1]

    def load_additems(self) -> None:
        items = self.pop_mark()
        s = self.stack[-1]
        if type(s) is not set:
            raise _refuse(f"ADDITEMS on a {type(s).__name__}")
        s.update(items)

    def load_reduce(self) -> None:
        func = self.stack[-2]
        if not callable(func) or isinstance(func, (_TensorClass, _StorageType)):
            raise _refuse(f"REDUCE of a non-callable {type(func).__name__}")
        if isinstance(func, type) and not (func in _SAFE_CLASSES or _user_class(func)):
            raise _refuse(f"REDUCE of the class {func!r}")
        pickle._Unpickler.load_reduce(self)

    def _no_ext(self) -> None:
        raise _refuse("the copyreg extension registry (EXT opcodes) is not allowed")

    for _code, _fn in ((_P.NEWOBJ, load_newobj), (_P.NEWOBJ_EX, load_newobj_ex), (_P.OBJ, load_obj),
                       (_P.INST, load_inst), (_P.BUILD, load_build), (_P.APPEND, load_append),
                       (_P.APPENDS, load_appends), (_P.SETITEM, load_setitem), (_P.SETITEMS, load_setitems),
                       (_P.ADDITEMS, load_additems), (_P.REDUCE, load_reduce), (_P.EXT1, _no_ext),
                       (_P.EXT2, _no_ext), (_P.EXT4, _no_ext)):
        dispatch[_code[0]] = _fn
    del _code, _fn


def _full_unpickler(pickle_module: Any) -> type:
    base = getattr(pickle_module, "Unpickler", pickle.Unpickler)

    class _FullUnpickler(base):  # type: ignore[misc,valid-type]
        """Unrestricted (weights_only=False): PyTorch's names map to ember's, everything else imports."""

        def find_class(self, module: str, name: str) -> Any:
            obj = _SAFE.get((module, name))
            if obj is not None:
                return obj
            return super().find_class(module, name)

    return _FullUnpickler
