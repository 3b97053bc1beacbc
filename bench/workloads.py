"""Benchmark workloads. Each builder takes the library module (ferrotorch or torch) and a
NumPy generator, prepares inputs outside the timed region and returns the timed callable."""

import numpy as np


def _from_numpy(lib, array):
    return lib.from_numpy(np.ascontiguousarray(array))


def add_16(lib, rng):
    a = _from_numpy(lib, rng.standard_normal(16).astype(np.float32))
    b = _from_numpy(lib, rng.standard_normal(16).astype(np.float32))
    return lambda: a + b


def add_10m(lib, rng):
    a = _from_numpy(lib, rng.standard_normal(10_000_000).astype(np.float32))
    b = _from_numpy(lib, rng.standard_normal(10_000_000).astype(np.float32))
    return lambda: a + b


def exp_10m(lib, rng):
    a = _from_numpy(lib, rng.standard_normal(10_000_000).astype(np.float32))
    return lambda: a.exp()


def sum_10m(lib, rng):
    a = _from_numpy(lib, rng.standard_normal(10_000_000).astype(np.float32))
    return lambda: a.sum()


def matmul_1024(lib, rng):
    a = _from_numpy(lib, rng.standard_normal((1024, 1024)).astype(np.float32))
    b = _from_numpy(lib, rng.standard_normal((1024, 1024)).astype(np.float32))
    return lambda: a @ b


def sort_1m(lib, rng):
    a = _from_numpy(lib, rng.standard_normal(1_000_000).astype(np.float32))
    return lambda: a.sort()


def transpose_copy_4m(lib, rng):
    a = _from_numpy(lib, rng.standard_normal((2048, 2048)).astype(np.float32))
    return lambda: a.t().contiguous()


def backward_mul_sum_16(lib, rng):
    a = _from_numpy(lib, rng.standard_normal(16).astype(np.float32)).requires_grad_()
    b = _from_numpy(lib, rng.standard_normal(16).astype(np.float32)).requires_grad_()
    return lambda: (a * b).sum().backward()


def backward_chain_20(lib, rng):
    """Twenty element-wise ops on 16 elements, then backward: graph-building and engine cost."""
    x = _from_numpy(lib, rng.uniform(0.5, 1.5, 16).astype(np.float32)).requires_grad_()

    def run():
        h = x
        for _ in range(5):
            h = (h * 1.01).sin().exp() + 0.5
        h.sum().backward()

    return run


WORKLOADS = {
    "add 16 float32 (per-op overhead)": add_16,
    "add 10M float32": add_10m,
    "exp 10M float32": exp_10m,
    "sum 10M float32": sum_10m,
    "matmul 1024x1024 float32": matmul_1024,
    "sort 1M float32": sort_1m,
    "transpose copy 2048x2048": transpose_copy_4m,
    "autograd (a*b).sum().backward() 16": backward_mul_sum_16,
    "autograd 20-op chain backward 16": backward_chain_20,
}
