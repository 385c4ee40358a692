"""``ember.cuda``: the device queries and housekeeping of ``torch.cuda``, backed by CuPy.

Without CuPy, or with CuPy but no GPU, ``is_available()`` is False, ``device_count()`` is 0,
the memory functions return 0 and the seeding functions do nothing, as on a CPU build of
PyTorch; calls that need a device (``current_device``, ``set_device``, ``synchronize``,
``get_device_name``, ...) raise PyTorch's errors (``AssertionError("Torch not compiled with
CUDA enabled")`` without CuPy, ``RuntimeError("No CUDA GPUs are available")`` without a GPU).
With a GPU they report the real device through CuPy.

>>> import ember
>>> dev = ember.device("cuda" if ember.cuda.is_available() else "cpu")
"""
from __future__ import annotations

import collections
from typing import Any

__all__ = ["is_available", "device_count", "current_device", "set_device", "get_device_name",
           "get_device_capability", "get_device_properties", "synchronize", "manual_seed", "manual_seed_all",
           "seed", "seed_all", "initial_seed", "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "reset_peak_memory_stats", "reset_max_memory_allocated", "empty_cache",
           "mem_get_info", "memory_stats", "is_initialized", "init", "device", "is_bf16_supported"]

_initial_seed: list = [None]
_peak: dict = {}


def _cupy() -> Any:
    """CuPy when it is installed and sees at least one GPU, else None (never raises)."""
    try:
        import cupy
    except ImportError:
        return None
    try:
        if cupy.cuda.runtime.getDeviceCount() <= 0:
            return None
    except Exception:  # CuPy without a driver raises CUDARuntimeError
        return None
    return cupy


def _need_cupy() -> Any:
    cp = _cupy()
    if cp is not None:
        return cp
    try:
        import cupy  # noqa: F401
    except ImportError:
        raise AssertionError("Torch not compiled with CUDA enabled (ember: install CuPy, the [gpu] extra, for "
                             "CUDA support)") from None
    raise RuntimeError("No CUDA GPUs are available")


def _index(dev: Any) -> int:
    if dev is None:
        return current_device()
    if isinstance(dev, str) or hasattr(dev, "type"):
        from .._device import device as _dev
        d = _dev(dev) if not isinstance(dev, _dev) else dev
        if d.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {d}")
        return current_device() if d.index is None else d.index
    if isinstance(dev, bool) or not isinstance(dev, int):
        raise TypeError(f"invalid device {dev!r}")
    return current_device() if dev < 0 else dev


# ------------------------------------------------------------------------------------- queries
def is_available() -> bool:
    """Whether ember can put tensors on a GPU: CuPy is installed and sees a device.

    >>> ember.cuda.is_available() in (True, False)
    True
    """
    return _cupy() is not None


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or a GPU).

    >>> ember.cuda.device_count() >= 0
    True
    """
    cp = _cupy()
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


def is_initialized() -> bool:
    """Whether CUDA is usable and was touched; ember starts it lazily through CuPy, so: is_available()."""
    return is_available()


def init() -> None:
    """Initialise CUDA (raises like PyTorch when there is none)."""
    _need_cupy()


def current_device() -> int:
    """The index of the selected GPU.

    >>> ember.cuda.current_device()  # doctest: +SKIP
    0
    """
    cp = _need_cupy()
    return int(cp.cuda.runtime.getDevice())


def set_device(device: Any) -> None:
    """Select the GPU later CUDA work uses (``int``, ``'cuda:1'`` or a device).

    >>> ember.cuda.set_device(0)  # doctest: +SKIP
    """
    cp = _need_cupy()
    idx = _index(device)
    if idx >= 0:
        cp.cuda.Device(idx).use()


def get_device_name(device: Any = None) -> str:
    """The GPU's marketing name, e.g. ``'NVIDIA H100 80GB HBM3'``.

    >>> ember.cuda.get_device_name(0)  # doctest: +SKIP
    'NVIDIA H100 80GB HBM3'
    """
    return get_device_properties(device).name


_Props = collections.namedtuple("_CudaDeviceProperties", ["name", "major", "minor", "total_memory",
                                                          "multi_processor_count"])


def get_device_properties(device: Any = None) -> Any:
    """Name, compute capability, memory and SM count of a GPU (a named tuple).

    >>> ember.cuda.get_device_properties(0).total_memory  # doctest: +SKIP
    85045231616
    """
    cp = _need_cupy()
    idx = _index(device)
    p = cp.cuda.runtime.getDeviceProperties(idx)
    name = p["name"].decode() if isinstance(p["name"], bytes) else str(p["name"])
    return _Props(name, int(p["major"]), int(p["minor"]), int(p["totalGlobalMem"]),
                  int(p["multiProcessorCount"]))


def get_device_capability(device: Any = None) -> tuple:
    """The GPU's compute capability as ``(major, minor)``.

    >>> ember.cuda.get_device_capability()  # doctest: +SKIP
    (9, 0)
    """
    p = get_device_properties(device)
    return (p.major, p.minor)


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether bfloat16 tensors work on the GPU: a GPU is present and ``ml_dtypes`` is installed."""
    if not is_available():
        return False
    from .. import _dtype
    return _dtype.bfloat16.np_dtype is not None


def synchronize(device: Any = None) -> None:
    """Wait for all queued work on a GPU to finish.

    >>> ember.cuda.synchronize()  # doctest: +SKIP
    """
    cp = _need_cupy()
    idx = _index(device)
    with cp.cuda.Device(idx):
        cp.cuda.Device(idx).synchronize()


class device:
    """Context manager that selects a GPU for its block (``with ember.cuda.device(1): ...``)."""

    def __init__(self, device: Any):
        self.idx = -1 if device is None else _index(device) if not isinstance(device, int) else device
        self.prev = -1

    def __enter__(self) -> None:
        if self.idx >= 0:
            self.prev = current_device()
            set_device(self.idx)

    def __exit__(self, *exc: Any) -> None:
        if self.prev >= 0:
            set_device(self.prev)


# ---------------------------------------------------------------------------------------- seeds
def manual_seed(seed: int) -> None:
    """Seed the GPU's random numbers (CuPy's generator); without a GPU it does nothing, like PyTorch.

    >>> ember.cuda.manual_seed(0)
    """
    seed = int(seed)
    _initial_seed[0] = seed
    cp = _cupy()
    if cp is not None:
        cp.random.seed(seed % (2 ** 32))


manual_seed_all = manual_seed


def seed() -> None:
    """Seed the GPU's random numbers from a random number (nothing without a GPU)."""
    import secrets
    manual_seed(secrets.randbits(63))


seed_all = seed


def initial_seed() -> int:
    """The seed last given to ``manual_seed`` (needs a GPU, as in PyTorch)."""
    _need_cupy()
    return _initial_seed[0] if _initial_seed[0] is not None else 0


# --------------------------------------------------------------------------------------- memory
def _pool() -> Any:
    cp = _cupy()
    return None if cp is None else cp.get_default_memory_pool()


def memory_allocated(device: Any = None) -> int:
    """Bytes held by live GPU arrays in CuPy's pool (0 without a GPU).

    >>> ember.cuda.memory_allocated() >= 0
    True
    """
    pool = _pool()
    if pool is None:
        return 0
    used = int(pool.used_bytes())
    _peak["allocated"] = max(_peak.get("allocated", 0), used)
    return used


def max_memory_allocated(device: Any = None) -> int:
    """The largest ``memory_allocated`` seen since the last reset (sampled when queried; 0 without a GPU)."""
    return max(memory_allocated(device), _peak.get("allocated", 0))


def memory_reserved(device: Any = None) -> int:
    """Bytes CuPy's pool holds from the driver, used or cached (0 without a GPU)."""
    pool = _pool()
    if pool is None:
        return 0
    total = int(pool.total_bytes())
    _peak["reserved"] = max(_peak.get("reserved", 0), total)
    return total


def max_memory_reserved(device: Any = None) -> int:
    """The largest ``memory_reserved`` seen since the last reset (0 without a GPU)."""
    return max(memory_reserved(device), _peak.get("reserved", 0))


def reset_peak_memory_stats(device: Any = None) -> None:
    """Forget the peaks ``max_memory_allocated``/``max_memory_reserved`` report."""
    _peak.clear()


reset_max_memory_allocated = reset_peak_memory_stats


def memory_stats(device: Any = None) -> dict:
    """A small dict of the pool's counters (empty without a GPU, as PyTorch's before CUDA starts)."""
    if _pool() is None:
        return {}
    return {"allocated_bytes.all.current": memory_allocated(), "allocated_bytes.all.peak": max_memory_allocated(),
            "reserved_bytes.all.current": memory_reserved(), "reserved_bytes.all.peak": max_memory_reserved()}


def empty_cache() -> None:
    """Give CuPy's cached, unused GPU blocks back to the driver (nothing without a GPU).

    >>> ember.cuda.empty_cache()
    """
    pool = _pool()
    if pool is not None:
        pool.free_all_blocks()


def mem_get_info(device: Any = None) -> tuple:
    """``(free, total)`` bytes of the GPU, from the driver.

    >>> ember.cuda.mem_get_info()  # doctest: +SKIP
    (84000000000, 85045231616)
    """
    cp = _need_cupy()
    idx = _index(device)
    with cp.cuda.Device(idx):
        free, total = cp.cuda.runtime.memGetInfo()
    return int(free), int(total)
