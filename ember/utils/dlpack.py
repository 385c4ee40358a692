"""``ember.utils.dlpack`` (as ``torch.utils.dlpack``): ``from_dlpack`` and ``to_dlpack``.

>>> import ember, numpy as np
>>> from ember.utils.dlpack import from_dlpack
>>> from_dlpack(np.ones(2))
tensor([1., 1.], dtype=ember.float64)
"""
from .._dlpack import from_dlpack, to_dlpack

__all__ = ["from_dlpack", "to_dlpack"]
