"""A small reader for R lazy-load data databases (``<pkg>/data/Rdata.rdx`` + ``Rdata.rdb``), stdlib + NumPy.

Debian's ``r-cran-*`` packages ship their data sets in this form (R serialization version 2/3, XDR,
big-endian). Unpack a package without installing R::

    apt-get download r-cran-janeaustenr && dpkg -x r-cran-janeaustenr_*.deb DIR

then ``load("DIR/usr/lib/R/site-library/janeaustenr/data/Rdata", "emma")`` returns the novel as a
NumPy object array of lines. Objects with attributes come back as ``(value, attributes)`` tuples
(data frames, factors, named vectors); ``as_columns`` turns a data frame into a dict of columns.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from typing import Any

import numpy as np

__all__ = ["index", "load", "as_columns"]

# SEXP type codes used below (R Internals, "Serialization formats")
_NIL, _SYM, _LIST, _CLO, _ENV, _PROM, _LANG, _CHAR, _LGL, _INT, _REAL, _STR = 254, 1, 2, 3, 4, 5, 6, 9, 10, 13, 14, 16
_DOT, _VEC, _EXPR, _ALTREP, _ATTRLANG, _ATTRLIST, _REF = 17, 19, 20, 238, 240, 239, 255
_MARKERS = (241, 242, 251, 252, 253, 247)   # base/global/empty env, missing arg, unbound value ...
_HAS_ATTR, _HAS_TAG = 1 << 9, 1 << 10


class _Reader:
    """One pass over an XDR serialization stream."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos, self.refs = buf, 0, []

    def int32(self) -> int:
        v = struct.unpack_from(">i", self.buf, self.pos)[0]
        self.pos += 4
        return v

    def length(self) -> int:
        n = self.int32()
        if n == -1:  # long vector: two more words
            hi, lo = self.int32(), self.int32()
            n = (hi << 32) + lo
        return n

    def array(self, dtype: str, n: int) -> np.ndarray:
        a = np.frombuffer(self.buf, dtype, n, self.pos)
        self.pos += a.nbytes
        return a.astype(dtype[1:])  # native byte order

    def with_attrs(self, obj: Any, flags: int) -> Any:
        return (obj, self.item()) if flags & _HAS_ATTR else obj

    def item(self) -> Any:
        flags = self.int32()
        t = flags & 0xFF
        if t == _NIL:
            return None
        if t == _REF:
            i = flags >> 8
            return self.refs[(i or self.int32()) - 1]
        if t in _MARKERS:
            return None
        if t == _SYM:
            s = self.item()
            self.refs.append(s)
            return s
        if t in (_LIST, _CLO, _PROM, _LANG, _DOT, _ATTRLIST, _ATTRLANG):
            return self.pairlist(flags)
        if t == _CHAR:
            n = self.int32()
            if n == -1:
                return None  # NA_character_
            s = self.buf[self.pos:self.pos + n].decode("utf-8", "replace")
            self.pos += n
            return s
        if t in (_LGL, _INT):
            return self.with_attrs(self.array(">i4", self.length()), flags)
        if t == _REAL:
            return self.with_attrs(self.array(">f8", self.length()), flags)
        if t == _STR:
            n = self.length()
            return self.with_attrs(np.array([self.item() for _ in range(n)], dtype=object), flags)
        if t in (_VEC, _EXPR):
            n = self.length()
            return self.with_attrs([self.item() for _ in range(n)], flags)
        if t == _ALTREP:
            return self.altrep()
        if t == _ENV:
            env: dict = {}
            self.refs.append(env)
            self.int32()  # locked flag
            env.update(enclos=self.item(), frame=self.item(), hashtab=self.item(), attr=self.item())
            return env
        raise ValueError(f"unsupported R object type {t} at byte {self.pos}")

    def pairlist(self, flags: int) -> dict:
        out: dict = {}
        while True:
            if flags & _HAS_ATTR:
                self.item()
            tag = self.item() if flags & _HAS_TAG else None
            out[tag if tag is not None else len(out)] = self.item()
            flags = self.int32()
            t = flags & 0xFF
            if t == _NIL:
                return out
            if t not in (_LIST, _ATTRLIST):  # an improper list: the tail is some other object
                self.pos -= 4
                out["__cdr__"] = self.item()
                return out

    def altrep(self) -> Any:
        info, state, attr = self.item(), self.item(), self.item()
        cls = info[0] if isinstance(info, dict) else None
        if cls == "compact_intseq":
            n, start, step = state
            v: Any = (start + step * np.arange(int(n))).astype(np.int32)
        elif cls == "compact_realseq":
            n, start, step = state
            v = start + step * np.arange(int(n))
        elif cls == "deferred_string":
            src = state[0] if isinstance(state, dict) else state
            v = np.array([str(x) for x in np.atleast_1d(src)], dtype=object)
        else:  # wrap_* classes: state is list(x, metadata)
            v = state[0] if isinstance(state, list) else state
        return (v, attr) if attr else v


def _parse(raw: bytes) -> Any:
    if raw[:2] != b"X\n":
        raise ValueError("not an XDR R serialization stream")
    r = _Reader(raw)
    r.pos = 2
    version = r.int32()
    r.int32()  # writer's R version
    r.int32()  # minimal reader version
    if version == 3:
        n = r.int32()  # native encoding name: skip it
        r.pos += n
    return r.item()


def index(prefix: str) -> dict:
    """Object names -> (offset, length) in ``<prefix>.rdb``; ``prefix`` like ``.../janeaustenr/data/Rdata``."""
    with open(prefix + ".rdx", "rb") as fh:
        top = _parse(gzip.decompress(fh.read()))
    values, attrs = top
    variables = dict(zip(attrs["names"], values))["variables"]
    offsets, vattrs = variables
    return dict(zip(vattrs["names"], offsets))


def load(prefix: str, name: str) -> Any:
    """One object of the database (each is stored as a 4-byte length and a zlib stream)."""
    off, length = (int(x) for x in index(prefix)[name])
    with open(prefix + ".rdb", "rb") as fh:
        fh.seek(off)
        blob = fh.read(length)
    return _parse(zlib.decompress(blob[4:]))


def as_columns(obj: Any) -> dict:
    """A data.frame ``(columns, attributes)`` -> {column name: array}, factors decoded to their labels."""
    cols, attrs = obj
    out = {}
    for name, col in zip(attrs["names"], cols):
        if isinstance(col, tuple):
            values, cattrs = col
            if "levels" in cattrs:  # factor codes are 1-based
                values = np.asarray(cattrs["levels"], dtype=object)[values - 1]
            col = values
        out[name] = col
    return out
