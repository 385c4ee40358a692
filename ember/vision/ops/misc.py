"""Building blocks the model zoo shares (torchvision.ops.misc): conv-norm-activation, squeeze-excitation, MLP.

>>> from ember.vision.ops import Conv2dNormActivation
>>> Conv2dNormActivation(3, 8, kernel_size=3, stride=2)  # doctest: +ELLIPSIS
Conv2dNormActivation(...
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from ... import nn
from ..._tensor import Tensor

__all__ = ["Conv2dNormActivation", "SqueezeExcitation", "MLP"]


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d`` -> norm layer (default ``BatchNorm2d``) -> activation (default ``ReLU``), as a Sequential.

    ``padding=None`` keeps "same" size at stride 1; the conv has a bias only when there is no norm layer
    (unless ``bias`` says otherwise). Module names are ``0`` (conv), ``1`` (norm), ``2`` (activation).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple = 3, stride: int | tuple = 1,
                 padding: int | tuple | str | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
                 dilation: int | tuple = 1, inplace: bool | None = True, bias: bool | None = None) -> None:
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                ks = kernel_size if isinstance(kernel_size, Sequence) else (kernel_size,) * len(dilation)
                dl = dilation if isinstance(dilation, Sequence) else (dilation,) * len(ks)
                padding = tuple((k - 1) // 2 * d for k, d in zip(ks, dl))
        if bias is None:
            bias = norm_layer is None
        layers: list = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                                  groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Squeeze-and-Excitation (Hu et al.): scale channels by ``sigmoid(fc2(relu(fc1(avgpool(x)))))``.

    >>> se = SqueezeExcitation(16, 4)
    """

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, x: Tensor) -> Tensor:
        scale = self.avgpool(x)
        scale = self.activation(self.fc1(scale))
        return self.scale_activation(self.fc2(scale))

    def forward(self, x: Tensor) -> Tensor:
        return self._scale(x) * x


class MLP(nn.Sequential):
    """Linear -> [norm] -> activation -> Dropout for each hidden size, then Linear -> Dropout.

    >>> mlp = MLP(8, [16, 4])
    """

    def __init__(self, in_channels: int, hidden_channels: list, norm_layer: Callable[..., nn.Module] | None = None,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU, inplace: bool | None = None,
                 bias: bool = True, dropout: float = 0.0) -> None:
        params: dict[str, Any] = {} if inplace is None else {"inplace": inplace}
        layers: list = []
        in_dim = in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers.append(activation_layer(**params))
            layers.append(nn.Dropout(dropout, **params))
            in_dim = hidden_dim
        layers.append(nn.Linear(in_dim, hidden_channels[-1], bias=bias))
        layers.append(nn.Dropout(dropout, **params))
        super().__init__(*layers)
