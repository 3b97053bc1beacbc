"""nn workloads: a whole training step of a small model (module call overhead, kernels, autograd)."""

import numpy as np


def mlp_training_step(lib, rng):
    """An MNIST-sized MLP step: 784-256-10 with ReLU, batch 64, cross entropy, backward, SGD."""
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    x = lib.from_numpy(rng.standard_normal((64, 784)).astype(np.float32))
    y = lib.from_numpy(rng.integers(0, 10, 64).astype(np.int64))
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with lib.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=0.01)

    return step


def lenet_training_step(lib, rng):
    """A LeNet-5 step on Fashion-MNIST-sized images: batch 64 of 1x28x28, cross entropy, Adam."""
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )
    x = lib.from_numpy(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = lib.from_numpy(rng.integers(0, 10, 64).astype(np.int64))
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    return step


def rms_norm_fwd_bwd(lib, rng):
    """RMS normalization of 4096 rows of 1024 with a weight, forward and backward."""
    x = lib.from_numpy(rng.standard_normal((4096, 1024)).astype(np.float32)).requires_grad_()
    w = lib.ones(1024, requires_grad=True)

    def run():
        lib.nn.functional.rms_norm(x, (1024,), w, eps=1e-6).sum().backward()

    return run


def causal_attention_fwd_bwd(lib, rng):
    """Causal scaled_dot_product_attention of 8 sequences x 6 heads x 256 positions x 64 dims
    (a GPT block's attention), forward and backward."""
    q, k, v = (lib.from_numpy(rng.standard_normal((8, 6, 256, 64)).astype(np.float32)).requires_grad_() for _ in range(3))

    def run():
        lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()

    return run


WORKLOADS = {
    "MLP 784-256-10 train step batch 64": mlp_training_step,
    "LeNet-5 train step batch 64 (Adam)": lenet_training_step,
    "rms_norm 4096x1024 fwd+bwd": rms_norm_fwd_bwd,
    "causal SDPA 8x6x256x64 fwd+bwd": causal_attention_fwd_bwd,
}
