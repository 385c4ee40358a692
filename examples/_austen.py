"""Jane Austen's six novels from the Debian package ``r-cran-janeaustenr`` (for the language-model examples).

Install without R: ``apt-get download r-cran-janeaustenr && dpkg -x r-cran-janeaustenr_*.deb /``.
"""
from __future__ import annotations

import os

import _rdata

NOVELS = ["emma", "mansfieldpark", "northangerabbey", "persuasion", "prideprejudice", "sensesensibility"]
_RDATA = os.path.join("usr", "lib", "R", "site-library", "janeaustenr", "data", "Rdata")


def find_data(root: str | None = None) -> str | None:
    """The ``.../janeaustenr/data/Rdata`` prefix: under ``root``, $JANEAUSTENR_DIR, /, or ./data."""
    candidates = []
    for base in (root, os.environ.get("JANEAUSTENR_DIR"), os.sep, "data"):
        if base:
            candidates += [base, os.path.join(base, _RDATA), os.path.join(base, "janeaustenr", "data", "Rdata"),
                           os.path.join(base, "data", "Rdata"), os.path.join(base, "Rdata")]
    for c in candidates:
        if os.path.isfile(c + ".rdx") and os.path.isfile(c + ".rdb"):
            return c
    return None


def novel_lines(prefix: str) -> dict:
    """Each novel's lines of text, by name, in the package's order."""
    return {name: [str(s) for s in _rdata.load(prefix, name)] for name in NOVELS}
