"""Convolution workloads: a ResNet-style 3x3 layer, forward and backward."""

import numpy as np


def conv2d_3x3_fwd_bwd(lib, rng):
    """conv2d 64->64 3x3, padding 1, batch 8 of 32x32: forward, sum, backward (input and
    weight gradients)."""
    x = lib.from_numpy(rng.standard_normal((8, 64, 32, 32)).astype(np.float32)).requires_grad_()
    w = lib.nn.Parameter(lib.from_numpy((rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)))

    def run():
        lib.conv2d(x, w, None, 1, 1).sum().backward()

    return run


WORKLOADS = {
    "conv2d 64->64 3x3 8x64x32x32 fwd+bwd": conv2d_3x3_fwd_bwd,
}
