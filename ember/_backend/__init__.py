"""The one seam between ember and its array libraries.

Every tensor holds an array of a backend and a device; ``backend_for(device)`` gives
the ``Backend`` whose ``xp`` module (NumPy on CPU, CuPy on CUDA) ops call. Ops never
test array types themselves: they use ``node.xp`` and the helpers here, so adding a
device means adding a backend, not touching ops.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._device import device, cpu


class Backend:
    """An array library bound to a device type: ``xp`` plus kernels NumPy/CuPy lack."""

    def __init__(self, name: str, xp: Any, special: Any, device_type: str):
        self.name, self.xp, self.special, self.device_type = name, xp, special, device_type

    def asarray(self, value: Any, dtype: Any = None) -> Any:
        return self.xp.asarray(value, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def __repr__(self) -> str:
        return f"<ember backend {self.name}>"


def _numpy_backend() -> Backend:
    from . import numpy_special
    from .malloc import tune_malloc
    tune_malloc()  # NumPy allocates through malloc: keep freed step memory mapped (see malloc.py)
    return Backend("numpy", np, numpy_special, "cpu")


CPU_BACKEND = _numpy_backend()
_BY_TYPE = {"cpu": CPU_BACKEND}


def backend_for(dev: device) -> Backend:
    """The backend that owns arrays on ``dev``; raises a clear error for unavailable devices."""
    b = _BY_TYPE.get(dev.type)
    if b is not None:
        return b
    if dev.type == "cuda":
        from . import cuda_backend  # imported lazily: CuPy is the optional [gpu] extra
        b = cuda_backend.make_backend()
        _BY_TYPE["cuda"] = b
        return b
    raise RuntimeError(f"ember has no backend for device type '{dev.type}'")


def device_of_array(array: Any) -> device:
    """The device an incoming array lives on (used only where foreign arrays enter ember)."""
    if isinstance(array, np.ndarray) or np.isscalar(array):
        return cpu
    mod = type(array).__module__
    if mod.startswith("cupy"):
        return device("cuda", array.device.id)
    return cpu
