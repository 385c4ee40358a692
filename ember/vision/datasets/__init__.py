"""Datasets with torchvision's names and layouts.

>>> from ember.vision.datasets import FakeData
>>> len(FakeData(size=3, image_size=(1, 4, 4)))
3
"""
from .mnist import MNIST, FashionMNIST, KMNIST, EMNIST  # noqa: F401
from .cifar import CIFAR10, CIFAR100  # noqa: F401
from .svhn import SVHN  # noqa: F401
from .folder import DatasetFolder, ImageFolder  # noqa: F401
from .fakedata import FakeData  # noqa: F401
