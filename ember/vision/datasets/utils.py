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
