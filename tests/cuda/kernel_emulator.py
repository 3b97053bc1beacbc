"""Runs the backend's CUDA kernel modules on the host: a module's source (as the Rust side
assembles it for NVRTC, from `_C._cuda_kernel_module`) is compiled by the host C++ compiler
after kernel_emulator.h, which models threads, blocks, barriers, warp shuffles and shared
memory, into a shared library with one launcher per kernel. `Module(name).launch(kernel,
grid, block, *args)` then runs a kernel as the driver would: arguments by address, structs by
value. Kernels are launch-shape independent by design (grid-stride loops), so tests run each
with several launch shapes, the ones the Rust side picks among them."""

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ferrotorch import _C

HEADER = Path(__file__).with_name("kernel_emulator.h")
CACHE = Path(tempfile.gettempdir()) / f"ferrotorch-kernel-emulator-{os.getuid()}"
DECLARATION = re.compile(r'^extern "C" __global__ void (\w+)\((.*?)\) \{', re.M)

FT_MAX_DIMS = 8


def compiler():
    """The host C++ compiler, or None."""
    return shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++")


class Shape(ctypes.Structure):
    _fields_ = [("ndim", ctypes.c_int32), ("narrow", ctypes.c_int32), ("sizes", ctypes.c_int64 * FT_MAX_DIMS),
                ("magic", ctypes.c_uint32 * FT_MAX_DIMS), ("shift", ctypes.c_uint32 * FT_MAX_DIMS)]


def strides_type(n):
    """`Strides<n>`: per operand, the strides in elements of each dim."""
    return type(f"Strides{n}", (ctypes.Structure,), {"_fields_": [("of", (ctypes.c_int64 * FT_MAX_DIMS) * n)]})


def shape_of(sizes, narrow=True):
    """`Shape` for `sizes` as the core builds it (with its 32-bit division constants); with
    `narrow=False`, the 64-bit index path that shapes of 2^31 elements or more take."""
    shape = Shape.from_buffer_copy(_C._cuda_kernel_shape(list(sizes)))
    if not narrow:
        shape.narrow = 0
    return shape


def strides_of(per_operand):
    """`Strides<len(per_operand)>` from each operand's element strides."""
    value = strides_type(len(per_operand))()
    for k, strides in enumerate(per_operand):
        for d, s in enumerate(strides):
            value.of[k][d] = s
    return value


def launcher(name, params):
    """A C launcher taking the driver's `void** args` for `name(params)`."""
    types = [p.strip().rsplit(" ", 1)[0] for p in params.split(",")] if params.strip() else []
    call = ", ".join(f"*({t}*)args[{i}]" for i, t in enumerate(types))
    return (f'extern "C" int ft_launch_{name}(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, '
            f"unsigned bz, void** args) {{ return ft_emu::launch(dim3{{gx, gy, gz}}, dim3{{bx, by, bz}}, [&] {{ {name}({call}); }}); }}\n")


def build(label, sources):
    """Compiles kernel modules (name -> CUDA source) with the emulator into one shared library,
    each module in a namespace of its own (kernel names are unique across modules), cached by
    content. One compiler run for many modules: parsing the headers costs more than a module."""
    parts = [f'#include "{HEADER}"\n']
    for name, source in sources.items():
        launchers = "".join(launcher(k, p) for k, p in DECLARATION.findall(source))
        parts.append(f"namespace ft_module_{name} {{\n{source}\n{launchers}}}\n")
    text = "".join(parts)
    digest = hashlib.sha256((text + HEADER.read_text()).encode()).hexdigest()[:16]
    CACHE.mkdir(parents=True, exist_ok=True)
    library = CACHE / f"{label}-{digest}.so"
    if not library.exists():
        src = CACHE / f"{label}-{digest}.cpp"
        src.write_text(text)
        scratch = library.with_suffix(f".{os.getpid()}.tmp")
        cmd = [compiler(), "-std=c++17", "-O0", "-fPIC", "-shared", "-w", "-o", str(scratch), str(src)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"host compile of kernel modules {list(sources)} failed:\n{result.stderr[-4000:]}")
        scratch.replace(library)
    return ctypes.CDLL(str(library))


_MODULES = {}


def load(names, jobs=2):
    """Builds the named kernel modules (in `jobs` libraries, compiled in parallel) and returns
    them by name."""
    missing = [n for n in names if n not in _MODULES]
    chunks = [missing[k::jobs] for k in range(jobs) if missing[k::jobs]]
    modules = {n: _C._cuda_kernel_module(n) for n in missing}

    def compile_chunk(chunk):
        library = build("+".join(chunk) if len(chunk) < 4 else f"{chunk[0]}+{len(chunk) - 1}", {n: modules[n][0] for n in chunk})
        for n in chunk:
            _MODULES[n] = Module(n, modules[n][1], library)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(compile_chunk, chunks))
    return {n: _MODULES[n] for n in names}


class Module:
    """A kernel module built for the emulator."""

    def __init__(self, name, kernels, library):
        self.name, self.kernels, self.library = name, kernels, library

    @staticmethod
    def get(name):
        return load([name])[name]

    def launch(self, kernel, grid, block, *args):
        """Runs `kernel` over `grid` blocks of `block` threads (ints or up to 3-tuples). Each
        argument: a NumPy array (its data pointer), None (a null pointer), or a ctypes value
        or struct (passed by value, as the kernel declares it)."""
        if kernel not in self.kernels:
            raise KeyError(f"module {self.name} has no kernel {kernel}")
        grid, block = (tuple(d) + (1,) * (3 - len(d)) if isinstance(d, tuple) else (d, 1, 1) for d in (grid, block))
        keep = []
        for a in args:
            if isinstance(a, np.ndarray):
                keep.append(ctypes.c_void_p(a.ctypes.data))
            elif a is None:
                keep.append(ctypes.c_void_p(0))
            elif isinstance(a, (ctypes._SimpleCData, ctypes.Structure)):
                keep.append(a)
            else:
                raise TypeError(f"argument {a!r}: pass arrays, None or ctypes values")
        pointers = (ctypes.c_void_p * max(len(keep), 1))(*[ctypes.addressof(k) for k in keep])
        if getattr(self.library, f"ft_launch_{kernel}")(*map(ctypes.c_uint, grid + block), pointers):
            self.library.ft_emu_error.restype = ctypes.c_char_p
            raise RuntimeError(f"{kernel}: {self.library.ft_emu_error().decode()}")


def i64(v):
    return ctypes.c_int64(v)


def f64(v):
    return ctypes.c_double(v)


def i32(v):
    return ctypes.c_int32(v)
