"""``torch.cuda`` for a build with no CUDA device: the queries scripts make before choosing a
device (``torch.cuda.is_available()``, ``device_count()``) and the seeding calls they make
unconditionally. Used by ``ferrotorch.run`` only while ferrotorch itself has no ``cuda`` module."""


def is_available():
    """No CUDA device: ``False``."""
    return False


def device_count():
    """No CUDA device: ``0``."""
    return 0


def is_initialized():
    return False


def manual_seed(seed):
    """Seeding a device that does not exist does nothing, as in PyTorch without CUDA."""


def manual_seed_all(seed):
    """Seeding devices that do not exist does nothing, as in PyTorch without CUDA."""


def synchronize(device=None):
    """Nothing runs asynchronously: nothing to wait for."""


def empty_cache():
    """No device memory is cached: nothing to free."""
