"""Named tuples returned by ops with several outputs (``ember.return_types.max`` ...), like
``torch.return_types``: index them, unpack them, or read fields by name.

>>> import ember
>>> values, indices = ember.tensor([[1., 5.], [7., 2.]]).max(dim=1)
>>> indices
tensor([1, 0])
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

__all__ = ["max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin",
           "aminmax", "histogram"]


def _make(name: str, fields: tuple) -> type:
    base = namedtuple(name, fields)

    def __repr__(self: Any) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"ember.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__,
                               "n_fields": len(fields), "n_sequence_fields": len(fields)})
    return cls


_VI = ("values", "indices")
max = _make("max", _VI)  # noqa: A001
min = _make("min", _VI)  # noqa: A001
sort = _make("sort", _VI)
topk = _make("topk", _VI)
kthvalue = _make("kthvalue", _VI)
median = _make("median", _VI)
nanmedian = _make("nanmedian", _VI)
mode = _make("mode", _VI)
cummax = _make("cummax", _VI)
cummin = _make("cummin", _VI)
aminmax = _make("aminmax", ("min", "max"))
histogram = _make("histogram", ("hist", "bin_edges"))
