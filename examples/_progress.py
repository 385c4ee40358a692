"""A plain text progress bar for the examples (no dependencies)."""
from __future__ import annotations

import sys
import time


def progress(prefix: str, done: int, total: int, start: float, extra: str = "", width: int = 28) -> None:
    """Redraw ``prefix [=====.....] done/total elapsed<eta extra`` on the current line."""
    filled = int(width * done / max(total, 1))
    elapsed = time.perf_counter() - start
    eta = elapsed / max(done, 1) * (total - done)
    sys.stdout.write(f"\r{prefix} [{'=' * filled}{'.' * (width - filled)}] {done}/{total} "
                     f"{elapsed:5.1f}s<{eta:5.1f}s {extra}")
    sys.stdout.flush()
