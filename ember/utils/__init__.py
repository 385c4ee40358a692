"""``ember.utils``: data loading (``ember.utils.data``).

>>> from ember.utils.data import DataLoader, TensorDataset
"""
from . import data  # noqa: F401

__all__ = ["data"]
