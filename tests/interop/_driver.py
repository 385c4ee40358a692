"""Runs several programs in one process (one import of the library), printing a marker before each.

Usage: python _driver.py prog1.py prog2.py ...   (or: python -m ember run _driver.py ...)
Each program runs as __main__ in its own folder; a failing one prints its error and the next runs.
"""
import os
import runpy
import sys
import traceback

if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(f"@@@ {os.path.basename(path)}", flush=True)
        sys.argv = [path]
        try:
            runpy.run_path(path, run_name="__main__")
        except BaseException as e:  # noqa: BLE001  (report and go on with the next program)
            print(f"@@@ERROR {type(e).__name__}: {e}", flush=True)
            traceback.print_exc()
        sys.stdout.flush()
