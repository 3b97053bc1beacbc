"""Recurrent-layer benchmark workloads (see workloads.py for the builder convention)."""

import numpy as np


def lstm_fwd_bwd(lib, rng):
    """One-layer LSTM(64, 128) over 50 steps of a batch of 32, forward and backward: the
    per-step cost of the Python time loop against PyTorch's native one."""
    lstm = lib.nn.LSTM(64, 128)
    x = lib.from_numpy(rng.standard_normal((50, 32, 64)).astype(np.float32))

    def run():
        output, _ = lstm(x)
        output.sum().backward()

    return run


WORKLOADS = {
    "LSTM(64,128) batch 32 x 50 steps fwd+bwd": lstm_fwd_bwd,
}
