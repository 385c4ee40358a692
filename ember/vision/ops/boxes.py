"""Box utilities (torchvision.ops.boxes): areas, IoU, format conversion and non-maximum suppression.

Boxes are ``(N, 4)`` tensors; ``xyxy`` means ``(x1, y1, x2, y2)`` with ``0 <= x1 < x2``, ``0 <= y1 < y2``.
The arithmetic ops are written with ember tensor ops, so they are differentiable.

>>> import ember
>>> from ember.vision.ops import box_iou
>>> box_iou(ember.tensor([[0., 0., 2., 2.]]), ember.tensor([[1., 1., 3., 3.]]))
tensor([[0.1429]])
"""
from __future__ import annotations

from ..._tensor import Tensor, _wrap
from ...autograd.graph import _xp_of

__all__ = ["nms", "batched_nms", "box_area", "box_iou", "box_convert", "clip_boxes_to_image",
           "remove_small_boxes", "generalized_box_iou"]


def _check_boxes(boxes: Tensor, name: str = "boxes") -> None:
    if not isinstance(boxes, Tensor):
        raise TypeError(f"{name} must be a Tensor, got {type(boxes).__name__}")
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} should have shape (N, 4), got {tuple(boxes.shape)}")


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Indices (int64, by decreasing score) of the boxes kept after suppressing those with IoU > threshold.

    >>> import ember
    >>> b = ember.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
    >>> nms(b, ember.tensor([0.9, 0.8, 0.7]), 0.5)
    tensor([0, 2])
    """
    _check_boxes(boxes)
    if scores.dim() != 1 or scores.shape[0] != boxes.shape[0]:
        raise RuntimeError(f"boxes and scores should have same number of elements in dimension 0, got "
                           f"{boxes.shape[0]} and {tuple(scores.shape)}")
    xp = _xp_of(boxes.device)
    b = boxes.detach()._data
    s = scores.detach()._data
    n = b.shape[0]
    if n == 0:
        return _wrap(xp.zeros(0, dtype=xp.int64), boxes.device)
    order = xp.argsort(-s, kind="stable")
    b = b[order]
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    area = (x2 - x1) * (y2 - y1)
    suppressed = xp.zeros(n, dtype=bool)
    keep = []
    # NMS is sequential over kept boxes; each step is one vectorised IoU against all later boxes.
    for i in range(n):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = slice(i + 1, n)
        w = xp.clip(xp.minimum(x2[i], x2[rest]) - xp.maximum(x1[i], x1[rest]), 0, None)
        h = xp.clip(xp.minimum(y2[i], y2[rest]) - xp.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        iou = inter / (area[i] + area[rest] - inter)
        suppressed[rest] |= iou > iou_threshold
    return _wrap(order[xp.asarray(keep, dtype=xp.int64)].astype(xp.int64), boxes.device)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS done independently per category ``idxs``: boxes of different categories never suppress each other.

    >>> import ember
    >>> b = ember.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
    >>> batched_nms(b, ember.tensor([0.9, 0.8]), ember.tensor([0, 1]), 0.5)
    tensor([0, 1])
    """
    _check_boxes(boxes)
    if boxes.numel() == 0:
        return _wrap(_xp_of(boxes.device).zeros(0, dtype="int64"), boxes.device)
    # Shift each category by an offset larger than any coordinate so boxes of different
    # categories cannot overlap: one NMS call instead of one per category.
    max_coordinate = boxes.detach().max()
    offsets = idxs.to(boxes.dtype) * (max_coordinate + 1)
    boxes_for_nms = boxes.detach() + offsets[:, None]
    return nms(boxes_for_nms, scores, iou_threshold)


def box_area(boxes: Tensor) -> Tensor:
    """Areas ``(x2 - x1) * (y2 - y1)`` of ``xyxy`` boxes.

    >>> import ember
    >>> box_area(ember.tensor([[0., 0., 2., 3.]]))
    tensor([6.])
    """
    _check_boxes(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _box_inter_union(boxes1: Tensor, boxes2: Tensor) -> tuple:
    area1 = box_area(boxes1)
    area2 = box_area(boxes2)
    lt = boxes1[:, None, :2].maximum(boxes2[:, :2])
    rb = boxes1[:, None, 2:].minimum(boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    return inter, union


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise intersection-over-union, shape ``(N, M)``.

    >>> import ember
    >>> box_iou(ember.tensor([[0., 0., 1., 1.]]), ember.tensor([[0., 0., 1., 1.]]))
    tensor([[1.]])
    """
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    inter, union = _box_inter_union(boxes1, boxes2)
    return inter / union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise generalized IoU (Rezatofighi et al.), in ``[-1, 1]``, shape ``(N, M)``.

    >>> import ember
    >>> generalized_box_iou(ember.tensor([[0., 0., 1., 1.]]), ember.tensor([[2., 0., 3., 1.]]))
    tensor([[-0.3333]])
    """
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    lti = boxes1[:, None, :2].minimum(boxes2[:, :2])
    rbi = boxes1[:, None, 2:].maximum(boxes2[:, 2:])
    whi = (rbi - lti).clamp(min=0)
    areai = whi[:, :, 0] * whi[:, :, 1]
    return iou - (areai - union) / areai


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert between ``"xyxy"``, ``"xywh"`` (corner + size) and ``"cxcywh"`` (centre + size).

    >>> import ember
    >>> box_convert(ember.tensor([[1., 1., 2., 4.]]), "xywh", "xyxy")
    tensor([[1., 1., 3., 5.]])
    """
    allowed = ("xyxy", "xywh", "cxcywh")
    if in_fmt not in allowed or out_fmt not in allowed:
        raise ValueError("Unsupported Bounding Box Conversions for given in_fmt and out_fmt")
    if in_fmt == out_fmt:
        return boxes.clone()
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    # (a, b, c, d) is now xyxy
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    from ... import stack
    return stack((a, b, c, d), dim=-1)


def clip_boxes_to_image(boxes: Tensor, size: tuple) -> Tensor:
    """Clamp ``xyxy`` boxes to an image of ``size = (height, width)``.

    >>> import ember
    >>> clip_boxes_to_image(ember.tensor([[-1., 2., 9., 9.]]), (5, 5))
    tensor([[0., 2., 5., 5.]])
    """
    from ... import stack
    height, width = size
    x = boxes[..., 0::2].clamp(min=0, max=width)
    y = boxes[..., 1::2].clamp(min=0, max=height)
    return stack((x, y), dim=boxes.dim()).reshape(boxes.shape)


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    """Indices of the boxes whose both sides are at least ``min_size``.

    >>> import ember
    >>> remove_small_boxes(ember.tensor([[0., 0., 1., 1.], [0., 0., 5., 5.]]), 2.0)
    tensor([1])
    """
    ws, hs = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = (ws >= min_size) & (hs >= min_size)
    return keep.nonzero().reshape(-1)
