"""GPU benchmarks of the CUDA backend against PyTorch on the same card, with the issue's
targets: bf16 GEMM 8192 and f32 GEMM 4096 at >= 0.9x PyTorch's TFLOP/s, add and sum of 64M
floats at >= 0.85x its bandwidth, and a 16-element add's launch overhead <= PyTorch's.

    python bench/gpu.py [--repeats N]

Each workload is written once against the torch API and run on both libraries. A library that
cannot run a workload (ferrotorch before CUDA tensors land, or no GPU) gets "n/a" and the
reason; the table is printed either way. Also reports NVRTC's first-use compile time.
"""

import argparse
import statistics
import time

import ferrotorch

try:
    import torch
except Exception:  # the reference is optional; its column is then empty
    torch = None


def gemm(dtype_name, n):
    flops = 2 * n**3

    def build(lib):
        dtype = getattr(lib, dtype_name)
        a = lib.randn(n, n, device="cuda").to(dtype)
        b = lib.randn(n, n, device="cuda").to(dtype)
        return lambda: lib.matmul(a, b)

    return build, lambda seconds: f"{flops / seconds / 1e12:8.1f} TFLOP/s", 0.9


def add(n):
    moved = 3 * 4 * n

    def build(lib):
        a, b = lib.randn(n, device="cuda"), lib.randn(n, device="cuda")
        return lambda: a + b

    return build, lambda seconds: f"{moved / seconds / 1e9:8.0f} GB/s", 0.85


def total(n):
    moved = 4 * n

    def build(lib):
        a = lib.randn(n, device="cuda")
        return lambda: a.sum()

    return build, lambda seconds: f"{moved / seconds / 1e9:8.0f} GB/s", 0.85


def small_add():
    def build(lib):
        a, b = lib.randn(16, device="cuda"), lib.randn(16, device="cuda")
        return lambda: a + b

    return build, lambda seconds: f"{seconds * 1e6:8.2f} us/op", 1.0


WORKLOADS = {
    "bf16 GEMM 8192": gemm("bfloat16", 8192),
    "f32 GEMM 4096": gemm("float32", 4096),
    "add 64M f32": add(64 * 2**20),
    "sum 64M f32": total(64 * 2**20),
    "add 16 f32 (launch)": small_add(),
}


def measure(lib, build, repeats):
    """Median seconds per call of the workload, or the reason it cannot run."""
    try:
        fn = build(lib)
        for _ in range(3):
            fn()
        lib.cuda.synchronize()
        times = []
        for _ in range(repeats):
            inner = 20
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            lib.cuda.synchronize()
            times.append((time.perf_counter() - start) / inner)
        return statistics.median(times)
    except Exception as e:  # noqa: BLE001 - any failure is reported in the table
        return f"n/a ({type(e).__name__}: {str(e).splitlines()[0][:60]})"


def compile_times():
    """NVRTC's time for the `binary_add` module (all dtypes) for the device, bypassing caches:
    the one-time cost of a first `a + b`."""
    from ferrotorch import _C

    if not ferrotorch.cuda.is_available():
        return "n/a (no GPU)"
    arch = "sm_{}{}".format(*ferrotorch.cuda.get_device_capability())
    start = time.perf_counter()
    _C._cuda_compile_kernels(arch, ["binary_add"])
    return f"binary_add for {arch}: {time.perf_counter() - start:.2f} s (uncached)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    card = ferrotorch.cuda.get_device_name() if ferrotorch.cuda.is_available() else "no GPU"
    print(f"card: {card}   date: {time.strftime('%Y-%m-%d')}   torch: {getattr(torch, '__version__', 'absent')}")
    print(f"{'workload':<22}{'ferrotorch':>32}{'PyTorch':>32}{'ratio':>8}  target")
    for name, (build, show, target) in WORKLOADS.items():
        ours = measure(ferrotorch, build, args.repeats)
        ref = measure(torch, build, args.repeats) if torch is not None else "n/a (torch absent)"
        cells = [show(v) if isinstance(v, float) else v for v in (ours, ref)]
        ratio = ""
        if isinstance(ours, float) and isinstance(ref, float):
            # Higher throughput is better; for the launch row lower time is better.
            ratio = f"{(ref / ours):.2f}x"
        print(f"{name:<22}{cells[0][:32]:>32}{cells[1][:32]:>32}{ratio:>8}  >= {target}x PyTorch")
    print("NVRTC:", compile_times())


if __name__ == "__main__":
    main()
