"""``ferrotorch.backends.openmp``: ferrotorch parallelizes with rayon, not OpenMP."""


def is_available():
    """Whether this build uses OpenMP: ferrotorch does not (its threads are rayon's)."""
    return False
