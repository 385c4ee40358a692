"""Transforms with torchvision's classic API, on PIL images and on tensors ``(..., C, H, W)``.

>>> import ember.vision.transforms as T
>>> T.Compose([T.RandomResizedCrop(8), T.RandomHorizontalFlip(), T.ToTensor()])  # doctest: +ELLIPSIS
Compose(...
"""
from .transforms import *  # noqa: F401,F403
from ._color import *  # noqa: F401,F403
from .autoaugment import *  # noqa: F401,F403
from . import functional  # noqa: F401
