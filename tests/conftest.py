"""Shared helpers: NumPy references, dtype tables and tensor makers for every suite."""

import faulthandler
import os

import numpy as np
import pytest

import ferrotorch as ft

FLOAT_DTYPES = [ft.float16, ft.bfloat16, ft.float32, ft.float64]
INT_DTYPES = [ft.uint8, ft.int8, ft.int16, ft.int32, ft.int64]
ALL_DTYPES = [ft.bool] + INT_DTYPES + FLOAT_DTYPES

# NumPy has no bfloat16: its reference values are computed in float32.
NUMPY_DTYPE = {
    ft.bool: np.bool_, ft.uint8: np.uint8, ft.int8: np.int8, ft.int16: np.int16,
    ft.int32: np.int32, ft.int64: np.int64, ft.float16: np.float16,
    ft.bfloat16: np.float32, ft.float32: np.float32, ft.float64: np.float64,
}

# Tolerances per dtype for results computed in that dtype.
TOLERANCE = {
    ft.float16: (1e-3, 1e-3), ft.bfloat16: (1e-2, 1e-2),
    ft.float32: (1e-5, 1e-6), ft.float64: (1e-12, 1e-12),
}


def to_numpy(t):
    """A NumPy copy of a tensor (bfloat16 read as float32)."""
    if t.dtype == ft.bfloat16:
        t = t.float()
    return np.array(t.numpy(), copy=True)


def assert_close(actual, expected, dtype=None, rtol=None, atol=None, equal_nan=True, check_dtype=True):
    """Compares a tensor with a NumPy reference: shape, dtype and values (NaN == NaN)."""
    expected = np.asarray(expected)
    assert isinstance(actual, ft.Tensor), type(actual)
    assert tuple(actual.shape) == expected.shape, (tuple(actual.shape), expected.shape)
    if check_dtype and dtype is not None:
        assert actual.dtype == dtype, (actual.dtype, dtype)
    got = to_numpy(actual)
    if got.dtype.kind in "biu" and expected.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expected)
        return
    d = dtype or actual.dtype
    r, a = TOLERANCE.get(d, (1e-6, 1e-6))
    np.testing.assert_allclose(
        got.astype(np.float64), expected.astype(np.float64),
        rtol=r if rtol is None else rtol, atol=a if atol is None else atol, equal_nan=equal_nan,
    )


def random_array(shape, dtype, rng, low=-5, high=5):
    """Random values of a ferrotorch dtype, as a NumPy array of its reference type."""
    if dtype == ft.bool:
        return rng.random(shape) > 0.5
    if dtype in INT_DTYPES:
        lo = 0 if dtype == ft.uint8 else low
        return rng.integers(lo, high, size=shape).astype(NUMPY_DTYPE[dtype])
    arr = rng.uniform(low, high, size=shape)
    if dtype == ft.bfloat16:
        # Round through bfloat16 so the reference sees exactly the stored values.
        return to_numpy(ft.tensor(arr, dtype=ft.bfloat16)).astype(np.float32)
    return arr.astype(NUMPY_DTYPE[dtype])


def make(shape, dtype, rng, layout="contiguous", low=-5, high=5):
    """A tensor and its NumPy twin. ``layout``: 'contiguous', 'transposed' (a permuted view),
    'strided' (every other element of a larger tensor) or 'broadcast' (an expanded view)."""
    shape = tuple(shape)
    if layout == "contiguous" or len(shape) == 0:
        arr = random_array(shape, dtype, rng, low, high)
        return ft.tensor(arr, dtype=dtype), arr
    if layout == "transposed":
        arr = random_array(shape[::-1], dtype, rng, low, high)
        perm = tuple(range(len(shape)))[::-1]
        return ft.tensor(arr, dtype=dtype).permute(*perm), arr.transpose(perm)
    if layout == "strided":
        big = tuple(s * 2 for s in shape)
        arr = random_array(big, dtype, rng, low, high)
        sl = tuple(slice(None, None, 2) for _ in shape)
        return ft.tensor(arr, dtype=dtype)[sl], arr[sl]
    if layout == "broadcast":
        small = (1,) + shape[1:]
        arr = random_array(small, dtype, rng, low, high)
        return ft.tensor(arr, dtype=dtype).expand(*shape), np.broadcast_to(arr, shape)
    raise ValueError(layout)


LAYOUTS = ["contiguous", "transposed", "strided", "broadcast"]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def float32_convolutions_in_full_precision(request):
    """`cuda` tests compare with the CPU at float32 tolerances, which needs full float32
    products: as PyTorch's own tests do (``tf32_off``), their convolutions run without TF32
    unless a test turns ``backends.cudnn.allow_tf32`` back on."""
    if request.node.get_closest_marker("cuda") is None:
        yield
        return
    previous = ft.backends.cudnn.allow_tf32
    ft.backends.cudnn.allow_tf32 = False
    yield
    ft.backends.cudnn.allow_tf32 = previous


@pytest.fixture(autouse=True)
def a_stuck_or_lost_gpu_ends_the_worker(request):
    """Under pytest-xdist, `cuda` tests that would take the worker down with them end it
    instead, and xdist starts a fresh one. A test still running after FERROTORCH_TEST_WATCHDOG
    seconds (a kernel that never ends: the wait holds the GIL, so no Python-level timeout can
    act) is ended by faulthandler's watchdog thread, which needs no GIL, with the stacks
    printed. A sticky CUDA error (an illegal address) leaves the context unusable for every
    later test: two failed waits in a row after a test end the worker (one failed wait can be
    the test's own pending error, which the wait clears)."""
    watched = request.node.get_closest_marker("cuda") is not None and "PYTEST_XDIST_WORKER" in os.environ
    limit = float(os.environ.get("FERROTORCH_TEST_WATCHDOG", "0") or 0)
    if watched and limit > 0:
        faulthandler.dump_traceback_later(limit, exit=True)
    yield
    if not watched:
        return
    faulthandler.cancel_dump_traceback_later()
    for _ in range(2):
        try:
            ft.cuda.synchronize()
            return
        except Exception:  # noqa: BLE001 - an index fault surfaces as IndexError, others as RuntimeError
            continue
    os._exit(3)


def leaf(shape, rng, layout="contiguous", low=-2.0, high=2.0, dtype=None):
    """A float64 leaf tensor that requires grad, laid out as ``make`` describes (not
    'broadcast': finite differences need each element in its own memory)."""
    with ft.no_grad():
        t, _ = make(shape, dtype or ft.float64, rng, layout, low, high)
    return t.requires_grad_()


def pytest_collection_modifyitems(config, items):
    """Tests marked `cuda` need a usable GPU: skipped elsewhere."""
    if not ft.cuda.is_available():
        for item in items:
            if item.get_closest_marker("cuda"):
                item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU"))
