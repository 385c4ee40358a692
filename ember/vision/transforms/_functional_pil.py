"""The PIL path of ``transforms.functional``: each operation is done by Pillow itself, as torchvision does.

Pillow is the optional ``vision`` extra; it is imported lazily so that the tensor path works without it.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

_PIL: list = []


def pil_image_module(required: bool = False) -> Any:
    """PIL's ``Image`` module, or None when Pillow is missing (or a clear ImportError if ``required``)."""
    if not _PIL:
        try:
            from PIL import Image
        except ImportError:
            Image = None
        _PIL.append(Image)
    if _PIL[0] is None and required:
        raise ImportError("This transform needs Pillow for PIL images: install it with pip install 'ember[vision]' "
                          "(or pip install Pillow)")
    return _PIL[0]


def is_pil_image(img: Any) -> bool:
    image = pil_image_module()
    return image is not None and isinstance(img, image.Image)


def _imports() -> tuple:
    pil_image_module(required=True)
    from PIL import Image, ImageEnhance, ImageOps
    return Image, ImageEnhance, ImageOps


# Pillow's resampling codes for torchvision's InterpolationMode values
PIL_MODES = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}


def get_dimensions(img: Any) -> list:
    return [len(img.getbands()), img.height, img.width]


def parse_fill(fill: Any, img: Any) -> Any:
    """Pillow's ``fillcolor``: one value per band, ints unless the image is float ("F")."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(f"The number of elements in 'fill' does not match the number of bands of the image "
                             f"({len(fill)} != {bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(v) for v in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def resize(img: Any, size: Sequence[int], interpolation: str) -> Any:
    return img.resize((size[1], size[0]), PIL_MODES[interpolation])


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    return img.crop((left, top, left + width, top + height))


def pad(img: Any, left: int, top: int, right: int, bottom: int, fill: Any, mode: str) -> Any:
    Image, _, ImageOps = _imports()
    if mode == "constant" and min(left, top, right, bottom) >= 0:
        out = ImageOps.expand(img, border=(left, top, right, bottom), fill=parse_fill(fill, img))
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    from . import _functional_tensor as FT
    arr = np.asarray(img)
    chw = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    out = FT.pad(chw, left, top, right, bottom, fill if fill is not None else 0, mode)
    out = out[0] if arr.ndim == 2 else out.transpose(1, 2, 0)
    res = Image.fromarray(np.ascontiguousarray(out), mode=img.mode if img.mode in ("L", "RGB", "RGBA", "P") else None)
    if img.mode == "P":
        res.putpalette(img.getpalette())
    return res


def hflip(img: Any) -> Any:
    return img.transpose(0)  # Image.Transpose.FLIP_LEFT_RIGHT


def vflip(img: Any) -> Any:
    return img.transpose(1)  # Image.Transpose.FLIP_TOP_BOTTOM


def affine(img: Any, matrix: Sequence[float], interpolation: str, fill: Any) -> Any:
    Image, _, _ = _imports()
    return img.transform(img.size, Image.AFFINE, tuple(matrix), PIL_MODES[interpolation],
                         fillcolor=parse_fill(fill, img))


def rotate(img: Any, angle: float, interpolation: str, expand: bool, center: Any, fill: Any) -> Any:
    return img.rotate(angle, PIL_MODES[interpolation], expand, center, fillcolor=parse_fill(fill, img))


def perspective(img: Any, coeffs: Sequence[float], interpolation: str, fill: Any) -> Any:
    Image, _, _ = _imports()
    return img.transform(img.size, Image.PERSPECTIVE, tuple(coeffs), PIL_MODES[interpolation],
                         fillcolor=parse_fill(fill, img))


def enhance(img: Any, kind: str, factor: float) -> Any:
    _, ImageEnhance, _ = _imports()
    return getattr(ImageEnhance, kind)(img).enhance(factor)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    Image, _, _ = _imports()
    mode = img.mode
    if mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    hue = np.array(h, dtype=np.uint8)
    # the shift wraps around in uint8 arithmetic, as a hue circle should
    with np.errstate(over="ignore"):
        hue += np.int8(hue_factor * 255).view(np.uint8)
    h = Image.fromarray(hue, "L")
    return Image.merge("HSV", (h, s, v)).convert(mode)


def adjust_gamma(img: Any, gamma: float, gain: float) -> Any:
    mode = img.mode
    img = img.convert("RGB")
    table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
    return img.point(table).convert(mode)


def ops(name: str, img: Any, *args: Any) -> Any:
    _, _, ImageOps = _imports()
    return getattr(ImageOps, name)(img, *args)


def to_grayscale(img: Any, num_output_channels: int) -> Any:
    Image, _, _ = _imports()
    gray = img.convert("L")
    if num_output_channels == 3:
        arr = np.asarray(gray)
        return Image.fromarray(np.dstack([arr, arr, arr]), "RGB")
    return gray
