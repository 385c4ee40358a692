"""``ember.profiler``: see where time goes, op by op, like ``torch.profiler``.

>>> import ember
>>> from ember.profiler import profile, record_function, ProfilerActivity
>>> x = ember.randn(64, 64, requires_grad=True)
>>> with profile(activities=[ProfilerActivity.CPU]) as prof:
...     with record_function("step"):
...         (x @ x).sum().backward()
>>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))  # doctest: +SKIP

Forward ops are named by their op class (``MatMul``, ``Mul``, ``Linear``), backward nodes by their
``grad_fn`` name (``MmBackward0``, ``MulBackward0``), leaf accumulation ``AccumulateGrad``. Times are CPU
wall time in microseconds; self time excludes nested ranges.
"""
from __future__ import annotations

import enum
import functools
import json
import warnings
from typing import Any, Callable, Iterable

from ..autograd import engine as _engine
from ..autograd import graph as _graph
from ._events import EventList, FunctionEvent, FunctionEventAvg, Interval
from ._profile import _Recorder

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule", "supported_activities",
           "EventList", "FunctionEvent", "FunctionEventAvg", "Interval"]


class ProfilerActivity(enum.Enum):
    """What to profile; ember times CPU work only (``CPU``)."""
    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What the profiler does during one step of a ``schedule``."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


def supported_activities() -> set:
    """The activities ember can profile.

    >>> ember.profiler.supported_activities()  # doctest: +SKIP
    {<ProfilerActivity.CPU: 0>}
    """
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """A step -> action function: skip ``skip_first`` steps, then cycles of ``wait`` idle, ``warmup`` and
    ``active`` recorded steps (the last one saves: ``on_trace_ready`` runs), ``repeat`` times (0: forever).

    >>> s = schedule(wait=1, warmup=1, active=2); [s(i).name for i in range(4)]
    ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE']
    """
    if not (wait >= 0 and warmup >= 0 and active > 0 and repeat >= 0 and skip_first >= 0):
        raise AssertionError(f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
                             f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
                             f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", UserWarning, stacklevel=2)
    cycle = wait + warmup + active

    def schedule_fn(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:  # the first cycle starts at its warmup
            step += wait
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        k = step % cycle
        if k < wait:
            return ProfilerAction.NONE
        if k < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if k == cycle - 1 else ProfilerAction.RECORD
    return schedule_fn


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


class profile:
    """Time every op while active, forward and backward; ``key_averages().table()`` summarises.

    ``activities`` other than CPU, ``profile_memory``, ``with_stack``, ``with_flops`` and ``with_modules``
    are accepted and ignored (with a warning): ember records CPU time per op only.

    >>> with profile() as prof: y = (x * x).sum()  # doctest: +SKIP
    """

    def __init__(self, *, activities: Iterable[Any] | None = None, schedule: Callable[[int], Any] | None = None,
                 on_trace_ready: Callable[..., Any] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None, custom_trace_id_callback: Any = None,
                 post_processing_timeout_s: float | None = None) -> None:
        acts = set(activities) if activities is not None else {ProfilerActivity.CPU}
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile(): activities must be ProfilerActivity values, got {a!r}")
        ignored = [n for n, v in (("profile_memory", profile_memory), ("with_stack", with_stack),
                                  ("with_flops", with_flops), ("with_modules", with_modules), ("use_cuda", use_cuda))
                   if v]
        ignored += [f"activity {a.name}" for a in acts if a is not ProfilerActivity.CPU]
        if ignored:
            warnings.warn(f"ember.profiler records CPU time per op only; ignoring {', '.join(ignored)}",
                          UserWarning, stacklevel=2)
        self.activities = acts
        self.schedule = schedule if schedule is not None else _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._rec = _Recorder(record_shapes)
        self._saved: list | None = None  # the last finished recording cycle
        self._step_frame: Any = None
        self._running = False

    # ---- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> "profile":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        """Install the hooks and enter the schedule's first step."""
        if _graph._profiler is not None:
            raise RuntimeError("ember.profiler: another profiler is already running; nested profilers are not "
                               "supported (use record_function to mark ranges inside one profile)")
        _graph._profiler = _engine._profiler = self._rec
        self._running = True
        self._enter(self.schedule(self.step_num), ProfilerAction.NONE)

    def stop(self) -> None:
        """Finish the running cycle (``on_trace_ready`` runs if it recorded) and remove the hooks."""
        if not self._running:
            return
        try:
            self._close_step()
            if self.current_action in _RECORDING:
                self._save()
        finally:
            self._rec.recording = False
            self._running = False
            if _graph._profiler is self._rec:
                _graph._profiler = _engine._profiler = None

    def step(self) -> None:
        """Mark the end of a training step: advance the schedule (``ProfilerStep#N`` ranges each step)."""
        self._close_step()
        prev = self.current_action
        self.step_num += 1
        if self._running:
            self._enter(self.schedule(self.step_num), prev)

    def _enter(self, action: Any, prev: Any) -> None:
        if prev in _RECORDING and (action not in _RECORDING or prev is ProfilerAction.RECORD_AND_SAVE):
            self._save()
        if action in _RECORDING and (prev not in _RECORDING or prev is ProfilerAction.RECORD_AND_SAVE):
            self._rec.reset()  # a new cycle
        self.current_action = action
        self._rec.recording = action in _RECORDING
        self._step_frame = self._rec._begin(f"ProfilerStep#{self.step_num}") if self.schedule is not _always_record \
            else None

    def _close_step(self) -> None:
        if self._step_frame is not None:
            self._rec._end(self._step_frame)
            self._step_frame = None

    def _save(self) -> None:
        self._rec.recording = False
        self._saved = self._rec.raw
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # ---- results -------------------------------------------------------------------------------
    def events(self) -> EventList:
        """Every recorded range, in start order (times in microseconds)."""
        return self._rec.events(self._saved if self._saved is not None else self._rec.raw)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events averaged per name: ``.key``, ``.count``, ``.cpu_time_total``, ``.self_cpu_time_total``,
        ``.cpu_time`` (average), all in microseconds.

        >>> prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)  # doctest: +SKIP
        """
        if group_by_input_shape and not self.record_shapes:
            raise RuntimeError("key_averages(group_by_input_shape=True) needs profile(record_shapes=True)")
        return self.events().key_averages(group_by_input_shape)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as a Chrome trace (open in chrome://tracing or Perfetto)."""
        trace = [{"name": ev.name, "ph": "X", "cat": "cpu_op", "ts": ev.time_range.start,
                  "dur": ev.cpu_time_total, "pid": 0, "tid": ev.thread} for ev in self.events()]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)


class record_function:
    """Time a user range (nested ops count as its children); a context manager or a decorator.

    >>> with record_function("data_prep"): y = x * 2  # doctest: +SKIP
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"record_function(): name must be a str, got {type(name).__name__}")
        self.name, self.args = name, args
        self._rec: Any = None
        self._frame: Any = None

    def __enter__(self) -> "record_function":
        rec = _graph._profiler
        if rec is not None:
            self._rec, self._frame = rec, rec._begin(self.name)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._rec is not None:
            self._rec._end(self._frame)
            self._rec = self._frame = None

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name, self.args):  # a fresh range per call: recursion-safe
                return fn(*args, **kwargs)
        return wrapper
