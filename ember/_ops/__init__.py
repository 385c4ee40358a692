"""The op library, one family per module; each module lists its public functions in ``__all__``.

Importing a module also attaches its Tensor methods.
"""
from . import arith, cast, shape, reduction, minmax, scan, sorting, blas, pointwise, compare, pointwise_binary, bitwise, join, rearrange, indexing, scatter, fill, softmax_ops  # noqa: F401

_FAMILIES = (arith, cast, shape, reduction, minmax, scan, sorting, blas, pointwise, compare, pointwise_binary, bitwise, join, rearrange, indexing, scatter, fill, softmax_ops)
__all__: list = []
for _m in _FAMILIES:
    for _name in getattr(_m, "__all__", ()):
        globals()[_name] = getattr(_m, _name)
        __all__.append(_name)
