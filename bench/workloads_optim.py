"""Optimizer step benchmarks: one step over 10M parameters in 10 tensors. PyTorch runs its
fastest CPU path (``fused=True`` where it has one, else ``foreach=True``); ferrotorch's steps
are always one fused multi-tensor kernel per parameter group."""

import numpy as np

N_TENSORS = 10
PER_TENSOR = 1_000_000


def _params_with_grads(lib, rng):
    params = []
    for _ in range(N_TENSORS):
        p = lib.from_numpy(rng.standard_normal(PER_TENSOR).astype(np.float32)).requires_grad_()
        p.grad = lib.from_numpy(rng.standard_normal(PER_TENSOR).astype(np.float32))
        params.append(p)
    return params


def _fastest(lib, fused_ok):
    if lib.__name__ != "torch":
        return {}
    return {"fused": True} if fused_ok else {"foreach": True}


def adam_step_10m(lib, rng):
    opt = lib.optim.Adam(_params_with_grads(lib, rng), lr=1e-3, **_fastest(lib, fused_ok=True))
    opt.step()  # creates the state outside the timed region
    return opt.step


def adamw_amsgrad_step_10m(lib, rng):
    opt = lib.optim.AdamW(_params_with_grads(lib, rng), lr=1e-3, amsgrad=True, **_fastest(lib, fused_ok=True))
    opt.step()
    return opt.step


def sgd_momentum_step_10m(lib, rng):
    opt = lib.optim.SGD(_params_with_grads(lib, rng), lr=1e-2, momentum=0.9, **_fastest(lib, fused_ok=True))
    opt.step()
    return opt.step


def rmsprop_step_10m(lib, rng):
    opt = lib.optim.RMSprop(_params_with_grads(lib, rng), lr=1e-2, **_fastest(lib, fused_ok=False))
    opt.step()
    return opt.step


WORKLOADS = {
    "adam_step_10m": adam_step_10m,
    "adamw_amsgrad_step_10m": adamw_amsgrad_step_10m,
    "sgd_momentum_step_10m": sgd_momentum_step_10m,
    "rmsprop_step_10m": rmsprop_step_10m,
}
