"""Benchmarks: the same workloads on ferrotorch and on PyTorch (when importable), timed
alternately in one process, reported as median times and the ratio ferrotorch / PyTorch.

    python bench/run.py [--filter NAME] [--repeats N] [--threads N]
"""

import argparse
import os
import statistics
import time

# NumPy only makes the inputs here; its OpenBLAS worker threads would otherwise spin beside
# both libraries' threads on a small machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import ferrotorch

try:
    import torch
except Exception:  # PyTorch is optional: without it only ferrotorch's times are printed.
    torch = None

import importlib
import pathlib

# Every bench/workloads*.py contributes its WORKLOADS (name -> build(lib, rng) -> callable).
WORKLOADS = {}
for _path in sorted(pathlib.Path(__file__).parent.glob("workloads*.py")):
    WORKLOADS.update(importlib.import_module(_path.stem).WORKLOADS)


def time_call(fn, inner):
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def calibrate(fn, target=0.02):
    """Inner iterations so one sample takes about `target` seconds."""
    fn()
    n = 1
    while time_call(fn, n) * n < target and n < 1_000_000:
        n *= 4
    return n


def fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:8.2f} {unit}"
    return f"{seconds / 1e-9:8.1f} ns"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--filter", default="")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0, help="threads for both libraries (default: ferrotorch's)")
    args = parser.parse_args()
    if args.threads:
        ferrotorch.set_num_threads(args.threads)
    threads = ferrotorch.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"threads: {threads}; PyTorch: {torch.__version__ if torch else 'not installed'}")
    print(f"{'workload':34} {'ferrotorch':>12} {'pytorch':>12} {'ratio':>7}")
    for name, build in WORKLOADS.items():
        if args.filter not in name:
            continue
        rng = np.random.default_rng(0)
        ours = build(ferrotorch, rng)
        theirs = build(torch, np.random.default_rng(0)) if torch is not None else None
        inner = calibrate(ours)
        t_ours, t_theirs = [], []
        for _ in range(args.repeats):
            t_ours.append(time_call(ours, inner))
            if theirs is not None:
                t_theirs.append(time_call(theirs, inner))
        a = statistics.median(t_ours)
        b = statistics.median(t_theirs) if t_theirs else None
        # A workload whose callable carries `items` (e.g. images per call) also gets items per second.
        items = getattr(ours, "items", None)
        rates = f"  items/s: {items / a:,.0f}" + (f" vs {items / b:,.0f}" if b else "") if items else ""
        if b:
            print(f"{name:34} {fmt(a):>12} {fmt(b):>12} {a / b:7.2f}{rates}")
        else:
            print(f"{name:34} {fmt(a):>12} {'-':>12} {'-':>7}{rates}")


if __name__ == "__main__":
    main()
