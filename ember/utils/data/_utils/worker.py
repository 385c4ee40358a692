"""What runs inside a DataLoader worker process: seeding, ``get_worker_info``, the fetch loop.

>>> from ember.utils.data import get_worker_info
>>> get_worker_info() is None  # in the main process
True
"""
from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["get_worker_info", "WorkerInfo", "ExceptionWrapper"]

# How often (seconds) a worker waiting for work checks that the main process is still alive.
MP_STATUS_CHECK_INTERVAL = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``, ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any

    def __repr__(self) -> str:
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Inside a DataLoader worker, this worker's ``WorkerInfo``; ``None`` in the main process.

    >>> info = get_worker_info()  # use info.id / info.num_workers to shard an IterableDataset
    """
    return _worker_info


class ExceptionWrapper:
    """An exception from a worker, carried to the main process with its traceback text."""

    def __init__(self, exc_info: tuple, where: str) -> None:
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self) -> None:
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:  # KeyError repr()s its message; keep the text readable
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


class _KeyErrorMessage(str):
    def __repr__(self) -> str:
        return str(self)


class _IterableDatasetStopIteration:
    """Sent by a worker whose iterable dataset is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to persistent workers at the start of a new epoch."""


def _seed_worker(seed: int, base_seed: int, worker_id: int) -> None:
    import ember
    random.seed(seed)
    ember.manual_seed(seed)
    # NumPy's legacy seed takes 32-bit words; mix base seed and worker id through a SeedSequence.
    ss = np.random.SeedSequence([worker_id, base_seed & 0xFFFFFFFF, (base_seed >> 32) & 0xFFFFFFFF])
    np.random.seed(ss.generate_state(4))


class _MapFetcher:
    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index: Any) -> Any:
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            data = getitems(index) if callable(getitems) else [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterableFetcher:
    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.drop_last = drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def create_fetcher(dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> Any:
    from ..dataset import IterableDataset
    cls = _IterableFetcher if isinstance(dataset, IterableDataset) else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


def _worker_loop(dataset: Any, index_queue: Any, data_queue: Any, done_event: Any, auto_collation: bool,
                 collate_fn: Callable, drop_last: bool, base_seed: int, init_fn: Callable | None, worker_id: int,
                 num_workers: int, parent_pid: int) -> None:
    """Fetch batches for ``(epoch, idx, indices)`` tasks until told to stop (``None``) or orphaned."""
    global _worker_info
    try:
        seed = base_seed + worker_id
        _seed_worker(seed, base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
        iteration_end = False
        while True:
            try:
                task = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid:  # the main process died: leave quietly
                    break
                continue
            if task is None:
                break
            epoch, idx, index = task
            if isinstance(index, _ResumeIteration):
                iteration_end = False
                if init_exception is None:
                    try:
                        fetcher = create_fetcher(dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_exception = ExceptionWrapper(sys.exc_info(),
                                                          f"in DataLoader worker process {worker_id}")
                continue
            if done_event.is_set() or iteration_end:
                continue
            if init_exception is not None:
                data: Any = init_exception
                init_exception = None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if isinstance(fetcher, _IterableFetcher):
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
                except Exception:
                    data = ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
            data_queue.put((epoch, idx, data))
            del data
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        # The main process is shutting down and may not read what is still queued: do not block on it.
        data_queue.cancel_join_thread()
        data_queue.close()
