"""The CUDA kernel modules, run on the host by the kernel emulator (kernel_emulator.h/.py: the
real sources NVRTC compiles, with threads, barriers, warp shuffles and shared memory modelled),
against the CPU ops (themselves tested against NumPy) and NumPy references. This checks what
CI can check without a GPU: each kernel's indexing, strides, packs, reductions across warps and
blocks, dtype conversions and formulas, under several launch shapes. Device maths (libdevice
against the host's libm) and the Rust side's launches are the GPU tests' part."""

import ctypes
import math

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import _C

import kernel_emulator as emu
from conftest import to_numpy
from philox_reference import bernoulli, poisson, randint_small, uniform_f64

pytestmark = pytest.mark.skipif(emu.compiler() is None, reason="no host C++ compiler")

MODULES = _C._cuda_kernel_modules()
# Launch shapes (grid, block): one block, several, and more threads than elements.
LAUNCHES = [(1, 32), (3, 64), (16, 256)]

SUFFIX = {
    ft.bool: "bool", ft.uint8: "u8", ft.int8: "i8", ft.int16: "i16", ft.int32: "i32", ft.int64: "i64",
    ft.float16: "f16", ft.bfloat16: "bf16", ft.float32: "f32", ft.float64: "f64",
}
DTYPE = {s: d for d, s in SUFFIX.items()}
# How kernels store each dtype: bfloat16 as its 16 bits.
STORAGE = {
    ft.bool: np.bool_, ft.uint8: np.uint8, ft.int8: np.int8, ft.int16: np.int16, ft.int32: np.int32,
    ft.int64: np.int64, ft.float16: np.float16, ft.bfloat16: np.uint16, ft.float32: np.float32, ft.float64: np.float64,
}
FLOATS = (ft.float16, ft.bfloat16, ft.float32, ft.float64)
# Relative tolerance of an element computed in the kernel's compute type and stored: two ulps of
# the storage type (host libm and the CPU's vectorized maths may differ in the last bit).
RTOL = {ft.float16: 2 * 2.0**-10, ft.bfloat16: 2 * 2.0**-7, ft.float32: 4e-7 * 4, ft.float64: 1e-14}


@pytest.fixture(scope="module", autouse=True)
def built():
    """Compiles every module with the emulator, in two compiler runs side by side."""
    emu.load(MODULES)


def bf16_bits(values):
    """bfloat16 bits of float32 values, rounded to nearest even (NaN stays NaN)."""
    u = np.asarray(values, np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(values), ((u >> 16) | 0x40).astype(np.uint16), rounded)


def storage(t):
    """A tensor's elements as the kernels store them."""
    if t.dtype == ft.bfloat16:
        return bf16_bits(to_numpy(t))
    return to_numpy(t).astype(STORAGE[t.dtype])


def tensor(stored, dtype):
    """The tensor of stored elements."""
    if dtype == ft.bfloat16:
        return ft.tensor((stored.astype(np.uint32) << 16).view(np.float32)).to(ft.bfloat16)
    return ft.tensor(stored, dtype=dtype)


def values(dtype, n, rng, low=-4.0, high=4.0, special=True):
    """n stored elements of dtype: random values, with zeros, infinities and NaN for floats."""
    if dtype == ft.bool:
        return rng.random(n) > 0.5
    if dtype not in FLOATS:
        lo = 0 if dtype == ft.uint8 else int(low) * 10
        return rng.integers(lo, int(high) * 10, size=n).astype(STORAGE[dtype])
    x = rng.uniform(low, high, n)
    if special:
        x[: 8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 0.5, 1.0, -1.0][: min(8, n)]
    return storage(ft.tensor(x).to(dtype))


def assert_stored_equal(got, want, dtype, rtol=None, atol=1e-300):
    """Stored results against stored references: exact for integers and bool, else to rtol."""
    if dtype not in FLOATS:
        np.testing.assert_array_equal(got, want)
        return
    g, w = (to_numpy(tensor(a, dtype)).astype(np.float64) for a in (got, want))
    np.testing.assert_allclose(g, w, rtol=RTOL[dtype] if rtol is None else rtol, atol=atol, equal_nan=True)


def cpu_reference(op, *args):
    """The CPU op's result, or None where the CPU op refuses the dtype (its CUDA dispatch raises
    the same error before any launch, so that kernel is unreachable)."""
    try:
        return getattr(ft, op)(*args)
    except RuntimeError:
        return None


def dense(n):
    """Shape and strides of a dense 1-D iteration (the `contiguous` flag makes them unused)."""
    return emu.shape_of([n])


# --- element-wise: every unary and binary op, every dtype it has a kernel for -------------------

UNARY = [m for m in MODULES if m.startswith("unary_")]
BINARY = [m for m in MODULES if m.startswith("binary_")]


@pytest.mark.parametrize("module", UNARY)
def test_every_unary_kernel_matches_the_cpu_op(module, rng):
    mod, op = emu.Module.get(module), module[len("unary_"):]
    for kernel in mod.kernels:
        dtype = DTYPE[kernel.rsplit("_", 1)[1]]
        low, high = (-0.99, 0.99) if op in ("erfinv", "atanh") else (-4.0, 4.0)
        rows, cols = 7, 11
        x = values(dtype, rows * cols + 1, rng, low, high)
        want_all = cpu_reference(op, tensor(x, dtype))
        if want_all is None:
            continue
        want_all = storage(want_all)
        # Absolute slack of the same size as the relative one, for results that cancel to near
        # zero (lgamma near 1 and 2, sin near pi): there host libm and the CPU's maths part.
        check = lambda got, want: assert_stored_equal(got, want, dtype, atol=RTOL.get(dtype, 0))  # noqa: E731
        for grid, block in LAUNCHES:
            # Dense and aligned (packs), dense one element off alignment (scalar loop), and a
            # transposed input read through strides.
            out = np.zeros_like(x)
            n = x.size - 1
            mod.launch(kernel, grid, block, emu.i64(n), dense(n), emu.strides_of([[1], [1]]), emu.i32(1), out, x)
            check(out[:n], want_all[:n])
            out = np.zeros_like(x)
            mod.launch(kernel, grid, block, emu.i64(n), dense(n), emu.strides_of([[1], [1]]), emu.i32(1), out[1:], x[1:])
            check(out[1:], want_all[1:])
            src = x[:-1].reshape(cols, rows)  # read as its transpose (rows, cols)
            out = np.zeros(rows * cols, x.dtype)
            mod.launch(kernel, grid, block, emu.i64(n), emu.shape_of([rows, cols]), emu.strides_of([[cols, 1], [1, rows]]),
                       emu.i32(0), out, src)
            check(out.reshape(rows, cols), storage(getattr(ft, op)(tensor(src.T.copy(), dtype))))


# Binary ops whose integer kernels need a restricted right-hand side (the CPU raises or the
# result is undefined outside it).
NONZERO_RHS = {"div", "floor_divide", "remainder", "fmod"}
SMALL_RHS = {"pow", "bitwise_left_shift", "bitwise_right_shift"}


def rhs_values(op, dtype, n, rng):
    b = values(dtype, n, rng)
    if dtype in FLOATS or dtype == ft.bool:
        return b
    if op in SMALL_RHS:
        return rng.integers(0, 5, size=n).astype(b.dtype)
    if op in NONZERO_RHS:
        b[b == 0] = 3
    return b


@pytest.mark.parametrize("module", BINARY)
def test_every_binary_kernel_matches_the_cpu_op(module, rng):
    mod, op = emu.Module.get(module), module[len("binary_"):]
    for kernel in mod.kernels:
        dtype = DTYPE[kernel.rsplit("_", 1)[1]]
        rows, cols = 5, 9
        a = values(dtype, rows * cols + 1, rng)
        b = rhs_values(op, dtype, rows * cols + 1, rng)
        want_all = cpu_reference(op, tensor(a, dtype), tensor(b, dtype))
        if want_all is None:
            continue
        out_dtype = want_all.dtype
        want_all = storage(want_all)
        n = rows * cols
        # Broadcast: a column (rows, 1) against a row (1, cols).
        col, row = a[:rows], b[:cols]
        want_bcast = storage(getattr(ft, op)(tensor(col, dtype).reshape(rows, 1), tensor(row, dtype).reshape(1, cols)))
        for grid, block in LAUNCHES:
            out = np.zeros(n + 1, STORAGE[out_dtype])
            strides = emu.strides_of([[1], [1], [1]])
            mod.launch(kernel, grid, block, emu.i64(n), dense(n), strides, emu.i32(1), out, a, b)
            assert_stored_equal(out[:n], want_all[:n], out_dtype)
            out = np.zeros(n + 1, STORAGE[out_dtype])
            mod.launch(kernel, grid, block, emu.i64(n), dense(n), strides, emu.i32(1), out[1:], a[1:], b[1:])
            assert_stored_equal(out[1:], want_all[1:], out_dtype)
            for narrow in (True, False):  # 32-bit and 64-bit index arithmetic
                out = np.zeros(n, STORAGE[out_dtype])
                mod.launch(kernel, grid, block, emu.i64(n), emu.shape_of([rows, cols], narrow), emu.strides_of([[cols, 1], [1, 0], [0, 1]]),
                           emu.i32(0), out, col, row)
                assert_stored_equal(out.reshape(rows, cols), want_bcast, out_dtype)


@pytest.mark.parametrize("source", list(SUFFIX))
def test_copy_kernels_convert_like_the_cpu(source, rng):
    mod = emu.Module.get(f"copy_{SUFFIX[source]}")
    x = values(source, 64, rng, -300.0, 300.0)
    if source in FLOATS:
        x[8:12] = storage(ft.tensor([1e30, -1e30, 2.5, -2.5]).to(source))  # beyond every integer; round toward zero
    for target in SUFFIX:
        want = storage(tensor(x, source).to(target))
        for grid, block in LAUNCHES[:2]:
            out = np.zeros(x.size, STORAGE[target])
            mod.launch(f"copy_{SUFFIX[source]}_{SUFFIX[target]}", grid, block, emu.i64(x.size), dense(x.size),
                       emu.strides_of([[1], [1]]), emu.i32(1), out, x)
            if target in FLOATS:
                np.testing.assert_array_equal(out.view(np.uint8), want.view(np.uint8))  # conversions are exact per bit
            else:
                np.testing.assert_array_equal(out, want)


ACTIVATIONS = [m[len("act_"):] for m in MODULES if m.startswith("act_")]
# A value for every activation parameter (by its name in the table and in `_C._<name>`).
ACT_PARAMS = {"min_val": -1.0, "max_val": 1.5, "threshold": 0.3, "value": -2.0, "negative_slope": 0.1, "alpha": 1.3,
              "scale": 1.05, "input_scale": 0.9, "beta": 1.5, "lambd": 0.5}


class ActParams(ctypes.Structure):
    _fields_ = [("v", ctypes.c_double * 4)]


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("suffix", ["f32", "f64"])
def test_activation_kernels_match_the_cpu_table(name, suffix, rng):
    mod, dtype = emu.Module.get(f"act_{name}"), DTYPE[suffix]
    cpu = getattr(_C, f"_{name}")
    names = [p.strip() for p in cpu.__text_signature__.strip("()").split(",")[1:]]
    params = [ACT_PARAMS[p] for p in names]
    x = values(dtype, 203, rng, -6.0, 6.0)
    x[8:12] = [1.5, -1.0, 0.3, -3.0][: 4]  # on the kinks: bounds, threshold, hardsigmoid's edge
    g = rng.normal(size=x.size).astype(x.dtype)
    xt = ft.tensor(x).requires_grad_()
    y = cpu(xt, *params)
    (want_dx,) = ft.autograd.grad(y, xt, ft.tensor(g))
    saved = y.detach().numpy() if name == "relu" else x  # relu's node keeps its output, the rest their input
    p = ActParams()
    p.v[: len(params)] = params
    tol = dict(rtol=1e-5, atol=1e-6) if suffix == "f32" else dict(rtol=1e-12, atol=1e-14)
    for grid, block in LAUNCHES[:2]:
        out = np.zeros_like(x)
        mod.launch(f"act_{name}_fwd_{suffix}", grid, block, emu.i64(x.size), dense(x.size), emu.strides_of([[1], [1]]), emu.i32(1),
                   out, x, p)
        np.testing.assert_allclose(out, y.detach().numpy(), equal_nan=True, **tol)
        dx = np.zeros_like(x)
        mod.launch(f"act_{name}_bwd_{suffix}", grid, block, emu.i64(x.size), dense(x.size), emu.strides_of([[1], [1], [1]]),
                   emu.i32(1), dx, g, saved, p)
        np.testing.assert_allclose(dx, want_dx.numpy(), equal_nan=True, **tol)


SCATTER = {
    "add": (np.add, np.logical_or), "mul": (np.multiply, np.logical_and),
    "max": (np.maximum, np.logical_or), "min": (np.minimum, np.logical_and),
}


@pytest.mark.parametrize("how", ["assign"] + list(SCATTER))
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.float16, ft.bfloat16, ft.int64, ft.int32, ft.int16, ft.uint8, ft.bool])
def test_scatter_combines_duplicates_in_place_of_neighbours(how, dtype, rng):
    """Sub-word elements (1 and 2 bytes) update through a compare-and-swap of their 32-bit word:
    each update must leave the word's other elements alone."""
    mod = emu.Module.get("scatter")
    dst = values(dtype, 40, rng, -3.0, 3.0, special=False)
    src = values(dtype, 64, rng, -3.0, 3.0, special=False)
    if dtype in FLOATS and how in ("max", "min"):
        src[7] = storage(ft.tensor([float("nan")]).to(dtype))[0]  # NaN wins max and min
    if how == "assign":
        dst_at = rng.permutation(40)[:30].astype(np.int64)  # distinct: duplicates would race
    else:
        dst_at = rng.integers(0, 20, 64).astype(np.int64)  # duplicates; elements 20.. untouched
    src_at = rng.integers(0, 64, dst_at.size).astype(np.int64)
    values_of = lambda a: to_numpy(tensor(a, dtype)).astype(np.float64 if dtype in FLOATS else a.dtype)  # noqa: E731
    want = values_of(dst)
    for d, k in zip(dst_at, src_at):
        if how == "assign":
            want[d] = values_of(src)[k]
        else:
            combine = SCATTER[how][1 if dtype == ft.bool else 0]
            want[d] = combine(want[d], values_of(src)[k])
            if dtype in FLOATS:  # rounded to the storage type after every update, as the kernel does
                want[d] = to_numpy(ft.tensor([want[d]], dtype=ft.float64).to(dtype)).astype(np.float64)[0]
    for grid, block in LAUNCHES[:2]:
        out = dst.copy()
        mod.launch(f"scatter_{how}_{SUFFIX[dtype]}", grid, block, emu.i64(dst_at.size), out, src, dst_at, src_at)
        got = values_of(out)
        if dtype in FLOATS and how in ("add", "mul"):
            # Duplicates accumulate in another order than the reference's.
            np.testing.assert_allclose(got, want, rtol=RTOL[dtype] * 8, atol=RTOL[dtype] * 8)
        else:
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(out[20:] if how != "assign" else out[np.setdiff1d(np.arange(40), dst_at)],
                                      dst[20:] if how != "assign" else dst[np.setdiff1d(np.arange(40), dst_at)])


NO_FAULT = (emu.i64(2**63 - 1), emu.i64(1), emu.i64(0), emu.i64(0))  # a host table of deltas


def index_rule(size, stride, wrap, code):
    """The kernels' index rule arguments: values in [0, size) (from the end too when wrap)."""
    return emu.i64(size), emu.i64(stride), emu.i64(int(wrap)), emu.i64(code)


@pytest.mark.parametrize("dtype", [ft.float32, ft.int8, ft.bfloat16])
def test_gather_reads_through_a_host_table_of_deltas(dtype, rng):
    """out[i, j] = src[i, idx[i, j]] as advanced indexing lowers it: src strides zero along the
    indexed dim, the table holding each element's storage delta, which never faults."""
    mod = emu.Module.get("gather")
    rows, cols, k = 4, 9, 6
    src = values(dtype, rows * cols, rng)
    idx = rng.integers(0, cols, (rows, k))
    table = idx.astype(np.int64).reshape(-1)  # delta of element (i, j) along the row
    out, faults = np.zeros(rows * k, src.dtype), np.zeros(4, np.int64)
    strides = emu.strides_of([[k, 1], [cols, 0], [k, 1]])
    mod.launch(f"gather_{SUFFIX[dtype]}", 2, 32, emu.i64(rows * k), emu.shape_of([rows, k]), strides, out, src, table,
               *NO_FAULT, faults)
    np.testing.assert_array_equal(out.reshape(rows, k), np.take_along_axis(src.reshape(rows, cols), idx, 1))
    np.testing.assert_array_equal(faults, 0)


@pytest.mark.parametrize("dtype", [ft.float64, ft.int16, ft.float16])
@pytest.mark.parametrize("wrap", [False, True])
def test_gather_checks_index_values_on_the_device(dtype, wrap, rng):
    """gather(1, idx) of a column-major source through the index values themselves: each value
    times the dim's stride (negative ones from the end when wrap); a value out of range reads
    zero and leaves the first fault's code, value and size in the fault word (and its claim)."""
    mod = emu.Module.get("gather")
    rows, cols, k = 5, 7, 4
    src = values(dtype, rows * cols, rng)  # stored column-major: element (i, j) at j * rows + i
    low = -cols if wrap else 0
    idx = rng.integers(low, cols, (rows, k)).astype(np.int64)
    for grid, block in LAUNCHES:
        out, faults = np.zeros(rows * k, src.dtype), np.zeros(4, np.int64)
        strides = emu.strides_of([[k, 1], [1, 0], [k, 1]])
        mod.launch(f"gather_{SUFFIX[dtype]}", grid, block, emu.i64(rows * k), emu.shape_of([rows, k]), strides, out, src,
                   idx.reshape(-1), *index_rule(cols, rows, wrap, 0x301), faults)
        want = np.take_along_axis(src.reshape(cols, rows).T, idx % cols, 1)
        np.testing.assert_array_equal(out.reshape(rows, k), want)
        np.testing.assert_array_equal(faults, 0)
    bad = idx.copy()
    bad[1, 2], bad[3, 0] = cols, -cols - 1  # out of range either way
    out, faults = np.full(rows * k, 1, src.dtype), np.zeros(4, np.int64)
    mod.launch(f"gather_{SUFFIX[dtype]}", 1, 32, emu.i64(rows * k), emu.shape_of([rows, k]), emu.strides_of([[k, 1], [1, 0], [k, 1]]),
               out, src, bad.reshape(-1), *index_rule(cols, rows, wrap, 0x301), faults)
    assert faults[0] == 0x301 and faults[1] in (cols, -cols - 1) and faults[2] == cols and faults[3] == 1
    got = out.reshape(rows, k)
    assert not got[1, 2] and not got[3, 0]  # skipped elements read zero
    keep = np.ones((rows, k), bool)
    keep[1, 2] = keep[3, 0] = False
    np.testing.assert_array_equal(got[keep], np.take_along_axis(src.reshape(cols, rows).T, bad % cols, 1)[keep])


@pytest.mark.parametrize("wrap", [False, True])
def test_index_check_reports_the_first_value_out_of_range(wrap, rng):
    """The many-index forms check each index alone: in-range values (negative ones too when
    wrap) leave the word clean; one out of range is reported with its code and size."""
    mod = emu.Module.get("index")
    size = 7
    good = rng.integers(-size if wrap else 0, size, 300).astype(np.int64)
    for grid, block in LAUNCHES:
        faults = np.zeros(4, np.int64)
        mod.launch("index_check", grid, block, emu.i64(good.size), good, *index_rule(size, 3, wrap, 0x204), faults)
        np.testing.assert_array_equal(faults, 0)
    bad = good.copy()
    bad[123] = -size - 1 if wrap else -1
    faults = np.zeros(4, np.int64)
    mod.launch("index_check", 3, 64, emu.i64(bad.size), bad, *index_rule(size, 3, wrap, 0x204), faults)
    np.testing.assert_array_equal(faults, [0x204, bad[123], size, 1])


@pytest.mark.parametrize("how", ["assign"] + list(SCATTER))
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.bfloat16, ft.int64, ft.int32, ft.uint8, ft.bool])
def test_scatter_index_writes_along_one_dim(how, dtype, rng):
    """dst.scatter_(0, idx, src) with dst (6, 5) strided and src (4, 5): every element's row comes
    from the index values on the device; duplicates combine (assign uses distinct rows per
    column); one faulting value writes nothing and is reported."""
    mod = emu.Module.get("scatter_index")
    rows, cols, k = 6, 5, 4
    dst = values(dtype, rows * cols * 2, rng, -3.0, 3.0, special=False)  # every other element used
    src = values(dtype, k * cols, rng, -3.0, 3.0, special=False)
    if how == "assign":
        idx = np.stack([rng.permutation(rows)[:k] for _ in range(cols)], 1).astype(np.int64)
    else:
        idx = rng.integers(0, 3, (k, cols)).astype(np.int64)
    idx[2, 3] = rows + 4  # the fault
    values_of = lambda a: to_numpy(tensor(a, dtype)).astype(np.float64 if dtype in FLOATS else a.dtype)  # noqa: E731
    want = values_of(dst)
    for i in range(k):
        for j in range(cols):
            if (i, j) == (2, 3):
                continue
            at = 2 * (idx[i, j] * cols + j)
            s = values_of(src)[i * cols + j]
            if how == "assign":
                want[at] = s
            else:
                want[at] = SCATTER[how][1 if dtype == ft.bool else 0](want[at], s)
                if dtype in FLOATS:
                    want[at] = to_numpy(ft.tensor([want[at]], dtype=ft.float64).to(dtype)).astype(np.float64)[0]
    for grid, block in LAUNCHES[:2]:
        out, faults = dst.copy(), np.zeros(4, np.int64)
        strides = emu.strides_of([[0, 2], [cols, 1], [cols, 1]])
        mod.launch(f"scatter_index_{how}_{SUFFIX[dtype]}", grid, block, emu.i64(k * cols), emu.shape_of([k, cols]), strides,
                   out, src, idx.reshape(-1), *index_rule(rows, 2 * cols, False, 0x101), faults)
        np.testing.assert_array_equal(faults, [0x101, rows + 4, rows, 1])  # code, value, size, claim
        got = values_of(out)
        if dtype in FLOATS and how in ("add", "mul"):
            np.testing.assert_allclose(got, want, rtol=RTOL[dtype] * 8, atol=RTOL[dtype] * 8)
        else:
            np.testing.assert_array_equal(got, want)


class ConvWindow(ctypes.Structure):
    """conv.cu's ConvWindow: three dims, the leading ones padded with size 1."""
    _fields_ = [(f, ctypes.c_int64 * 3) for f in ("image", "blocks", "kernel", "stride", "padding", "dilation")]


@pytest.mark.parametrize("suffix", ["f32", "f64"])
@pytest.mark.parametrize("kernel,stride,padding,dilation", [((3, 3), (1, 1), (1, 1), (1, 1)), ((2, 3), (2, 1), (0, 2), (2, 1))])
def test_im2col_and_col2im_are_unfold_and_fold(suffix, kernel, stride, padding, dilation, rng):
    mod, dtype = emu.Module.get("conv"), STORAGE[DTYPE[suffix]]
    n, c, image = 2, 3, (7, 6)
    x = rng.normal(size=(n, c) + image).astype(dtype)
    blocks = [(image[d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1 for d in range(2)]
    w = ConvWindow()
    for field, v in (("image", image), ("blocks", blocks), ("kernel", kernel), ("stride", stride), ("padding", padding),
                     ("dilation", dilation)):
        getattr(w, field)[:] = [0 if field == "padding" else 1] + list(v)
    F = ft.nn.functional
    args = dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)
    want = F.unfold(ft.tensor(x), **args).numpy()
    grads = rng.normal(size=want.shape).astype(dtype)
    folded = F.fold(ft.tensor(grads), output_size=image, **args).numpy()
    for grid, block in [(3, 64), ((2, 5), 32)]:  # one block row, and rows strided over y
        cols = np.zeros(want.shape, dtype)
        mod.launch(f"conv_im2col_{suffix}", grid, block, emu.i64(n * c), x, cols, w)
        np.testing.assert_array_equal(cols, want)  # a copy, zeros in the padding
        back = np.zeros_like(x)
        mod.launch(f"conv_col2im_{suffix}", grid, block, emu.i64(n * c), grads, back, w)
        np.testing.assert_allclose(back, folded, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.float16, ft.bfloat16, ft.int64, ft.int16, ft.uint8, ft.bool])
@pytest.mark.parametrize("n", [1, 5, 100, 2048])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_rows_is_the_cpu_stable_sort(dtype, n, descending, rng):
    """Whole sorts, topk's first k and kthvalue's one element, with ties, NaN and signed zeros."""
    mod = emu.Module.get("sort")
    rows = 3
    x = values(dtype, rows * n, rng, -2.0, 2.0)  # few distinct integers: many ties
    if dtype in FLOATS and n >= 5:
        x[n + 1] = x[n + 3] = storage(ft.tensor([float("nan")]).to(dtype))[0]
        x[2 * n] = storage(ft.tensor([-0.0]).to(dtype))[0]
        x[2 * n + 1] = storage(ft.tensor([0.0]).to(dtype))[0]
    t = tensor(x, dtype).reshape(rows, n)
    sorted_v, sorted_i = ft.sort(t, 1, descending=descending, stable=True)
    k = max(1, n // 3)
    picks = [(0, n, sorted_v, sorted_i), (0, k, *ft.topk(t, k, 1, largest=descending)) if dtype != ft.bool else (0, k, sorted_v[:, :k], sorted_i[:, :k]),
             (k - 1, 1, sorted_v[:, k - 1:k], sorted_i[:, k - 1:k])]
    for first, count, want_v, want_i in picks:
        for grid, block in [(1, 32), (2, 256)]:
            v, i = np.zeros(rows * count, x.dtype), np.zeros(rows * count, np.int64)
            mod.launch(f"sort_rows_{SUFFIX[dtype]}", grid, block, emu.i64(rows), emu.i64(n), x, v, i, emu.i32(int(descending)),
                       emu.i64(first), emu.i64(count))
            np.testing.assert_array_equal(i.reshape(rows, count), to_numpy(want_i))
            np.testing.assert_array_equal(v.reshape(rows, count).view(np.uint8), storage(want_v).view(np.uint8))


@pytest.mark.parametrize("dtype", list(SUFFIX))
@pytest.mark.parametrize("right", [0, 1])
def test_searchsorted_in_one_row_per_run_and_through_a_sorter(dtype, right, rng):
    mod = emu.Module.get("search")
    rows, n, per = 3, 9, 7
    bounds = np.sort(values(dtype, rows * n, rng, special=False).reshape(rows, n), axis=1)
    if dtype in FLOATS:
        bounds = storage(ft.sort(tensor(bounds.reshape(-1), dtype).reshape(rows, n), 1)[0]).reshape(rows, n)
    needles = values(dtype, rows * per, rng)  # NaN and infinities among the floats
    b_t, v_t = tensor(bounds.reshape(-1), dtype).reshape(rows, n), tensor(needles, dtype).reshape(rows, per)
    shuffled = np.stack([rng.permutation(n) for _ in range(rows)])
    sorter = np.argsort(shuffled, axis=1, kind="stable").astype(np.int64)
    scrambled = np.take_along_axis(bounds, shuffled, 1)
    for b, row_len, v, want_args in [
        (bounds[0].copy(), 0, needles, (b_t[0], v_t.reshape(-1))),
        (bounds.reshape(-1).copy(), per, needles, (b_t, v_t)),
    ]:
        want = to_numpy(ft.searchsorted(*want_args, right=bool(right))).reshape(-1)
        out = np.zeros(needles.size, np.int64)
        mod.launch(f"search_{SUFFIX[dtype]}", 2, 32, emu.i64(needles.size), emu.i64(n), emu.i64(row_len), b, v, None, out, emu.i32(right))
        np.testing.assert_array_equal(out, want)
    # Through a sorter: the same positions from scrambled boundaries.
    want = to_numpy(ft.searchsorted(b_t, v_t, right=bool(right))).reshape(-1)
    out = np.zeros(needles.size, np.int64)
    mod.launch(f"search_{SUFFIX[dtype]}", 1, 64, emu.i64(needles.size), emu.i64(n), emu.i64(per), scrambled.reshape(-1).copy(), needles,
               sorter.reshape(-1).copy(), out, emu.i32(right))
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("dtype", [ft.float32, ft.bfloat16, ft.int8, ft.bool, ft.int64])
def test_fill_and_where_dense_and_strided(dtype, rng):
    fill, where = emu.Module.get("fill"), emu.Module.get("where")
    rows, cols = 6, 10
    value = values(dtype, 1, rng, special=False)
    # The fill value by value, as the kernel declares it (a 2-byte float as its bits).
    c_value = ctypes.c_uint16(int(value.view(np.uint16)[0])) if value.itemsize == 2 and dtype in FLOATS else \
        np.ctypeslib.as_ctypes_type(value.dtype)(value[0])
    for grid, block in LAUNCHES[:2]:
        out = np.zeros((rows, cols), value.dtype)
        # Every other column: strides (cols, 2) over (rows, cols // 2).
        fill.launch(f"fill_{SUFFIX[dtype]}", grid, block, emu.i64(rows * cols // 2), emu.shape_of([rows, cols // 2]),
                    emu.strides_of([[cols, 2]]), emu.i32(0), out, c_value)
        want = np.zeros((rows, cols), value.dtype)
        want[:, ::2] = value[0]
        np.testing.assert_array_equal(out, want)
        cond = rng.random((rows, 1)) > 0.5  # broadcast along columns
        a, b = values(dtype, cols, rng), values(dtype, rows * cols, rng).reshape(rows, cols)
        out = np.zeros((rows, cols), value.dtype)
        where.launch(f"where_{SUFFIX[dtype]}", grid, block, emu.i64(rows * cols), emu.shape_of([rows, cols]),
                     emu.strides_of([[cols, 1], [1, 0], [0, 1], [cols, 1]]), emu.i32(0), out, cond, a, b)
        np.testing.assert_array_equal(out.view(np.uint8), np.where(cond, a[None, :], b).view(np.uint8))


class PoolGeometry(ctypes.Structure):
    """pool.cu's PoolGeometry: per dim sizes, steps and where each table starts."""
    _fields_ = [(f, ctypes.c_int64 * 3) for f in ("out", "input", "step", "first", "end", "inv_start", "inv_list")]


def pool_tables(sizes, kernel, stride, padding, dilation):
    """The geometry and int64 table cuda/pool.rs builds for a 2-D pooling: per dim the windows'
    first and end positions (a leading unit dim), then the CSR inverse (the outputs reading each
    input position). Also each output's count of valid positions."""
    axes = [([0], [1], 1, 1, 1)]  # (first, end, step, out, input) of the unit dim
    for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        out = (n + 2 * p - d * (k - 1) - 1) // s + 1
        valid = [[q for q in (o * s - p + j * d for j in range(k)) if 0 <= q < n] for o in range(out)]
        axes.append(([v[0] for v in valid], [v[-1] + 1 for v in valid], d, out, n))
    g, table = PoolGeometry(), []
    for dim, (first, end, step, out, n) in enumerate(axes):
        g.out[dim], g.input[dim], g.step[dim] = out, n, step
        g.first[dim] = len(table)
        table += first
        g.end[dim] = len(table)
        table += end
        readers = [[o for o in range(out) if at in range(first[o], end[o], step)] for at in range(n)]
        g.inv_start[dim] = len(table)
        table += list(np.cumsum([0] + [len(r) for r in readers]))
        g.inv_list[dim] = len(table)
        table += [o for r in readers for o in r]
    counts = np.outer(*[[len(range(f, e, st)) for f, e in zip(first, end)] for first, end, st, _, _ in axes[1:]])
    return g, np.array(table, np.int64), counts.reshape(-1).astype(np.float64)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.bfloat16, ft.int16, ft.uint8])
def test_max_pool_windows_with_padding_and_dilation(dtype, rng):
    mod = emu.Module.get("pool")
    n, c, size = 2, 3, (7, 6)
    x = values(dtype, n * c * 42, rng, -5.0, 5.0, special=False)
    if dtype in FLOATS:
        x[10] = storage(ft.tensor([float("nan")]).to(dtype))[0]  # NaN wins its windows
    for kernel, stride, padding, dilation in [((3, 3), (2, 2), (1, 1), (1, 1)), ((2, 3), (1, 2), (0, 1), (2, 1))]:
        g, table, _ = pool_tables(size, kernel, stride, padding, dilation)
        out = g.out[1] * g.out[2]
        v, i = np.zeros(n * c * out, x.dtype), np.zeros(n * c * out, np.int64)
        mod.launch(f"pool_max_{SUFFIX[dtype]}", 2, 64, emu.i64(n * c), x, v, i, table, g)
        t = tensor(x, dtype).reshape(n, c, *size)
        if dtype in FLOATS:
            want_v, want_i = ft.nn.functional.max_pool2d(t, kernel, stride, padding, dilation, return_indices=True)
            np.testing.assert_array_equal(i, to_numpy(want_i).reshape(-1))
            assert_stored_equal(v, storage(want_v).reshape(-1), dtype)
        else:  # integer max pooling: NumPy over the same windows
            xs = to_numpy(t).reshape(n * c, -1)
            for q in range(out):
                o1, o2 = divmod(q, g.out[2])
                rows = range(table[g.first[1] + o1], table[g.end[1] + o1], g.step[1])
                cols = range(table[g.first[2] + o2], table[g.end[2] + o2], g.step[2])
                at = [a * size[1] + b for a in rows for b in cols]
                np.testing.assert_array_equal(v.reshape(n * c, out)[:, q], xs[:, at].max(1))


@pytest.mark.parametrize("suffix", ["f32", "f64", "bf16"])
def test_mean_pool_and_its_adjoint_are_avg_pool_and_its_gradient(suffix, rng):
    mod, dtype = emu.Module.get("pool"), DTYPE[suffix]
    n, c, size, kernel, stride, padding = 2, 2, (6, 7), (3, 2), (2, 2), (1, 1)
    g, table, counts = pool_tables(size, kernel, stride, padding, (1, 1))
    x = values(dtype, n * c * 42, rng, special=False)
    t = tensor(x, dtype).reshape(n, c, *size).double().requires_grad_()
    want = ft.nn.functional.avg_pool2d(t, kernel, stride, padding, count_include_pad=False)
    out = np.zeros(want.numel(), x.dtype)
    mod.launch(f"pool_mean_{suffix}", 3, 32, emu.i64(n * c), x, out, table, counts, g)
    assert_stored_equal(out, storage(want.detach().to(dtype)).reshape(-1), dtype)
    grads = values(dtype, want.numel(), rng, special=False)
    (want_dx,) = ft.autograd.grad(want, t, tensor(grads, dtype).double().reshape(want.shape))
    dx = np.zeros_like(x)
    mod.launch(f"pool_mean_adjoint_{suffix}", 3, 32, emu.i64(n * c), grads, dx, table, counts, g)
    assert_stored_equal(dx, storage(want_dx.to(dtype)).reshape(-1), dtype)


def device_sort(mod, x, rows, n, dtype, descending):
    """Rows longer than 2048 as cuda/sort.rs sorts them: sorted runs of 2048, then merge passes
    of doubling width; returns the sorted values and positions."""
    sfx, width = SUFFIX[dtype], 2048
    v, p = np.zeros_like(x), np.zeros(x.size, np.int64)
    mod.launch(f"sort_runs_{sfx}", 3, 128, emu.i64(rows), emu.i64(n), x, v, p, emu.i32(int(descending)))
    while width < n:
        v2, p2 = np.zeros_like(v), np.zeros_like(p)
        mod.launch(f"sort_merge_{sfx}", 8, 128, emu.i64(rows), emu.i64(n), emu.i64(width), v, p, v2, p2, emu.i32(int(descending)))
        v, p, width = v2, p2, 2 * width
    return v, p


@pytest.mark.parametrize("dtype", [ft.float32, ft.float16, ft.int64, ft.bool])
@pytest.mark.parametrize("n", [2049, 5000, 8192])
@pytest.mark.parametrize("descending", [False, True])
def test_long_rows_sort_in_runs_and_merges(dtype, n, descending, rng):
    mod = emu.Module.get("sort")
    rows = 2
    x = values(dtype, rows * n, rng, -3.0, 3.0)  # NaN, signed zeros and many ties
    want_v, want_i = ft.sort(tensor(x, dtype).reshape(rows, n), 1, descending=descending, stable=True)
    v, p = device_sort(mod, x, rows, n, dtype, descending)
    np.testing.assert_array_equal(p.reshape(rows, n), to_numpy(want_i))
    np.testing.assert_array_equal(v.reshape(rows, n).view(np.uint8), storage(want_v).view(np.uint8))


# --- reductions, scans, softmax, norms ----------------------------------------------------------

REDUCE = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min}
ACCUMULATOR = {ft.float16: ft.float32, ft.bfloat16: ft.float32, ft.float32: ft.float32, ft.float64: ft.float64}


def accumulator(op, dtype):
    if dtype in ACCUMULATOR:
        return ACCUMULATOR[dtype]
    if op in ("sum", "prod") or dtype == ft.int64:
        return ft.int64
    return ft.int32


@pytest.mark.parametrize("op", list(REDUCE))
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.float16, ft.bfloat16, ft.int32, ft.int8, ft.int64, ft.bool])
def test_row_reductions_across_warps_and_blocks(op, dtype, rng):
    mod = emu.Module.get("reduce")
    rows, cols = 3, 1000
    x = values(dtype, rows * cols, rng, -1.5, 1.5, special=False)
    if dtype in FLOATS:
        x[cols + 17] = storage(ft.tensor([float("nan")]).to(dtype))[0]  # NaN propagates in its row
    acc = accumulator(op, dtype)
    ref = getattr(ft, "amax" if op == "max" else "amin" if op == "min" else op)
    want = to_numpy(ref(tensor(x, dtype).reshape(rows, cols).to(acc), 1)).astype(np.float64)
    grid = x.reshape(rows, cols)
    # The rows laid out three ways: dense; transposed (rows are neighbours); batch-norm-like,
    # each row's elements in 10 runs of 100, one run per outer block (kept stride 100).
    layouts = [
        (x, ([rows], [cols]), ([cols], [1])),
        (grid.T.copy().ravel(), ([rows], [1]), ([cols], [rows])),
        (grid.reshape(rows, 10, 100).transpose(1, 0, 2).copy().ravel(), ([rows], [100]), ([10, 100], [rows * 100, 1])),
    ]
    rtol = 1e-5 if acc == ft.float32 else 1e-12
    check = lambda out: np.testing.assert_allclose(to_numpy(tensor(out, acc)).astype(np.float64), want,  # noqa: E731
                                                   rtol=rtol if op in ("sum", "prod") else 0, equal_nan=True)
    for data, (kept, kept_strides), (reduced, reduced_strides) in layouts:
        args = (emu.shape_of(kept), emu.strides_of([kept_strides]), emu.shape_of(reduced), emu.strides_of([reduced_strides]))
        for grid_x, block in [(1, 32), (4, 96), (2, 1024)]:
            partial = np.zeros(rows * grid_x, STORAGE[acc])
            mod.launch(f"reduce_{op}_{SUFFIX[dtype]}", (grid_x, rows), block, emu.i64(rows), emu.i64(cols), *args, data, partial)
            if grid_x > 1:  # the second pass: the accumulator's own kernel over the dense partials
                final = np.zeros(rows, STORAGE[acc])
                dense = (emu.shape_of([rows]), emu.strides_of([[grid_x]]), emu.shape_of([grid_x]), emu.strides_of([[1]]))
                mod.launch(f"reduce_{op}_{SUFFIX[acc]}", (1, rows), 64, emu.i64(rows), emu.i64(grid_x), *dense, partial, final)
                partial = final
            check(partial)
        out = np.zeros(rows, STORAGE[acc])  # a thread per row
        mod.launch(f"reduce_columns_{op}_{SUFFIX[dtype]}", 1, 32, emu.i64(rows), emu.i64(cols), *args, data, out)
        check(out)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float16, ft.int64, ft.uint8])
def test_arg_reductions_pick_the_first_extreme(op, dtype, rng):
    mod = emu.Module.get("argreduce")
    rows, cols = 4, 700
    x = values(dtype, rows * cols, rng, -3, 3, special=False)
    x[cols * 1 + 5] = x[cols * 1 + 600] = storage(ft.tensor([100.0]).to(dtype))[0]  # a tie: the first wins
    if dtype in FLOATS:
        x[cols * 2 + 300] = x[cols * 2 + 650] = storage(ft.tensor([float("nan")]).to(dtype))[0]  # the first NaN wins
    t = tensor(x, dtype).reshape(rows, cols)
    want_v, want_i = (ft.max if op == "max" else ft.min)(t, 1)
    for grid, block in [(1, 32), (2, 128), (4, 1024)]:
        v, i = np.zeros(rows, x.dtype), np.zeros(rows, np.int64)
        mod.launch(f"argreduce_{op}_{SUFFIX[dtype]}", grid, block, emu.i64(rows), emu.i64(cols), x, v, i)
        np.testing.assert_array_equal(i, to_numpy(want_i))
        assert_stored_equal(v, storage(want_v), dtype)


@pytest.mark.parametrize("op", ["sum", "prod"])
@pytest.mark.parametrize("dtype", [ft.float64, ft.float32, ft.int32, ft.bfloat16])
@pytest.mark.parametrize("inner", [1, 3])
def test_scans_in_chunks_and_strided_lines(op, dtype, inner, rng):
    mod = emu.Module.get("scan")
    outer, size = 3, 300
    x = values(dtype, outer * size * inner, rng, -1.0, 1.0, special=False)
    if op == "prod" and dtype in FLOATS:
        x = storage(ft.tensor(rng.uniform(0.9, 1.1, x.size)).to(dtype))
    t = tensor(x, dtype).reshape(outer, size, inner)
    want = getattr(ft, f"cum{op}")(t, 1)
    for grid, block in [(1, 32), (2, 64), (3, 256)]:
        out = np.zeros(x.size, STORAGE[want.dtype])
        mod.launch(f"scan_{op}_{SUFFIX[dtype]}", grid, block, emu.i64(outer), emu.i64(size), emu.i64(inner), x, out)
        # Running sums of up to 300 terms, associated differently: rounding of the order of
        # 300 ulps of 1 near where they cross zero.
        slack = {ft.float32: 1e-4, ft.bfloat16: 0.05}.get(dtype, 1e-12)
        assert_stored_equal(out, storage(want).reshape(-1), want.dtype, rtol=slack, atol=slack)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("inner", [1, 3])
def test_logcumsumexp_scans_with_infinities_and_nan(dtype, inner, rng):
    mod = emu.Module.get("scan")
    outer, size = 2, 300
    x = storage(ft.tensor(rng.uniform(-30, 30, outer * size * inner)).to(dtype))
    # -inf (adds nothing), +inf (sticks), NaN (sticks), in the first line only.
    x[[5 * inner, 100 * inner, 200 * inner]] = storage(ft.tensor([-np.inf, np.inf, np.nan]).to(dtype))
    x[size * inner: size * inner + 4 * inner] = storage(ft.tensor([-np.inf] * 4 * inner).to(dtype))  # a line opening with -inf
    t = tensor(x, dtype).reshape(outer, size, inner)
    want = storage(ft.logcumsumexp(t, 1)).reshape(-1)
    for grid, block in [(1, 32), (3, 128)]:
        out = np.zeros_like(x)
        mod.launch(f"scan_logcumsumexp_{SUFFIX[dtype]}", grid, block, emu.i64(outer), emu.i64(size), emu.i64(inner), x, out)
        # Associated differently from the CPU's running order: a few ulps of the running value.
        assert_stored_equal(out, want, dtype, rtol={ft.float64: 1e-13, ft.float32: 1e-6}.get(dtype), atol=1e-300)


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("dtype", list(SUFFIX))
@pytest.mark.parametrize("inner", [1, 3])
def test_running_extremes_keep_the_cpu_positions(op, dtype, inner, rng):
    """Values and positions bit for bit: ties move the position forward, NaN sticks (and a later
    NaN takes the position), across warps, chunks and strided lines."""
    mod = emu.Module.get("scan")
    outer, size = 2, 150
    x = values(dtype, outer * size * inner, rng, -2.0, 2.0)
    if dtype in FLOATS:  # few distinct values: many ties; NaN and infinities in the middle
        x = storage(ft.tensor(np.round(rng.uniform(-2, 2, x.size))).to(dtype))
        x[[40, 77, 200]] = storage(ft.tensor([np.inf, np.nan, -np.inf]).to(dtype))
    t = tensor(x, dtype).reshape(outer, size, inner)
    want_v, want_i = getattr(ft, op)(t, 1)
    for grid, block in [(1, 32), (3, 64)]:
        out, idx = np.zeros_like(x), np.zeros(x.size, np.int64)
        mod.launch(f"scan_{op}_{SUFFIX[dtype]}", grid, block, emu.i64(outer), emu.i64(size), emu.i64(inner), x, out, idx)
        np.testing.assert_array_equal(out.view(np.uint8), storage(want_v).reshape(-1).view(np.uint8))
        np.testing.assert_array_equal(idx, to_numpy(want_i).reshape(-1))


@pytest.mark.parametrize("suffix", ["f32", "f64"])
@pytest.mark.parametrize("inner", [1, 4])
@pytest.mark.parametrize("log_form", [0, 1])
def test_softmax_lines(suffix, inner, log_form, rng):
    mod = emu.Module.get("softmax")
    dtype = DTYPE[suffix]
    outer, size = 3, 257
    x = rng.uniform(-20, 20, outer * size * inner).astype(STORAGE[dtype])
    x[5] = -np.inf  # a zero probability
    x[size * inner + 7] = 1e4  # a dominant logit: no overflow
    t = ft.tensor(x).reshape(outer, size, inner)
    want = to_numpy((ft.log_softmax if log_form else ft.softmax)(t, 1)).reshape(-1)
    for grid, block in [(1, 32), (2, 128), (5, 1024)]:
        out = np.zeros_like(x)
        mod.launch(f"softmax_{suffix}", grid, block, emu.i64(outer), emu.i64(size), emu.i64(inner), x, out, emu.i32(log_form))
        np.testing.assert_allclose(out, want, rtol=1e-5 if suffix == "f32" else 1e-12, atol=1e-7 if suffix == "f32" else 1e-15)


@pytest.mark.parametrize("suffix", ["f32", "f64"])
@pytest.mark.parametrize("center", [1, 0])
@pytest.mark.parametrize("affine", [True, False])
def test_row_norms_forward_and_backward(suffix, center, affine, rng):
    mod = emu.Module.get("norm")
    dtype = STORAGE[DTYPE[suffix]]
    rows, n, eps = 5, 300, 1e-5
    x = rng.normal(2.0, 3.0, (rows, n)).astype(dtype)
    w, b = (rng.uniform(0.5, 1.5, n).astype(dtype), rng.uniform(-1, 1, n).astype(dtype)) if affine else (None, None)
    dy = rng.normal(size=(rows, n)).astype(dtype)
    x64 = x.astype(np.float64)
    mean = x64.mean(1, keepdims=True) if center else 0.0
    rstd = 1 / np.sqrt(((x64 - mean) ** 2).mean(1, keepdims=True) + eps)
    xhat = (x64 - mean) * rstd
    g = dy * (w if affine else 1.0)
    want_y = xhat * (w if affine else 1) + (b if affine else 0)
    want_dx = rstd * (g - (g.mean(1, keepdims=True) if center else 0) - xhat * (g * xhat).mean(1, keepdims=True))
    tol = dict(rtol=1e-4, atol=1e-5) if suffix == "f32" else dict(rtol=1e-10, atol=1e-12)
    for grid, block in [(1, 32), (2, 256)]:
        y = np.zeros_like(x)
        mod.launch(f"norm_rows_{suffix}", grid, block, emu.i64(rows), emu.i64(n), x, w, b, y, emu.f64(eps), emu.i32(center))
        np.testing.assert_allclose(y, want_y, **tol)
        dx, dyx = np.zeros_like(x), np.zeros_like(x)
        mod.launch(f"norm_rows_backward_{suffix}", grid, block, emu.i64(rows), emu.i64(n), x, w, dy, dx, dyx, emu.f64(eps),
                   emu.i32(center))
        np.testing.assert_allclose(dx, want_dx, **tol)
        np.testing.assert_allclose(dyx, dy * xhat, **tol)


class ChannelLayout(ctypes.Structure):
    """batch_norm.cu's `ChannelLayout`."""
    _fields_ = [("batch", ctypes.c_int64), ("channels", ctypes.c_int64), ("spatial", ctypes.c_int64),
                ("parts", ctypes.c_int64), ("s_magic", ctypes.c_uint32), ("s_shift", ctypes.c_uint32),
                ("c_magic", ctypes.c_uint32), ("c_shift", ctypes.c_uint32), ("narrow", ctypes.c_int32)]


def channel_layout(n, c, s, parts, narrow):
    """The layout of an (n, c, s) input with the core's division constants for s and c."""
    shape = emu.shape_of([max(s, 1), max(c, 1)])
    return ChannelLayout(n, c, s, parts, shape.magic[0], shape.shift[0], shape.magic[1], shape.shift[1], int(narrow))


@pytest.mark.parametrize("suffix", ["f16", "bf16", "f32", "f64"])
@pytest.mark.parametrize("shape", [(4, 3, 50), (2, 5, 1), (1, 2, 7), (3, 4, 0)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_forward_and_backward(suffix, shape, affine, rng):
    """Every launch shape and split of the channels' sums into parts, both index paths (32-bit
    divisions and 64-bit), against float64 formulas; the mean far from zero (the shifted sums).
    Half inputs are read and written as stored, with the per-channel values in float32."""
    mod = emu.Module.get("norm")
    dtype = DTYPE[suffix]
    compute = np.float64 if suffix == "f64" else np.float32
    n, c, s = shape
    eps = 1e-5
    x = storage(ft.tensor(rng.normal(50.0, 2.0, shape)).to(dtype))
    dy = storage(ft.tensor(rng.normal(size=shape)).to(dtype))
    w, b = (rng.uniform(0.5, 1.5, c).astype(compute), rng.uniform(-1, 1, c).astype(compute)) if affine else (None, None)
    decoded = lambda a: to_numpy(tensor(a, dtype)).astype(np.float64)  # noqa: E731
    x64, dy64, count = decoded(x), decoded(dy), max(n * s, 1)
    mean = x64.sum((0, 2)) / count
    var = ((x64 - mean[None, :, None]) ** 2).sum((0, 2)) / count
    invstd = 1 / np.sqrt(var + eps)
    scale = invstd * (w if affine else 1.0)
    want_out = (x64 - mean[None, :, None]) * scale[None, :, None] + (b[None, :, None] if affine else 0.0)
    centered = x64 - mean[None, :, None]
    sum_dy, dot = dy64.sum((0, 2)), (dy64 * centered).sum((0, 2))
    want_dx = (dy64 - (sum_dy / count)[None, :, None] - centered * (dot * invstd ** 2 / count)[None, :, None]) * scale[None, :, None]
    tol = dict(rtol=1e-10, atol=1e-11) if suffix == "f64" else dict(rtol=2e-5, atol=2e-5)
    # Elements: the float32 tolerances, or the storage's rounding for half types.
    out_tol = dict(rtol=RTOL[dtype], atol=2 * RTOL[dtype]) if suffix in ("f16", "bf16") else dict(rtol=tol["rtol"], atol=tol["atol"] * 10)
    dx_tol = dict(rtol=RTOL[dtype], atol=4 * RTOL[dtype]) if suffix in ("f16", "bf16") else dict(rtol=tol["rtol"] * 10, atol=tol["atol"] * 100)
    for parts, narrow, (grid, block) in [(1, 1, (1, 32)), (3, 1, (4, 64)), (2, 0, (16, 256))]:
        g = channel_layout(n, c, s, parts, narrow)
        partials = np.zeros(2 * c * parts)
        stats = np.zeros((3, c), compute)
        out = np.zeros_like(x)
        mod.launch(f"norm_batch_stats_{suffix}", grid, block, g, x, partials)
        mod.launch(f"norm_batch_stats_finish_{suffix}", grid, block, g, x, partials, w, emu.f64(eps), *stats)
        mod.launch(f"norm_batch_apply_{suffix}", grid, block, g, x, stats[0], stats[2], b, out)
        np.testing.assert_allclose(stats[0], mean, **tol)
        np.testing.assert_allclose(stats[1], var, rtol=tol["rtol"] * 10, atol=tol["atol"])
        np.testing.assert_allclose(decoded(out), want_out, **out_tol)
        coefficients = np.zeros((5, c), compute)
        dx = np.zeros_like(x)
        mean_r, invstd_r = mean.astype(compute), invstd.astype(compute)
        mod.launch(f"norm_batch_backward_sums_{suffix}", grid, block, g, x, dy, mean_r, partials)
        mod.launch(f"norm_batch_backward_finish_{suffix}", grid, block, g, partials, w, invstd_r, *coefficients)
        mod.launch(f"norm_batch_backward_apply_{suffix}", grid, block, g, x, dy, mean_r, coefficients[2], coefficients[3], coefficients[4], dx)
        np.testing.assert_allclose(coefficients[0], dot * invstd, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)
        np.testing.assert_allclose(coefficients[1], sum_dy, rtol=tol["rtol"], atol=tol["atol"] * 10)
        np.testing.assert_allclose(decoded(dx), want_dx, **dx_tol)


# --- fused cells, optimizer steps, random fills -------------------------------------------------

@pytest.mark.parametrize("suffix", ["f32", "f64"])
def test_rnn_cells_match_the_cpu_twins(suffix, rng):
    mod = emu.Module.get("rnn")
    dtype = STORAGE[DTYPE[suffix]]
    rows, h = 6, 10
    arr = lambda *shape: rng.uniform(-2, 2, shape).astype(dtype)  # noqa: E731
    gates, c, dh, dcy = arr(rows, 4 * h), arr(rows, h), arr(rows, h), arr(rows, h)
    gi, gh, hp, dy = arr(rows, 3 * h), arr(rows, 3 * h), arr(rows, h), arr(rows, h)
    T = ft.tensor
    want_h, want_c = _C._lstm_cell(T(gates), T(c))
    want_hy = _C._gru_cell(T(gi), T(gh), T(hp))
    tol = dict(rtol=1e-5, atol=1e-6) if suffix == "f32" else dict(rtol=1e-12, atol=1e-13)
    # Gradients by float64 autograd of the CPU ops.
    g64, c64 = (T(a.astype(np.float64)).requires_grad_() for a in (gates, c))
    h64, cy64 = _C._lstm_cell(g64, c64)
    d_gates, d_c = ft.autograd.grad((h64 * T(dh.astype(np.float64))).sum() + (cy64 * T(dcy.astype(np.float64))).sum(), [g64, c64])
    i64s, h64s, p64s = (T(a.astype(np.float64)).requires_grad_() for a in (gi, gh, hp))
    y64 = _C._gru_cell(i64s, h64s, p64s)
    d_gi, d_gh, d_hp = ft.autograd.grad((y64 * T(dy.astype(np.float64))).sum(), [i64s, h64s, p64s])
    for grid, block in LAUNCHES:
        hy, cy = np.zeros_like(c), np.zeros_like(c)
        mod.launch(f"rnn_lstm_cell_{suffix}", grid, block, emu.i64(rows), emu.i64(h), gates, c, hy, cy)
        np.testing.assert_allclose(hy, want_h.numpy(), **tol)
        np.testing.assert_allclose(cy, want_c.numpy(), **tol)
        dg, dc = np.zeros_like(gates), np.zeros_like(c)
        mod.launch(f"rnn_lstm_cell_backward_{suffix}", grid, block, emu.i64(rows), emu.i64(h), gates, c, cy, dh, dcy, dg, dc)
        np.testing.assert_allclose(dg, d_gates.numpy(), **tol)
        np.testing.assert_allclose(dc, d_c.numpy(), **tol)
        hy = np.zeros_like(hp)
        mod.launch(f"rnn_gru_cell_{suffix}", grid, block, emu.i64(rows), emu.i64(h), gi, gh, hp, hy)
        np.testing.assert_allclose(hy, want_hy.numpy(), **tol)
        dgi, dgh, dhp = np.zeros_like(gi), np.zeros_like(gh), np.zeros_like(hp)
        mod.launch(f"rnn_gru_cell_backward_{suffix}", grid, block, emu.i64(rows), emu.i64(h), gi, gh, hp, dy, dgi, dgh, dhp)
        for got, want in ((dgi, d_gi), (dgh, d_gh), (dhp, d_hp)):
            np.testing.assert_allclose(got, want.numpy(), **tol)


@pytest.mark.parametrize("suffix", ["f32", "f64"])
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_layer_steps_match_the_cpu_layer(suffix, reverse, rng):
    """The CUDA LSTM layer's loop (cuda/recurrence.rs: a product and a step launch per step,
    each way; NumPy's products stand in for cuBLAS) over packed sequences, against the CPU
    layer op and its float64 autograd gradients."""
    mod = emu.Module.get("rnn")
    dtype = STORAGE[DTYPE[suffix]]
    batch_sizes, batch, h = [4, 4, 3, 1], 4, 6
    n = sum(batch_sizes)
    arr = lambda *shape: rng.uniform(-1, 1, shape).astype(dtype)  # noqa: E731
    x, h0, c0, w, d_out, d_hn, d_cn = arr(n, 4 * h), arr(batch, h), arr(batch, h), arr(4 * h, h), arr(n, h), arr(batch, h), arr(batch, h)
    T = lambda a: ft.tensor(a.astype(np.float64)).requires_grad_()  # noqa: E731
    leaves = [T(a) for a in (x, h0, c0, w)]
    want = _C._lstm_layer(*leaves, batch_sizes, reverse)
    loss = sum((o * ft.tensor(d.astype(np.float64))).sum() for o, d in zip(want, (d_out, d_hn, d_cn)))
    want_grads = ft.autograd.grad(loss, leaves)
    offsets = np.cumsum([0] + batch_sizes[:-1])
    schedule = list(zip(offsets, batch_sizes))[::-1 if reverse else 1]
    tol = dict(rtol=2e-5, atol=2e-6) if suffix == "f32" else dict(rtol=1e-12, atol=1e-13)
    for grid, block in LAUNCHES:
        gates, hs, cs, out = x.copy(), h0.copy(), c0.copy(), np.zeros((n, h), dtype)
        c_prev, tanh_c, h_prev = (np.zeros((n, h), dtype) for _ in range(3))
        for off, size in schedule:
            gates[off:off + size] += hs[:size] @ w.T
            mod.launch(f"rnn_lstm_layer_step_{suffix}", grid, block, emu.i64(size), emu.i64(h), gates[off:], hs, cs, out[off:],
                       c_prev[off:], tanh_c[off:], h_prev[off:])
        for got, expected in zip((out, hs, cs), want):
            np.testing.assert_allclose(got, expected.detach().numpy(), **tol)
        dh, dc, d_gates = d_hn.copy(), d_cn.copy(), np.zeros((n, 4 * h), dtype)
        for off, size in schedule[::-1]:
            mod.launch(f"rnn_lstm_layer_step_backward_{suffix}", grid, block, emu.i64(size), emu.i64(h), gates[off:], c_prev[off:],
                       tanh_c[off:], d_out[off:], dh, dc, d_gates[off:])
            dh[:size] = d_gates[off:off + size] @ w
        for got, expected in zip((d_gates, dh, dc, d_gates.T @ h_prev), want_grads):
            np.testing.assert_allclose(got, expected.numpy(), **tol)
    # Without saving (inference): null workspace pointers, the same outputs.
    gates, hs, cs, out = x.copy(), h0.copy(), c0.copy(), np.zeros((n, h), dtype)
    for off, size in schedule:
        gates[off:off + size] += hs[:size] @ w.T
        mod.launch(f"rnn_lstm_layer_step_{suffix}", 2, 64, emu.i64(size), emu.i64(h), gates[off:], hs, cs, out[off:], None, None, None)
    np.testing.assert_allclose(out, want[0].detach().numpy(), **tol)


@pytest.mark.parametrize("suffix", ["f32", "f64"])
@pytest.mark.parametrize("reverse, bias", [(False, True), (True, True), (False, False)])
def test_gru_layer_steps_match_the_cpu_layer(suffix, reverse, bias, rng):
    """The CUDA GRU layer's loop (cuda/recurrence.rs), as the LSTM test above runs it."""
    mod = emu.Module.get("rnn")
    dtype = STORAGE[DTYPE[suffix]]
    batch_sizes, batch, h = [3, 2, 2, 1], 3, 5
    n = sum(batch_sizes)
    arr = lambda *shape: rng.uniform(-1, 1, shape).astype(dtype)  # noqa: E731
    x, h0, w, b, d_out, d_hn = arr(n, 3 * h), arr(batch, h), arr(3 * h, h), arr(3 * h), arr(n, h), arr(batch, h)
    T = lambda a: ft.tensor(a.astype(np.float64)).requires_grad_()  # noqa: E731
    leaves = [T(a) for a in (x, h0, w)] + ([T(b)] if bias else [])
    want = _C._gru_layer(*leaves[:3], leaves[3] if bias else None, batch_sizes, reverse)
    loss = sum((o * ft.tensor(d.astype(np.float64))).sum() for o, d in zip(want, (d_out, d_hn)))
    want_grads = ft.autograd.grad(loss, leaves)
    offsets = np.cumsum([0] + batch_sizes[:-1])
    schedule = list(zip(offsets, batch_sizes))[::-1 if reverse else 1]
    tol = dict(rtol=2e-5, atol=2e-6) if suffix == "f32" else dict(rtol=1e-12, atol=1e-13)
    for grid, block in LAUNCHES:
        gates, hs, out, gh = x.copy(), h0.copy(), np.zeros((n, h), dtype), np.zeros((batch, 3 * h), dtype)
        gh_n, h_prev = np.zeros((n, h), dtype), np.zeros((n, h), dtype)
        for off, size in schedule:
            gh[:size] = hs[:size] @ w.T
            mod.launch(f"rnn_gru_layer_step_{suffix}", grid, block, emu.i64(size), emu.i64(h), gates[off:], gh, b if bias else None, hs,
                       out[off:], gh_n[off:], h_prev[off:])
        for got, expected in zip((out, hs), want):
            np.testing.assert_allclose(got, expected.detach().numpy(), **tol)
        dh, d_gi, d_gh = d_hn.copy(), np.zeros((n, 3 * h), dtype), np.zeros((n, 3 * h), dtype)
        for off, size in schedule[::-1]:
            mod.launch(f"rnn_gru_layer_step_backward_{suffix}", grid, block, emu.i64(size), emu.i64(h), gates[off:], gh_n[off:],
                       h_prev[off:], d_out[off:], dh, d_gi[off:], d_gh[off:])
            dh[:size] += d_gh[off:off + size] @ w
        got = [d_gi, dh, d_gh.T @ h_prev] + ([d_gh.sum(0)] if bias else [])
        for g, expected in zip(got, want_grads, strict=True):
            np.testing.assert_allclose(g, expected.numpy(), **tol)


OPT_LIST = 16


class OptList(ctypes.Structure):
    """optim.cu's OptList: up to 16 parameters of one launch."""
    _fields_ = [("count", ctypes.c_int64), ("ends", ctypes.c_int64 * OPT_LIST), ("p", (ctypes.c_uint64 * 5) * OPT_LIST),
                ("s", (ctypes.c_double * 15) * OPT_LIST), ("step", ctypes.c_uint64 * OPT_LIST), ("coef", ctypes.c_uint64 * OPT_LIST),
                ("extra", ctypes.c_uint64 * OPT_LIST), ("lr", ctypes.c_uint64 * OPT_LIST)]
# The doubles a capturable step's prologue leaves per parameter (optim.cu's FT_OPT_COEF).
OPT_COEF = 5


def adam_reference(p, g, m, v, vmax, step, lr, b1, b2, eps, weight_decay, decoupled, amsgrad):
    """Adam (Kingma and Ba) with PyTorch's conventions, in float64: coupled L2 or AdamW's
    decoupled decay, AMSGrad's running maximum."""
    bc1, bc2 = 1 - b1 ** step, 1 - b2 ** step
    grad = g + (weight_decay * p if weight_decay and not decoupled else 0)
    p = p * (1 - lr * weight_decay) if decoupled else p.copy()
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    vmax = np.maximum(vmax, v)
    p = p - lr / bc1 * m / (np.sqrt(vmax if amsgrad else v) / math.sqrt(bc2) + eps)
    return p, m, v, vmax


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay,decoupled", [(0.0, False), (0.1, False), (0.1, True)])
@pytest.mark.parametrize("capturable", [False, "host lr", "device lr"])
def test_adam_kernel_steps_a_list_of_parameters_like_the_published_rule(amsgrad, weight_decay, decoupled, capturable, rng):
    """Host steps pass the bias corrections as scalars; capturable steps (float32 counters on
    the device) are advanced by optim_prepare_adam, which leaves the corrections for the update,
    from the host's learning rate or one read from the device (a tensor lr: every scalar that
    depends on it is NaN in the host's list)."""
    mod = emu.Module.get("optim")
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    k = 5 if amsgrad else 4
    sizes, steps = [1000, 7, 1, 333], [3, 1, 10, 2]  # each parameter its own step count
    params = [[rng.normal(size=n), rng.normal(size=n), rng.normal(size=n) * 0.1, rng.uniform(0, 0.1, n), rng.uniform(0, 0.2, n)]
              for n in sizes]
    coupled = weight_decay != 0 and not decoupled
    for grid, block in LAUNCHES[:2]:
        state = [[a.copy() for a in ops][:k] for ops in params]
        table = OptList(count=len(sizes))
        for t, (ops, step) in enumerate(zip(state, steps)):
            table.ends[t] = sum(sizes[: t + 1])
            for i, a in enumerate(ops):
                table.p[t][i] = a.ctypes.data
            # optim.cu's OptAdam: [sign, decay, coupled, param_decay, 1 - beta1, beta2, 1 - beta2,
            # eps, bias_correction2_sqrt, -step_size, beta1, lr, decoupled_weight_decay].
            scalars = [1.0, weight_decay if coupled else 0.0, 1.0 if coupled else 0.0, 1 - lr * weight_decay if decoupled else 1.0,
                       1 - b1, b2, 1 - b2, eps, math.sqrt(1 - b2 ** step), -lr / (1 - b1 ** step), b1, lr,
                       weight_decay if decoupled else 0.0]
            if capturable:
                scalars[8:10] = [float("nan")] * 2  # read from the prologue's results instead
            if capturable == "device lr":
                scalars[3] = scalars[11] = float("nan")
            table.s[t][: len(scalars)] = scalars
        counters = np.array(steps, np.float32) - 1
        coefs, device_lr = np.zeros((len(sizes), OPT_COEF)), np.array([lr])
        if capturable:
            for t in range(len(sizes)):
                table.step[t] = counters.ctypes.data + 4 * t
                table.coef[t] = coefs.ctypes.data + 8 * OPT_COEF * t
                table.lr[t] = device_lr.ctypes.data if capturable == "device lr" else 0
            mod.launch("optim_prepare_adam", 1, 32, table)
            np.testing.assert_array_equal(counters, steps)
        mod.launch(f"optim_adam{k}_f64", grid, block, table)
        for ops, start, step in zip(state, params, steps):
            p, m, v, vmax = adam_reference(*start[:2], *start[2:5], step, lr, b1, b2, eps, weight_decay, decoupled, amsgrad)
            np.testing.assert_allclose(ops[0], p, rtol=1e-12)
            np.testing.assert_allclose(ops[2], m, rtol=1e-12)
            np.testing.assert_allclose(ops[3], v, rtol=1e-12)
            np.testing.assert_array_equal(ops[1], start[1])  # the gradient is read, never written
            if amsgrad:
                np.testing.assert_allclose(ops[4], vmax, rtol=1e-12)


def nadam_mu(b1, md, t):
    return b1 * (1 - 0.5 * 0.96 ** (t * md))


# Each rule's optimizer, hyper-parameters, state keys in kernel operand order (after param and
# grad; None: an absent operand) and its scalars at step t, as optim.cu reads them (computed
# here from the published rules, independently of the Rust side's lists).
OTHER_RULES = {
    "adagrad3": (ft.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, eps=1e-10), ["sum"],
                 lambda o, t, st: [1, o["weight_decay"], 1, o["eps"], -o["lr"] / (1 + (t - 1) * o["lr_decay"])]),
    "rmsprop5": (ft.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.5, centered=True),
                 ["square_avg", "grad_avg", "momentum_buffer"],
                 lambda o, t, st: [1, 0, 0, o["alpha"], 1 - o["alpha"], o["eps"], -o["lr"], 1, 1, o["momentum"]]),
    "rmsprop5-plain": (ft.optim.RMSprop, dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.05, maximize=True),
                       ["square_avg", None, None],
                       lambda o, t, st: [-1, o["weight_decay"], 1, o["alpha"], 1 - o["alpha"], o["eps"], -o["lr"], 0, 0, 0]),
    "adamax4": (ft.optim.Adamax, dict(lr=0.02, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1), ["exp_avg", "exp_inf"],
                lambda o, t, st: [1, o["weight_decay"], 1, 1 - 0.9, 0.99, o["eps"], -(o["lr"] / (1 - 0.9 ** t)), 0.9, o["lr"]]),
    "adadelta4": (ft.optim.Adadelta, dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0), ["square_avg", "acc_delta"],
                  lambda o, t, st: [1, 0, 0, o["rho"], 1 - o["rho"], o["eps"], -o["lr"]]),
    "nadam4": (ft.optim.NAdam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, momentum_decay=4e-3,
                                    decoupled_weight_decay=True), ["exp_avg", "exp_avg_sq"],
               lambda o, t, st: [1, 0, 0, 1 - 0.01 * 0.1, 0.1, 0.999, 1 - 0.999, 1e-8, 1 - 0.999 ** t,
                                 -0.01 * (1 - nadam_mu(0.9, 4e-3, t)) / (1 - st["mu_product"]),
                                 -0.01 * nadam_mu(0.9, 4e-3, t + 1) / (1 - st["mu_product"] * nadam_mu(0.9, 4e-3, t + 1)),
                                 0.9, 4e-3, 0.01, 0.1]),
    "radam4": (ft.optim.RAdam, dict(lr=0.01, betas=(0.9, 0.9), eps=1e-8, weight_decay=0.1), ["exp_avg", "exp_avg_sq"],
               lambda o, t, st: [1, 0.1, 1, 1, 1 - 0.9, 0.9, 1 - 0.9, 1e-8, 0.01, 1 - 0.9 ** t, math.sqrt(1 - 0.9 ** t),
                                 radam_rect(0.9, t), 0.9, 0.0]),
    "radam4-early": (ft.optim.RAdam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8), ["exp_avg", "exp_avg_sq"],
                     lambda o, t, st: [1, 0, 0, 1, 1 - 0.9, 0.999, 1 - 0.999, 1e-8, 0.01, 1 - 0.9 ** t, math.sqrt(1 - 0.999 ** t),
                                       radam_rect(0.999, t), 0.9, 0.0]),
}


def radam_rect(b2, t):
    """RAdam's variance rectification at step t, 0 while intractable (rho_t <= 5)."""
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
    return math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) if rho_t > 5 else 0.0


# The scalars each rule's prologue derives from a capturable step (host values replaced by NaN),
# and those it derives from a learning rate read on the device.
STEP_SCALARS = {"rmsprop5": [], "adamax4": [6], "adadelta4": [], "nadam4": [8, 9, 10], "radam4": [9, 10, 11]}
LR_SCALARS = {"rmsprop5": [6], "adamax4": [6, 8], "adadelta4": [6], "nadam4": [3, 9, 10, 13], "radam4": [3, 8]}


@pytest.mark.parametrize("capturable", [False, "host lr", "device lr"])
@pytest.mark.parametrize("rule", sorted(OTHER_RULES))
def test_other_optimizer_kernels_step_as_the_cpu_optimizers(rule, capturable, rng):
    """Five CPU steps of the optimizer, then a sixth twice: by the CPU optimizer and by the
    kernel from the state before it; the two agree to float64 rounding. Capturable: the rule's
    prologue advances float32 step counters (and NAdam's mu_product) and derives the step's
    scalars in place of the host's."""
    opt_class, options, keys, scalars_at = OTHER_RULES[rule]
    kernel = rule.split("-")[0]
    if capturable and kernel not in STEP_SCALARS:
        pytest.skip("no capturable form (as in PyTorch)")
    mod = emu.Module.get("optim")
    params = [ft.tensor(rng.normal(size=n)) for n in (300, 7)]
    for p in params:
        p.requires_grad_()
    opt = opt_class(params, **options)
    for _ in range(6):
        for p in params:
            p.grad = ft.tensor(rng.normal(size=p.shape[0]))
        if _ == 5:
            before = [[to_numpy(p.detach()).copy(), to_numpy(p.grad).copy()]
                      + [None if k is None else to_numpy(opt.state[p][k]).copy() for k in keys] for p in params]
        opt.step()
    table = OptList(count=len(params))
    for t, ops in enumerate(before):
        table.ends[t] = sum(len(b[0]) for b in before[: t + 1])
        for i, a in enumerate(ops):
            table.p[t][i] = 0 if a is None else a.ctypes.data
        state = {k: float(v.item()) for k, v in opt.state[params[t]].items() if v.numel() == 1}
        scalars = [float(x) for x in scalars_at(options, 6, state)]
        if capturable:
            for i in STEP_SCALARS[kernel] + (LR_SCALARS[kernel] if capturable == "device lr" else []):
                scalars[i] = float("nan")
        table.s[t][: len(scalars)] = scalars
    counters = np.full(len(params), 5, np.float32)
    coefs, device_lr = np.zeros((len(params), OPT_COEF)), np.array([options["lr"]])
    # NAdam's mu_product before the sixth step: the product of the first five factors, each
    # rounded to float32 as the host's mul_ does.
    mu_products = np.ones(len(params), np.float32)
    if kernel == "nadam4":
        for i in range(1, 6):
            mu_products = (mu_products.astype(np.float64) * np.float64(np.float32(nadam_mu(0.9, 4e-3, i)))).astype(np.float32)
    if capturable:
        for t in range(len(params)):
            table.step[t] = counters.ctypes.data + 4 * t
            table.coef[t] = coefs.ctypes.data + 8 * OPT_COEF * t
            table.extra[t] = mu_products.ctypes.data + 4 * t if kernel == "nadam4" else 0
            table.lr[t] = device_lr.ctypes.data if capturable == "device lr" else 0
        mod.launch(f"optim_prepare_{kernel[:-1]}", 1, 32, table)
        np.testing.assert_array_equal(counters, [6, 6])
        if kernel == "nadam4":
            np.testing.assert_array_equal(mu_products, [opt.state[p]["mu_product"].item() for p in params])
    mod.launch(f"optim_{kernel}_f64", 2, 64, table)
    for p, ops in zip(params, before):
        np.testing.assert_allclose(ops[0], to_numpy(p.detach()), rtol=1e-12, atol=1e-14)
        for k, a in zip(keys, ops[2:]):
            if a is not None:
                np.testing.assert_allclose(a, to_numpy(opt.state[p][k]), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(ops[1], to_numpy(p.grad))  # the gradient is read, never written


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
def test_sgd_momentum_list_in_reduced_precision(dtype, rng):
    """SGD with momentum and dampening, stored in the parameter's dtype, computed in float."""
    mod = emu.Module.get("optim")
    lr, mu, damp = 0.1, 0.9, 0.2
    sizes = [64, 5, 129]
    table = OptList(count=len(sizes))
    state, want = [], []
    for t, n in enumerate(sizes):
        p, g, buf = (storage(ft.tensor(rng.normal(size=n)).to(DTYPE[dtype])) for _ in range(3))
        state.append([p, g, buf])
        f = [to_numpy(tensor(a, DTYPE[dtype])).astype(np.float32).astype(np.float64) for a in (p, g, buf)]
        # The kernel's fused multiply-adds in float: the float64 product of two floats is exact.
        f32 = lambda v: np.float64(np.float32(v)) if np.isscalar(v) else v.astype(np.float32).astype(np.float64)  # noqa: E731
        new_buf = f32(f[1] * f32(1 - damp) + f32(f[2] * f32(mu)))
        want.append((f32(f[0] + new_buf * f32(-lr)), new_buf))
        table.ends[t] = sum(sizes[: t + 1])
        for i, a in enumerate((p, g, buf)):
            table.p[t][i] = a.ctypes.data
        # optim.cu's OptSgd: [sign, decay, coupled, first, momentum, nesterov, mu, 1 - dampening, -lr].
        table.s[t][:9] = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, mu, 1 - damp, -lr]
    mod.launch(f"optim_sgd3_{dtype}", 2, 64, table)
    for (p, _, buf), (want_p, want_buf) in zip(state, want):
        assert_stored_equal(buf, storage(ft.tensor(want_buf).to(DTYPE[dtype])), DTYPE[dtype])
        assert_stored_equal(p, storage(ft.tensor(want_p).to(DTYPE[dtype])), DTYPE[dtype])


class RandomDraw(ctypes.Structure):
    """philox.cu's RandomDraw (the Rust `Draw`, repr(C))."""
    _fields_ = [("kind", ctypes.c_int), ("per", ctypes.c_int), ("bits", ctypes.c_int), ("pad", ctypes.c_int),
                ("a", ctypes.c_double), ("b", ctypes.c_double), ("range", ctypes.c_uint64), ("base", ctypes.c_int64)]


def test_random_fills_equal_the_reference_stream_under_any_launch():
    mod = emu.Module.get("random")
    seed, offset, n = 987654321, 5, 203
    draws = [
        ("f64", RandomDraw(kind=0, per=2, bits=53, a=-2.0, b=5.0), uniform_f64(seed, offset, n, -2.0, 5.0)),
        ("i64", RandomDraw(kind=7, per=4, range=14, base=-3), randint_small(seed, offset, n, -3, 11)),
        ("f32", RandomDraw(kind=2, per=4, a=0.3, b=1.0), bernoulli(seed, offset, n, 0.3)),
    ]
    for suffix, draw, want in draws:
        for grid, block in LAUNCHES:
            out = np.zeros(n, STORAGE[DTYPE[suffix]])
            mod.launch(f"random_{suffix}", grid, block, emu.i64(n), out, ctypes.c_uint64(seed), ctypes.c_uint64(offset), None, draw)
            np.testing.assert_array_equal(out, np.asarray(want, out.dtype))
            # As captured in a CUDA graph: the key and a base offset come from the device pair
            # the replay writes (the seed passed by value is ignored), the draw's place added.
            out = np.zeros(n, STORAGE[DTYPE[suffix]])
            state = np.array([seed, offset - 2], np.uint64)
            mod.launch(f"random_{suffix}", grid, block, emu.i64(n), out, ctypes.c_uint64(1), ctypes.c_uint64(2), state, draw)
            np.testing.assert_array_equal(out, np.asarray(want, out.dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_poisson_samples_equal_the_reference_sampler_under_any_launch(dtype):
    mod = emu.Module.get("random")
    seed, offset = 1234567, 9
    # Both samplers (products of uniforms below 10, PTRS from 10), their edges, and rates
    # without a distribution.
    rates = np.array([0.0, 0.3, 3.0, 9.99, 10.0, 25.5, 1000.0, 7.25, -1.0, math.nan, math.inf] * 7, np.float64)
    stored = storage(ft.tensor(rates).to(dtype))
    exact_rates = to_numpy(tensor(stored, dtype).double())
    want = storage(ft.tensor(poisson(seed, offset, list(exact_rates))).to(dtype))
    n, suffix = len(rates), SUFFIX[dtype]
    for grid, block in LAUNCHES:
        out = np.zeros(n, STORAGE[dtype])
        mod.launch(f"random_poisson_{suffix}", grid, block, emu.i64(n), stored, out, ctypes.c_uint64(seed), ctypes.c_uint64(offset), None)
        assert_stored_equal(out, want, dtype, rtol=0)
    # Captured: the key and base offset come from the device pair a replay writes.
    out = np.zeros(n, STORAGE[dtype])
    state = np.array([seed, offset - 4], np.uint64)
    mod.launch(f"random_poisson_{suffix}", 2, 64, emu.i64(n), stored, out, ctypes.c_uint64(0), ctypes.c_uint64(4), state)
    assert_stored_equal(out, want, dtype, rtol=0)


def test_poisson_samples_have_the_rates_mean_and_variance():
    mod = emu.Module.get("random")
    for rate in (0.7, 4.0, 30.0, 400.0):
        n = 4000
        out = np.zeros(n, np.float64)
        mod.launch("random_poisson_f64", 8, 256, emu.i64(n), np.full(n, rate), out, ctypes.c_uint64(77), ctypes.c_uint64(0), None)
        assert (out == np.round(out)).all() and (out >= 0).all()
        # The mean within 5 standard errors; the variance (= the rate) within 10%.
        assert abs(out.mean() - rate) < 5 * math.sqrt(rate / n), (rate, out.mean())
        assert abs(out.var() / rate - 1) < 0.1, (rate, out.var())


# --- the emulator itself ------------------------------------------------------------------------

def test_warp_shuffles_and_a_divergent_barrier():
    source = """
extern "C" __global__ void divergent(int* out) { if (threadIdx.x < 16) __syncthreads(); out[threadIdx.x] = 1; }
extern "C" __global__ void shuffle(int* out) { out[threadIdx.x] = __shfl_down_sync(0xffffffffu, (int)threadIdx.x, 3); }
extern "C" __global__ void from_returned(int* out) {
    if (threadIdx.x >= 8) return;
    out[threadIdx.x] = __shfl_down_sync(0xffffffffu, (int)threadIdx.x, 4);
}
extern "C" __global__ void racy(int* out) {
    __shared__ int s[64];
    s[threadIdx.x] = 0;
    __syncthreads();
    s[threadIdx.x] = threadIdx.x + 1;
    out[threadIdx.x] = threadIdx.x > 0 ? s[threadIdx.x - 1] : 1;  // needs a __syncthreads before it
}
"""
    library = emu.build("selftest", {"selftest": source})
    library.ft_emu_error.restype = ctypes.c_char_p
    out = np.zeros(64, np.int32)
    arg = ctypes.c_void_p(out.ctypes.data)
    pointer = (ctypes.c_void_p * 1)(ctypes.addressof(arg))
    assert library.ft_launch_shuffle(1, 1, 1, 48, 1, 1, pointer) == 0
    # Lanes read lane + 3 of their own warp; past the warp's (or block's) end, their own value.
    want = [t + 3 if t % 32 + 3 < 32 and t + 3 < 48 else t for t in range(48)]
    np.testing.assert_array_equal(out[:48], want)
    assert library.ft_launch_divergent(1, 1, 1, 64, 1, 1, pointer) == 1
    assert b"deadlock" in library.ft_emu_error() and b"16 threads at __syncthreads" in library.ft_emu_error()
    # Reading a lane that has returned is undefined on a GPU: the launch fails.
    assert library.ft_launch_from_returned(1, 1, 1, 32, 1, 1, pointer) == 1
    assert b"which has returned" in library.ft_emu_error()
    # A missing barrier shows: after the first barrier threads run in descending order, so
    # reads of the lower neighbour's new value see the old one.
    assert library.ft_launch_racy(1, 1, 1, 64, 1, 1, pointer) == 0
    assert (out[1:64] != np.arange(1, 64)).any()


# --- fused attention ----------------------------------------------------------------------------

ATTN_THREADS = 128


def attention_reference(q, k, v, dout, scale, causal, group):
    """softmax(scale q k^T) v, its log-sum-exp and its gradients, in float64 NumPy: query head h
    reads key/value head h // group; causal masks key j > query i."""
    q, k, v, dout = (a.astype(np.float64) for a in (q, k, v, dout))
    kk, vv = np.repeat(k, group, axis=0), np.repeat(v, group, axis=0)
    s = scale * q @ kk.transpose(0, 2, 1)
    if causal:
        s = np.where(np.tri(q.shape[1], k.shape[1], dtype=bool), s, -np.inf)
    top = s.max(-1, keepdims=True)
    p = np.exp(s - top)
    lse = (top + np.log(p.sum(-1, keepdims=True)))[..., 0]
    p = p / p.sum(-1, keepdims=True)
    out = p @ vv
    dp = dout @ vv.transpose(0, 2, 1)
    ds = p * (dp - (dout * out).sum(-1, keepdims=True))
    dq = scale * ds @ kk
    fold = lambda a: a.reshape(k.shape[0], group, *a.shape[1:]).sum(1)  # noqa: E731
    dk = fold(scale * ds.transpose(0, 2, 1) @ q)
    dv = fold(p.transpose(0, 2, 1) @ dout)
    return out, lse, dq, dk, dv


def attention_kernels(mod, suffix, q, k, v, dout, scale, causal, group, grid):
    """The three attention kernels on stored operands: out, lse, dq, dk, dv."""
    heads, L, E = q.shape
    S, Ev = k.shape[1], v.shape[2]
    dim = next(d for d in (64, 128, 256) if max(E, Ev) <= d)
    acc = np.float64 if suffix == "f64" else np.float32
    sizes = [emu.i64(x) for x in (heads, group, L, S, E, Ev)]
    out, lse = np.zeros((heads, L, Ev), q.dtype), np.zeros((heads, L), acc)
    mod.launch(f"attention_forward_{suffix}_d{dim}", grid, ATTN_THREADS, *sizes, q, k, v, out, lse, emu.f64(scale), emu.i32(causal))
    dq, delta = np.zeros_like(q), np.zeros((heads, L), acc)
    mod.launch(f"attention_backward_q_{suffix}_d{dim}", grid, ATTN_THREADS, *sizes, q, k, v, out, dout, lse, delta, dq,
               emu.f64(scale), emu.i32(causal))
    dk, dv = np.zeros_like(k), np.zeros_like(v)
    kv_sizes = [emu.i64(heads // group)] + sizes[1:]
    mod.launch(f"attention_backward_kv_{suffix}_d{dim}", grid, ATTN_THREADS, *kv_sizes, q, k, v, dout, lse, delta, dk, dv,
               emu.f64(scale), emu.i32(causal))
    return out, lse, dq, dk, dv


def as_f64(stored, dtype):
    return to_numpy(tensor(stored, dtype)).astype(np.float64) if dtype == ft.bfloat16 else stored.astype(np.float64)


# Every dtype at head dims up to 128; float32/float64 (one tile shape each per compute type) at
# the other head-dim bounds. The emulator spends ~2 s per launch here (a context switch per
# lane at every shuffle), so the cases are few but cover every tile shape.
ATTENTION_CASES = [(s, 40, 72) for s in ("f16", "bf16", "f32", "f64")] + [(s, e, ev) for s in ("f32", "f64") for e, ev in ((16, 16), (200, 136))]


@pytest.mark.parametrize("suffix,E,Ev", ATTENTION_CASES)
@pytest.mark.parametrize("causal", [0, 1])
def test_attention_forward_and_backward_against_float64(suffix, E, Ev, causal, rng):
    """Every tile shape (head dims up to 64, 128 and 256), partial tiles on both sides, grouped
    heads, a causal mask, and launches smaller than the work (grid-stride over tiles and heads)."""
    mod = emu.Module.get("attention")
    dtype = DTYPE[suffix]
    group, kv_heads, L, S = 2, 2, 37, 45
    stored = lambda *shape: storage(ft.tensor(rng.normal(0, 1, shape)).to(dtype))  # noqa: E731
    q, k, v, dout = stored(kv_heads * group, L, E), stored(kv_heads, S, E), stored(kv_heads, S, Ev), stored(kv_heads * group, L, Ev)
    scale = 1 / math.sqrt(E)
    want = attention_reference(*(as_f64(a, dtype) for a in (q, k, v, dout)), scale, causal, group)
    # Stored results round once; accumulation in float (half types) or the type itself.
    rel = {ft.float16: 2e-3, ft.bfloat16: 1e-2, ft.float32: 2e-5, ft.float64: 1e-12}[dtype]
    # (3, 2): a block per query tile (and per key tile of the backward), heads in grid-stride;
    # (1, 1): one block strides over every tile of every head.
    for grid in [(3, 2)] + ([(1, 1)] if suffix == "f32" and E == 40 else []):
        got = attention_kernels(mod, suffix, q, k, v, dout, scale, causal, group, grid)
        for name, g, w in zip(("out", "lse", "dq", "dk", "dv"), got, want):
            g = as_f64(g, dtype) if name != "lse" else g.astype(np.float64)
            np.testing.assert_allclose(g, w, rtol=rel, atol=rel * np.abs(w).max(), err_msg=f"{name} grid={grid}")


def test_attention_edge_rows(rng):
    """A NaN query gives a NaN row (as the composed softmax), other rows are untouched; a row
    whose scores are all -inf is NaN; no keys at all gives zeros; masked keys are never read."""
    mod = emu.Module.get("attention")
    L, S, E = 5, 6, 8
    q, k, v, dout = (rng.normal(0, 1, shape) for shape in ((1, L, E), (1, S, E), (1, S, E), (1, L, E)))
    q[0, 1, 0] = np.nan
    q[0, 2] = 0.0
    q[0, 2, 0] = 1.0
    k[0, :, 0] = -np.inf  # row 2's scores: all -inf
    k[0, :, 1:] = rng.normal(0, 1, (S, E - 1))
    out, lse, dq, _, _ = attention_kernels(mod, "f64", q, k, v, dout, 1.0, 0, 1, 1)
    assert np.isnan(out[0, 1]).all() and np.isnan(out[0, 2]).all() and np.isnan(dq[0, 1]).all()
    q2 = q.copy()
    q2[0, 1:3] = 0.0
    k2 = k.copy()
    k2[0, :, 0] = 1.0
    want = attention_reference(q2, k2, v, dout, 1.0, 0, 1)
    got = attention_kernels(mod, "f64", q, k2, v, dout, 1.0, 0, 1, 1)
    rows = [0, 3, 4]
    np.testing.assert_allclose(got[0][0, rows], want[0][0, rows], rtol=1e-12)
    # No keys: zeros out, -inf lse, zero dq.
    empty = np.zeros((1, 0, E))
    out, lse, dq, dk, dv = attention_kernels(mod, "f64", q2, empty, empty, dout, 1.0, 0, 1, 1)
    assert (out == 0).all() and (lse == -np.inf).all() and (dq == 0).all()
    # Causal: a NaN in a key or value no query may see changes nothing.
    k3, v3 = k2.copy(), v.copy()
    k3[0, L:, :], v3[0, L:, :] = np.nan, np.nan
    got = attention_kernels(mod, "f64", q2, k3, v3, dout, 1.0, 1, 1, 1)
    want = attention_reference(q2, k2[:, :L], v[:, :L], dout, 1.0, 1, 1)
    for g, w in zip(got[:3], want[:3]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
