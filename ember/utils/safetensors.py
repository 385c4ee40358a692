"""safetensors files, without the ``safetensors`` package: ``save_file``, ``load_file``, ``safe_open``.

The format: an 8-byte little-endian header length ``N``, ``N`` bytes of JSON (padded with
spaces to a multiple of 8), then the tensors' raw little-endian bytes back to back. The JSON maps
each name to ``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`` (offsets into the
byte buffer) plus an optional ``"__metadata__"`` dict of strings. Files written here are
byte-identical to the ``safetensors`` package's (same tensor order: by dtype, largest first, then
by name; same padding), with metadata keys in the order given.

Reading validates the header before touching data, as the reference implementation does: a
header longer than 100 MB or than the file, JSON that is not an object of well-formed entries,
unknown dtypes, negative or non-integer shapes, sizes that disagree with the offsets, and
offsets that overlap, leave gaps or run past the end of the file all raise ``SafetensorError``
naming the problem. Reads are lazy: ``safe_open`` reads only the header, and ``get_tensor``/
``get_slice`` read one tensor's bytes (a slice reads through a memory map).

>>> import ember
>>> from ember.utils.safetensors import save, load
>>> load(save({"w": ember.ones(2)}))["w"]
tensor([1., 1.])
"""
from __future__ import annotations

import json
import os
import struct
import sys
import tempfile
from typing import Any, BinaryIO, Union

import numpy as np

from .. import _dtype as D
from .._device import cpu
from .._tensor import Tensor, _wrap

__all__ = ["save", "save_file", "load", "load_file", "safe_open", "save_model", "load_model",
           "SafetensorError"]

PathLike = Union[str, os.PathLike]
MAX_HEADER_SIZE = 100_000_000  # the reference implementation's limit

# safetensors dtype name -> (NumPy dtype or None when this NumPy lacks it, ember dtype name or None)
_DTYPES: dict = {
    "BOOL": (np.dtype(np.bool_), "bool"), "U8": (np.dtype(np.uint8), "uint8"), "I8": (np.dtype(np.int8), "int8"),
    "I16": (np.dtype(np.int16), "int16"), "U16": (np.dtype(np.uint16), None), "F16": (np.dtype(np.float16), "float16"),
    "BF16": (D.bfloat16.np_dtype, "bfloat16"), "I32": (np.dtype(np.int32), "int32"),
    "U32": (np.dtype(np.uint32), None), "F32": (np.dtype(np.float32), "float32"),
    "C64": (np.dtype(np.complex64), "complex64"), "F64": (np.dtype(np.float64), "float64"),
    "I64": (np.dtype(np.int64), "int64"), "U64": (np.dtype(np.uint64), None),
    "F8_E5M2": (None, None), "F8_E4M3": (None, None),
}
_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
             "I32": 4, "U32": 4, "F32": 4, "C64": 8, "F64": 8, "I64": 8, "U64": 8}
# The reference writer orders tensors by its dtype enum, largest first, then by name.
_RANK = {name: i for i, name in enumerate(["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
                                           "I32", "U32", "F32", "C64", "F64", "I64", "U64"])}
_NAME_OF_NP = {v[0]: k for k, v in _DTYPES.items() if v[0] is not None}
try:  # float8 only where ml_dtypes provides it (NumPy framework)
    import ml_dtypes as _ml

    _DTYPES["F8_E5M2"] = (np.dtype(_ml.float8_e5m2), None)
    _DTYPES["F8_E4M3"] = (np.dtype(_ml.float8_e4m3fn), None)
    _NAME_OF_NP[np.dtype(_ml.float8_e5m2)] = "F8_E5M2"
    _NAME_OF_NP[np.dtype(_ml.float8_e4m3fn)] = "F8_E4M3"
except ImportError:  # pragma: no cover - depends on the environment
    pass


class SafetensorError(Exception):
    """A malformed safetensors file or an invalid request (the ``safetensors`` package's error name)."""


# =============================================================================== writing
def _as_array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        if value.layout != "torch.strided":
            raise ValueError(f"You are trying to save a sparse tensor: `{name}` which this library does not support.")
        if not value.is_contiguous():
            raise ValueError(f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It "
                             "either means you are trying to save tensors which are reference of each other in which "
                             "case it's recommended to save only the full tensors, and reslice at load time, or simply "
                             "call `.contiguous()` on your tensor to pack it before saving.")
        return value._host() if value._device is not cpu else value._data
    if isinstance(value, np.ndarray):
        return value
    raise ValueError(f"Key `{name}` is invalid, expected ember.Tensor (or numpy.ndarray) but received {type(value)}")


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _bounds(a: np.ndarray) -> tuple:
    lo = a.__array_interface__["data"][0]
    return lo, lo + a.nbytes


def _check_shared(arrays: dict, tensors: dict) -> None:
    """Refuse tensors that overlap in memory (as safetensors.torch does): they would load as copies."""
    groups: dict = {}
    for k, a in arrays.items():
        if isinstance(tensors[k], Tensor) and a.size:
            groups.setdefault(id(_root(a)), []).append(k)
    failing = []
    for names in groups.values():
        if len(names) < 2:
            continue
        spans = sorted((_bounds(arrays[k]), k) for k in names)
        cluster = [spans[0][1]]
        end = spans[0][0][1]
        for (lo, hi), k in spans[1:]:
            if lo < end:
                cluster.append(k)
                end = max(end, hi)
            else:
                if len(cluster) > 1:
                    failing.append(set(cluster))
                cluster, end = [k], hi
        if len(cluster) > 1:
            failing.append(set(cluster))
    if failing:
        raise RuntimeError(f"Some tensors share memory, this will lead to duplicate memory on disk and potential "
                           f"differences when loading them again: {failing}. A potential way to correctly save "
                           "your model is to use `save_model`.")


def _prepare(tensors: Any, metadata: Any) -> tuple:
    """The header bytes and the ordered arrays for ``tensors`` (validated like the reference library)."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, ember.Tensor] but received {type(tensors)}")
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in metadata.items()):
            raise TypeError("metadata must be a dict of str to str")
    arrays: dict = {}
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"tensor names must be str, got {type(k).__name__}")
        if k == "__metadata__":
            raise SafetensorError("'__metadata__' is reserved and cannot be a tensor name")
        arrays[k] = _as_array(k, v)
    _check_shared(arrays, tensors)
    entries = []
    for k, a in arrays.items():
        code = _NAME_OF_NP.get(a.dtype.newbyteorder("=") if a.dtype.byteorder not in "=|" else a.dtype)
        if code is None:
            raise ValueError(f"safetensors cannot store tensor `{k}` of dtype {a.dtype} (complex128 and object "
                             "arrays have no safetensors type)")
        entries.append((code, k, a))
    entries.sort(key=lambda e: (-_RANK[e[0]], e[1]))
    header: dict = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for code, k, a in entries:
        n = a.size * _ITEMSIZE[code]
        header[k] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, [a for _, _, a in entries], offset


def _little(a: np.ndarray) -> Any:
    """The array's bytes, little-endian and C-ordered, without a copy when already so."""
    if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and sys.byteorder == "big"):
        a = a.astype(a.dtype.newbyteorder("<"))
    a = np.ascontiguousarray(a)
    return a.reshape(-1).view(np.uint8) if a.size else b""


def save(tensors: dict, metadata: dict | None = None) -> bytes:
    """The safetensors bytes of a dict of tensors (contiguous, not sharing memory).

    >>> data = save({"w": ember.zeros(2, 3)}, metadata={"format": "pt"})
    """
    head, arrays, _ = _prepare(tensors, metadata)
    out = bytearray(head)
    for a in arrays:
        out += memoryview(_little(a)).cast("B") if a.size else b""
    return bytes(out)


def save_file(tensors: dict, filename: PathLike, metadata: dict | None = None) -> None:
    """Write a dict of tensors to ``filename`` in safetensors format (atomically: temp file, then rename).

    >>> save_file({"w": ember.zeros(2, 3)}, "model.safetensors")  # doctest: +SKIP
    """
    head, arrays, _ = _prepare(tensors, metadata)
    path = os.fspath(filename)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(head)
            for a in arrays:
                if a.size:
                    fh.write(memoryview(_little(a)).cast("B"))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# =============================================================================== reading
def _fail(msg: str) -> SafetensorError:
    return SafetensorError(f"Error while deserializing header: {msg}")


def _no_duplicates(pairs: list) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _fail(f"duplicate key {k!r} in the header")
        out[k] = v
    return out


def _nonneg_int(v: Any) -> bool:
    return type(v) is int and v >= 0


def _parse_header(n: int, head: bytes, buffer_len: int) -> tuple:
    """Validate the JSON header; returns (metadata or None, {name: (code, shape, begin, end)})."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _fail(f"InvalidHeader: the header is not valid UTF-8 ({e})") from None
    if not text.startswith("{"):
        raise _fail("InvalidHeaderStart: the header does not start with '{'")
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates)
    except SafetensorError:
        raise
    except (ValueError, RecursionError) as e:
        raise _fail(f"InvalidHeaderDeserialization: {e}") from None
    if not isinstance(obj, dict):
        raise _fail("InvalidHeaderDeserialization: the header is not a JSON object")
    metadata = obj.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise _fail("InvalidHeaderDeserialization: __metadata__ must map strings to strings")
    entries: dict = {}
    for name, info in obj.items():
        if not isinstance(info, dict) or set(info) - {"dtype", "shape", "data_offsets"} or \
                not {"dtype", "shape", "data_offsets"} <= set(info):
            raise _fail(f"InvalidHeaderDeserialization: entry {name!r} must have exactly dtype, shape and "
                        "data_offsets")
        code, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if code not in _ITEMSIZE:
            raise _fail(f"InvalidHeaderDeserialization: unknown dtype {code!r} for tensor {name!r}")
        if not isinstance(shape, list) or not all(_nonneg_int(s) for s in shape):
            raise _fail(f"InvalidHeaderDeserialization: shape of {name!r} must be a list of non-negative ints")
        if not (isinstance(offs, list) and len(offs) == 2 and all(_nonneg_int(o) for o in offs)):
            raise _fail(f"InvalidHeaderDeserialization: data_offsets of {name!r} must be two non-negative ints")
        begin, end = offs
        numel = 1
        for s in shape:
            numel *= s
        nbytes = numel * _ITEMSIZE[code]
        if nbytes > 2 ** 63:
            raise SafetensorError(f"ValidationOverflow: tensor {name!r} is too large")
        if end < begin or end - begin != nbytes:
            raise SafetensorError(f"TensorInvalidInfo: tensor {name!r} has shape {shape} and dtype {code} "
                                  f"({nbytes} bytes) but data_offsets [{begin}, {end}]")
        entries[name] = (code, tuple(shape), begin, end)
    # The byte ranges must tile the buffer exactly: no overlap, no gap, nothing past the end.
    pos = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda kv: (kv[1][2], kv[1][3])):
        if begin != pos:
            what = "overlaps the previous tensor" if begin < pos else "leaves a gap after the previous tensor"
            raise SafetensorError(f"InvalidOffset: tensor {name!r} starts at byte {begin}, which {what} "
                                  f"(expected {pos})")
        pos = end
    if pos != buffer_len:
        raise SafetensorError(f"MetadataIncompleteBuffer: the tensors cover {pos} bytes but the file holds "
                              f"{buffer_len} bytes of data")
    return metadata, entries


def _read_header(f: BinaryIO, total: int) -> tuple:
    if total < 8:
        raise SafetensorError("HeaderTooSmall: the file is shorter than the 8-byte header length")
    f.seek(0)
    (n,) = struct.unpack("<Q", f.read(8))
    if n > MAX_HEADER_SIZE:
        raise SafetensorError(f"HeaderTooLarge: the header claims {n} bytes (limit {MAX_HEADER_SIZE})")
    if 8 + n > total:
        raise SafetensorError(f"InvalidHeaderLength: the header claims {n} bytes but the file has {total - 8} "
                              "after the length")
    head = f.read(n)
    metadata, entries = _parse_header(n, head, total - 8 - n)
    return 8 + n, metadata, entries


def _to_framework(arr: np.ndarray, code: str, name: str, framework: str, device: Any) -> Any:
    if framework == "np":
        return arr
    dname = _DTYPES[code][1]
    if dname is None:
        raise SafetensorError(f"tensor {name!r} has dtype {code}, which ember tensors do not support; open the "
                              "file with framework='np' to read it as a NumPy array")
    t = _wrap(arr, cpu)
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        t = t.to(device if not isinstance(device, int) else f"cuda:{device}")
    return t


def _np_dtype(code: str, name: str) -> np.dtype:
    dt = _DTYPES[code][0]
    if dt is None:
        raise SafetensorError(f"tensor {name!r} has dtype {code}, which needs ml_dtypes (pip install ml_dtypes)")
    return dt.newbyteorder("<") if dt.itemsize > 1 else dt


def _finish(raw: np.ndarray, code: str, shape: tuple, name: str) -> np.ndarray:
    if code == "BF16" and _DTYPES["BF16"][0] is None:  # no ml_dtypes: widen exactly to float32
        bits = raw.view(np.dtype("<u2")).astype(np.uint32)
        return (bits << 16).view(np.float32).reshape(shape)
    arr = raw.view(_np_dtype(code, name)).reshape(shape)
    if arr.dtype.byteorder == "<" and sys.byteorder == "big":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


_FRAMEWORKS = {"pt": "pt", "pytorch": "pt", "torch": "pt", "ember": "pt", "np": "np", "numpy": "np"}


class safe_open:
    """Open a safetensors file and read its tensors one at a time (the header is read and checked here).

    ``framework="pt"`` (or ``"ember"``) gives ember tensors, ``"np"`` NumPy arrays.

    >>> with safe_open("model.safetensors", framework="pt") as f:  # doctest: +SKIP
    ...     w = f.get_tensor("w"); rows = f.get_slice("emb")[10:20]
    """

    def __init__(self, filename: PathLike, framework: str = "pt", device: Any = "cpu", backend: str = "mmap"):
        fw = _FRAMEWORKS.get(str(framework).lower())
        if fw is None:
            raise SafetensorError(f"framework {framework!r} is not supported: use 'pt' (ember tensors) or 'np'")
        self._framework, self._device = fw, device
        self._path = os.fspath(filename)
        self._f: Any = open(self._path, "rb")
        try:
            total = os.fstat(self._f.fileno()).st_size
            self._data_at, self._metadata, self._entries = _read_header(self._f, total)
        except BaseException:
            self._f.close()
            raise

    def __enter__(self) -> "safe_open":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def keys(self) -> list:
        """Tensor names, sorted (as the reference implementation returns them)."""
        return sorted(self._entries)

    def offset_keys(self) -> list:
        """Tensor names in file order."""
        return [k for k, _ in sorted(self._entries.items(), key=lambda kv: kv[1][2])]

    def metadata(self) -> dict | None:
        """The ``__metadata__`` dict of strings, or None."""
        return None if self._metadata is None else dict(self._metadata)

    def _entry(self, name: str) -> tuple:
        try:
            return self._entries[name]
        except KeyError:
            raise SafetensorError(f"File does not contain tensor {name}") from None

    def get_tensor(self, name: str) -> Any:
        """Read one tensor's bytes from the file (nothing else is read)."""
        if self._f is None:
            raise SafetensorError("File is closed")
        code, shape, begin, end = self._entry(name)
        raw = np.empty(end - begin, np.uint8)
        if end > begin:
            self._f.seek(self._data_at + begin)
            got = self._f.readinto(memoryview(raw))
            if got != end - begin:
                raise SafetensorError(f"tensor {name!r} is truncated")
        return _to_framework(_finish(raw, code, shape, name), code, name, self._framework, self._device)

    def get_tensors(self) -> dict:
        """Every tensor, by name."""
        return {k: self.get_tensor(k) for k in self.offset_keys()}

    def get_slice(self, name: str) -> "_Slice":
        """A lazy view of one tensor: ``get_shape()``, ``get_dtype()`` and ``[...]`` reading only that part."""
        if self._f is None:
            raise SafetensorError("File is closed")
        return _Slice(self, name, *self._entry(name))


class _Slice:
    """``safe_open(...).get_slice(name)``: index it to read part of a tensor through a memory map."""

    def __init__(self, owner: safe_open, name: str, code: str, shape: tuple, begin: int, end: int):
        self._owner, self._name, self._code, self._shape, self._begin, self._end = owner, name, code, shape, begin, end

    def get_shape(self) -> list:
        return list(self._shape)

    def get_dtype(self) -> str:
        return self._code

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __getitem__(self, index: Any) -> Any:
        o = self._owner
        if self._end == self._begin:
            full = np.empty(self._shape, _DTYPES[self._code][0] or np.float32)
        elif self._code == "BF16" and _DTYPES["BF16"][0] is None:
            mm = np.memmap(o._path, np.dtype("<u2"), mode="r", offset=o._data_at + self._begin, shape=self._shape)
            part = np.array(mm[index])
            return _to_framework(_finish(part.view(np.uint8), "BF16", part.shape, self._name), "BF16", self._name,
                                 o._framework, o._device)
        else:
            full = np.memmap(o._path, _np_dtype(self._code, self._name), mode="r", offset=o._data_at + self._begin,
                             shape=self._shape)
        try:
            part = full[index]
        except IndexError as e:
            raise SafetensorError(f"invalid slice {index!r} for tensor {self._name!r} of shape "
                                  f"{list(self._shape)}: {e}") from None
        arr = np.array(part)  # a private copy: the map is closed when this slice is dropped
        if arr.dtype.byteorder == "<" and sys.byteorder == "big":
            arr = arr.astype(arr.dtype.newbyteorder("="))
        return _to_framework(arr, self._code, self._name, o._framework, o._device)


def load_file(filename: PathLike, device: Any = "cpu") -> dict:
    """Every tensor of a safetensors file as ember tensors on ``device``.

    >>> state = load_file("model.safetensors")  # doctest: +SKIP
    """
    with safe_open(filename, framework="pt", device=device) as f:
        return f.get_tensors()


def load(data: bytes) -> dict:
    """Every tensor of safetensors ``data`` (bytes) as ember tensors on the CPU.

    >>> load(save({"a": ember.arange(3)}))["a"]
    tensor([0, 1, 2])
    """
    buf = memoryview(data).cast("B")
    total = buf.nbytes
    if total < 8:
        raise SafetensorError("HeaderTooSmall: the data is shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", bytes(buf[:8]))
    if n > MAX_HEADER_SIZE:
        raise SafetensorError(f"HeaderTooLarge: the header claims {n} bytes (limit {MAX_HEADER_SIZE})")
    if 8 + n > total:
        raise SafetensorError(f"InvalidHeaderLength: the header claims {n} bytes but only {total - 8} follow")
    _, entries = _parse_header(n, bytes(buf[8:8 + n]), total - 8 - n)
    out = {}
    for name, (code, shape, begin, end) in sorted(entries.items(), key=lambda kv: kv[1][2]):
        raw = np.frombuffer(buf, np.uint8, end - begin, 8 + n + begin).copy()
        out[name] = _to_framework(_finish(raw, code, shape, name), code, name, "pt", "cpu")
    return out


# =============================================================================== models
def _dedupe(state: dict) -> tuple:
    """Drop names whose tensor is the same memory as an earlier one (tied weights).

    Returns ``(kept, dropped)`` with ``dropped`` mapping each removed name to the name kept for it."""
    kept: dict = {}
    dropped: dict = {}
    seen: dict = {}
    for k, v in state.items():
        a = v._data if isinstance(v, Tensor) and v._device is cpu else None
        key = None if a is None or not a.size else (id(_root(a)), _bounds(a), a.strides)
        if key is not None and key in seen:
            dropped[k] = seen[key]
            continue
        if key is not None:
            seen[key] = k
        kept[k] = v
    return kept, dropped


def save_model(model: Any, filename: PathLike, metadata: dict | None = None, force_contiguous: bool = False) -> None:
    """Save ``model.state_dict()``, writing tied (shared) tensors once.

    >>> save_model(ember.nn.Linear(2, 2), "m.safetensors")  # doctest: +SKIP
    """
    state, dropped = _dedupe(model.state_dict())
    if force_contiguous:
        state = {k: v.contiguous() for k, v in state.items()}
    meta = dict(metadata or {})
    for k, kept_as in dropped.items():
        meta.setdefault(k, kept_as)  # as the reference library: a removed tied name points at the kept one
    save_file(state, filename, metadata=meta or None)


def load_model(model: Any, filename: PathLike, strict: bool = True, device: Any = "cpu") -> tuple:
    """Load a ``save_model`` file into ``model``; returns ``(missing, unexpected)`` key lists.

    >>> missing, unexpected = load_model(net, "m.safetensors")  # doctest: +SKIP
    """
    state = load_file(filename, device=device)
    own = model.state_dict()
    _, dropped = _dedupe(own)
    missing = [k for k in own if k not in state and k not in dropped]
    unexpected = [k for k in state if k not in own]
    if strict and (missing or unexpected):
        raise RuntimeError(f"Error(s) in loading state_dict for {type(model).__name__}:\n"
                           f"    Missing key(s): {missing}\n    Unexpected key(s): {unexpected}")
    model.load_state_dict(state, strict=False)
    return missing, unexpected

