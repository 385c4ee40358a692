"""``repr``/``str`` of tensors in PyTorch's format, and ``set_printoptions``.

The layout rules follow PyTorch's printer exactly, so output can be compared string for string
(with ``torch.`` read as ``ember.``): one formatter per tensor decides a single width and style
(integer-valued ``1.``, fixed ``1.2500`` or scientific ``1.2500e+03``) from the nonzero finite
values; tensors over ``threshold`` elements show ``edgeitems`` rows at each end around ``...``;
1-d rows wrap at ``linewidth``; suffixes (``dtype=``, ``grad_fn=``...) wrap the same way.

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
    threshold: float = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode: bool | None = None


PRINT_OPTS = _Options()

_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print (PyTorch's knobs: precision, threshold, edgeitems, linewidth, profile, sci_mode).

    ``profile`` is ``'default'``, ``'short'`` or ``'full'``; like PyTorch, every call resets
    ``sci_mode`` to the value passed (``None``: choose automatically).

    >>> import ember
    >>> ember.set_printoptions(precision=2); ember.set_printoptions(profile='default')
    """
    if profile in _PROFILES:
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = _PROFILES[profile]
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
    """The current print options as a dict (``precision``, ``threshold``, ``edgeitems``, ``linewidth``, ``sci_mode``).

    >>> import ember
    >>> ember.get_printoptions()['precision']
    4
    """
    return {"precision": PRINT_OPTS.precision, "threshold": PRINT_OPTS.threshold,
            "edgeitems": PRINT_OPTS.edgeitems, "linewidth": PRINT_OPTS.linewidth, "sci_mode": PRINT_OPTS.sci_mode}


class _Formatter:
    """One width and style for every element shown, decided from the values that will be shown."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            if flat.size:
                self.max_width = max(1, max(len(str(v)) for v in flat.tolist()))
            return
        # Only nonzero finite values decide the style and width (nan/inf/0 fit whatever is chosen).
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        absv = np.abs(vals).astype(np.float64)
        vmin, vmax = float(absv.min()), float(absv.max())
        p = PRINT_OPTS.precision
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        self.sci_mode = (vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4) if PRINT_OPTS.sci_mode is None \
            else bool(PRINT_OPTS.sci_mode)
        pylist = vals.astype(np.float64).tolist()
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{p}e}") for v in pylist)
        elif self.int_mode:
            # integer-valued floats print as "3." (one more character)
            self.max_width = max(len(f"{v:.0f}") + 1 for v in pylist)
        else:
            self.max_width = max(len(f"{v:.{p}f}") for v in pylist)

    def width(self) -> int:
        return self.max_width

    def format(self, value: Any) -> str:
        if self.floating:
            if self.sci_mode:
                s = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                s = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    s += "."
            else:
                s = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            s = str(value)
        return (self.max_width - len(s)) * " " + s


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (``edgeitems`` at each end of every dim), for the formatter."""
    edge = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:edge], a[-edge:])) if a.shape[0] > 2 * edge else a
    if not edge:
        return a[(slice(0, 0),) * a.ndim]
    rows = list(range(edge)) + list(range(a.shape[0] - edge, a.shape[0])) if a.shape[0] > 2 * edge \
        else range(a.shape[0])
    return np.stack([_summarized(a[i]) for i in rows])


class _Fmt:
    """Formats one element: a real value, or a complex one from a real and an imaginary formatter."""

    def __init__(self, real: _Formatter, imag: _Formatter | None = None):
        self.real, self.imag = real, imag
        # element width plus ", " (and the imaginary part with its "j" for complex)
        self.element_length = real.width() + 2 + (imag.width() + 1 if imag is not None else 0)

    def __call__(self, v: Any) -> str:
        if self.imag is None:
            return self.real.format(v)
        re = self.real.format(v.real)
        im = (self.imag.format(v.imag) + "j").lstrip()
        return re + im if im[0] in "+-" else re + "+" + im


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Fmt) -> str:
    edge = PRINT_OPTS.edgeitems
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / fmt.element_length)))
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = [fmt(v) for v in a[:edge].tolist()] + [" ..."] + [fmt(v) for v in a[-edge:].tolist()]
    else:
        data = [fmt(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Fmt) -> str:
    if a.ndim == 0:
        return fmt(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    edge = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * edge:
        parts = ([_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
                 + [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(n - edge, n)])
    else:
        parts = [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _body(data: np.ndarray, indent: int) -> str:
    summarize = data.size > PRINT_OPTS.threshold
    if data.dtype.kind == "f" and data.dtype.itemsize < 4 or data.dtype.name == "bfloat16":
        data = data.astype(np.float32)  # half types print through float32, as in PyTorch
    shown = _summarized(data) if summarize else data
    if data.dtype.kind == "c":
        fmt = _Fmt(_Formatter(shown.real), _Formatter(shown.imag))
    else:
        fmt = _Fmt(_Formatter(shown))
    return _tensor_str(data, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last_line_len + len(s) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + s)
            last_line_len = indent + len(s)
        else:
            parts.append(", " + s)
            last_line_len += len(s) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t: Any, prefix: str = "tensor(", tensor_contents: str | None = None) -> str:
    """PyTorch's tensor repr with ``ember.`` dtypes: ``tensor([1., 2.], dtype=ember.float64)``."""
    from . import _dtype as D
    indent = len(prefix)
    data = t._host()
    suffixes = []
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    dt = D._FROM_NP[data.dtype]
    default = D.get_default_dtype()
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(data.shape)}")
        if dt not in (default, D.default_complex_dtype(), D.int64, D.bool_):
            suffixes.append(f"dtype={dt}")
        body = _body(data, indent)
    if tensor_contents is not None:
        body = tensor_contents
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
