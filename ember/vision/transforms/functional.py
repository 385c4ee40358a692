"""Functional transforms with torchvision's API, on PIL images and on tensors ``(..., C, H, W)``.

PIL images are processed by Pillow (exactly as torchvision does); tensors by the vectorised NumPy kernels
of ``_functional_tensor`` on the tensor's host data, returning a tensor on the input's device.

>>> import ember
>>> from ember.vision.transforms import functional as F
>>> F.hflip(ember.arange(4.).reshape(1, 2, 2)).tolist()
[[[1.0, 0.0], [3.0, 2.0]]]
"""
from __future__ import annotations

import math
import numbers
from enum import Enum
from typing import Any, List, Optional, Sequence

import numpy as np

from ... import _creation
from ..._device import cpu
from ..._dtype import get_default_dtype
from ..._tensor import Tensor, _wrap
from . import _functional_pil as FP
from . import _functional_tensor as FT
from ._functional_pil import is_pil_image as _is_pil_image

__all__ = ["InterpolationMode", "to_tensor", "pil_to_tensor", "to_pil_image", "convert_image_dtype", "normalize",
           "get_dimensions", "get_image_size", "get_image_num_channels", "resize", "crop", "center_crop",
           "resized_crop", "pad", "hflip", "vflip", "five_crop", "ten_crop", "rotate", "affine", "perspective",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "adjust_gamma",
           "adjust_sharpness", "autocontrast", "equalize", "invert", "posterize", "solarize", "rgb_to_grayscale",
           "to_grayscale", "gaussian_blur", "erase"]


class InterpolationMode(Enum):
    """Resampling filters, named as torchvision's (``NEAREST``, ``BILINEAR``, ``BICUBIC``, ...)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_CODES = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
              4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interp(interpolation: Any) -> str:
    if isinstance(interpolation, int) and not isinstance(interpolation, bool) and interpolation in _PIL_CODES:
        interpolation = _PIL_CODES[interpolation]
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    return interpolation.value


# ---------------------------------------------------------------------------------------------- helpers
def _check(img: Any) -> bool:
    """True for a tensor image, False for a PIL image; TypeError for anything else."""
    if isinstance(img, Tensor):
        if img.dim() < 2:
            raise TypeError(f"Tensor is not a torch image. Got a {img.dim()}-d tensor")
        return True
    if _is_pil_image(img):
        return False
    raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def _arr(img: Tensor) -> np.ndarray:
    return img._host()


def _like(arr: np.ndarray, img: Tensor) -> Tensor:
    """A tensor around ``arr`` on ``img``'s device."""
    arr = np.ascontiguousarray(arr)
    if img.device == cpu:
        return _wrap(arr, cpu)
    return _creation.from_numpy(arr).to(img.device)


def _assert_channels(img: Tensor, allowed: Sequence[int]) -> None:
    c = 1 if img.dim() == 2 else int(img.shape[-3])
    if c not in allowed:
        raise TypeError(f"Input image tensor permitted channel values are {list(allowed)}, but found {c}")


def _tensor_fill(fill: Any, channels: int) -> Any:
    if fill is None:
        return None
    if isinstance(fill, (int, float)):
        return [float(fill)] * channels
    fill = [float(f) for f in fill]
    if len(fill) not in (1, channels):
        raise ValueError(f"The number of elements in 'fill' cannot broadcast to match the number of channels of "
                         f"the image ({len(fill)} != {channels})")
    return fill if len(fill) == channels else fill * channels


# ------------------------------------------------------------------------------------------ conversions
def _as_array(pic: Any) -> np.ndarray:
    if isinstance(pic, np.ndarray):
        return pic
    if _is_pil_image(pic):
        if pic.mode == "1":
            return np.asarray(pic, dtype=np.uint8) * 255
        return np.asarray(pic)
    raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")


def to_tensor(pic: Any) -> Tensor:
    """PIL image or HxW(xC) array -> CxHxW tensor; uint8 becomes float in [0, 1], other dtypes are kept.

    >>> import numpy as np
    >>> to_tensor(np.full((2, 2, 3), 255, np.uint8)).shape
    ember.Size([3, 2, 2])
    """
    arr = _as_array(pic)
    if arr.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return _creation.from_numpy(chw.astype(get_default_dtype().np_dtype) / np.float32(255))
    if chw.dtype == np.uint16:
        chw = chw.astype(np.int32)
    return _creation.from_numpy(chw.copy())


def pil_to_tensor(pic: Any) -> Tensor:
    """Image -> CxHxW tensor keeping the dtype (no scaling).

    >>> import numpy as np
    >>> pil_to_tensor(np.zeros((4, 5), np.uint8)).shape
    ember.Size([1, 4, 5])
    """
    arr = _as_array(pic)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.dtype == np.uint16:
        arr = arr.astype(np.int32)
    return _creation.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def to_pil_image(pic: Any, mode: Optional[str] = None) -> Any:
    """CxHxW tensor or HxWxC array -> PIL image (float tensors are scaled by 255 and truncated).

    >>> import ember
    >>> to_pil_image(ember.zeros(3, 4, 5)).size                 # doctest: +SKIP
    (5, 4)
    """
    Image = FP.pil_image_module(required=True)
    if isinstance(pic, Tensor):
        if pic.dim() not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.dim()} dimensions.")
        arr = _arr(pic)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[-3]} channels.")
        if arr.dtype.kind == "f" and mode != "F":
            # truncate like torch's .byte(); out-of-range values wrap instead of being undefined
            scaled = np.nan_to_num(arr * arr.dtype.type(255), nan=0.0, posinf=0.0, neginf=0.0)
            arr = (np.trunc(scaled).astype(np.int64) & 0xFF).astype(np.uint8)
        npimg = arr.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        npimg = pic[:, :, None] if pic.ndim == 2 else pic
        if npimg.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {npimg.shape[-1]} channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if npimg.shape[2] == 1:
        npimg = npimg[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.uint16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {npimg.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted = {2: ["LA"], 4: ["RGBA", "CMYK", "RGBX"], 3: ["RGB", "YCbCr", "HSV"]}[npimg.shape[2]]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {npimg.shape[2]}D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    npimg = np.ascontiguousarray(npimg)
    if mode == "I;16":
        return Image.frombytes(mode, (npimg.shape[1], npimg.shape[0]), npimg.astype("<u2").tobytes())
    if mode in ("L", "RGB", "RGBA", "LA", "I", "F"):
        return Image.fromarray(npimg.astype({"I": np.int32, "F": np.float32}.get(mode, np.uint8)))
    return Image.frombytes(mode, (npimg.shape[1], npimg.shape[0]), npimg.astype(np.uint8).tobytes())


def convert_image_dtype(image: Tensor, dtype: Any = None) -> Tensor:
    """Convert dtype and rescale values ([0, 1] for floats, [0, max] for integers).

    >>> import ember
    >>> convert_image_dtype(ember.tensor([[[255]]], dtype=ember.uint8), ember.float32).tolist()
    [[[1.0]]]
    """
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    from ... import float32
    dtype = float32 if dtype is None else dtype
    return _like(FT.convert_image_dtype(_arr(image), dtype.np_dtype), image)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """``(x - mean[c]) / std[c]`` per channel of a float tensor image ``(..., C, H, W)``.

    >>> import ember
    >>> normalize(ember.ones(1, 2, 2), [0.5], [0.5]).tolist()
    [[[1.0, 1.0], [1.0, 1.0]]]
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.dim() < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tuple(tensor.shape)}")
    dt = tensor._data.dtype
    m = np.asarray(mean, dtype=dt).reshape(-1, 1, 1)
    s = np.asarray(std, dtype=dt).reshape(-1, 1, 1)
    if (s == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if inplace:
        tensor._data -= _like(m, tensor)._data
        tensor._data /= _like(s, tensor)._data
        tensor._vc[0] += 1
        return tensor
    return (tensor - _like(m, tensor)) / _like(s, tensor)


# ------------------------------------------------------------------------------------------ dimensions
def get_dimensions(img: Any) -> List[int]:
    """``[channels, height, width]``.

    >>> import ember
    >>> get_dimensions(ember.zeros(3, 4, 5))
    [3, 4, 5]
    """
    if _check(img):
        c = 1 if img.dim() == 2 else int(img.shape[-3])
        return [c, int(img.shape[-2]), int(img.shape[-1])]
    return FP.get_dimensions(img)


def get_image_size(img: Any) -> List[int]:
    """``[width, height]``.

    >>> import ember
    >>> get_image_size(ember.zeros(3, 4, 5))
    [5, 4]
    """
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img: Any) -> int:
    """Number of channels (bands).

    >>> import ember
    >>> get_image_num_channels(ember.zeros(3, 4, 5))
    3
    """
    return get_dimensions(img)[0]


# ---------------------------------------------------------------------------------------------- geometry
def _output_size(h: int, w: int, size: Any, max_size: Optional[int]) -> List[int]:
    if isinstance(size, (list, tuple)) and len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                             "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
        return [int(size[0]), int(size[1])]
    short, long = (w, h) if w <= h else (h, w)
    if size is None:
        if max_size is None:
            raise ValueError("If size is None, then max_size must be an int")
        new_long = max_size
        new_short = int(max_size * short / long)
    else:
        new_short = size if isinstance(size, int) else size[0]
        new_long = int(new_short * long / short)
        if max_size is not None:
            if max_size <= new_short:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    return [new_long, new_short] if w <= h else [new_short, new_long]


def resize(img: Any, size: Any, interpolation: InterpolationMode = InterpolationMode.BILINEAR,
           max_size: Optional[int] = None, antialias: Optional[bool] = True) -> Any:
    """Resize to ``size`` (h, w), or match the smaller edge to an int ``size`` keeping the aspect ratio.

    >>> import ember
    >>> resize(ember.zeros(3, 10, 20), 5).shape
    ember.Size([3, 5, 10])
    """
    mode = _interp(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             f"tuple/list")
    elif not (isinstance(size, int) or size is None):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    _, h, w = get_dimensions(img)
    out = _output_size(h, w, size, max_size)
    if [h, w] == out:
        return img
    if not _check(img):
        return FP.resize(img, out, mode)
    if mode not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode {mode!r} is only supported for PIL images")
    return _like(FT.resize(_arr(img), out, mode, bool(antialias)), img)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """Crop the box (top, left, height, width); parts outside the image are zero.

    >>> import ember
    >>> crop(ember.zeros(1, 4, 4), 1, 1, 2, 3).shape
    ember.Size([1, 2, 3])
    """
    if not _check(img):
        return FP.crop(img, top, left, height, width)
    return _like(FT.crop(_arr(img), int(top), int(left), int(height), int(width)), img)


def _pair(size: Any, name: str = "size") -> tuple:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"Please provide only two dimensions (h, w) for {name}.")


def center_crop(img: Any, output_size: Any) -> Any:
    """Crop the centre; an image smaller than the crop is zero-padded first.

    >>> import ember
    >>> center_crop(ember.zeros(1, 5, 5), 3).shape
    ember.Size([1, 3, 3])
    """
    ch, cw = _pair(output_size)
    _, h, w = get_dimensions(img)
    if cw > w or ch > h:
        ltrb = [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0]
        img = pad(img, ltrb, fill=0)
        _, h, w = get_dimensions(img)
        if cw == w and ch == h:
            return img
    top = int(round((h - ch) / 2.0))
    left = int(round((w - cw) / 2.0))
    return crop(img, top, left, ch, cw)


def resized_crop(img: Any, top: int, left: int, height: int, width: int, size: Any,
                 interpolation: InterpolationMode = InterpolationMode.BILINEAR, antialias: Optional[bool] = True) -> Any:
    """``crop`` then ``resize``.

    >>> import ember
    >>> resized_crop(ember.zeros(3, 8, 8), 0, 0, 4, 4, [2, 2]).shape
    ember.Size([3, 2, 2])
    """
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def _parse_padding(padding: Any) -> List[int]:
    if not isinstance(padding, (numbers.Number, tuple, list)) or isinstance(padding, float):
        raise TypeError("Got inappropriate padding arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    p = [int(v) for v in padding]
    if len(p) == 1:
        return p * 4
    if len(p) == 2:
        return [p[0], p[1], p[0], p[1]]
    return p


def pad(img: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    """Pad the borders by ``padding`` (int, [lr, tb] or [l, t, r, b]); modes constant/edge/reflect/symmetric.

    >>> import ember
    >>> pad(ember.zeros(1, 2, 2), [1, 2]).shape
    ember.Size([1, 6, 4])
    """
    if not isinstance(fill, (numbers.Number, tuple, list)) and fill is not None:
        raise TypeError("Got inappropriate fill arg")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _parse_padding(padding)
    if not _check(img):
        return FP.pad(img, left, top, right, bottom, fill, padding_mode)
    arr = _arr(img)
    if padding_mode == "constant":
        if isinstance(fill, (tuple, list)):
            if len(fill) != 1:
                raise ValueError("Only a single fill value is supported for tensor images")
            fill = fill[0]
        return _like(FT.pad(arr, left, top, right, bottom, 0 if fill is None else fill, "constant"), img)
    if padding_mode == "reflect" and (max(left, right) >= arr.shape[-1] or max(top, bottom) >= arr.shape[-2]):
        raise RuntimeError(f"Padding size should be less than the corresponding input dimension, but got: padding "
                           f"({left}, {right}, {top}, {bottom}) at dimension of input {tuple(arr.shape)}")
    return _like(FT.pad(arr, left, top, right, bottom, 0, padding_mode), img)


def hflip(img: Any) -> Any:
    """Mirror left-right.

    >>> import ember
    >>> hflip(ember.tensor([[[1, 2]]])).tolist()
    [[[2, 1]]]
    """
    if not _check(img):
        return FP.hflip(img)
    return _like(_arr(img)[..., ::-1], img)


def vflip(img: Any) -> Any:
    """Mirror top-bottom.

    >>> import ember
    >>> vflip(ember.tensor([[[1], [2]]])).tolist()
    [[[2], [1]]]
    """
    if not _check(img):
        return FP.vflip(img)
    return _like(_arr(img)[..., ::-1, :], img)


def five_crop(img: Any, size: Any) -> tuple:
    """The four corner crops and the central crop.

    >>> import ember
    >>> [c.shape[-1] for c in five_crop(ember.zeros(1, 4, 4), 2)]
    [2, 2, 2, 2, 2]
    """
    ch, cw = _pair(size)
    _, h, w = get_dimensions(img)
    if cw > w or ch > h:
        raise ValueError(f"Requested crop size {(ch, cw)} is bigger than input size {(h, w)}")
    return (crop(img, 0, 0, ch, cw), crop(img, 0, w - cw, ch, cw), crop(img, h - ch, 0, ch, cw),
            crop(img, h - ch, w - cw, ch, cw), center_crop(img, [ch, cw]))


def ten_crop(img: Any, size: Any, vertical_flip: bool = False) -> tuple:
    """``five_crop`` of the image and of its (horizontal or vertical) mirror.

    >>> import ember
    >>> len(ten_crop(ember.zeros(1, 4, 4), 2))
    10
    """
    size = _pair(size)
    first = five_crop(img, size)
    return first + five_crop(vflip(img) if vertical_flip else hflip(img), size)


def _inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float], scale: float,
                           shear: Sequence[float]) -> List[float]:
    """Inverse of T(translate) C R(angle) S(scale) Sh(shear) C^-1 as a 2x3 row-major list.

    The forward map rotates by ``angle`` degrees, shears by ``shear`` (x, y) degrees and scales about
    ``center``, then translates; sampling needs the map from output pixels back to input pixels.
    """
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    # forward linear part: R(rot) @ Shear(sx, sy) with shear applied as rotation-compatible terms
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    # inverse of [[a, b], [c, d]] (its determinant is 1), divided by scale
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] = m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] = m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def rotate(img: Any, angle: float, interpolation: InterpolationMode = InterpolationMode.NEAREST,
           expand: bool = False, center: Optional[List[int]] = None, fill: Optional[List[float]] = None) -> Any:
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (default: the image centre).

    >>> import ember
    >>> rotate(ember.zeros(1, 4, 6), 90, expand=True).shape
    ember.Size([1, 6, 4])
    """
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    mode = _interp(interpolation)
    if not _check(img):
        return FP.rotate(img, angle, mode, expand, center, fill)
    _, h, w = get_dimensions(img)
    center_f = [0.0, 0.0] if center is None else [1.0 * (c - s * 0.5) for c, s in zip(center, [w, h])]
    matrix = _inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    out_size = FT.affine_output_size(matrix, w, h) if expand else (h, w)
    fill = _tensor_fill(fill, get_dimensions(img)[0])
    return _like(FT.affine_grid_transform(_arr(img), matrix, mode, fill, out_size), img)


def affine(img: Any, angle: float, translate: List[int], scale: float, shear: Any,
           interpolation: InterpolationMode = InterpolationMode.NEAREST, fill: Optional[List[float]] = None,
           center: Optional[List[int]] = None) -> Any:
    """Rotate, scale, shear and translate, keeping the image centre (or ``center``) fixed.

    >>> import ember
    >>> affine(ember.zeros(1, 4, 4), angle=10, translate=[1, 0], scale=1.0, shear=[0.0]).shape
    ember.Size([1, 4, 4])
    """
    mode = _interp(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    if isinstance(shear, numbers.Number):
        shear = [float(shear), 0.0]
    shear = list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    _, h, w = get_dimensions(img)
    if not _check(img):
        c = [w * 0.5, h * 0.5] if center is None else center
        matrix = _inverse_affine_matrix(c, angle, translate, scale, shear)
        return FP.affine(img, matrix, mode, fill)
    center_f = [0.0, 0.0] if center is None else [1.0 * (c - s * 0.5) for c, s in zip(center, [w, h])]
    matrix = _inverse_affine_matrix(center_f, angle, [1.0 * t for t in translate], scale, shear)
    fill = _tensor_fill(fill, get_dimensions(img)[0])
    return _like(FT.affine_grid_transform(_arr(img), matrix, mode, fill), img)


def _perspective_coeffs(startpoints: Sequence, endpoints: Sequence) -> List[float]:
    """Eight homography coefficients mapping ``endpoints`` (output) to ``startpoints`` (input)."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"Please provide exactly four corners, got {len(startpoints)} startpoints and "
                         f"{len(endpoints)} endpoints.")
    a = np.zeros((8, 8))
    for i, ((x, y), (u, v)) in enumerate(zip(endpoints, startpoints)):
        a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
        a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
    b = np.asarray(startpoints, np.float64).reshape(8)
    # solved in double precision, then rounded to float32 like torchvision (Pillow sees the same numbers)
    return np.linalg.lstsq(a, b, rcond=None)[0].astype(np.float32).tolist()


def perspective(img: Any, startpoints: List[List[int]], endpoints: List[List[int]],
                interpolation: InterpolationMode = InterpolationMode.BILINEAR,
                fill: Optional[List[float]] = None) -> Any:
    """Warp so that the four ``startpoints`` corners land on ``endpoints``.

    >>> import ember
    >>> c = [[0, 0], [3, 0], [3, 3], [0, 3]]
    >>> perspective(ember.zeros(1, 4, 4), c, c).shape
    ember.Size([1, 4, 4])
    """
    coeffs = _perspective_coeffs(startpoints, endpoints)
    mode = _interp(interpolation)
    if not _check(img):
        return FP.perspective(img, coeffs, mode, fill)
    fill = _tensor_fill(fill, get_dimensions(img)[0])
    return _like(FT.perspective(_arr(img), coeffs, mode, fill), img)


# ------------------------------------------------------------------------------------------------ colour
def _nonneg(value: float, name: str) -> None:
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """Scale intensities: 0 gives black, 1 the original.

    >>> import ember
    >>> adjust_brightness(ember.full((3, 1, 1), 0.5), 2.0).tolist()
    [[[1.0]], [[1.0]], [[1.0]]]
    """
    _nonneg(brightness_factor, "brightness_factor")
    if not _check(img):
        return FP.enhance(img, "Brightness", brightness_factor)
    _assert_channels(img, [1, 3])
    return _like(FT.blend(_arr(img), 0, brightness_factor), img)


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """Blend with the mean grey level: 0 gives a flat grey image, 1 the original.

    >>> import ember
    >>> adjust_contrast(ember.tensor([[[0.0, 1.0]]]), 0.0).tolist()
    [[[0.5, 0.5]]]
    """
    _nonneg(contrast_factor, "contrast_factor")
    if not _check(img):
        return FP.enhance(img, "Contrast", contrast_factor)
    _assert_channels(img, [1, 3])
    return _like(FT.adjust_contrast(_arr(img), contrast_factor), img)


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """Blend with the greyscale image: 0 gives grey, 1 the original.

    >>> import ember
    >>> adjust_saturation(ember.rand(3, 2, 2), 1.0).shape
    ember.Size([3, 2, 2])
    """
    _nonneg(saturation_factor, "saturation_factor")
    if not _check(img):
        return FP.enhance(img, "Color", saturation_factor)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    arr = _arr(img)
    return _like(FT.blend(arr, FT.rgb_to_grayscale(arr), saturation_factor), img)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    """Rotate hues by ``hue_factor`` of a turn (in [-0.5, 0.5]).

    >>> import ember
    >>> adjust_hue(ember.tensor([[[1.0]], [[0.0]], [[0.0]]]), 1 / 3).flatten().tolist()
    [0.0, 1.0, 0.0]
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not _check(img):
        return FP.adjust_hue(img, hue_factor)
    _assert_channels(img, [1, 3])
    return _like(FT.adjust_hue(_arr(img), hue_factor), img)


def adjust_gamma(img: Any, gamma: float, gain: float = 1.0) -> Any:
    """``gain * I ** gamma`` on intensities in [0, 1].

    >>> import ember
    >>> adjust_gamma(ember.full((1, 1, 1), 0.25), 0.5).item()
    0.5
    """
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    if not _check(img):
        return FP.adjust_gamma(img, gamma, gain)
    _assert_channels(img, [1, 3])
    return _like(FT.adjust_gamma(_arr(img), gamma, gain), img)


def adjust_sharpness(img: Any, sharpness_factor: float) -> Any:
    """Blend with a smoothed image: 0 blurs, 1 keeps, 2 sharpens.

    >>> import ember
    >>> adjust_sharpness(ember.rand(3, 4, 4), 2.0).shape
    ember.Size([3, 4, 4])
    """
    _nonneg(sharpness_factor, "sharpness_factor")
    if not _check(img):
        return FP.enhance(img, "Sharpness", sharpness_factor)
    _assert_channels(img, [1, 3])
    return _like(FT.adjust_sharpness(_arr(img), sharpness_factor), img)


def autocontrast(img: Any) -> Any:
    """Stretch each channel so its darkest pixel is black and its brightest white.

    >>> import ember
    >>> autocontrast(ember.tensor([[[0.25, 0.5]]])).tolist()
    [[[0.0, 1.0]]]
    """
    if not _check(img):
        return FP.ops("autocontrast", img)
    _assert_channels(img, [1, 3])
    return _like(FT.autocontrast(_arr(img)), img)


def equalize(img: Any) -> Any:
    """Histogram equalisation (uint8 tensors).

    >>> import ember
    >>> equalize(ember.zeros(1, 2, 2, dtype=ember.uint8)).dtype
    ember.uint8
    """
    if not _check(img):
        return FP.ops("equalize", img)
    _assert_channels(img, [1, 3])
    if img._data.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    return _like(FT.equalize(_arr(img)), img)


def invert(img: Any) -> Any:
    """``max - img``.

    >>> import ember
    >>> invert(ember.tensor([[[0.25]]])).item()
    0.75
    """
    if not _check(img):
        return FP.ops("invert", img)
    _assert_channels(img, [1, 3])
    arr = _arr(img)
    return _like((arr.dtype.type(FT.max_value(arr.dtype)) - arr).astype(arr.dtype), img)


def posterize(img: Any, bits: int) -> Any:
    """Keep the ``bits`` most significant bits of each uint8 value.

    >>> import ember
    >>> posterize(ember.tensor([[[255]]], dtype=ember.uint8), 2).item()
    192
    """
    if not 0 <= bits <= 8:
        raise ValueError(f"The number of bits should be between 0 and 8. Got {bits}")
    if not _check(img):
        return FP.ops("posterize", img, bits)
    _assert_channels(img, [1, 3])
    if img._data.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    mask = np.uint8((0xFF << (8 - bits)) & 0xFF)
    return _like(_arr(img) & mask, img)


def solarize(img: Any, threshold: float) -> Any:
    """Invert the pixels at or above ``threshold``.

    >>> import ember
    >>> solarize(ember.tensor([[[0.25, 0.75]]]), 0.5).tolist()
    [[[0.25, 0.25]]]
    """
    if not _check(img):
        return FP.ops("solarize", img, threshold)
    _assert_channels(img, [1, 3])
    arr = _arr(img)
    bound = FT.max_value(arr.dtype)
    if threshold > bound:
        raise TypeError("Threshold should be less than bound of img.")
    inv = (arr.dtype.type(bound) - arr).astype(arr.dtype)
    return _like(np.where(arr >= threshold, inv, arr), img)


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """ITU-R 601-2 luma ``0.2989 R + 0.587 G + 0.114 B``, as 1 or 3 channels.

    >>> import ember
    >>> rgb_to_grayscale(ember.ones(3, 2, 2)).shape
    ember.Size([1, 2, 2])
    """
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if not _check(img):
        return FP.to_grayscale(img, num_output_channels)
    if img.dim() < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.dim()}")
    _assert_channels(img, [1, 3])
    return _like(FT.rgb_to_grayscale(_arr(img), num_output_channels), img)


def to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """``rgb_to_grayscale`` for PIL images (kept for torchvision compatibility).

    >>> import ember
    >>> to_grayscale(ember.ones(3, 2, 2)).shape
    ember.Size([1, 2, 2])
    """
    return rgb_to_grayscale(img, num_output_channels)


def gaussian_blur(img: Any, kernel_size: Any, sigma: Any = None) -> Any:
    """Blur with a Gaussian kernel (reflect padding); ``sigma`` defaults to ``0.3*((k-1)*0.5-1)+0.8``.

    >>> import ember
    >>> gaussian_blur(ember.rand(3, 8, 8), 3).shape
    ember.Size([3, 8, 8])
    """
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for k in kernel_size:
        if k % 2 == 0 or k < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if sigma is not None and not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if isinstance(sigma, (list, tuple)) and len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    if not _check(img):
        t = pil_to_tensor(img)
        out = FT.gaussian_blur(_arr(t), kernel_size, sigma)
        return to_pil_image(_creation.from_numpy(np.ascontiguousarray(out)), mode=img.mode)
    return _like(FT.gaussian_blur(_arr(img), kernel_size, sigma), img)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Tensor:
    """Set the box (i, j, h, w) of a tensor image to ``v`` (a value or a tensor broadcastable to the box).

    >>> import ember
    >>> erase(ember.ones(1, 3, 3), 1, 1, 1, 1, 0).sum().item()
    8.0
    """
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    if not inplace:
        img = img.clone()
    value = v._host() if isinstance(v, Tensor) else np.asarray(v)
    data = img._data
    data[..., i:i + h, j:j + w] = value if type(data) is np.ndarray else _like(np.asarray(value), img)._data
    img._vc[0] += 1
    return img

