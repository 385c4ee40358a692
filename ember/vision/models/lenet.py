"""LeNet-5 style convolutional network (LeCun et al. 1998), sized for 28x28 / 32x32 single-channel images.

>>> import ember
>>> from ember.vision.models import LeNet
>>> LeNet()(ember.randn(2, 1, 28, 28)).shape
ember.Size([2, 10])
"""
from __future__ import annotations

from typing import Any

from ... import nn
from ..._tensor import Tensor
from ._utils import _load_weights

__all__ = ["LeNet", "lenet"]


class LeNet(nn.Module):
    """conv(6, 5x5, pad 2) -> maxpool -> conv(16, 5x5) -> maxpool -> fc 120 -> fc 84 -> fc ``num_classes``.

    ``image_size`` 28 (MNIST) or 32; ReLU activations and max pooling (the modern variant of LeNet-5).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = 28) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2 if image_size == 28 else 0), nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(inplace=True),
            nn.Linear(120, 84), nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x).flatten(1))


def lenet(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> LeNet:
    """Build a :class:`LeNet` (``weights``: a local state_dict file or dict).

    >>> model = lenet(num_classes=10)
    """
    return _load_weights(LeNet(**kwargs), weights)
