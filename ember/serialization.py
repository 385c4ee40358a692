"""Checkpoints in PyTorch's zip format: ``ember.save`` and ``ember.load``.

A checkpoint is an uncompressed zip archive (records aligned to 64 bytes, like PyTorch's
writer) holding ``<name>/data.pkl`` (the object graph, pickled with protocol 2), one raw
little-endian record ``<name>/data/<key>`` per tensor storage, and the small records
``version``, ``byteorder``, ``.format_version``, ``.storage_alignment`` and
``.data/serialization_id``. Tensors are pickled as references to
``torch._utils._rebuild_tensor_v2`` over persistent storage ids, so ``torch.load`` opens
ember's files and ``ember.load`` opens PyTorch's. Tensors that share memory (views) are
saved once and share memory again after loading.

``ember.load`` unpickles through an allowlist by default (``weights_only=True``, see ``ember/_unpickle.py``): tensors,
storages, ``OrderedDict``, plain containers, numbers, strings, ``Size``, dtypes, devices.
Any other global is refused with ``pickle.UnpicklingError`` before anything is called.

>>> import ember, io
>>> buf = io.BytesIO(); ember.save({"w": ember.ones(2)}, buf); _ = buf.seek(0)
>>> ember.load(buf)["w"]
tensor([1., 1.])
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import secrets
import struct
import sys
import tempfile
import zipfile
import zlib
from typing import Any, BinaryIO, Callable, Union

import numpy as np

from . import _dtype as D
from ._device import cpu, device as _device_cls
from ._tensor import Size, Tensor, _wrap
from ._unpickle import (Storage, _STORAGE_DTYPES, _STORAGE_NAMES, _StorageType, _WeightsUnpickler,  # noqa: F401
                        _bfloat16_bits_to_float32, _full_unpickler, _refuse, add_safe_globals, clear_safe_globals,
                        get_safe_globals, safe_globals)

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]

FileLike = Union[str, os.PathLike, BinaryIO]
DEFAULT_PROTOCOL = 2
_ALIGN = 64
class _ZipWriter:
    """Writes records the way PyTorch's (miniz-based) writer does: stored, data descriptors,
    64-byte aligned payloads (padding in an ``FB`` extra field), zip64 end records."""

    def __init__(self, f: BinaryIO, archive: str):
        self.f = f
        self.archive = archive
        self.pos = 0
        self.entries: list = []

    def _write(self, b: Any) -> None:
        self.f.write(b)
        self.pos += memoryview(b).nbytes

    def record(self, name: str, data: Any) -> None:
        fname = f"{self.archive}/{name}".encode()
        mv = memoryview(data).cast("B")
        size = mv.nbytes
        offset = self.pos
        pad = (-(offset + 30 + len(fname) + 4)) % _ALIGN
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        flags = 0x0808 if size else 0x0800  # bit 3: sizes follow in a data descriptor; bit 11: UTF-8
        self._write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, flags, 0, 0, 0, 0, 0, 0, len(fname), len(extra)))
        self._write(fname)
        self._write(extra)
        crc = 0
        if size:
            crc = zlib.crc32(mv)
            self._write(mv)
            if size >= 0xFFFFFFFF:
                self._write(struct.pack("<IIQQ", 0x08074B50, crc, size, size))
            else:
                self._write(struct.pack("<IIII", 0x08074B50, crc, size, size))
        self.entries.append((fname, flags, crc, size, offset))

    def finish(self) -> None:
        cd_start = self.pos
        for fname, flags, crc, size, offset in self.entries:
            z64 = b""
            s32, o32, need = size, offset, 0
            if size >= 0xFFFFFFFF:
                z64 += struct.pack("<QQ", size, size)
                s32, need = 0xFFFFFFFF, 45
            if offset >= 0xFFFFFFFF:
                z64 += struct.pack("<Q", offset)
                o32, need = 0xFFFFFFFF, 45
            extra = struct.pack("<HH", 1, len(z64)) + z64 if z64 else b""
            self._write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0, need, flags, 0, 0, 0, crc, s32, s32,
                                    len(fname), len(extra), 0, 0, 0, 0, o32))
            self._write(fname)
            self._write(extra)
        cd_size = self.pos - cd_start
        n = len(self.entries)
        z64_at = self.pos
        self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, n, n, cd_size, cd_start))
        self._write(struct.pack("<IIQI", 0x07064B50, 0, z64_at, 1))
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                                min(cd_size, 0xFFFFFFFF), min(cd_start, 0xFFFFFFFF), 0))


# =============================================================================== pickling
class _TorchName:
    """A global written into the pickle under PyTorch's name (``torch._utils._rebuild_tensor_v2``)."""

    __slots__ = ("module", "name")
    _interned: dict = {}

    def __new__(cls, module: str, name: str) -> "_TorchName":
        key = (module, name)
        obj = cls._interned.get(key)
        if obj is None:
            obj = object.__new__(cls)
            obj.module, obj.name = module, name
            cls._interned[key] = obj
        return obj

    def __call__(self, *args: Any) -> Any:  # the pickler wants a callable; it is never called
        raise RuntimeError(f"{self.module}.{self.name} is a pickle reference, not a function")


_REBUILD_V2 = _TorchName("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAM = _TorchName("torch._utils", "_rebuild_parameter")
_TORCH_SIZE = _TorchName("torch", "Size")
_TORCH_DEVICE = _TorchName("torch", "device")
_STORAGE_TAG = "storage"


class _StorageRef:
    __slots__ = ("key", "dtype", "location", "numel", "data")

    def __init__(self, key: str, dtype: D.dtype, location: str, numel: int, data: np.ndarray):
        self.key, self.dtype, self.location, self.numel, self.data = key, dtype, location, numel, data


def _byte_bounds(a: np.ndarray) -> tuple:
    lo = hi = a.__array_interface__["data"][0]
    for n, s in zip(a.shape, a.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + a.itemsize


class _Saver:
    """Finds the storage behind each tensor (the NumPy array owning its memory) and numbers them."""

    def __init__(self) -> None:
        self.storages: dict = {}   # id(root array) -> _StorageRef
        self.order: list = []
        self.keep: list = []       # keeps roots alive so ids stay unique while saving

    def _new_storage(self, dtype: D.dtype, location: str, data: np.ndarray) -> _StorageRef:
        ref = _StorageRef(str(len(self.order)), dtype, location, data.nbytes // dtype.itemsize, data)
        self.order.append(ref)
        return ref

    def tensor_args(self, t: Tensor) -> tuple:
        """(storage, storage_offset, size, stride) for ``t`` in element units, as PyTorch saves them."""
        dt = t.dtype
        arr = t._data
        shape = tuple(arr.shape)
        if t._device is not cpu:  # device memory: save a host copy in its own storage
            host = np.ascontiguousarray(t._host())
            ref = self._new_storage(dt, str(t._device), host.reshape(-1).view(np.uint8))
            return ref, 0, shape, _contiguous_strides(shape)
        item = arr.itemsize
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        ok = arr.size > 0 and all(s >= 0 and s % item == 0 for s in arr.strides)
        if ok and (root.flags.c_contiguous or root.flags.f_contiguous):
            lo, hi = _byte_bounds(root)
            off = arr.__array_interface__["data"][0] - lo
            if off % item == 0 and (hi - lo) % item == 0:
                ref = self.storages.get(id(root))
                if ref is None:
                    raw = root.reshape(-1, order="A").view(np.uint8) if root.size else np.empty(0, np.uint8)
                    ref = self._new_storage(dt, "cpu", raw)
                    self.storages[id(root)] = ref
                    self.keep.append(root)
                elif ref.dtype is not dt:
                    raise RuntimeError("Cannot save multiple tensors or storages that view the same data as "
                                       "different types")
                return ref, off // item, shape, tuple(s // item for s in arr.strides)
        # Empty, negatively strided or oddly laid out: a compact copy in a storage of its own.
        data = np.ascontiguousarray(arr)
        ref = self._new_storage(dt, "cpu", data.reshape(-1).view(np.uint8) if data.size else np.empty(0, np.uint8))
        stride = tuple(s // item for s in arr.strides) if arr.size == 0 and all(
            s >= 0 and s % item == 0 for s in arr.strides) else _contiguous_strides(shape)
        return ref, 0, shape, stride


def _contiguous_strides(shape: tuple) -> tuple:
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(out))


def _is_parameter(t: Tensor) -> bool:
    nn = sys.modules.get("ember.nn")
    param = getattr(nn, "Parameter", None) if nn is not None else None
    return param is not None and isinstance(t, param)


class _Pickler(pickle._Pickler):  # the Python pickler: it lets us write globals under PyTorch's names
    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file: BinaryIO, protocol: int, saver: _Saver):
        super().__init__(file, protocol)
        self._saver = saver

    def _save_torch_name(self, obj: _TorchName) -> None:
        x = self.memo.get(id(obj))
        if x is not None:
            self.write(self.get(x[0]))
            return
        if self.proto >= 4:
            self.save(obj.module)
            self.save(obj.name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[_TorchName] = _save_torch_name

    def _save_dtype(self, obj: D.dtype) -> None:
        self._save_torch_name(_TorchName("torch", obj.name))

    dispatch[D.dtype] = _save_dtype

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is _StorageRef:
            name = _TorchName("torch", _STORAGE_NAMES[obj.dtype.name])
            return (_STORAGE_TAG, name, obj.key, obj.location, obj.numel)
        return None

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Tensor):
            if _is_parameter(obj):
                inner = _wrap(obj._data, obj._device)
                return (_REBUILD_PARAM, (inner, obj._requires_grad, collections.OrderedDict()))
            if obj.dtype.np_dtype is None:
                raise RuntimeError(f"cannot save a tensor of dtype {obj.dtype} without ml_dtypes")
            storage, offset, size, stride = self._saver.tensor_args(obj)
            return (_REBUILD_V2, (storage, offset, size, stride, obj._requires_grad, collections.OrderedDict()))
        if isinstance(obj, _device_cls):
            kind = obj.type.encode().decode()  # a fresh str, so it is not memoized with storage locations
            return (_TORCH_DEVICE, (kind,) if obj.index is None else (kind, obj.index))
        if type(obj) is Size:
            return (_TORCH_SIZE, (tuple(obj),))
        return NotImplemented


def _archive_name(f: Any) -> str:
    if isinstance(f, (str, os.PathLike)):
        base = os.path.basename(os.fspath(f))
        stem = os.path.splitext(base)[0]
        return stem or "archive"
    return "archive"


def _write_checkpoint(obj: Any, f: BinaryIO, archive: str, pickle_module: Any, protocol: int) -> None:
    saver = _Saver()
    buf = io.BytesIO()
    pickler_cls = _Pickler
    if pickle_module is not None and pickle_module is not pickle:
        # A custom pickle module still gets PyTorch's layout: its Pickler must accept our hooks.
        base = getattr(pickle_module, "_Pickler", None)
        if base is not None and base is not pickle._Pickler:
            pickler_cls = type("_CustomPickler", (_Pickler, base), {})
    pickler_cls(buf, protocol, saver).dump(obj)
    w = _ZipWriter(f, archive)
    w.record("data.pkl", buf.getbuffer())
    w.record(".format_version", b"1")
    w.record(".storage_alignment", b"64")
    w.record("byteorder", b"little")
    for ref in saver.order:
        data = ref.data
        if sys.byteorder != "little" and data.size:
            data = data.view(ref.dtype.np_dtype).byteswap().view(np.uint8)
        w.record(f"data/{ref.key}", data)
    w.record("version", b"3\n")
    w.record(".data/serialization_id", f"{secrets.randbits(64):020d}{secrets.randbits(64):020d}".encode())
    w.finish()


def save(obj: object, f: FileLike, pickle_module: Any = pickle, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> None:
    """Save ``obj`` (tensors, state dicts, containers) to a path or binary file in PyTorch's zip format.

    Paths are written atomically: a temporary file next to the target is filled, flushed to
    disk, then renamed over it, so a failure never leaves a half-written checkpoint.

    >>> ember.save({"weight": ember.zeros(2, 2)}, "ckpt.pt")  # doctest: +SKIP
    """
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only PyTorch's zip format (_use_new_zipfile_serialization)")
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                _write_checkpoint(obj, fh, _archive_name(path), pickle_module, pickle_protocol)
                fh.flush()
                os.fsync(fh.fileno())
            try:  # keep the permissions a plain open() would have given
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
            except OSError:
                pass
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return
    if not hasattr(f, "write"):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'write' attribute, "
                             f"got {type(f).__name__}")
    _write_checkpoint(obj, f, "archive", pickle_module, pickle_protocol)
    if hasattr(f, "flush"):
        f.flush()


# =============================================================================== loading
# ------------------------------------------------------------------------------- the archive
class _Archive:
    def __init__(self, f: Any, mmap_path: str | None):
        try:
            self.zip = zipfile.ZipFile(f)
        except zipfile.BadZipFile as e:
            raise RuntimeError(f"ember.load: not a PyTorch zip checkpoint, or the file is truncated/corrupt "
                               f"({e}).") from None
        names = self.zip.namelist()
        if not names or "/" not in names[0]:
            raise RuntimeError("ember.load: the zip archive has no PyTorch checkpoint records")
        self.prefix = names[0].split("/", 1)[0]
        self.mmap_path = mmap_path
        self.byteorder = "little"
        if self.has("byteorder"):
            self.byteorder = self.read_small("byteorder").decode("ascii", "replace").strip()
            if self.byteorder not in ("little", "big"):
                raise RuntimeError(f"ember.load: unknown byteorder {self.byteorder!r} in the checkpoint")

    def has(self, name: str) -> bool:
        try:
            self.zip.getinfo(f"{self.prefix}/{name}")
            return True
        except KeyError:
            return False

    def info(self, name: str) -> zipfile.ZipInfo:
        try:
            return self.zip.getinfo(f"{self.prefix}/{name}")
        except KeyError:
            raise RuntimeError(f"ember.load: the checkpoint has no record {self.prefix}/{name} (file not found); "
                               "it is truncated or corrupt") from None

    def read_small(self, name: str) -> bytes:
        return self.zip.read(self.info(name))

    def read_array(self, name: str, nbytes: int) -> np.ndarray:
        info = self.info(name)
        if info.file_size != nbytes:
            raise RuntimeError(f"ember.load: storage record {name} holds {info.file_size} bytes but the pickle "
                               f"declares {nbytes}; the file is corrupt")
        if self.mmap_path is not None:
            if info.compress_type != zipfile.ZIP_STORED:
                raise RuntimeError("ember.load(mmap=True) needs uncompressed records")
            return np.memmap(self.mmap_path, np.uint8, mode="c", offset=self._data_offset(info), shape=(nbytes,)) \
                if nbytes else np.empty(0, np.uint8)
        out = np.empty(nbytes, np.uint8)
        if nbytes:
            mv = memoryview(out)
            got = 0
            with self.zip.open(info) as fh:
                while got < nbytes:
                    n = fh.readinto(mv[got:])
                    if not n:
                        raise RuntimeError(f"ember.load: storage record {name} is truncated")
                    got += n
        return out

    def _data_offset(self, info: zipfile.ZipInfo) -> int:
        fp = self.zip.fp
        fp.seek(info.header_offset)
        head = fp.read(30)
        if head[:4] != b"PK\x03\x04":
            raise RuntimeError("ember.load: bad local header in the checkpoint")
        n, m = struct.unpack("<HH", head[26:30])
        return info.header_offset + 30 + n + m


def _resolve_location(location: str, map_location: Any) -> Any:
    if map_location is None:
        return location
    if isinstance(map_location, dict):
        return map_location.get(location, location)
    if isinstance(map_location, (str, _device_cls)):
        return map_location
    other = getattr(map_location, "type", None)  # a torch.device passed by a user
    if isinstance(other, str):
        return str(map_location)
    raise TypeError(f"map_location should be a str, ember.device, dict or callable, got "
                    f"{type(map_location).__name__}")


def _to_device(location: Any) -> Any:
    dev = _device_cls(str(location))
    if dev.type == "cuda":
        from ._backend import backend_for
        try:
            backend_for(dev)
        except Exception:
            raise RuntimeError("Attempting to deserialize object on a CUDA device but CUDA is not available in "
                               "ember. If you are running on a CPU-only machine, please use ember.load with "
                               "map_location='cpu' to map your storages to the CPU.") from None
    return dev


def _storage_loader(arch: _Archive, map_location: Any) -> Callable:
    cache: dict = {}

    def persistent_load(pid: Any) -> Storage:
        if not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"ember.load: unsupported persistent id {pid!r:.80}")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError("ember.load: persistent id names an unknown storage type")
        if not isinstance(key, str) or not isinstance(location, str) or type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError("ember.load: malformed storage persistent id")
        if key in cache:
            return cache[key]
        dt = stype.dtype
        nbytes = numel if stype.untyped else numel * dt.itemsize
        raw = arch.read_array(f"data/{key}", nbytes)
        if stype.untyped:
            arr = raw
        elif dt.np_dtype is None:  # bfloat16 without ml_dtypes: widened exactly to float32
            arr, dt = _bfloat16_bits_to_float32(raw, ">" if arch.byteorder == "big" else "<"), D.float32
        else:
            arr = raw.view(dt.np_dtype)
            if arch.byteorder == "big" and dt.itemsize > 1:
                arr = arr.view(arr.dtype.newbyteorder(">")).astype(dt.np_dtype)
        if callable(map_location) and not isinstance(map_location, (dict, str, _device_cls)):
            st = map_location(Storage(arr, dt, cpu), location)
            if st is None:
                st = Storage(arr, dt, cpu)
            if not isinstance(st, Storage):
                raise TypeError(f"map_location callable must return an ember storage, got {type(st).__name__}")
            if st.device.type == "cuda":
                _to_device(st.device)
        else:
            st = Storage(arr, dt, _to_device(_resolve_location(location, map_location)))
        cache[key] = st
        return st

    return persistent_load


def _open(f: Any) -> tuple:
    if isinstance(f, (str, os.PathLike)):
        return open(os.fspath(f), "rb"), True
    if not hasattr(f, "read"):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'read' attribute, "
                             f"got {type(f).__name__}")
    if not (hasattr(f, "seek") and hasattr(f, "tell")):
        f = io.BytesIO(f.read())
    return f, False


def load(f: FileLike, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Load an object saved by ``ember.save`` or ``torch.save`` (zip format).

    ``weights_only=True`` (the default) refuses anything but tensors, containers and plain
    values, so loading an untrusted file cannot run code; ``weights_only=False`` unpickles
    everything and is only safe for trusted files. ``map_location`` is ``'cpu'``, a device,
    a dict from saved to new locations, or ``fn(storage, location) -> storage``.
    ``mmap=True`` maps storages from the file (copy-on-write) instead of reading them.

    >>> state = ember.load("ckpt.pt", map_location="cpu")  # doctest: +SKIP
    """
    if weights_only is None:
        weights_only = True
    if weights_only and pickle_module is not None and pickle_module is not pickle:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    mmap_path = None
    if mmap:
        if not isinstance(f, (str, os.PathLike)):
            raise ValueError("f must be a file path in order to use the mmap argument")
        mmap_path = os.fspath(f)
    fh, close = _open(f)
    try:
        from . import _legacy_serialization as legacy
        if legacy.is_legacy_file(fh):  # PyTorch < 1.6 (or _use_new_zipfile_serialization=False)
            if mmap:
                raise RuntimeError("mmap can only be used with files saved with `torch.save(_use_new_zipfile_"
                                   "serialization=True), please torch.save your checkpoint with this option in "
                                   "order to use mmap.")
            return legacy.legacy_load(fh, map_location, pickle_module, weights_only, **pickle_load_args)
        arch = _Archive(fh, mmap_path)
        pload = _storage_loader(arch, map_location)
        data = io.BytesIO(arch.read_small("data.pkl"))
        if weights_only:
            up = _WeightsUnpickler(data, pload)
            try:
                return up.load()
            except (pickle.UnpicklingError, RuntimeError, TypeError):
                raise
            except (EOFError, IndexError, KeyError, AttributeError, ValueError, struct.error) as e:
                raise pickle.UnpicklingError(f"ember.load: malformed pickle in the checkpoint "
                                             f"({type(e).__name__}: {e})") from None
        up = _full_unpickler(pickle_module or pickle)(data, **pickle_load_args)
        up.persistent_load = pload
        return up.load()
    finally:
        if close:
            fh.close()
