"""``ember.vision.models``: torchvision's model zoo architectures, same constructors and ``state_dict`` keys.

Pretrained weights are never downloaded: pass ``weights=`` a local file (``torch.save``/``ember.save``
checkpoint, ``.safetensors`` or ``.npz``) holding a torchvision-compatible state_dict.

>>> from ember.vision import models
>>> model = models.resnet18(num_classes=10)
"""
from .lenet import LeNet, lenet  # noqa: F401
from .alexnet import AlexNet, alexnet  # noqa: F401
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn  # noqa: F401
from .resnet import (ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, resnet101,  # noqa: F401
                     resnet152, resnext50_32x4d, resnext101_32x8d, wide_resnet50_2, wide_resnet101_2)
from .mobilenetv2 import MobileNetV2, mobilenet_v2  # noqa: F401
from .mobilenetv3 import MobileNetV3, mobilenet_v3_large, mobilenet_v3_small  # noqa: F401
from .efficientnet import (EfficientNet, efficientnet_b0, efficientnet_b1, efficientnet_b2,  # noqa: F401
                           efficientnet_b3, efficientnet_b4)
from .densenet import DenseNet, densenet121, densenet161, densenet169, densenet201  # noqa: F401
from .vision_transformer import VisionTransformer, vit_b_16, vit_b_32, vit_l_16, vit_l_32  # noqa: F401
from ._utils import load_state_dict_file  # noqa: F401

_BUILDERS = ["lenet", "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
             "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
             "wide_resnet50_2", "wide_resnet101_2", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
             "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
             "densenet121", "densenet161", "densenet169", "densenet201", "vit_b_16", "vit_b_32", "vit_l_16",
             "vit_l_32"]


def list_models() -> list:
    """Names of the model builders (``get_model(name, **kwargs)`` builds one).

    >>> "resnet18" in list_models()
    True
    """
    return sorted(_BUILDERS)


def get_model(name: str, **config: object) -> object:
    """Build a model by builder name, e.g. ``get_model("resnet18", num_classes=10)``.

    >>> m = get_model("lenet")
    """
    if name not in _BUILDERS:
        raise ValueError(f"Unknown model {name}")
    return globals()[name](**config)
