"""``DistributedSampler``: each of ``num_replicas`` processes reads its own share of a dataset.

>>> from ember.utils.data import DistributedSampler
>>> list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False))
[1, 3, 0]
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import ember

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler[int]):
    """Indices for replica ``rank`` of ``num_replicas``; pads by repeating (or drops with ``drop_last``).

    Call ``set_epoch(epoch)`` every epoch so shuffling differs between epochs and agrees across
    replicas (the permutation is seeded with ``seed + epoch``).

    >>> s = DistributedSampler(range(8), num_replicas=4, rank=0, seed=1); s.set_epoch(2)
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            dist = getattr(ember, "distributed", None)
            try:
                if num_replicas is None:
                    num_replicas = dist.get_world_size()
                if rank is None:
                    rank = dist.get_rank()
            except Exception:
                raise RuntimeError("Requires distributed package to be available (pass num_replicas and rank "
                                   "explicitly)") from None
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = ember.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = ember.randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank:self.total_size:self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``__iter__`` use this epoch's shuffle."""
        self.epoch = epoch
