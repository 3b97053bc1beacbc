"""What the `cuda` tests share: the dtypes, per-dtype tolerances, CPU samples each dtype holds
exactly, and the comparison of a CUDA result with the CPU's."""

import numpy as np

import ferrotorch as ft

ALL_DTYPES = [ft.bool, ft.uint8, ft.int8, ft.int16, ft.int32, ft.int64, ft.float16, ft.bfloat16, ft.float32, ft.float64]
FLOATS = [ft.float16, ft.bfloat16, ft.float32, ft.float64]
TOL = {ft.float16: 2e-3, ft.bfloat16: 1.6e-2, ft.float32: 1e-5, ft.float64: 1e-12}


def sample(shape, dtype, seed=0):
    """A CPU tensor of `dtype` with values each dtype holds exactly (small integers, halves)."""
    rng = np.random.default_rng(seed)
    if dtype == ft.bool:
        return ft.tensor(rng.random(shape) > 0.5)
    values = rng.integers(-8, 9, size=shape) if not dtype.is_floating_point else rng.standard_normal(shape)
    if dtype == ft.uint8:
        values = np.abs(values)
    return ft.tensor(values).to(dtype)


def same(gpu, cpu, dtype=None):
    """`gpu` is a CUDA tensor equal to the CPU tensor `cpu` within the dtype's tolerance."""
    assert gpu.device.type == "cuda" and gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    got = gpu.cpu()
    dtype = dtype or cpu.dtype
    if dtype.is_floating_point:
        tol = TOL[dtype]
        np.testing.assert_allclose(got.double().numpy(), cpu.double().numpy(), rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got.numpy(), cpu.numpy())
