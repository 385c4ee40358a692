"""``ember.nn.utils``: gradient clipping, parameter/vector conversion, parametrizations, weight/spectral norm,
conv/linear + batch-norm fusion (as ``torch.nn.utils``).

>>> import ember
>>> p = ember.nn.Parameter(ember.ones(3)); p.grad = ember.ones(3)
>>> ember.nn.utils.clip_grad_value_([p], 0.5)
"""
from . import parametrize, parametrizations  # noqa: F401
from .clip_grad import (clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm,  # noqa: F401
                        clip_grads_with_norm_)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .weight_norm import weight_norm, remove_weight_norm  # noqa: F401
from .spectral_norm import spectral_norm, remove_spectral_norm  # noqa: F401
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights  # noqa: F401
from ._norms import norm_except_dim  # noqa: F401
from . import rnn  # noqa: F401,E402
