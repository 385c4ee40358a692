"""DLPack exchange: ``ember.from_dlpack`` and ``Tensor.__dlpack__`` / ``Tensor.__dlpack_device__``.

Zero-copy both ways with every library that speaks DLPack (NumPy, PyTorch, CuPy, JAX, ...).
ember adds no C code: an ember tensor's memory *is* a NumPy or CuPy array, and both implement
the protocol, so exporting hands out the backend array's capsule and importing asks NumPy
(host memory) or CuPy (GPU memory) to wrap the producer's buffer.

>>> import ember, numpy as np
>>> t = ember.arange(3.)
>>> a = np.from_dlpack(t); a[0] = 7.
>>> t
tensor([7., 1., 2.])
"""
from __future__ import annotations

from typing import Any

from . import _dtype as D
from ._backend import device_of_array
from ._tensor import Tensor, _wrap

__all__ = ["from_dlpack", "to_dlpack"]

# DLDeviceType codes (dlpack.h)
_CPU, _CUDA, _CUDA_HOST, _CUDA_MANAGED = 1, 2, 3, 13


def _dlpack(self: Tensor, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
            copy: Any = None) -> Any:
    """Export this tensor's memory as a DLPack capsule (what ``np.from_dlpack(t)`` calls).

    >>> capsule = ember.ones(2).__dlpack__()
    """
    if self._requires_grad:
        raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
    kwargs: dict = {}
    # Pass only what the consumer asked for: older NumPy/CuPy take no max_version/dl_device/copy.
    if stream is not None and stream != -1 and self._device.type == "cuda":
        kwargs["stream"] = stream
    if max_version is not None:
        kwargs["max_version"] = max_version
    if dl_device is not None:
        kwargs["dl_device"] = dl_device
    if copy is not None:
        kwargs["copy"] = copy
    try:
        return self._data.__dlpack__(**kwargs)
    except TypeError:
        if "max_version" not in kwargs and "dl_device" not in kwargs and "copy" not in kwargs:
            raise
        # a backend array without the versioned protocol: a legacy capsule is what the consumer falls back to
        return self._data.__dlpack__(**({"stream": kwargs["stream"]} if "stream" in kwargs else {}))


def _dlpack_device(self: Tensor) -> tuple:
    """``(device_type, device_id)`` in DLPack codes: ``(1, 0)`` for CPU, ``(2, i)`` for ``cuda:i``.

    >>> ember.ones(1).__dlpack_device__()
    (1, 0)
    """
    if self._device.type == "cuda":
        return (_CUDA, self._device.index or 0)
    return (_CPU, 0)


Tensor.__dlpack__ = _dlpack  # type: ignore[attr-defined]
Tensor.__dlpack_device__ = _dlpack_device  # type: ignore[attr-defined]


class _Capsule:
    """Lets a bare (legacy) DLPack capsule go through ``np.from_dlpack``/``cupy.from_dlpack``."""

    __slots__ = ("capsule", "dev")

    def __init__(self, capsule: Any, dev: tuple):
        self.capsule, self.dev = capsule, dev

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple:
        return self.dev


def from_dlpack(ext_tensor: Any) -> Tensor:
    """An ember tensor sharing memory with any DLPack producer (an object with ``__dlpack__``, or a
    capsule from ``to_dlpack``). Host memory gives a CPU tensor; GPU memory a CUDA tensor (needs CuPy).

    >>> import numpy as np
    >>> ember.from_dlpack(np.arange(3))
    tensor([0, 1, 2])
    """
    if isinstance(ext_tensor, Tensor):
        return ext_tensor.detach()
    if hasattr(ext_tensor, "__dlpack__"):
        dev = ext_tensor.__dlpack_device__() if hasattr(ext_tensor, "__dlpack_device__") else (_CPU, 0)
        kind = int(dev[0])
        if kind in (_CPU, _CUDA_HOST):
            import numpy as np
            arr = np.from_dlpack(ext_tensor)
        elif kind in (_CUDA, _CUDA_MANAGED):
            arr = _cupy().from_dlpack(ext_tensor)
        else:
            raise RuntimeError(f"ember.from_dlpack: unsupported DLPack device type {kind} (ember has CPU and "
                               "CUDA backends)")
    elif type(ext_tensor).__name__ == "PyCapsule":
        import numpy as np
        try:
            arr = np.from_dlpack(_Capsule(ext_tensor, (_CPU, 0)))
        except (BufferError, RuntimeError, ValueError):
            # a capsule is consumed only on success, so a GPU capsule can still go to CuPy
            arr = _cupy().from_dlpack(_Capsule(ext_tensor, (_CUDA, 0)))
    else:
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, got "
                        f"{type(ext_tensor).__name__}")
    if arr.dtype not in D._FROM_NP:
        D.from_numpy_dtype(arr.dtype)  # raises PyTorch's TypeError naming the dtype
    return _wrap(arr, device_of_array(arr))


def to_dlpack(tensor: Tensor) -> Any:
    """A legacy DLPack capsule of ``tensor`` (``torch.utils.dlpack.to_dlpack``); prefer passing the tensor.

    >>> capsule = ember.utils.dlpack.to_dlpack(ember.ones(2))
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack: expected a Tensor, got {type(tensor).__name__}")
    return tensor.__dlpack__()


def _cupy() -> Any:
    try:
        import cupy
    except ImportError:
        raise RuntimeError("ember.from_dlpack: the data lives in GPU memory, which needs CuPy (the [gpu] "
                           "extra)") from None
    return cupy
