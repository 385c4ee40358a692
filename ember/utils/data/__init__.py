"""PyTorch's ``torch.utils.data`` API: datasets, samplers, collation and ``DataLoader``.

>>> import ember
>>> from ember.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(ember.arange(6.).reshape(3, 2), ember.arange(3))
>>> [y.tolist() for _, y in DataLoader(ds, batch_size=2)]
[[0, 1], [2]]
"""
from .dataset import (Dataset, IterableDataset, TensorDataset, ConcatDataset, ChainDataset, StackDataset, Subset,
                      random_split)
from .sampler import (Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler,
                      BatchSampler)
from .distributed import DistributedSampler
from ._utils.collate import default_collate, default_convert
from ._utils.worker import get_worker_info, WorkerInfo
from .dataloader import DataLoader

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset", "StackDataset",
           "Subset", "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler", "default_collate", "default_convert",
           "get_worker_info", "WorkerInfo", "DataLoader"]
