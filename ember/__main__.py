"""The ``ember`` command: run a PyTorch program on ember.

    python -m ember run script.py [args...]      # or: ember run script.py [args...]
    python -m ember run -m package.module [args...]
    python -m ember --version

``run`` installs ``ember.compat`` (so ``import torch``/``import torchvision`` give ember's
modules), then executes the script as ``__main__`` with ``sys.argv`` set to the script and its
arguments and the script's folder first on ``sys.path``, as ``python script.py`` would.
"""
from __future__ import annotations

import os
import runpy
import sys
from typing import Sequence

_USAGE = """usage: ember run script.py [args ...]
       ember run -m module [args ...]
       ember --version

Run a PyTorch program with ember: `import torch` and `import torchvision` resolve to ember's
modules; what ember lacks fails where it is used with NotImplementedError."""


def _run(args: list) -> int:
    if not args or args[0] in ("-h", "--help"):
        print(_USAGE)
        return 0 if args else 2
    from . import compat
    compat.install()
    if args[0] == "-m":
        if len(args) < 2:
            print("ember run: -m needs a module name", file=sys.stderr)
            return 2
        sys.argv = [args[1]] + args[2:]
        sys.path.insert(0, os.getcwd())
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        return 0
    script = args[0]
    if not os.path.exists(script):
        print(f"ember run: can't open file {script!r}: [Errno 2] No such file or directory", file=sys.stderr)
        return 2
    sys.argv = list(args)
    # like `python script.py`: the script's folder comes first for its own imports
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001  (print like Python does, without the runner's frames)
        _print_exception(e, os.path.abspath(script))
        return 1
    return 0


def _print_exception(exc: BaseException, script: str) -> None:
    import traceback
    tb = exc.__traceback__
    # drop the frames of this runner and runpy above the script's first frame
    probe = tb
    while probe is not None and os.path.abspath(probe.tb_frame.f_code.co_filename) != script:
        probe = probe.tb_next
    if probe is not None:
        tb = probe
    sys.stderr.write("".join(traceback.format_exception(type(exc), exc, tb)))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ember`` and the ``ember`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_USAGE)
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        from . import __version__
        print(f"ember {__version__}")
        return 0
    if args[0] == "run":
        return _run(args[1:])
    print(f"ember: unknown command {args[0]!r}\n\n{_USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
