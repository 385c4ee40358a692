"""``ember.nn``: modules, parameters, functional forms and initialisation (as ``torch.nn``)."""
from .parameter import Parameter, UninitializedParameter, UninitializedBuffer, Buffer  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from . import init, functional  # noqa: F401
from . import utils  # noqa: F401,E402
