"""``ferrotorch.random``: the default generator's seed and state, as ``torch.random``."""

import contextlib

from . import _C

default_generator = _C.default_generator


def manual_seed(seed):
    """Seeds the default generator; returns it."""
    return default_generator.manual_seed(int(seed))


def seed():
    """Seeds the default generator from the operating system's randomness; returns the seed."""
    return default_generator.seed()


def initial_seed():
    """The seed the default generator was last started from."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restores the default generator's state from :func:`get_rng_state`."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, device_type="cuda"):
    """Restores the default generator's state on exit, so draws inside leave no trace. Only the
    CPU generator exists, so ``devices`` and ``device_type`` change nothing."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"]
