"""Download helpers: resumable, atomic downloads with checksum verification.

A file is fetched into ``<name>.part`` (resumed with an HTTP Range request when a partial
file exists), verified against its MD5, and only then renamed into place, so a broken or
interrupted download never leaves a file that looks complete.
"""
from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from typing import Iterable

USER_AGENT = "ember"


def calculate_md5(path: str, chunk_size: int = 1024 * 1024) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_integrity(path: str, md5: str | None = None) -> bool:
    if not os.path.isfile(path):
        return False
    return md5 is None or calculate_md5(path) == md5


def download_url(url: str, root: str, filename: str | None = None, md5: str | None = None,
                 timeout: float = 60.0) -> str:
    """Download ``url`` into ``root/filename`` unless a verified copy is already there; return its path."""
    root = os.path.expanduser(root)
    filename = filename or os.path.basename(url)
    path = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(path, md5):
        return path
    part = path + ".part"
    have = os.path.getsize(part) if os.path.exists(part) else 0
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        req.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        resumed = have and getattr(resp, "status", 200) == 206
        with open(part, "ab" if resumed else "wb") as out:
            while True:
                chunk = resp.read(1024 * 256)
                if not chunk:
                    break
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    if md5 is not None and calculate_md5(part) != md5:
        os.remove(part)
        raise RuntimeError(f"File not found or corrupted: checksum mismatch for {url} (expected md5 {md5})")
    os.replace(part, path)
    return path


def download_from_mirrors(mirrors: Iterable[str], filename: str, root: str, md5: str | None) -> str:
    """Try each mirror in turn; raise with every mirror's error if none works."""
    errors = []
    for mirror in mirrors:
        url = mirror + filename
        try:
            return download_url(url, root, filename, md5)
        except (urllib.error.URLError, OSError, RuntimeError) as e:
            errors.append(f"{url}: {e}")
    raise RuntimeError("Error downloading " + filename + ":\n" + "\n".join(errors))


def _safe_target(root: str, name: str) -> str:
    """Where archive member ``name`` would land; refuse absolute paths and ``..`` escapes."""
    root_abs = os.path.realpath(root)
    dest = os.path.realpath(os.path.join(root_abs, name))
    if os.path.isabs(name) or os.path.commonpath([root_abs, dest]) != root_abs:
        raise RuntimeError(f"Refusing to extract {name!r}: it would be written outside {root}")
    return dest


def extract_archive(from_path: str, to_path: str | None = None, remove_finished: bool = False) -> str:
    """Extract a ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz``, ``.zip`` or ``.gz`` file; return ``to_path``.

    Members that would be written outside ``to_path`` (absolute paths, ``..``, links pointing out) and
    device files are refused with a RuntimeError before anything is written.

    >>> extract_archive("data/cifar-10-python.tar.gz", "data")    # doctest: +SKIP
    'data'
    """
    import gzip
    import shutil
    import tarfile
    import zipfile

    to_path = os.path.dirname(from_path) if to_path is None else to_path
    os.makedirs(to_path, exist_ok=True)
    if zipfile.is_zipfile(from_path):
        with zipfile.ZipFile(from_path) as zf:
            for name in zf.namelist():
                _safe_target(to_path, name)
            zf.extractall(to_path)
    elif tarfile.is_tarfile(from_path):
        with tarfile.open(from_path) as tf:
            members = tf.getmembers()
            for m in members:
                _safe_target(to_path, m.name)
                if m.issym() or m.islnk():
                    link = m.linkname if m.islnk() else os.path.join(os.path.dirname(m.name), m.linkname)
                    _safe_target(to_path, link)
                elif not (m.isfile() or m.isdir()):
                    raise RuntimeError(f"Refusing to extract {m.name!r}: not a regular file or folder")
            if hasattr(tarfile, "data_filter"):
                tf.extractall(to_path, members=members, filter="data")
            else:  # pragma: no cover - Pythons before the extraction filters; members were checked above
                tf.extractall(to_path, members=members)
    elif from_path.endswith(".gz"):
        out = os.path.join(to_path, os.path.basename(from_path)[:-3])
        with gzip.open(from_path, "rb") as src, open(out + ".part", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(out + ".part", out)
    else:
        raise RuntimeError(f"Extraction of {from_path} not supported (not a tar, zip or gzip file)")
    if remove_finished:
        os.remove(from_path)
    return to_path


def download_and_extract_archive(url: str, download_root: str, extract_root: str | None = None,
                                 filename: str | None = None, md5: str | None = None,
                                 remove_finished: bool = False) -> None:
    """``download_url`` (verified) then ``extract_archive``.

    >>> download_and_extract_archive("https://host/x.tar.gz", "data", md5=None)    # doctest: +SKIP
    """
    path = download_url(url, download_root, filename, md5)
    extract_archive(path, extract_root or download_root, remove_finished)
