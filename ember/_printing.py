"""``repr``/``str`` of tensors in PyTorch's format, and ``set_printoptions``.

>>> import ember
>>> ember.tensor([1.0, 2.5])
tensor([1.0000, 2.5000])
>>> ember.tensor([1., 2.], dtype=ember.float64)
tensor([1., 2.], dtype=ember.float64)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode: bool | None = None


PRINT_OPTS = _Options()


def set_printoptions(precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print (same knobs as PyTorch: precision, threshold, edgeitems, linewidth, profile)."""
    if profile == "default":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 4, 1000, 3, 80
    elif profile == "short":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 1000, 2, 80
    elif profile == "full":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 4, math.inf, 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    return {"precision": PRINT_OPTS.precision, "threshold": PRINT_OPTS.threshold,
            "edgeitems": PRINT_OPTS.edgeitems, "linewidth": PRINT_OPTS.linewidth, "sci_mode": PRINT_OPTS.sci_mode}


class _Formatter:
    """Decides one width and style for every element, like PyTorch's ``_Formatter``."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if values.dtype.kind == "b":
            self.max_width = max((len(str(bool(v))) for v in values.ravel()), default=1)
            return
        if not self.floating:
            self.max_width = max((len(str(int(v))) for v in values.ravel()), default=1)
            return
        finite = values[np.isfinite(values)].astype(np.float64)
        nonzero = np.abs(finite[finite != 0])
        if finite.size == 0:
            self.max_width = max((len(_nonfinite(v)) for v in values.ravel()), default=1)
            return
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        p = PRINT_OPTS.precision
        if self.int_mode:
            if nonzero.size and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1e8):
                self.sci_mode = True
                widths = [len(f"{v:.{p}e}") for v in finite]
            else:
                widths = [len(f"{v:.0f}") + 1 for v in finite]
        else:
            if nonzero.size and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1e8
                                 or nonzero.min() < 1e-4):
                self.sci_mode = True
                widths = [len(f"{v:.{p}e}") for v in finite]
            else:
                widths = [len(f"{v:.{p}f}") for v in finite]
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode
            if self.sci_mode:
                widths = [len(f"{v:.{p}e}") for v in finite]
        widths += [len(_nonfinite(v)) for v in values.ravel() if not np.isfinite(v)]
        self.max_width = max(widths)

    def format(self, v: Any) -> str:
        if not self.floating:
            s = str(bool(v)) if isinstance(v, (bool, np.bool_)) else str(int(v))
            return s.rjust(self.max_width)
        v = float(v)
        p = PRINT_OPTS.precision
        if not math.isfinite(v):
            s = _nonfinite(v)
        elif self.sci_mode:
            s = f"{v:.{p}e}"
        elif self.int_mode:
            s = f"{v:.0f}."
        else:
            s = f"{v:.{p}f}"
        return s.rjust(self.max_width)


def _nonfinite(v: Any) -> str:
    v = float(v)
    return "nan" if v != v else ("inf" if v > 0 else "-inf")


def _summarize(a: np.ndarray, edge: int) -> np.ndarray:
    """The values that will be shown (corners of a summarised tensor), for choosing the format."""
    if a.ndim == 0:
        return a.reshape(1)
    if a.shape[0] > 2 * edge:
        a = np.concatenate([a[:edge], a[-edge:]])
    return np.concatenate([_summarize(x, edge).ravel() for x in a]) if a.ndim > 1 and len(a) else a.ravel()


def _format_array(a: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    edge = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        items = [fmt.format(v) for v in a]
        if summarize and len(a) > 2 * edge:
            items = items[:edge] + ["..."] + items[-edge:]
        per_line = max(int((PRINT_OPTS.linewidth - indent) // (fmt.max_width + 2)), 1)
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = list(range(a.shape[0]))
    if summarize and a.shape[0] > 2 * edge:
        rows = rows[:edge] + [None] + rows[-edge:]
    parts = [("..." if r is None else _format_array(a[r], fmt, indent + 1, summarize)) for r in rows]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def tensor_repr(t: Any, prefix: str = "tensor(") -> str:
    from . import _dtype as D
    data = t._host()
    if data.dtype.name == "bfloat16":
        data = data.astype(np.float32)
    suffixes = []
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    dt = t.dtype
    show_dtype = dt not in (D.get_default_dtype(), D.int64, D.bool_) and not (
        dt is D.complex64 and D.get_default_dtype() is D.float32)
    if data.size == 0:
        body = "[]"
        if data.shape != (0,):
            suffixes.append(f"size={tuple(data.shape)}")
        if dt is not D.get_default_dtype():
            show_dtype = True
    else:
        summarize = data.size > PRINT_OPTS.threshold
        if data.dtype.kind == "c":
            body = _format_complex(data, len(prefix), summarize)
        else:
            fmt = _Formatter(_summarize(data, PRINT_OPTS.edgeitems) if summarize else data)
            body = _format_array(data, fmt, len(prefix), summarize)
    if show_dtype:
        suffixes.append(f"dtype={dt}")
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    out = prefix + body
    if suffixes:
        # each suffix goes on the current line while it fits, else on a new indented line
        last = len(out.rsplit("\n", 1)[-1])
        for s in suffixes:
            if last + len(s) + 3 > PRINT_OPTS.linewidth:
                out += ",\n" + " " * len(prefix) + s
                last = len(prefix) + len(s)
            else:
                out += ", " + s
                last += len(s) + 2
    return out + ")"


def _format_complex(data: np.ndarray, indent: int, summarize: bool) -> str:
    real = _Formatter(data.real.ravel())
    imag = _Formatter(np.abs(data.imag).ravel())

    class _C:
        max_width = real.max_width + imag.max_width + 2

        @staticmethod
        def format(v: Any) -> str:
            sign = "+" if v.imag >= 0 or math.isnan(v.imag) else "-"
            return f"{real.format(v.real)}{sign}{imag.format(abs(v.imag)).lstrip()}j"
    return _format_array(data, _C, indent, summarize)  # type: ignore[arg-type]
