"""``ember.nn.functional``: the functional forms of layers, activations and losses (as ``torch.nn.functional``).

The implementations live in ``ember/nn/_functional/<family>.py``; this module gathers them.
"""
from ._functional.activation import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.linear import *  # noqa: F401,F403
from ._functional.dropout import *  # noqa: F401,F403
from ._functional.normalization import *  # noqa: F401,F403
from ._functional.sparse import *  # noqa: F401,F403
from ._functional.distance import *  # noqa: F401,F403
from ._functional.misc import *  # noqa: F401,F403
from ._functional.loss import _legacy_reduction as _legacy_reduction_for_module  # noqa: F401
from ._functional.padding import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.pooling import *  # noqa: F401,F403
from ._functional.fold import *  # noqa: F401,F403
from ._functional.upsampling import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
