"""``ferrotorch.random``: the default generator's seed and state, as ``torch.random``."""

import contextlib

from . import _C

default_generator = _C.default_generator


def manual_seed(seed):
    """Seeds the default generator and every CUDA device's generator; returns the CPU one."""
    from . import cuda

    seed = int(seed)
    cuda.manual_seed_all(seed)
    return default_generator.manual_seed(seed)


def seed():
    """Seeds the default generator (and the CUDA ones, with the same seed) from the operating
    system's randomness; returns the seed."""
    from . import cuda

    s = default_generator.seed()
    cuda.manual_seed_all(s)
    return s


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
    """Restores the default generator's state, and those of the CUDA ``devices`` (all when None),
    on exit, so draws inside leave no trace."""
    from . import cuda

    if not enabled:
        yield
        return
    if device_type != "cuda" or not cuda.is_available():
        devices = []
    elif devices is None:
        devices = range(cuda.device_count())
    state = get_rng_state()
    device_states = [(d, cuda.get_rng_state(d)) for d in devices]
    try:
        yield
    finally:
        set_rng_state(state)
        for d, s in device_states:
            cuda.set_rng_state(s, d)


__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"]
