"""Recurrent-layer benchmark workloads (see workloads.py for the builder convention)."""

import numpy as np


def recurrent_fwd_bwd(layer):
    """One layer (64 -> 128) over 50 steps of a batch of 32, forward and backward: the
    per-step cost of the time loop and the fused cell against PyTorch's native ones."""

    def build(lib, rng):
        rnn = getattr(lib.nn, layer)(64, 128)
        x = lib.from_numpy(rng.standard_normal((50, 32, 64)).astype(np.float32))

        def run():
            output, _ = rnn(x)
            output.sum().backward()

        return run

    return build


WORKLOADS = {
    "LSTM(64,128) batch 32 x 50 steps fwd+bwd": recurrent_fwd_bwd("LSTM"),
    "GRU(64,128) batch 32 x 50 steps fwd+bwd": recurrent_fwd_bwd("GRU"),
}
