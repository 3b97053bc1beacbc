"""``ferrotorch.backends.mps``: Apple's Metal backend, which ferrotorch does not have."""


def is_available():
    """Whether an MPS device can be used: never in ferrotorch."""
    return False


def is_built():
    """Whether ferrotorch was built with MPS: it never is."""
    return False
