"""The recorder behind ``ember.profiler.profile``: a stack of timed ranges per thread.

While a profile records, ``ember.autograd.graph._profiler`` and ``ember.autograd.engine._profiler``
point at a ``_Recorder``. ``Node.apply`` then hands each op to ``_Recorder._run_op`` (which calls
``apply`` again, once, unhooked, so the whole op is timed: argument wrapping, forward, recording),
and the engine brackets each node's backward with ``_begin``/``_end``. With no profiler the hooks
cost one global ``is None`` check each.

A range's self time is its total time minus the total time of the ranges opened inside it
(nested ops of a composite op, ops called by a backward formula, ops inside ``record_function``).
"""
from __future__ import annotations

import itertools
import threading
from time import perf_counter_ns
from typing import Any

from ._events import EventList, FunctionEvent

# a frame: [name, child_ns, id, parent_id, input_shapes, closed, start_ns]
_NAME, _CHILD, _ID, _PARENT, _SHAPES, _CLOSED, _START = range(7)


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.stack: list = []
        self.inner = False  # the next Node.apply on this thread is _run_op's own call: let it through


class _Recorder:
    """Collects timed ranges; installed as the graph's and the engine's ``_profiler`` while profiling."""

    def __init__(self, record_shapes: bool = False):
        self.record_shapes = record_shapes
        self.recording = False
        self.raw: list = []  # (id, name, thread, start_ns, end_ns, self_ns, parent_id, shapes)
        self._tls = _ThreadState()
        self._ids = itertools.count()
        self.t0 = perf_counter_ns()

    # ---- hooks -------------------------------------------------------------------------------
    def _intercept(self) -> bool:
        """Called by ``Node.apply``: True to route this op through ``_run_op``."""
        tls = self._tls
        if tls.inner:
            tls.inner = False
            return False
        return self.recording

    def _run_op(self, cls: type, inputs: tuple, kwargs: dict) -> Any:
        frame = self._begin(cls.__name__, inputs if self.record_shapes else None)
        tls = self._tls
        tls.inner = True
        try:
            return cls.apply(*inputs, **kwargs)
        finally:
            tls.inner = False
            self._end(frame)

    def _begin(self, name: str, inputs: tuple | None = None) -> list | None:
        """Open a range (None when not recording); close it with ``_end``."""
        if not self.recording:
            return None
        stack = self._tls.stack
        shapes = None
        if inputs is not None:
            shapes = [list(t.shape) if hasattr(t, "_data") else [] for t in inputs]
        frame = [name, 0, next(self._ids), stack[-1][_ID] if stack else None, shapes, False, 0]
        stack.append(frame)
        frame[_START] = perf_counter_ns()  # last, so the bookkeeping above is not counted in the range
        return frame

    def _end(self, frame: list | None) -> None:
        end = perf_counter_ns()
        if frame is None or frame[_CLOSED]:
            return
        stack = self._tls.stack
        tid = threading.get_ident()
        raw = self.raw
        # ranges still open above this one (an exception skipped their _end) close with it
        while stack:
            f = stack.pop()
            f[_CLOSED] = True
            dur = end - f[_START]
            raw.append((f[_ID], f[_NAME], tid, f[_START], end, dur - f[_CHILD], f[_PARENT], f[_SHAPES]))
            if stack:
                stack[-1][_CHILD] += dur
            if f is frame:
                break

    # ---- control -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Start a new recording cycle: drop what was recorded and forget this thread's open ranges."""
        self.raw = []
        for f in self._tls.stack:
            f[_CLOSED] = True
        self._tls.stack = []

    def events(self, raw: list | None = None) -> EventList:
        """The recorded ranges as ``FunctionEvent``s in start order, with parents and children linked."""
        raw = self.raw if raw is None else raw
        t0 = self.t0
        evs = [FunctionEvent(i, name, tid, (s - t0) / 1e3, (e - t0) / 1e3, self_ns / 1e3, parent, shapes,
                             (e - s) / 1e3)
               for i, name, tid, s, e, self_ns, parent, shapes in sorted(raw, key=lambda r: r[0])]
        by_id = {ev.id: ev for ev in evs}
        for ev in evs:
            if ev.name.startswith("ProfilerStep#"):
                ev.key = "ProfilerStep*"
            p = by_id.get(ev.parent_id) if ev.parent_id is not None else None
            if p is not None:
                ev.cpu_parent = p
                p.cpu_children.append(ev)
        return EventList(evs)
