"""Seeding of the CUDA generators, as ``torch.cuda.random``. PyTorch queues a seed until CUDA
initialises and silently drops it on a machine without a GPU; the same holds here (CUDA
random kernels are a later step of the backend, so the seed is only recorded)."""

import random as _random

__all__ = ["manual_seed", "manual_seed_all", "seed", "seed_all"]

# The last seed requested for each device index (None: every device).
_seeds = {}


def manual_seed(seed):
    """Seeds the current device's generator."""
    _seeds["current"] = int(seed)


def manual_seed_all(seed):
    """Seeds every device's generator."""
    _seeds["all"] = int(seed)


def seed():
    """Seeds the current device's generator with a random number."""
    manual_seed(_random.getrandbits(63))


def seed_all():
    """Seeds every device's generator with a random number."""
    manual_seed_all(_random.getrandbits(63))
