"""``ferrotorch.utils``: helpers shared across the package, laid out as ``torch.utils``."""

from . import hooks  # noqa: F401
from . import data, checkpoint  # noqa: F401
