"""``ember.nn.functional``: the functional forms of layers, activations and losses (as ``torch.nn.functional``).

The implementations live in ``ember/nn/_functional/<family>.py``; this module gathers them.
"""
from ._functional.activation import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.linear import *  # noqa: F401,F403
from ._functional.dropout import *  # noqa: F401,F403
from ._functional.loss import _legacy_reduction as _legacy_reduction_for_module  # noqa: F401
