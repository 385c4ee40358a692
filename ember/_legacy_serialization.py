"""Reading PyTorch's legacy (pre-1.6, non-zip) checkpoints, used by ``ember.load``.

The legacy file is a sequence of pickles followed by raw storage bytes:

1. the magic number ``0x1950a86a20f9469cfc6c``, the protocol version ``1001`` and a ``sys_info``
   dict (byte order, C type sizes);
2. the object graph, whose storages are persistent ids
   ``('storage', <torch.XStorage>, key, location, numel, view_metadata)``;
3. the sorted list of storage keys;
4. for each key: the element count (int64) and the raw elements.

The storages come *after* the pickle that uses them, so the object graph is read twice: first
by a symbolic unpickler that calls nothing (every global becomes an inert placeholder class) and
only collects the storage ids, which gives each storage's dtype; then the storages are read;
then the graph is unpickled for real, through ember's allowlist (``weights_only=True``) or
unrestricted, exactly as for zip checkpoints.

>>> state = ember.load("pnet.pt")  # a torch.save file from PyTorch < 1.6  # doctest: +SKIP
"""
from __future__ import annotations

import pickle
import struct
from typing import Any, BinaryIO, Callable

import numpy as np

from . import _dtype as D
from . import serialization as S
from ._device import cpu

__all__ = ["legacy_load", "is_legacy_file"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


def is_legacy_file(f: BinaryIO) -> bool:
    """Whether the stream at its current position starts a pickle (the legacy format) rather than a zip."""
    pos = f.tell()
    head = f.read(2)
    f.seek(pos)
    return head[:1] == b"\x80"  # pickle's PROTO opcode: every legacy file starts with the pickled magic number


# ------------------------------------------------------------------------ pass 1: symbolic
class _Inert:
    """What every global becomes in the first pass: accepts any construction and state, does nothing."""

    _sym: tuple = ("?", "?")

    def __new__(cls, *args: Any, **kwargs: Any) -> "_Inert":
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> "_Inert":
        return self

    def __setstate__(self, state: Any) -> None:
        pass

    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass

    def add(self, item: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class _SymbolicUnpickler(pickle.Unpickler):
    """Walks a pickle without importing or calling anything; records the persistent ids it meets."""

    def __init__(self, f: BinaryIO, **kwargs: Any):
        super().__init__(f, **kwargs)
        self.pids: list = []
        self._classes: dict = {}

    def find_class(self, module: str, name: str) -> Any:
        key = (str(module), str(name))
        cls = self._classes.get(key)
        if cls is None:
            cls = type("_Inert_" + key[1], (_Inert,), {"_sym": key})
            self._classes[key] = cls
        return cls

    def persistent_load(self, pid: Any) -> Any:
        self.pids.append(pid)
        return _Inert()


def _storage_dtype(stype: Any) -> D.dtype:
    sym = getattr(stype, "_sym", None)
    if sym is None:
        raise pickle.UnpicklingError(f"ember.load: legacy checkpoint names a storage type it cannot have "
                                     f"({stype!r:.60})")
    module, name = sym
    dname = S._STORAGE_DTYPES.get(name) if module in ("torch", "torch.cuda") else None
    if dname is None:
        raise RuntimeError(f"ember.load: the legacy checkpoint uses {module}.{name}, which ember does not read")
    return D._BY_NAME[dname]


# ------------------------------------------------------------------------------- the reader
def _restricted_load(f: BinaryIO, what: str) -> Any:
    def no_pid(pid: Any) -> Any:
        raise pickle.UnpicklingError(f"ember.load: unexpected persistent id in the legacy {what}")
    try:
        return S._WeightsUnpickler(f, no_pid).load()
    except EOFError:
        raise RuntimeError(f"ember.load: the legacy checkpoint ends before its {what}; the file is truncated") \
            from None
    except (pickle.UnpicklingError, RuntimeError, TypeError):
        raise
    except (IndexError, KeyError, AttributeError, ValueError, struct.error) as e:
        raise pickle.UnpicklingError(f"ember.load: not a PyTorch checkpoint, or a corrupt one (malformed "
                                     f"{what}: {type(e).__name__}: {e})") from None


def _read_exact(f: BinaryIO, n: int, what: str) -> np.ndarray:
    out = np.empty(n, np.uint8)
    mv = memoryview(out)
    got = 0
    while got < n:
        k = f.readinto(mv[got:]) if hasattr(f, "readinto") else None
        if k is None:
            chunk = f.read(n - got)
            k = len(chunk)
            mv[got:got + k] = chunk
        if not k:
            raise RuntimeError(f"ember.load: {what} is truncated (wanted {n} bytes, got {got})")
        got += k
    return out


def legacy_load(f: BinaryIO, map_location: Any = None, pickle_module: Any = None, weights_only: bool = True,
                **pickle_load_args: Any) -> Any:
    """Load a legacy (non-zip) ``torch.save`` file from a seekable binary stream.

    >>> obj = legacy_load(open("old.pt", "rb"))  # doctest: +SKIP
    """
    magic = _restricted_load(f, "magic number")
    if magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = _restricted_load(f, "protocol version")
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    sys_info = _restricted_load(f, "system info")
    if not isinstance(sys_info, dict):
        raise RuntimeError("ember.load: malformed legacy checkpoint header")
    byteorder = "<" if sys_info.get("little_endian", True) else ">"

    encoding = pickle_load_args.get("encoding", "utf-8")
    errors = pickle_load_args.get("errors", "strict")
    graph_at = f.tell()
    sym = _SymbolicUnpickler(f, encoding=encoding, errors=errors)
    try:
        sym.load()
    except EOFError:
        raise RuntimeError("ember.load: the legacy checkpoint is truncated") from None
    except pickle.UnpicklingError:
        raise
    except Exception as e:  # the C unpickler's errors for malformed opcodes vary
        raise pickle.UnpicklingError(f"ember.load: malformed pickle in the legacy checkpoint "
                                     f"({type(e).__name__}: {e})") from None

    # Each storage key's dtype and element count, from the persistent ids.
    declared: dict = {}
    for pid in sym.pids:
        if not isinstance(pid, tuple) or not pid:
            raise pickle.UnpicklingError(f"ember.load: unsupported persistent id {pid!r:.80}")
        if pid[0] == "module":
            continue
        if pid[0] != "storage" or len(pid) != 6:
            raise pickle.UnpicklingError(f"ember.load: unsupported persistent id {pid!r:.80}")
        _, stype, key, location, numel, _view = pid
        if not isinstance(key, str) or not isinstance(location, str) or type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError("ember.load: malformed storage persistent id in the legacy checkpoint")
        dt = _storage_dtype(stype)
        prev = declared.get(key)
        if prev is not None and (prev[0] is not dt or prev[1] != numel):
            raise RuntimeError(f"ember.load: storage {key} is declared twice with different types/sizes")
        declared[key] = (dt, numel)

    keys = _restricted_load(f, "storage key list")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise RuntimeError("ember.load: malformed storage key list in the legacy checkpoint")
    raw: dict = {}
    for key in keys:
        if key not in declared:
            raise RuntimeError(f"ember.load: the legacy checkpoint stores {key}, which no tensor uses; corrupt file")
        dt, numel = declared[key]
        head = f.read(8)
        if len(head) != 8:
            raise RuntimeError(f"ember.load: storage {key} is truncated")
        (count,) = struct.unpack(byteorder + "q", head)
        if count != numel:
            raise RuntimeError(f"ember.load: storage {key} holds {count} elements but the pickle declares "
                               f"{numel}; the file is corrupt")
        raw[key] = _read_exact(f, numel * dt.itemsize, f"storage {key}")
    missing = set(declared) - set(raw)
    if missing:
        raise RuntimeError(f"ember.load: the legacy checkpoint lacks the data of storage(s) "
                           f"{sorted(missing)[:5]}; it is truncated or corrupt")
    end_at = f.tell()

    pload = _persistent_loader(raw, declared, byteorder, map_location, weights_only)
    f.seek(graph_at)
    try:
        if weights_only:
            up = S._WeightsUnpickler(f, pload)
            try:
                return up.load()
            except (pickle.UnpicklingError, RuntimeError, TypeError):
                raise
            except (EOFError, IndexError, KeyError, AttributeError, ValueError, struct.error) as e:
                raise pickle.UnpicklingError(f"ember.load: malformed pickle in the checkpoint "
                                             f"({type(e).__name__}: {e})") from None
        up = S._full_unpickler(pickle_module or pickle)(f, **pickle_load_args)
        up.persistent_load = pload
        return up.load()
    finally:
        f.seek(end_at)


def _persistent_loader(raw: dict, declared: dict, byteorder: str, map_location: Any,
                       weights_only: bool) -> Callable:
    roots: dict = {}
    views: dict = {}

    def root_storage(key: str, location: str) -> S.Storage:
        st = roots.get(key)
        if st is not None:
            return st
        dt, _ = declared[key]
        data = raw[key]
        if dt.np_dtype is None:
            # bfloat16 without ml_dtypes: widen exactly to float32 (the bits are the top half of a float32)
            arr = S._bfloat16_bits_to_float32(data, byteorder)
            dt = D.float32
        else:
            arr = data.view(dt.np_dtype)
            if byteorder == ">" and dt.itemsize > 1:
                arr = arr.view(arr.dtype.newbyteorder(">")).astype(dt.np_dtype)
        if callable(map_location) and not isinstance(map_location, (dict, str, S._device_cls)):
            st = map_location(S.Storage(arr, dt, cpu), location)
            if st is None:
                st = S.Storage(arr, dt, cpu)
            if not isinstance(st, S.Storage):
                raise TypeError(f"map_location callable must return an ember storage, got {type(st).__name__}")
            if st.device.type == "cuda":
                S._to_device(st.device)
        else:
            st = S.Storage(arr, dt, S._to_device(S._resolve_location(location, map_location)))
        roots[key] = st
        return st

    def persistent_load(pid: Any) -> Any:
        if pid[0] == "module":
            # ('module', cls, source_file, source): old whole-model pickles carry the class itself
            if weights_only:
                raise S._refuse("the checkpoint pickles whole modules (a 'module' persistent id)")
            return pid[1]
        _, _stype, key, location, _numel, view = pid
        st = root_storage(key, location)
        if view is None:
            return st
        if not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[0], str)
                and type(view[1]) is int and type(view[2]) is int):
            raise pickle.UnpicklingError("ember.load: malformed storage view in the legacy checkpoint")
        view_key, offset, size = view
        if offset < 0 or size < 0 or offset + size > st._array.size:
            raise RuntimeError(f"ember.load: storage view {view_key} ({offset}+{size}) lies outside its storage "
                               f"of {st._array.size} elements; the file is corrupt")
        v = views.get(view_key)
        if v is None:
            v = S.Storage(st._array[offset:offset + size], st.dtype, st.device)
            views[view_key] = v
        return v

    return persistent_load

