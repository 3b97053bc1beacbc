"""The CUDA generators, as ``torch.cuda.random``: one Philox generator (a seed and an offset)
per device, which the random ops of CUDA tensors draw from on the device.

As in PyTorch, seeding needs no GPU and does not start the driver (a generator is host state;
on a machine without a GPU it has no visible effect), while reading or restoring a device's
state initialises CUDA and raises without a GPU."""

import random as _random

from .. import _C

__all__ = [
    "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state",
    "get_rng_state_all", "set_rng_state", "set_rng_state_all",
]


def _generator(device=None):
    """The default generator of ``device`` (the current device when None), which must exist."""
    from . import _device_index, device_count

    index = _device_index(device, optional=True)
    if not 0 <= index < device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal (device {index} of {device_count()})")
    return _C._cuda_default_generator(index)


def manual_seed(seed):
    """Seeds the current device's generator (device 0 before CUDA has started)."""
    from . import current_device, is_initialized

    _C._cuda_default_generator(current_device() if is_initialized() else 0).manual_seed(int(seed))


def manual_seed_all(seed):
    """Seeds every device's generator, those of devices not used yet included."""
    _C._cuda_manual_seed_all(int(seed))


def seed():
    """Seeds the current device's generator with a random number."""
    manual_seed(_random.getrandbits(63))


def seed_all():
    """Seeds every device's generator with one random number."""
    manual_seed_all(_random.getrandbits(63))


def initial_seed():
    """The current device's seed."""
    from . import init

    init()
    return _generator().initial_seed()


def get_rng_state(device="cuda"):
    """A device generator's state as a uint8 tensor (its seed and offset, 16 bytes)."""
    from . import init

    init()
    return _generator(device).get_state()


def set_rng_state(new_state, device="cuda"):
    """Restores a device generator's state from :func:`get_rng_state`."""
    from . import init

    init()
    _generator(device).set_state(new_state)


def get_rng_state_all():
    """Every device generator's state."""
    from . import device_count

    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states):
    """Restores every device generator's state from :func:`get_rng_state_all`."""
    for index, state in enumerate(new_states):
        set_rng_state(state, index)
