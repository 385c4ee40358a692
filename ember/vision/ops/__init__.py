"""``ember.vision.ops``: torchvision's operators — box utilities, NMS, RoIAlign/RoIPool and the model blocks.

>>> import ember
>>> from ember.vision import ops
>>> ops.box_area(ember.tensor([[0., 0., 2., 2.]]))
tensor([4.])
"""
from .boxes import (nms, batched_nms, box_area, box_iou, box_convert, clip_boxes_to_image,  # noqa: F401
                    remove_small_boxes, generalized_box_iou)
from .roi_align import roi_align, RoIAlign, roi_pool, RoIPool  # noqa: F401
from .stochastic_depth import stochastic_depth, StochasticDepth  # noqa: F401
from .misc import Conv2dNormActivation, SqueezeExcitation, MLP  # noqa: F401

__all__ = ["nms", "batched_nms", "box_area", "box_iou", "box_convert", "clip_boxes_to_image", "remove_small_boxes",
           "generalized_box_iou", "roi_align", "RoIAlign", "roi_pool", "RoIPool", "stochastic_depth",
           "StochasticDepth", "Conv2dNormActivation", "SqueezeExcitation", "MLP"]
