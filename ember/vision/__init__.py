"""``ember.vision``: what torchvision is to PyTorch — datasets, transforms (and later models).

>>> import ember.vision.transforms as T
>>> T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])  # doctest: +ELLIPSIS
Compose(...
"""
from . import datasets, transforms, models, utils, ops  # noqa: F401
