"""Profiler results: one ``FunctionEvent`` per timed range, averages per name, and the summary table.

Times are in microseconds (floats), as in PyTorch's ``torch.autograd.profiler_util``.
"""
from __future__ import annotations

from typing import Any, Iterable


class Interval:
    """A ``[start, end]`` time range in microseconds."""

    def __init__(self, start: float, end: float):
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        return self.end - self.start

    def __repr__(self) -> str:
        return f"Interval(start={self.start:.3f}, end={self.end:.3f})"


class FunctionEvent:
    """One timed range: a forward op (``Mul``), a backward node (``MulBackward0``) or a user range.

    ``cpu_time_total`` includes the ranges nested inside it (``cpu_children``); ``self_cpu_time_total``
    excludes them.
    """

    count = 1

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float, self_us: float,
                 parent_id: int | None = None, input_shapes: Any = None, total_us: float | None = None):
        self.id, self.name, self.key, self.thread = id, name, name, thread
        self.time_range = Interval(start_us, end_us)
        # computed from integer nanoseconds by the recorder, so total >= self holds exactly
        self.cpu_time_total = end_us - start_us if total_us is None else total_us
        self.self_cpu_time_total = self_us
        self.cpu_time = self.cpu_time_total
        self.parent_id = parent_id
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list = []
        self.input_shapes = input_shapes if input_shapes is not None else []

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time_total={_fmt(self.cpu_time_total)} "
                f"self_cpu_time_total={_fmt(self.self_cpu_time_total)} thread={self.thread}>")


class FunctionEventAvg:
    """The events that share a key, summed: ``count``, ``cpu_time_total``, ``self_cpu_time_total``, ``cpu_time``."""

    def __init__(self, key: str, input_shapes: Any = None):
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.input_shapes = input_shapes if input_shapes is not None else []

    def add(self, ev: Any) -> "FunctionEventAvg":
        self.count += ev.count
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        return self

    @property
    def cpu_time(self) -> float:
        """Average total time per call (us)."""
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_fmt(self.self_cpu_time_total)} "
                f"cpu_time={_fmt(self.cpu_time)} count={self.count}>")


class EventList(list):
    """A list of events (``prof.events()``) or of averages (``prof.key_averages()``), with ``table()``."""

    def key_averages(self, group_by_input_shape: bool = False) -> "EventList":
        """Average the events by name (and input shapes when asked), in order of first appearance."""
        groups: dict = {}
        for ev in self:
            k = (ev.key, str(ev.input_shapes)) if group_by_input_shape else ev.key
            avg = groups.get(k)
            if avg is None:
                avg = groups[k] = FunctionEventAvg(ev.key, ev.input_shapes if group_by_input_shape else None)
            avg.add(ev)
        return EventList(groups.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for ev in self:
            total.add(ev)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(ev.self_cpu_time_total for ev in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        """The summary table, sorted by ``sort_by`` (an attribute such as ``"cpu_time_total"``), descending.

        >>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))  # doctest: +SKIP
        """
        return build_table(self, sort_by, row_limit, max_name_column_width, max_shapes_column_width, header,
                           top_level_events_only)

    def __str__(self) -> str:
        return self.table()


def _fmt(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _pct(part: float, total: float) -> str:
    return f"{100.0 * part / total if total else 0.0:.2f}%"


def build_table(events: Iterable[Any], sort_by: str | None, row_limit: int, name_width: int, shapes_width: int,
                header: str | None, top_level_only: bool) -> str:
    events = list(events)
    if top_level_only:
        events = [e for e in events if getattr(e, "parent_id", None) is None]
    # percentages are of the self time of every event (PyTorch's "Self CPU time total")
    total = sum(e.self_cpu_time_total for e in events)
    if sort_by is not None:
        events.sort(key=lambda e: getattr(e, sort_by), reverse=True)  # a bad key raises AttributeError
    if row_limit is not None and row_limit > 0:
        events = events[:row_limit]
    with_shapes = any(e.input_shapes for e in events)
    width = min(max([len(e.key) for e in events] + [4]), name_width)
    heads = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
    widths = [width] + [12] * len(heads)
    titles = ["Name"] + heads
    if with_shapes:
        sw = min(max([len(str(e.input_shapes)) for e in events] + [12]), shapes_width)
        widths.append(sw)
        titles.append("Input Shapes")

    def row(cells: list) -> str:
        out = []
        for i, (c, w) in enumerate(zip(cells, widths)):
            if len(c) > w:
                c = c[:w - 3] + "..."
            out.append(c.rjust(w) if i < 7 else c.ljust(w))
        return "  ".join(out) + "  "

    line = "  ".join("-" * w for w in widths) + "  "
    lines = []
    if header:
        lines += ["=" * len(line), header]
    lines += [line, row(titles), line]
    for e in events:
        cells = [e.key, _pct(e.self_cpu_time_total, total), _fmt(e.self_cpu_time_total),
                 _pct(e.cpu_time_total, total), _fmt(e.cpu_time_total),
                 _fmt(e.cpu_time_total / e.count if e.count else 0.0), str(e.count)]
        if with_shapes:
            cells.append(str(e.input_shapes))
        lines.append(row(cells))
    lines += [line, f"Self CPU time total: {_fmt(total)}", ""]
    return "\n".join(lines)
