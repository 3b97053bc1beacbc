"""Where a GPU workload's time goes, kernel by kernel, with Nsight Compute (no counters beyond
each kernel's duration, so one replay pass per kernel).

    ncu --csv --clock-control none --metrics gpu__time_duration.sum --profile-from-start off \\
        python scripts/gpu_profile.py run "ResNet-18 b256 f32" > kernels.csv
    python scripts/gpu_profile.py summary kernels.csv     # the kernels taking the most time

`run` takes a workload of bench/gpu.py by name, calls it once unprofiled (compiling kernels,
filling caches), then once more between the driver's `cuProfilerStart` and `cuProfilerStop`, so
with `--profile-from-start off` only the warm step is replayed kernel by kernel; `summary`
totals the durations per kernel name, and fails (with ncu's own messages) when there are none.
"""

import csv
import ctypes
import os
import sys
from collections import defaultdict


def run(name):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
    import ferrotorch
    import gpu

    build, _, _ = gpu.WORKLOADS[name]
    step = build(ferrotorch)
    step()
    ferrotorch.cuda.synchronize()
    driver = ctypes.CDLL("libcuda.so.1")
    if code := driver.cuProfilerStart():
        print(f"cuProfilerStart failed: CUresult {code}", file=sys.stderr)
    step()
    ferrotorch.cuda.synchronize()
    if code := driver.cuProfilerStop():
        print(f"cuProfilerStop failed: CUresult {code}", file=sys.stderr)


def summary(path, top=20):
    total, count = defaultdict(float), defaultdict(int)
    with open(path, newline="") as f:
        lines = f.readlines()
    rows = [line for line in lines if line.startswith('"')]
    for row in csv.DictReader(rows):
        if row.get("Metric Name") != "gpu__time_duration.sum":
            continue
        value = float(row["Metric Value"].replace(",", ""))
        scale = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3}.get(row.get("Metric Unit", "usecond"), 1.0)
        kernel = row["Kernel Name"].split("(")[0][:60]
        total[kernel] += value * scale
        count[kernel] += 1
    if not total:
        # ncu reports its own failures (a library it could not load, no kernels) among the rows.
        sys.exit("no kernels profiled:\n" + "".join(line for line in lines if not line.startswith('"'))[-2000:])
    whole = sum(total.values())
    print(f"{len(total)} kernels, {sum(count.values())} launches, {whole / 1e3:.2f} ms in kernels")
    for kernel, us in sorted(total.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {us / 1e3:9.3f} ms {100 * us / max(whole, 1e-9):5.1f}%  x{count[kernel]:<5} {kernel}")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("run", "summary"):
        sys.exit(__doc__)
    run(sys.argv[2]) if sys.argv[1] == "run" else summary(sys.argv[2])
