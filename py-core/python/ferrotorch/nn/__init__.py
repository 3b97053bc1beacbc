"""``ferrotorch.nn``: modules, parameters, ``functional`` and ``init``, laid out as ``torch.nn``."""

from .parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer
from .modules import *  # noqa: F401,F403
from . import utils  # noqa: F401
from . import attention, functional, init  # noqa: F401
