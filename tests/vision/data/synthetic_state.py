"""Deterministic, well-scaled model weights from a NumPy seed (no torch needed).

Shared by make_models_reference.py (which loads them into torchvision models) and test_models.py
(which loads them into ferrovision models), so reference logits need no stored weights.
"""

import numpy as np


def synthetic_state(keys_shapes, seed=0):
    """``{key: float32 array}`` for ``[(key, shape), ...]``: fan-in scaled conv/linear weights, BN
    statistics away from their defaults, small biases; ``num_batches_tracked`` as int64 zeros."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, shape in keys_shapes:
        name = key.rsplit(".", 1)[-1]
        if name == "num_batches_tracked":
            state[key] = np.zeros(shape, dtype=np.int64)
            continue
        if name == "running_var":
            value = rng.uniform(0.5, 1.5, shape)
        elif name == "running_mean":
            value = 0.1 * rng.standard_normal(shape)
        elif name == "weight" and len(shape) == 1:  # norm scale
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            value = rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)
        else:
            value = 0.1 * rng.standard_normal(shape)
        state[key] = value.astype(np.float32)
    return state
