"""Image utilities (torchvision.utils): ``make_grid``, ``save_image``, ``draw_bounding_boxes``.

>>> import ember
>>> from ember.vision.utils import make_grid
>>> make_grid(ember.rand(10, 3, 8, 8), nrow=5).shape
ember.Size([3, 22, 52])
"""
from __future__ import annotations

import math
import os
import warnings
from typing import Any, BinaryIO

import numpy as np

from .. import _creation
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad

__all__ = ["make_grid", "save_image", "draw_bounding_boxes"]


def make_grid(tensor: Tensor | list, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple | None = None, scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a batch ``(B, C, H, W)`` (or a list of images) into one image, ``nrow`` images per row.

    Single-channel images become 3-channel; ``normalize`` shifts each image (``scale_each``) or the
    whole batch to [0, 1] using ``value_range`` or the min/max. Built from tensor ops (differentiable).

    >>> import ember
    >>> make_grid(ember.zeros(2, 1, 4, 4), padding=1, pad_value=1.0).shape
    ember.Size([3, 6, 11])
    """
    from .. import stack, cat
    if not isinstance(tensor, Tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not isinstance(t, Tensor):
                    raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
            tensor = stack(tensor, dim=0)
        else:
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.shape[0] == 1:
            tensor = cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.shape[1] == 1:
        tensor = cat((tensor, tensor, tensor), 1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        if value_range is not None:
            low, high = float(value_range[0]), float(value_range[1])
            tensor = (tensor.clamp(min=low, max=high) - low) / max(high - low, 1e-5)
        elif scale_each:  # per-image min/max, all images at once
            flat = tensor.detach().flatten(1)
            low = flat.amin(1).reshape(-1, 1, 1, 1)
            high = flat.amax(1).reshape(-1, 1, 1, 1)
            tensor = (tensor.clamp(min=low, max=high) - low) / (high - low).clamp(min=1e-5)
        else:
            low, high = float(tensor.min()), float(tensor.max())
            tensor = (tensor.clamp(min=low, max=high) - low) / max(high - low, 1e-5)
    if tensor.shape[0] == 1:
        return tensor.squeeze(0)
    nmaps, c, h, w = tensor.shape
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    from ..nn import functional as F
    # each cell = the image with `padding` rows/cols of pad_value on its top and left; empty cells are all pad
    cells = F.pad(tensor, (padding, 0, padding, 0), value=float(pad_value))
    missing = ymaps * xmaps - nmaps
    if missing:
        filler = _creation.full((missing, c, h + padding, w + padding), float(pad_value), dtype=tensor.dtype,
                                device=tensor.device)
        cells = cat((cells, filler), 0)
    grid = cells.reshape(ymaps, xmaps, c, h + padding, w + padding).permute(2, 0, 3, 1, 4)
    grid = grid.reshape(c, ymaps * (h + padding), xmaps * (w + padding))
    return F.pad(grid, (0, padding, 0, padding), value=float(pad_value))


def save_image(tensor: Tensor | list, fp: str | os.PathLike | BinaryIO, format: str | None = None,
               **kwargs: Any) -> None:
    """Write ``make_grid(tensor, **kwargs)`` (values in [0, 1]) as an image file with Pillow.

    >>> import ember
    >>> save_image(ember.rand(4, 3, 8, 8), "grid.png")  # doctest: +SKIP
    """
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("save_image needs Pillow: pip install Pillow (or ember[vision])") from e
    with no_grad():
        grid = make_grid(tensor, **kwargs)
        arr = (grid * 255 + 0.5).clamp(0, 255).permute(1, 2, 0).to(_uint8()).numpy()
    Image.fromarray(np.ascontiguousarray(arr)).save(fp, format=format)


def _uint8() -> Any:
    from .. import uint8
    return uint8


# Pillow's ImageColor names most used for boxes (the rest need Pillow installed)
_COLORS = {
    "black": (0, 0, 0), "white": (255, 255, 255), "red": (255, 0, 0), "lime": (0, 255, 0), "green": (0, 128, 0),
    "blue": (0, 0, 255), "yellow": (255, 255, 0), "cyan": (0, 255, 255), "aqua": (0, 255, 255),
    "magenta": (255, 0, 255), "fuchsia": (255, 0, 255), "orange": (255, 165, 0), "purple": (128, 0, 128),
    "pink": (255, 192, 203), "brown": (165, 42, 42), "gray": (128, 128, 128), "grey": (128, 128, 128),
    "navy": (0, 0, 128), "teal": (0, 128, 128), "olive": (128, 128, 0), "maroon": (128, 0, 0),
    "silver": (192, 192, 192), "gold": (255, 215, 0),
}


def _getrgb(color: str) -> tuple:
    c = color.strip().lower()
    if c in _COLORS:
        return _COLORS[c]
    if c.startswith("#") and len(c) in (4, 7):
        if len(c) == 4:
            return tuple(int(ch * 2, 16) for ch in c[1:])
        return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
    try:
        from PIL import ImageColor
    except ImportError:
        raise ValueError(f"unknown color specifier: {color!r} (install Pillow for all named colors)") from None
    return ImageColor.getrgb(color)[:3]


def _parse_colors(colors: Any, num_objects: int) -> list:
    if colors is None:  # torchvision's deterministic palette
        palette = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])
        return [tuple(int(v) for v in (i * palette) % 255) for i in range(num_objects)]
    if isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError(f"Number of colors must be equal or larger than the number of objects, but got "
                             f"{len(colors)} < {num_objects}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f"colors must be a tuple or a string, or a list thereof, but got {colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got {colors}.")
    else:
        colors = [colors] * num_objects
    return [_getrgb(c) if isinstance(c, str) else tuple(int(v) for v in c) for c in colors]


def draw_bounding_boxes(image: Tensor, boxes: Tensor, labels: list | None = None, colors: Any = None,
                        fill: bool = False, width: int = 1, font: str | None = None,
                        font_size: int | None = None, label_colors: Any = None) -> Tensor:
    """Draw ``xyxy`` boxes (integer-truncated, inclusive corners) on a ``(C, H, W)`` uint8 or float image.

    Reproduces Pillow's ``ImageDraw.rectangle`` as torchvision uses it: an outline ``width`` pixels wide
    inside the box; ``fill=True`` first blends the box with its colour at alpha 100/255. Returns uint8
    (3, H, W) for uint8 input (grey images become RGB) and a float image for float input. ``labels``
    are rendered with Pillow's default font (Pillow required).

    >>> import ember
    >>> img = ember.zeros(3, 10, 10, dtype=ember.uint8)
    >>> draw_bounding_boxes(img, ember.tensor([[1., 1., 5., 5.]]), colors="red")[0, 1, 1].item()
    255
    """
    if not isinstance(image, Tensor):
        raise TypeError(f"Tensor expected, got {type(image)}")
    if not (image.dtype == _uint8() or image.is_floating_point()):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    if image.dim() != 3:
        raise ValueError("Pass individual images, not batches")
    if image.shape[0] not in (1, 3):
        raise ValueError("Only grayscale and RGB images are supported")
    b = boxes.detach().numpy()
    if b.ndim != 2 or b.shape[-1] != 4:
        raise ValueError(f"boxes should have shape (N, 4), got {tuple(boxes.shape)}")
    if (b[:, 0] > b[:, 2]).any() or (b[:, 1] > b[:, 3]).any():
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use torchvision.ops.box_convert to "
                         "convert them")
    num_boxes = b.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn")
        return image
    if labels is not None and len(labels) != num_boxes:
        raise ValueError(f"Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. Please specify labels "
                         f"for each box.")
    cols = _parse_colors(colors, num_boxes)
    img = image.detach().numpy()
    if img.shape[0] == 1:
        img = np.tile(img, (3, 1, 1))
    float_input = image.is_floating_point()
    if float_input:  # torchvision's to_dtype(..., scale=True)
        img = (img * (255 + 1.0 - 1e-3)).astype(np.uint8)
    canvas = np.ascontiguousarray(img.transpose(1, 2, 0)).astype(np.int32)   # (H, W, 3)
    hgt, wid = canvas.shape[:2]
    ib = b.astype(np.int64)
    for (x0, y0, x1, y1), color in zip(ib.tolist(), cols):   # slice updates per box, never per pixel
        col = np.array(color, dtype=np.int32)
        if fill:  # Pillow's BLEND: DIV255(old * (255 - a) + ink * a) with a = 100, over the inclusive box
            region = canvas[max(y0, 0):max(y1 + 1, 0), max(x0, 0):max(x1 + 1, 0)]
            t = region * 155 + col * 100 + 128
            region[...] = ((t >> 8) + t) >> 8
        _outline(canvas, x0, y0, x1, y1, col, width)
    out = canvas.astype(np.uint8)
    if labels is not None:
        out = _draw_labels(out, ib, labels, label_colors, cols, width, font, font_size)
    out = np.ascontiguousarray(out.transpose(2, 0, 1))
    if float_input:
        return _creation.tensor(out.astype(image.numpy().dtype) / 255.0, dtype=image.dtype)
    return _creation.tensor(out)


def _outline(canvas: np.ndarray, x0: int, y0: int, x1: int, y1: int, col: np.ndarray, width: int) -> None:
    """Pillow's rectangle outline: for each i < width, rows y0+i and y1-i across [x0, x1], and columns
    x1-i and x0+i from row y0+width towards row y1-width+1 (that end excluded, as Pillow's line() does)."""
    hgt, wid = canvas.shape[:2]
    xs, xe = max(x0, 0), min(x1, wid - 1) + 1
    ya, yb = y0 + width, y1 - width + 1
    rows = range(ya, yb) if ya <= yb else range(yb + 1, ya + 1)
    r0, r1 = max(rows.start, 0), min(rows.stop, hgt)
    for i in range(width):
        for y in (y0 + i, y1 - i):
            if 0 <= y < hgt and xs < xe:
                canvas[y, xs:xe] = col
        for x in (x1 - i, x0 + i):
            if 0 <= x < wid and r0 < r1:
                canvas[r0:r1, x] = col


def _draw_labels(arr: np.ndarray, boxes: np.ndarray, labels: list, label_colors: Any, cols: list, width: int,
                 font: str | None, font_size: int | None) -> np.ndarray:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as e:
        raise ImportError("drawing labels needs Pillow: pip install Pillow") from e
    lcols = _parse_colors(label_colors, len(labels)) if label_colors else cols
    txt_font = ImageFont.load_default() if font is None else ImageFont.truetype(font=font, size=font_size or 10)
    pil = Image.fromarray(np.ascontiguousarray(arr))
    draw = ImageDraw.Draw(pil)
    margin = width + 1
    for (x0, y0, _, _), label, color in zip(boxes.tolist(), labels, lcols):
        if label is not None:
            draw.text((x0 + margin, y0 + margin), label, fill=tuple(color), font=txt_font)
    return np.asarray(pil)
