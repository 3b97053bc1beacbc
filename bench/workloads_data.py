"""DataLoader workloads: one epoch of image-sized samples, collated in process and through two
persistent worker processes (whose batches come back through shared memory)."""

import importlib

import numpy as np


def _epoch(lib, rng, **loader_kwargs):
    data = importlib.import_module(f"{lib.__name__}.utils.data")
    images = lib.from_numpy(rng.standard_normal((1024, 3, 32, 32)).astype(np.float32))
    labels = lib.from_numpy(rng.integers(0, 10, 1024))
    loader = data.DataLoader(data.TensorDataset(images, labels), batch_size=64, shuffle=True, **loader_kwargs)

    def run():
        for batch in loader:
            pass

    return run


def epoch_in_process(lib, rng):
    return _epoch(lib, rng)


def epoch_two_workers(lib, rng):
    return _epoch(lib, rng, num_workers=2, persistent_workers=True)


WORKLOADS = {
    "DataLoader epoch 1024x3x32x32 bs64 w0": epoch_in_process,
    "DataLoader epoch 1024x3x32x32 bs64 w2": epoch_two_workers,
}
