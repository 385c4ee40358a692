"""DataLoader with worker processes: same batches as num_workers=0, seeding, worker info, errors
and clean shutdown (no worker left alive)."""
from __future__ import annotations

import gc
import multiprocessing
import os
import random
import sys

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="worker tests use 'fork'")
CTX = "fork"


def _alive(pids) -> list:
    out = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        try:  # a zombie is not alive
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split()[2] == "Z":
                    continue
        except FileNotFoundError:
            continue
        out.append(pid)
    return out


def _batches(loader):
    return [[t.tolist() for t in b] for b in loader]


class _Info(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return np.array([i, -1 if info is None else info.id, -1 if info is None else info.seed % 1000,
                         random.randint(0, 10 ** 6), np.random.randint(0, 10 ** 6),
                         ember.randint(0, 10 ** 6, ()).item()], dtype=np.int64)


def test_same_batches_as_single_process():
    ds = TensorDataset(ember.arange(26.).reshape(13, 2), ember.arange(13))
    for kw in (dict(batch_size=3), dict(batch_size=3, shuffle=True, drop_last=True), dict(batch_size=None)):
        ember.manual_seed(7)
        ref = _batches(DataLoader(ds, **kw)) if kw.get("batch_size") else [
            [t.tolist() for t in s] for s in DataLoader(ds, **kw)]
        ember.manual_seed(7)
        got = DataLoader(ds, num_workers=2, multiprocessing_context=CTX, **kw)
        got = _batches(got) if kw.get("batch_size") else [[t.tolist() for t in s] for s in got]
        assert got == ref
    assert multiprocessing.active_children() == []


def test_worker_info_and_seeding():
    loader = DataLoader(_Info(), batch_size=2, num_workers=2, multiprocessing_context=CTX,
                        generator=ember.Generator().manual_seed(11))
    rows = [r for b in loader for r in b.tolist()]
    assert [r[0] for r in rows] == list(range(8))
    assert [r[1] for r in rows] == [0, 0, 1, 1, 0, 0, 1, 1]          # batches go round robin
    again = [r for b in DataLoader(_Info(), batch_size=2, num_workers=2, multiprocessing_context=CTX,
                                   generator=ember.Generator().manual_seed(11)) for r in b.tolist()]
    assert rows == again                                               # same generator, same worker seeds
    seeds = {r[1]: r[2] for r in rows}
    assert (seeds[1] - seeds[0]) % 1000 == 1                           # seed = base_seed + worker_id
    # each worker's random, NumPy and ember streams are seeded differently
    assert rows[0][3:] != rows[2][3:]
    assert get_worker_info() is None


def test_worker_init_fn_and_iterable_sharding():
    class Shard(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, 9, step))

    class Full(IterableDataset):
        def __iter__(self):
            return iter(range(3))

    got = [b.tolist() for b in DataLoader(Shard(), batch_size=2, num_workers=2, multiprocessing_context=CTX)]
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7], [8]]
    # without sharding each worker yields the whole stream (as in PyTorch)
    assert sorted(int(x) for x in DataLoader(Full(), batch_size=None, num_workers=2,
                                               multiprocessing_context=CTX)) == [0, 0, 1, 1, 2, 2]

    def init(worker_id):
        os.environ["EMBER_TEST_WORKER"] = str(worker_id)

    class Env(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return int(os.environ.get("EMBER_TEST_WORKER", "-1"))

    out = [b.tolist() for b in DataLoader(Env(), batch_size=2, num_workers=2, worker_init_fn=init,
                                          multiprocessing_context=CTX)]
    assert out == [[0, 0], [1, 1]]


class _Fails(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise ValueError("bad sample 3")
        return i


class _MyError(Exception):
    pass


def test_worker_exception_reaches_main_process():
    with pytest.raises(ValueError) as info:
        list(DataLoader(_Fails(), batch_size=2, num_workers=2, multiprocessing_context=CTX))
    msg = str(info.value)
    assert "Caught ValueError in DataLoader worker process 1." in msg
    assert "Original Traceback" in msg and "bad sample 3" in msg and "__getitem__" in msg
    assert multiprocessing.active_children() == []

    def init(worker_id):
        raise _MyError("init failed")

    with pytest.raises(_MyError, match="in DataLoader worker process"):
        next(iter(DataLoader(range(4), num_workers=2, worker_init_fn=init, multiprocessing_context=CTX)))


def test_break_gc_and_main_exception_leave_no_workers():
    ds = TensorDataset(ember.arange(40))
    it = iter(DataLoader(ds, batch_size=2, num_workers=2, multiprocessing_context=CTX))
    next(it)
    pids = [w.pid for w in it._workers]
    assert len(_alive(pids)) == 2
    del it
    gc.collect()
    assert _alive(pids) == [] and multiprocessing.active_children() == []

    loader = DataLoader(ds, batch_size=2, num_workers=2, multiprocessing_context=CTX)
    for i, _ in enumerate(loader):
        if i == 1:
            break
    gc.collect()
    assert multiprocessing.active_children() == []

    def consume():
        for _ in DataLoader(ds, batch_size=2, num_workers=2, multiprocessing_context=CTX):
            raise KeyError("main loop failure")
    with pytest.raises(KeyError):
        consume()
    gc.collect()
    assert multiprocessing.active_children() == []


def test_persistent_workers_prefetch_and_out_of_order():
    ds = TensorDataset(ember.arange(10))
    loader = DataLoader(ds, batch_size=3, num_workers=2, persistent_workers=True, prefetch_factor=1,
                        multiprocessing_context=CTX)
    first = _batches(loader)
    pids = [w.pid for w in loader._iterator._workers]
    second = _batches(loader)
    assert first == second == _batches(DataLoader(ds, batch_size=3))
    assert [w.pid for w in loader._iterator._workers] == pids       # the same processes served both epochs
    # an epoch abandoned half-way does not leak into the next
    it = iter(loader)
    next(it)
    assert _batches(loader) == first
    del loader, it
    gc.collect()
    assert _alive(pids) == []
    unordered = [b[0].tolist() for b in DataLoader(ds, batch_size=3, num_workers=2, in_order=False,
                                                   multiprocessing_context=CTX)]
    assert sorted(sum(unordered, [])) == list(range(10))


def test_timeout_and_contexts():
    class Slow(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            import time
            time.sleep(0.6)
            return i

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.1 seconds"):
        list(DataLoader(Slow(), num_workers=1, timeout=0.1, multiprocessing_context=CTX))
    gc.collect()
    assert multiprocessing.active_children() == []
    ctx = multiprocessing.get_context(CTX)
    assert [b.tolist() for b in DataLoader(range(4), batch_size=2, num_workers=2, multiprocessing_context=ctx,
                                           pin_memory=True)] == [[0, 1], [2, 3]]


def test_matches_torch_worker_order():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TDL

    class Rows(Dataset):
        def __len__(self):
            return 11

        def __getitem__(self, i):
            return {"i": i, "v": np.full(2, i, np.float32)}

    ours = [(b["i"].tolist(), b["v"].tolist()) for b in DataLoader(Rows(), batch_size=3, num_workers=2,
                                                                  multiprocessing_context=CTX)]
    # torch's multi-worker order equals its single-process order; workers there are slow to start
    theirs = [(b["i"].tolist(), b["v"].tolist()) for b in TDL(Rows(), batch_size=3)]
    assert ours == theirs
