"""``ember.optim``: optimizers, learning-rate schedulers and SWA utilities (as ``torch.optim``).

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(3))
>>> opt = ember.optim.Adam([w], lr=1e-2)
>>> sched = ember.optim.lr_scheduler.StepLR(opt, step_size=10)
"""
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam  # noqa: F401
from .adamw import AdamW  # noqa: F401
from .adamax import Adamax  # noqa: F401
from .nadam import NAdam  # noqa: F401
from .radam import RAdam  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .asgd import ASGD  # noqa: F401
from .rprop import Rprop  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from . import lr_scheduler, swa_utils  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta", "ASGD",
           "Rprop", "LBFGS", "lr_scheduler", "swa_utils"]
