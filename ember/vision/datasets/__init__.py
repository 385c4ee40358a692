"""Datasets with torchvision's names and layouts."""
from .mnist import MNIST, FashionMNIST  # noqa: F401
