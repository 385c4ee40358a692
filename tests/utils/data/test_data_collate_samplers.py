"""ember.utils.data: datasets, samplers, collation, single-process DataLoader; compared with PyTorch."""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import ember
from ember.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, DistributedSampler,
                              IterableDataset, RandomSampler, SequentialSampler, StackDataset, Subset,
                              SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
                              default_convert, random_split)

Point = collections.namedtuple("Point", "x y")


def _tolist(x):
    """Nested structure of batches -> comparable plain values (tensors become (dtype, shape, values))."""
    if hasattr(x, "dtype") and hasattr(x, "shape") and not isinstance(x, np.ndarray):
        return (str(x.dtype).split(".")[-1], tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return {k: _tolist(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return (type(x).__name__ if type(x).__name__ != "Point" else "Point", [_tolist(v) for v in x])
    return x


SAMPLES = [
    [1.5, 2.5],
    [1, 2, 3],
    [True, False],
    ["a", "b"],
    [np.float32(1), np.float32(2)],
    [np.arange(3, dtype=np.int16), np.arange(3, dtype=np.int16)],
    [{"x": 1, "y": [1.0, 2.0]}, {"x": 2, "y": [3.0, 4.0]}],
    [(1, "a"), (2, "b")],
    [Point(1, 2.0), Point(3, 4.0)],
    [[np.ones(2), 5], [np.zeros(2), 6]],
]


@pytest.mark.parametrize("i", range(len(SAMPLES)))
def test_default_collate_matches_torch(i):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as tcollate
    batch = SAMPLES[i]
    assert _tolist(default_collate(batch)) == _tolist(tcollate(batch))


def test_default_collate_tensors_and_errors():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as tcollate
    e = default_collate([ember.ones(2, 3), ember.zeros(2, 3)])
    t = tcollate([torch.ones(2, 3), torch.zeros(2, 3)])
    assert _tolist(e) == _tolist(t)
    for bad in ([ember.ones(2), ember.ones(3)], [np.ones(2), np.ones(3)]):
        with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
            default_collate(bad)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError):
        default_collate([np.array(["a"], dtype=object)] * 2)


def test_default_convert_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_convert as tconvert
    for data in (np.arange(3.0), {"a": np.ones(2, np.int32), "b": "s"}, (np.zeros(1), 3), [np.int64(4)],
                 Point(np.ones(1), 2), "text"):
        assert _tolist(default_convert(data)) == _tolist(tconvert(data))


def test_datasets():
    x, y = ember.arange(12.).reshape(6, 2), ember.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6 and ds[2][1].item() == 2
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(x, ember.arange(5))
    cat = ConcatDataset([range(3), range(10, 12)])
    assert len(cat) == 5 and [cat[i] for i in range(5)] == [0, 1, 2, 10, 11] and cat[-1] == 11
    assert (ds + ds).cumulative_sizes == [6, 12]
    assert list(ChainDataset([range(2), range(3)])) == [0, 1, 0, 1, 2]
    st = StackDataset(range(3), "abc")
    assert st[1] == (1, "b") and len(st) == 3
    assert StackDataset(a=range(2), b="xy")[1] == {"a": 1, "b": "y"}
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(range(2), "abc")
    sub = Subset(range(10, 20), [3, 1])
    assert len(sub) == 2 and sub[0] == 13
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_random_split():
    g = ember.Generator().manual_seed(1)
    parts = random_split(range(10), [0.5, 0.3, 0.2], generator=g)
    assert [len(p) for p in parts] == [5, 3, 2]
    assert sorted(i for p in parts for i in p) == list(range(10))
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]  # remainder round-robin
    a = [list(p) for p in random_split(range(8), [4, 4], generator=ember.Generator().manual_seed(3))]
    b = [list(p) for p in random_split(range(8), [4, 4], generator=ember.Generator().manual_seed(3))]
    assert a == b
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(5), [2, 2])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        random_split(range(2), [0.9, 0.1])
    assert any("Length of split at index 1 is 0" in str(x.message) for x in w)


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = ember.Generator().manual_seed(0)
    perm = list(RandomSampler(range(10), generator=g))
    assert sorted(perm) == list(range(10)) and perm != list(range(10))
    rs = RandomSampler(range(5), replacement=True, num_samples=70, generator=g)
    draws = list(rs)
    assert len(draws) == 70 == len(rs) and set(draws) <= set(range(5))
    assert len(list(RandomSampler(range(4), num_samples=10))) == 10
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)
    assert sorted(SubsetRandomSampler([7, 3, 5])) == [3, 5, 7]
    w = list(WeightedRandomSampler([0.0, 0.0, 1.0], 5))
    assert w == [2] * 5
    assert sorted(WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False)) == [0, 1, 2]
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1.0], 0)
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(BatchSampler(range(7), 3, True)) == 2 and len(BatchSampler(range(7), 3, False)) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_distributed_sampler_matches_torch_partition(drop_last, shuffle):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TDS
    n, reps = 11, 3
    ours = [list(DistributedSampler(range(n), reps, r, shuffle=shuffle, drop_last=drop_last)) for r in range(reps)]
    theirs = [list(TDS(range(n), reps, r, shuffle=False, drop_last=drop_last)) for r in range(reps)]
    assert [len(o) for o in ours] == [len(t) for t in theirs]
    if not shuffle:
        assert ours == theirs
    else:
        flat = sorted(i for o in ours for i in o)
        assert set(flat) <= set(range(n)) and (drop_last or set(flat) == set(range(n)))
        s = DistributedSampler(range(n), reps, 0, seed=5)
        e0 = list(s)
        s.set_epoch(1)
        assert list(s) != e0
    with pytest.raises(ValueError, match="Invalid rank"):
        DistributedSampler(range(4), 2, 2)


class _Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "y": i, "name": f"s{i}"}


@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
                                dict(batch_size=4, sampler=[5, 1, 2, 0, 3]),
                                dict(batch_sampler=[[0, 1], [4], [2, 3, 5]])])
def test_dataloader_matches_torch(kw):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TDL
    ds = _Squares(7)
    ours = [_tolist(b) for b in DataLoader(ds, **kw)]
    theirs = [_tolist(b) for b in TDL(ds, **kw)]
    assert ours == theirs
    assert len(DataLoader(ds, **kw)) == len(TDL(ds, **kw))


def test_dataloader_shuffle_generator_and_collate_fn():
    ds = TensorDataset(ember.arange(10))
    run = lambda seed: [b[0].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True,  # noqa: E731
                                                          generator=ember.Generator().manual_seed(seed))]
    assert run(1) == run(1) and run(1) != run(2)
    assert sorted(sum(run(1), [])) == list(range(10))
    ember.manual_seed(3)
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True)]
    ember.manual_seed(3)
    assert a == [b[0].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True)]
    assert list(DataLoader(range(5), batch_size=2, collate_fn=lambda b: sum(b))) == [1, 5, 4]


def test_dataloader_argument_errors():
    ds = range(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="multiprocessing_context"):
        DataLoader(ds, num_workers=1, multiprocessing_context="nope")
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(_Count(3), shuffle=True)
    dl = DataLoader(ds, batch_size=2)
    with pytest.raises(ValueError, match="should not be set after"):
        dl.batch_size = 3
    DataLoader(ds, pin_memory=True)  # accepted, a no-op on CPU


class _Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("kw", [dict(batch_size=2), dict(batch_size=2, drop_last=True), dict(batch_size=None)])
def test_iterable_dataset_matches_torch(kw):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TDL, IterableDataset as TIDS

    class TCount(TIDS):
        def __iter__(self):
            return iter(range(5))

        def __len__(self):
            return 5
    ours = [_tolist(b) for b in DataLoader(_Count(5), **kw)]
    theirs = [_tolist(b) for b in TDL(TCount(), **kw)]
    assert ours == theirs and len(DataLoader(_Count(5), **kw)) == len(TDL(TCount(), **kw))
